"""SQLite writers queue on a lock file instead of sleeping in SQLite's busy handler.

SQLite allows one writer at a time. A connection that finds the write lock taken calls the
busy handler, which sleeps and retries in steps that grow to 100 ms: on two cores, a
follow-up sign-in (three short write transactions) could wait a whole step after the lock
was long free, while the core sat idle. Here each connection first takes an exclusive
``flock`` on ``<database>-writers`` before pysqlite begins a write transaction (its
implicit ``BEGIN`` before the first INSERT, UPDATE, DELETE or REPLACE) and gives it back
right after that transaction ends. Threads of one process wait on a ``threading.Lock``
(handed over the moment it is released), processes on the ``flock``, polled at 1 to 4 ms.
SQLite's own lock and busy timeout stay underneath, unchanged, for writers that do not come
through here (another tool on the same file, an explicit ``BEGIN``).

A writer that waits longer than the busy timeout gets the error SQLite would have given:
``database is locked``.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Final

__all__ = ["QueuedWritesConnection", "connection_factory"]

_WRITE_KEYWORDS: Final = ("INSERT", "UPDATE", "DELETE", "REPLACE")
_FIRST_POLL_S: Final = 0.001
_LONGEST_POLL_S: Final = 0.004

# One in-process lock per lock file, shared by every connection of this process to it.
_process_locks: dict[str, threading.Lock] = {}
_process_locks_guard = threading.Lock()


def _process_lock(path: str) -> threading.Lock:
    with _process_locks_guard:
        return _process_locks.setdefault(path, threading.Lock())


def _starts_write(sql: str) -> bool:
    return sql.lstrip()[:7].upper().startswith(_WRITE_KEYWORDS)


class QueuedWritesConnection(sqlite3.Connection):
    """A pysqlite connection that holds the writers' lock for each write transaction."""

    lock_path: str
    wait_s: float

    def _set_up_queue(self) -> None:
        self._process_lock = _process_lock(self.lock_path)
        self._lock_fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        self._holding = False

    # Every cursor, SQLAlchemy's included, is one that queues before a write.
    def cursor(self, factory: Any = None) -> Any:
        return super().cursor(factory or _QueuedWritesCursor)

    # pysqlite's own shortcuts make a plain cursor in C, past cursor() above.
    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        return self.cursor().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> Any:
        return self.cursor().executemany(sql, parameters)

    def before_statement(self, sql: str) -> None:
        if not self._holding and not self.in_transaction and _starts_write(sql):
            self._acquire()

    def after_statement(self) -> None:
        # pysqlite may not have begun a transaction after all (or a statement ended it).
        if self._holding and not self.in_transaction:
            self._release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.after_statement()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.after_statement()

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self._holding:
                self._release()
            os.close(self._lock_fd)

    def _acquire(self) -> None:
        deadline = time.monotonic() + self.wait_s
        if not self._process_lock.acquire(timeout=self.wait_s):
            raise sqlite3.OperationalError("database is locked")
        try:
            poll = _FIRST_POLL_S
            while True:
                try:
                    fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise sqlite3.OperationalError("database is locked") from None
                    time.sleep(poll)
                    poll = min(poll * 2, _LONGEST_POLL_S)
        except BaseException:
            self._process_lock.release()
            raise
        self._holding = True

    def _release(self) -> None:
        self._holding = False
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
        finally:
            self._process_lock.release()


class _QueuedWritesCursor(sqlite3.Cursor):
    connection: QueuedWritesConnection

    def execute(self, sql: str, parameters: Any = (), /) -> _QueuedWritesCursor:
        self.connection.before_statement(sql)
        try:
            super().execute(sql, parameters)
        finally:
            self.connection.after_statement()
        return self

    def executemany(self, sql: str, parameters: Any, /) -> _QueuedWritesCursor:
        self.connection.before_statement(sql)
        try:
            super().executemany(sql, parameters)
        finally:
            self.connection.after_statement()
        return self


def connection_factory(database_file: Path, wait_s: float) -> type[QueuedWritesConnection]:
    """A ``sqlite3.connect(factory=...)`` class queuing writers on ``<file>-writers``."""
    lock_path = str(database_file) + "-writers"

    class _Connection(QueuedWritesConnection):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.lock_path = lock_path
            self.wait_s = wait_s
            self._set_up_queue()

    return _Connection
