"""Tests share code only through ``conftest.py`` files and ``tests/helpers/`` (STYLE.md 16a).

A test module that imports another test module runs that module's fixtures and module-level
code wherever it is imported, ties the two files' data together, and can collect a test
twice; a ``conftest`` module is pytest's to load, never a module to import. So every import
of ``tests.…`` anywhere under ``tests/`` must name ``tests.helpers`` or a module below it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent


def module_name(path: Path) -> str:
    """The dotted name of the module at ``path`` (a file under ``tests/``)."""
    parts = path.relative_to(TESTS.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, module: str, *, is_package: bool = False) -> list[str]:
    """Every module (and ``module.name``) that ``source``, the text of ``module``, imports,
    with relative imports resolved."""
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            found += [f"{base}.{alias.name}" for alias in node.names]
    return found


def forbidden(name: str) -> bool:
    """Whether importing ``name`` reaches past ``tests/helpers/`` into test code: another
    part of ``tests``, a ``test_*`` module or function, or a ``conftest`` module."""
    parts = name.split(".")
    if any(part.startswith("test_") or part == "conftest" for part in parts):
        return True
    return parts[0] == "tests" and len(parts) > 1 and parts[1] != "helpers"


def test_no_test_code_imports_a_test_module_or_a_conftest() -> None:
    offences = []
    for path in sorted(TESTS.rglob("*.py")):
        module = module_name(path)
        is_package = path.name == "__init__.py"
        for name in imported_modules(path.read_text(), module, is_package=is_package):
            if forbidden(name):
                offences.append(f"{path.relative_to(TESTS.parent)} imports {name}")
    assert offences == [], "share code through conftest.py or tests/helpers/:\n" + "\n".join(
        offences)


def statement(target: str, names: str = "", *, in_function: bool = False) -> str:
    """``import target``, or ``from target import names`` when names are given; optionally
    inside a function, as a test imports what only it needs."""
    line = f"from {target} import {names}" if names else f"import {target}"
    return f"def later():\n    {line}\n" if in_function else line


# Each way a test module imported test code before issue 12, and some that it might.
@pytest.mark.parametrize(("importer", "source", "offending"), [
    ("tests.casework.test_cases", statement("tests.intake.test_submission", "FORM"),
     ["tests.intake.test_submission.FORM"]),
    ("tests.browser.test_reporter", statement("tests.browser.conftest", "SCREENSHOTS"),
     ["tests.browser.conftest.SCREENSHOTS"]),
    ("tests.casework.test_cases", statement("tests.crypto.test_interop"),
     ["tests.crypto.test_interop"]),
    ("tests.browser.test_admin", statement(".test_staff_sign_in", "fill_sign_in"),
     ["tests.browser.test_staff_sign_in.fill_sign_in"]),
    ("tests.audit.test_auditor_views", statement("..custody", "test_identity_access"),
     ["tests.custody.test_identity_access"]),
    ("tests.intake.test_followup", statement("tests.intake.helpers", "send_report"),
     ["tests.intake.helpers.send_report"]),
    ("tests.intake.test_followup",
     statement("tests.security.test_sessions", "Clock", in_function=True),
     ["tests.security.test_sessions.Clock"]),
    ("tests.test_retention", statement("tests.helpers.reporting", "test_it"),
     ["tests.helpers.reporting.test_it"]),
])
def test_the_check_finds_each_way_of_importing_test_code(importer, source, offending) -> None:
    found = [name for name in imported_modules(source, importer) if forbidden(name)]
    assert found == offending


@pytest.mark.parametrize("source", [
    statement("tests.helpers", "csrf_token"),
    statement("tests.helpers.browser", "fill_report, take_receipt"),
    statement(".", "client"),
    statement("pytest"),
    statement("crypto", "age"),
    statement("reporting_portal.reporter.intake.services", "submit_report", in_function=True),
])
def test_the_check_lets_helpers_and_libraries_be_imported(source) -> None:
    assert [name for name in imported_modules(source, "tests.helpers.staff")
            if forbidden(name)] == []
