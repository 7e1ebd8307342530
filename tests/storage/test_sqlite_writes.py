"""SQLite writers queue on the lock file (storage.sqlite_writes), not in the busy handler."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from reporting_portal.storage.db import make_engine
from reporting_portal.storage.sqlite_writes import connection_factory


def connect(path: Path, wait_s: float = 5.0) -> sqlite3.Connection:
    return sqlite3.connect(
        path, timeout=wait_s, factory=connection_factory(path, wait_s), check_same_thread=False
    )


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "queue.db"
    with connect(path) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE events (writer TEXT, at REAL)")
    return path


def test_a_second_writer_waits_for_the_first_to_commit(database: Path) -> None:
    first, second = connect(database), connect(database)
    first.execute("INSERT INTO events VALUES ('first', 0)")
    assert first.in_transaction
    finished: list[float] = []

    def write() -> None:
        second.execute("INSERT INTO events VALUES ('second', 0)")
        second.commit()
        finished.append(time.monotonic())

    waiter = threading.Thread(target=write)
    waiter.start()
    time.sleep(0.3)
    assert finished == []  # still queued behind the open write transaction
    # Queued in front of SQLite, not in its busy handler (whose sleeps grow to 100 ms):
    # pysqlite has not begun the second writer's transaction. The queue hands its lock
    # over on release, so this writer goes the moment the first commits.
    assert not second.in_transaction
    committed = time.monotonic()
    first.commit()
    waiter.join(5)
    assert finished
    assert finished[0] >= committed
    rows = [row[0] for row in first.execute("SELECT writer FROM events ORDER BY rowid")]
    assert rows == ["first", "second"]


def test_rollback_and_close_give_the_lock_back(database: Path) -> None:
    first = connect(database)
    first.execute("INSERT INTO events VALUES ('rolled back', 0)")
    first.rollback()
    other = connect(database, wait_s=0.2)
    other.execute("INSERT INTO events VALUES ('after rollback', 0)")
    other.close()  # closing with the transaction open gives the lock back too
    third = connect(database, wait_s=0.2)
    third.execute("INSERT INTO events VALUES ('after close', 0)")
    third.commit()
    assert [row[0] for row in third.execute("SELECT writer FROM events")] == ["after close"]


def test_reads_do_not_take_the_lock(database: Path) -> None:
    writer = connect(database)
    writer.execute("INSERT INTO events VALUES ('open', 0)")
    reader = connect(database, wait_s=0.2)
    assert reader.execute("SELECT count(*) FROM events").fetchone() == (0,)
    writer.commit()


def test_a_writer_that_waits_too_long_gets_database_is_locked(database: Path) -> None:
    holder = connect(database)
    holder.execute("INSERT INTO events VALUES ('holder', 0)")
    impatient = connect(database, wait_s=0.2)
    with pytest.raises(sqlite3.OperationalError, match="database is locked"):
        impatient.execute("INSERT INTO events VALUES ('impatient', 0)")
    holder.commit()
    impatient.execute("INSERT INTO events VALUES ('later', 0)")
    impatient.commit()


def test_many_threads_through_the_engine_lose_no_write(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'engine.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE events (writer INTEGER, n INTEGER)"))
    errors: list[BaseException] = []

    def write(writer: int) -> None:
        try:
            for n in range(25):
                with engine.begin() as connection:
                    connection.execute(text("INSERT INTO events VALUES (:w, :n)"),
                                       {"w": writer, "n": n})
                    connection.execute(text("UPDATE events SET n = n WHERE writer = :w"),
                                       {"w": writer})
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM events")).scalar_one() == 200
    assert Path(f"{tmp_path / 'engine.db'}-writers").exists()
    engine.dispose()
