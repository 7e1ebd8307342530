"""Database engine, the declarative base and the session factory.

Nothing here knows about requests: the request-scoped session lives in
``reporting_portal.web.database``, so the command line and jobs use this module alike.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, sessionmaker

from reporting_portal.storage.commit_outcome import install_commit_tracking
from reporting_portal.storage.sqlite_writes import connection_factory

if TYPE_CHECKING:
    from config.settings import Settings

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


@dataclass(frozen=True, slots=True)
class PoolSettings:
    """How one process holds its PostgreSQL connections (config/default.toml explains each).

    SQLite ignores these: its file needs no pool of network connections.
    """

    size: int = 4
    max_overflow: int = 2
    timeout_seconds: int = 10
    recycle_seconds: int = 1800
    connect_timeout_seconds: int = 5

    @classmethod
    def from_settings(cls, settings: Settings) -> PoolSettings:
        return cls(
            size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
            timeout_seconds=settings.database_pool_timeout_seconds,
            recycle_seconds=settings.database_pool_recycle_seconds,
            connect_timeout_seconds=settings.database_connect_timeout_seconds,
        )


_SQLITE_BUSY_TIMEOUT_S = 30


def make_engine(database_url: str, pool: PoolSettings | None = None) -> Engine:
    """An engine; SQLite gets WAL, foreign keys and a busy timeout, PostgreSQL a pool."""
    if database_url.startswith("sqlite"):
        connect_args: dict[str, Any] = {"timeout": _SQLITE_BUSY_TIMEOUT_S}
        database_file = make_url(database_url).database
        if database_file and database_file != ":memory:" and not database_file.startswith("file:"):
            # Writers queue on a lock file rather than sleep in the busy handler.
            connect_args["factory"] = connection_factory(
                Path(database_file), _SQLITE_BUSY_TIMEOUT_S
            )
        engine = create_engine(database_url, connect_args=connect_args)
        event.listen(engine, "connect", _configure_sqlite)
        return engine
    pool = pool or PoolSettings()
    return create_engine(
        database_url,
        # A connection that died while idle (a database restart, a failover) is noticed
        # and replaced before a request uses it, so a restart needs no manual step.
        pool_pre_ping=True,
        pool_size=pool.size,
        max_overflow=pool.max_overflow,
        # Waiting for a free connection longer than this fails the request with a 503
        # page rather than holding the reporter's browser indefinitely.
        pool_timeout=pool.timeout_seconds,
        # Closes connections before a firewall or PgBouncer drops them as idle.
        pool_recycle=pool.recycle_seconds,
        # While the database is down or unreachable, a request waits at most this long
        # for a connection before it gets the "try again later" page.
        connect_args={"connect_timeout": pool.connect_timeout_seconds},
    )


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

    def __init__(self, database_url: str, pool: PoolSettings | None = None) -> None:
        self.engine = make_engine(database_url, pool)
        self.session_factory = sessionmaker(self.engine, expire_on_commit=False)
        install_commit_tracking(self.session_factory)

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
