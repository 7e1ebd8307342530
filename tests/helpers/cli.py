"""The command line as an operator runs it, on a test installation of its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from reporting_portal.cli import main


def use_installation(monkeypatch: pytest.MonkeyPatch, folder: Path, database_url: str) -> None:
    """Point the command's settings at ``folder`` and the database, with cheap hashing."""
    for key, value in {
        "REPORTING_PORTAL_INSTANCE_DIR": str(folder),
        "DATABASE_URL": database_url,
        "REPORTING_PORTAL_PASSWORD_HASH_TIME_COST": "1",
        "REPORTING_PORTAL_PASSWORD_HASH_MEMORY_KIB": "19456",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("REPORTING_PORTAL_CONFIG", raising=False)


def run_cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def query(database_url: str, statement: Any) -> list[Any]:
    """The rows of ``statement``, read behind the command's back."""
    engine = create_engine(database_url)
    try:
        with Session(engine) as session:
            return list(session.scalars(statement).all())
    finally:
        engine.dispose()
