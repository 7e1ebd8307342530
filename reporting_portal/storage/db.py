"""Database engine, the declarative base and the session factory.

Nothing here knows about requests: the request-scoped session lives in
``reporting_portal.web.database``, so the command line and jobs use this module alike.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, sessionmaker

# Stable constraint names, so Alembic revisions are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def new_public_id() -> str:
    """A random, unguessable public identifier (128 bits; never sequential, ASVS 11.5.1)."""
    return secrets.token_urlsafe(16)


def make_engine(database_url: str) -> Engine:
    """An engine; SQLite gets WAL, foreign keys and a busy timeout."""
    if database_url.startswith("sqlite"):
        engine = create_engine(database_url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _configure_sqlite)
        return engine
    return create_engine(database_url, pool_pre_ping=True)


def _configure_sqlite(dbapi_connection: Any, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # Deleted pages are zeroed, so removed headers and wrapped keys do not linger on disk.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()


class Database:
    """The engine and session factory of one application."""

    def __init__(self, database_url: str) -> None:
        self.engine = make_engine(database_url)
        self.session_factory = sessionmaker(self.engine, expire_on_commit=False)

    def refresh_statistics(self) -> None:
        """Refresh SQLite's query-planner statistics (bounded sampling, so it is cheap).

        Without them SQLite guesses, and at 100,000 reports a guess can turn a 50 ms
        inbox page into seconds. PostgreSQL's autovacuum keeps its own statistics.
        """
        if self.engine.dialect.name != "sqlite":
            return
        with self.engine.begin() as connection:
            connection.exec_driver_sql("PRAGMA analysis_limit=1000")
            connection.exec_driver_sql("ANALYZE")
