# Reporting Portal: the whole set-up on a fresh machine is `make run` or `make test`.
VENV   ?= .venv
PYTHON ?= python3
PY     := $(VENV)/bin/python
PORT   ?= 5000
# pytest-xdist workers: the suite waits on servers, databases and browsers as much as it
# computes, so a few more workers than cores keep both cores busy.
TEST_WORKERS ?= 3

.PHONY: run test install messages lint typecheck security-lint pytest pytest-postgresql pytest-s3 clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

# The catalogues are compiled at install, so `make run` and `make test` need nothing more.
CATALOGUES := $(wildcard reporting_portal/translations/*/LC_MESSAGES/messages.po)
COMPILED   := $(CATALOGUES:.po=.mo)

%.mo: %.po $(VENV)/.installed
	$(VENV)/bin/pybabel -q compile -i $< -o $@

# axe-core for tests/browser/test_accessibility.py, exactly as tests/a11y/package-lock.json
# pins it (npm ci), fetched for the tests only: `make run` never needs npm. Without npm
# those tests skip (and fail in CI).
A11Y_AXE := tests/a11y/node_modules/axe-core/axe.min.js

$(A11Y_AXE): tests/a11y/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  cd tests/a11y && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error && touch node_modules/axe-core/axe.min.js; \
	else echo "npm not found: tests/browser/test_accessibility.py will skip"; fi

install: $(VENV)/.installed $(COMPILED)

## Extract every string a person reads, merge them into each language's catalogue, compile.
messages: $(VENV)/.installed
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext --add-location=file \
	  --sort-output --project "Reporting Portal" -o reporting_portal/translations/messages.pot .
	$(VENV)/bin/pybabel update -i reporting_portal/translations/messages.pot \
	  -d reporting_portal/translations --no-fuzzy-matching
	$(MAKE) $(COMPILED)

## Create the venv, initialise the embedded default (SQLite + instance/blobs), serve.
run: install
	$(VENV)/bin/reporting-portal init
	PORT=$(PORT) $(VENV)/bin/reporting-portal serve

## Tests (SQLite, then the database tests on PostgreSQL, then the S3 store), ruff, mypy, bandit.
test: install pytest pytest-postgresql pytest-s3 lint typecheck security-lint

pytest: install $(A11Y_AXE)
	$(PY) -m pytest -n $(TEST_WORKERS)

# Skipped with a notice when no PostgreSQL answers, except in CI (CI=true), where it fails.
# The browser tests ran in `make pytest`: what they add (pages, scripts, the browser) does
# not change with the database, and the data layer under them is the database tests' own.
pytest-postgresql: install
	$(PY) -m pytest -n $(TEST_WORKERS) -m "database and not browser" --database=postgresql -q

# The blob store's contract and a whole submission read by a handler (tests/storage), and
# the restore and fsck tests, again with the blobs in a bucket of moto's S3 server (started
# by the tests on a free loopback port). `make pytest-s3 S3_TESTS="tests/reporter ..."` runs
# any other tests on S3 too: every app fixture follows --blob-store.
S3_TESTS ?= tests/storage tests/operations/test_round_trip.py tests/operations/test_fsck.py
pytest-s3: install
	$(PY) -m pytest -n $(TEST_WORKERS) --blob-store=s3 -q $(S3_TESTS)

# ruff, then the import contracts of pyproject.toml ([tool.importlinter]: the trust zones).
lint: install
	$(PY) -m ruff check .
	$(VENV)/bin/lint-imports

typecheck: install
	$(PY) -m mypy

security-lint: install
	$(PY) -m bandit -q -c pyproject.toml -r reporting_portal crypto config

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
