"""Case handler inbox latency at up to a million reports.

    .venv/bin/python bench/inbox.py [--reports 100000] [--requests 50] [--json] [--keep]
        [--database-url postgresql://...] [--workers N] [--threads N] [--tmpdir DIR]

Sets up a throwaway installation (temporary instance folder, SQLite unless
``--database-url`` names an EMPTY database or schema), bulk-loads ``--reports`` reports
(bench/inbox_seed.py: a realistic spread over two years of statuses, priorities, channels
and labels, EU Directive deadlines from reporting_portal.domain.deadlines, one reporter
content object each, most of them marked read), all granted to one case handler, serves
the staff app in production settings with gunicorn (config/gunicorn.conf.py) on a free
loopback port, signs the handler in (password and TOTP code) and times, one request at a time:

- ``GET /healthz``: a trivial page of the same app, the baseline;
- ``GET /staff/cases``: the inbox's first page;
- ``GET /staff/cases?status=investigation&priority=high``: a filtered page;
- ``GET /staff/cases?page=1500``: a deep page typed as a number (offset 75,000);
- the page half-way and the last page, typed as numbers;
- the deep and half-way pages as a handler reaches them, by the Next link of the page
  before (it names that page's last case: no offset).

Prints the date, the load average, the seeding time and database size, then p50/p95/max
per page and the ratio of each p95 to the baseline's; the target is p95 < 100 ms.
Exits 2 with a clear message when the inbox route does not exist yet. Nothing is
asserted. The temporary folder and gunicorn are removed at the end (``--keep`` keeps
the folder, and so the SQLite database, for EXPLAIN).
"""

from __future__ import annotations

import argparse
import dataclasses
import html
import json
import os
import re
import secrets
import shutil
import signal
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pyotp
from inbox_seed import SeedFigures, seed_reports
from sqlalchemy import select
from sqlalchemy.engine import make_url
from submission_load import (
    CHANNEL,
    BenchError,
    Browser,
    base_environment,
    gunicorn,
    log,
)

from config.settings import Settings, load_settings
from crypto.kdf import Argon2Params
from crypto.keys import generate_identity
from crypto.keywrap import wrap_with_password
from reporting_portal.app import create_app
from reporting_portal.audit.events import SYSTEM
from reporting_portal.domain.accounts import create_account
from reporting_portal.domain.actors import Actor
from reporting_portal.domain.installation import initialise_installation
from reporting_portal.domain.passwords import get_passwords
from reporting_portal.staff.casework.inbox import InboxFilter, inbox_page
from reporting_portal.storage.migrate import upgrade_database
from reporting_portal.storage.models import Channel, Label, Role, StaffAccount
from reporting_portal.web.database import get_database

TARGET_P95_MS = 100.0
HANDLER = "inbox-bench"
EXTRA_CHANNELS = [("procurement", "Procurement"), ("health", "Health services"),
                  ("customs", "Customs and borders"), ("hr", "Staff misconduct")]
LABELS = ["needs-translation", "external-referral", "evidence-pending", "media-interest"]
ROWS_PER_PAGE = 50


def pages_to_time(reports: int) -> list[tuple[str, str]]:
    """The baseline, then the inbox pages: the last one and the one half-way are as deep
    as a handler can go (OFFSET walks the most rows half-way)."""
    last = max((reports + ROWS_PER_PAGE - 1) // ROWS_PER_PAGE, 1)
    return [
        ("baseline /healthz", "/healthz"),
        ("inbox first page", "/staff/cases"),
        ("inbox filtered", "/staff/cases?status=investigation&priority=high"),
        ("inbox deep page", f"/staff/cases?page={min(1500, last)}"),
        ("inbox half-way", f"/staff/cases?page={max(last // 2, 1)}"),
        ("inbox last page", f"/staff/cases?page={last}"),
    ]


_NEXT_LINK = re.compile(r'href="(/staff/cases\?page=\d+&amp;after=[^"]+)">')


def by_next_link(browser: Browser, pages: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The deep pages as a handler reaches them: the Next link of the page before, which
    names that page's last case, so the page starts from it in the index."""
    followed = []
    for label, path in pages:
        number = int(path.rsplit("=", 1)[1]) if "page=" in path else 1
        if label in ("inbox deep page", "inbox half-way") and number > 1:
            found = _NEXT_LINK.search(browser.get(path.replace(f"={number}",
                                                               f"={number - 1}")).body)
            if found is None:
                raise BenchError(f"no Next link on {path}'s page before")
            followed.append((f"{label} by Next", html.unescape(found.group(1))))
    return followed


class RouteMissingError(Exception):
    """The inbox route is not in the app yet."""


# --- Installation and seed -------------------------------------------------------------


def set_up_installation(env: dict[str, str],
                        reports: int) -> tuple[Settings, str, str, SeedFigures]:
    """Init, one case handler with keys, password and TOTP, then the reports; return
    (settings, password, TOTP secret, seeding figures)."""
    settings = load_settings(environ=env)
    settings.blob_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    app = create_app(settings)
    database = get_database(app)
    upgrade_database(database.engine)
    actor = Actor(account=None, role=SYSTEM)
    password = secrets.token_urlsafe(24)
    totp_secret = pyotp.random_base32(32)
    try:
        with app.app_context(), database.session_factory() as db:
            initialise_installation(db, get_passwords(), actor, admin_username="admin")
            account = create_account(
                db, get_passwords(), actor, username=HANDLER, display_name="Inbox Bench",
                roles=(Role.CASE_HANDLER,),
            ).account
            identity = generate_identity(post_quantum=True)
            account.password_hash = get_passwords().hash(password)
            account.must_change_password = False
            account.totp_secret = totp_secret
            account.totp_enrolled_at = datetime.now(UTC)
            account.age_recipient = str(identity.recipient)
            account.wrapped_identity = wrap_with_password(
                identity.to_string().encode(), password, Argon2Params.staff_key_wrapping())
            channel = db.scalar(select(Channel).where(Channel.slug == CHANNEL))
            if channel is None:
                raise BenchError(f"init made no {CHANNEL!r} channel")
            channel.handlers.append(account)
            for slug, name in EXTRA_CHANNELS:
                db.add(Channel(slug=slug, name=name, handlers=[account]))
            db.add_all(Label(name=name) for name in LABELS)
            db.commit()
        url = make_url(settings.database_url)
        is_sqlite = url.get_backend_name() == "sqlite" and url.database
        sqlite_file = Path(url.database) if is_sqlite else None
        seeded = seed_reports(database.engine, HANDLER, reports, sqlite_file)
    finally:
        database.engine.dispose()
    log(f"seeded {reports} reports in {seeded.seconds:.1f} s (rows {seeded.load_seconds:.1f} s, "
        f"indexes and statistics {seeded.index_seconds:.1f} s), database "
        f"{seeded.database_bytes / 2**20:,.0f} MiB")
    return settings, password, totp_secret, seeded


# --- Measuring -------------------------------------------------------------------------


def sign_in(browser: Browser, password: str, totp_secret: str) -> None:
    token = browser.csrf_token("/staff/sign-in")
    body = urlencode({"csrf_token": token, "username": HANDLER, "password": password,
                      "code": pyotp.TOTP(totp_secret).now()}).encode()
    reply = browser.post("/staff/sign-in", body, "application/x-www-form-urlencoded")
    if reply.status != 302:
        raise BenchError(f"POST /staff/sign-in: {reply.status}")
    reply = browser.get("/staff/sign-in/continue")
    if reply.status != 302 or not reply.location.endswith("/staff/"):
        raise BenchError(f"sign-in did not complete: {reply.status} -> {reply.location}")


WARM_UP_REQUESTS = 20


def timed_get(browser: Browser, path: str) -> float:
    started = time.perf_counter()
    reply = browser.get(path)
    elapsed = time.perf_counter() - started
    if reply.status == 404 and path.startswith("/staff/cases"):
        raise RouteMissingError(path)
    if reply.status != 200:
        raise BenchError(f"GET {path}: {reply.status} {reply.location}".strip())
    return elapsed


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(round(fraction * (len(ordered) - 1)), len(ordered) - 1)]


def measure(browser: Browser, pages: list[tuple[str, str]],
            requests: int) -> dict[str, dict[str, float]]:
    # Warm every worker's caches (its compiled templates and statements) and connection
    # pool: each request may go to any worker, and five per page left one of three
    # workers cold for the first page timed (p95 200 ms against a p50 of 62).
    for _label, path in pages:
        for _ in range(WARM_UP_REQUESTS):
            timed_get(browser, path)
    figures = {}
    for label, path in pages:
        samples = [timed_get(browser, path) * 1000 for _ in range(requests)]
        figures[label] = {"path": path, "p50_ms": statistics.median(samples),
                          "p95_ms": percentile(samples, 0.95), "max_ms": max(samples)}
    baseline = figures[pages[0][0]]["p95_ms"]
    for row in figures.values():
        row["p95_ratio"] = row["p95_ms"] / baseline if baseline else float("nan")
    return figures


def query_times(settings: Settings, pages: list[tuple[str, str]],
                requests: int) -> dict[str, float]:
    """The median time of ``inbox_page`` alone, in this process, for each inbox page:
    the database's share of the page, without rendering, HTTP and gunicorn."""
    database = get_database(create_app(settings))
    times = {}
    try:
        with database.session_factory() as db:
            staff_id = db.scalar(select(StaffAccount.id).where(StaffAccount.username == HANDLER))
            for label, path in pages[1:]:
                args = dict(parse_qsl(path.partition("?")[2]))
                chosen = InboxFilter.from_args(args)
                samples = []
                for _ in range(requests):
                    started = time.perf_counter()
                    inbox_page(db, staff_id, chosen, datetime.now(UTC).date())
                    samples.append((time.perf_counter() - started) * 1000)
                    db.rollback()
                times[label] = statistics.median(samples)
    finally:
        database.engine.dispose()
    return times


def table(figures: dict[str, Any]) -> str:
    seeded = figures["seeding"]
    lines = [f"{figures['reports']} reports, {figures['database']}, "
             f"{figures['requests']} requests per page, one at a time, "
             f"load average {figures['load_average'][0]:.2f} before, "
             f"{figures['load_average'][1]:.2f} after",
             f"seeding {seeded['seconds']:.0f} s (rows {seeded['load_seconds']:.0f} s, indexes "
             f"and statistics {seeded['index_seconds']:.0f} s), database "
             f"{seeded['database_bytes'] / 2**20:,.0f} MiB",
             f"{'page':<28} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'p95/base':>9} "
             f"{'query p50':>9}  target"]
    for label, row in figures["pages"].items():
        verdict = "" if label.startswith("baseline") else (
            "ok" if row["p95_ms"] < TARGET_P95_MS else f"MISSED (< {TARGET_P95_MS:.0f} ms)")
        query = f"{row['inbox_page_p50_ms']:>9.1f}" if "inbox_page_p50_ms" in row else " " * 9
        lines.append(f"{label:<28} {row['p50_ms']:>8.1f} {row['p95_ms']:>8.1f} "
                     f"{row['max_ms']:>8.1f} {row['p95_ratio']:>9.1f} {query}  {verdict}")
    return "\n".join(lines)


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    env = base_environment(workdir / "instance", args.database_url)
    log(f"setting up an installation with {args.reports} reports ...")
    settings, password, totp_secret, seeded = set_up_installation(env, args.reports)
    load_before = os.getloadavg()[0]
    with gunicorn(env, workdir / "gunicorn.log", workers=args.workers,
                  threads=args.threads, app="reporting_portal.wsgi:staff_app") as server:
        browser = Browser(server.port)
        sign_in(browser, password, totp_secret)
        paths = pages_to_time(args.reports)
        paths += by_next_link(browser, paths)
        log(f"timing {len(paths)} pages x {args.requests} requests ...")
        pages = measure(browser, paths, args.requests)
        in_process = query_times(settings, paths, args.requests)
        for label, milliseconds in in_process.items():
            pages[label]["inbox_page_p50_ms"] = milliseconds
        problems = server.log_problems()[:10]
    return {"reports": args.reports, "requests": args.requests,
            "database": "postgresql" if args.database_url else "sqlite",
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "load_average": [load_before, os.getloadavg()[0]],
            "seeding": dataclasses.asdict(seeded),
            "pages": pages, "server_log_problems": problems}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=50, help="timed requests per page")
    parser.add_argument("--workers", type=int, default=None,
                        help="gunicorn workers (default: config/gunicorn.conf.py's)")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads per worker (default: config/gunicorn.conf.py's)")
    parser.add_argument("--database-url", default=None,
                        help="an EMPTY database or schema (default: SQLite in the temp folder)")
    parser.add_argument("--tmpdir", default=None, help="where the temporary instance goes")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary folder (the SQLite database) for EXPLAIN")
    parser.add_argument("--json", action="store_true",
                        help="JSON on stdout (the table goes to stderr)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    workdir = Path(tempfile.mkdtemp(prefix="inbox-bench-", dir=args.tmpdir))
    try:
        figures = run(args, workdir)
    except RouteMissingError as missing:
        log(f"the inbox route is not there yet: GET {missing} answered 404. "
            "Register the casework inbox view (GET /staff/cases) and run again.")
        return 2
    finally:
        if args.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    summary = table(figures)
    for problem in figures["server_log_problems"]:
        summary += f"\nserver log: {problem}"
    if args.json:
        print(summary, file=sys.stderr)
        print(json.dumps(figures, indent=2))
    else:
        print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
