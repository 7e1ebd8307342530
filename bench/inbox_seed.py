"""Bulk seeding for bench/inbox.py: a million reports in minutes on 2 cores.

The rows are built in Python once and handed to the driver in bulk: COPY on PostgreSQL
(psycopg's ``cursor.copy``), multi-row ``executemany`` in one transaction on SQLite with
the journal and fsync switched off (the database is thrown away after the run). The
secondary indexes of the bulk tables are dropped first and built again after the load:
one sort per index instead of a million random B-tree inserts (public ids and receipt
lookups are random). Indexes that back a constraint stay. The schema's triggers (the
inbox counts of migration 0019) stay on, so the counts are made as the app makes them.
"""

from __future__ import annotations

import os
import random
import secrets
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, literal, select, text
from sqlalchemy.engine import Connection, Engine

from crypto.keys import generate_identity
from reporting_portal.domain.deadlines import acknowledgement_due, add_months, feedback_due
from reporting_portal.storage.db import new_public_id
from reporting_portal.storage.models import (
    AccessGrant,
    CaseRead,
    Channel,
    ClosingOutcome,
    Label,
    Priority,
    Report,
    ReportObject,
    ReportStatus,
    StaffAccount,
    report_label,
)

BATCH = 10_000
BULK_TABLES = ("report", "report_object", "access_grant", "case_read", "report_label")
REPORT_COLUMNS = (
    "public_id", "channel_id", "status", "priority", "closing_outcome", "received_on",
    "acknowledged_on", "acknowledgement_due", "feedback_due", "closed_on", "purge_after",
    "receipt_lookup", "reporter_recipient", "wrapped_reporter_identity",
    "content_for_reporter", "version",
)
OBJECT_COLUMNS = ("public_id", "report_id", "kind", "header", "blob_name", "payload_size",
                  "created_on", "from_reporter")
# Older reports have moved further through the ISO 37002 stages.
_RECENT_STATUSES = ([ReportStatus.RECEIVED, ReportStatus.ACKNOWLEDGED], [7, 3])
_OLDER_STATUSES = (
    [ReportStatus.RECEIVED, ReportStatus.ACKNOWLEDGED, ReportStatus.ASSESSMENT,
     ReportStatus.INVESTIGATION, ReportStatus.CLOSED],
    [3, 7, 12, 18, 60],
)
_PRIORITIES = ([Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT], [20, 60, 15, 5])
_OUTCOMES = [outcome.value for outcome in ClosingOutcome]


@dataclass(frozen=True)
class SeedFigures:
    reports: int
    seconds: float
    load_seconds: float  # rows in, before the indexes are built again
    index_seconds: float
    database_bytes: int


# Two years hold 730 days: the deadline rules run once per day, not once per report.
_ack_due = cache(acknowledgement_due)
_feedback_due = cache(feedback_due)
_purge_after = cache(lambda closed_on: add_months(closed_on, 36))


def report_rows(count: int, channel_ids: list[int], recipient: str, today: date,
                rng: random.Random) -> Iterator[tuple[Any, ...]]:
    """Rows in REPORT_COLUMNS order: statuses, priorities, deadlines as a busy office has."""
    statuses_recent = [str(status) for status in _RECENT_STATUSES[0]]
    statuses_older = [str(status) for status in _OLDER_STATUSES[0]]
    priorities = [str(priority) for priority in _PRIORITIES[0]]
    received, closed = str(ReportStatus.RECEIVED), str(ReportStatus.CLOSED)
    for _ in range(count):
        age = rng.randrange(730)
        received_on = today - timedelta(days=age)
        if age < 7:
            status = rng.choices(statuses_recent, _RECENT_STATUSES[1])[0]
        else:
            status = rng.choices(statuses_older, _OLDER_STATUSES[1])[0]
        acknowledged_on = None
        if status != received:
            acknowledged_on = min(received_on + timedelta(days=rng.randint(0, 10)), today)
        closed_on = outcome = purge_after = None
        if status == closed and acknowledged_on is not None:
            closed_on = min(acknowledged_on + timedelta(days=rng.randint(14, 300)), today)
            outcome = rng.choice(_OUTCOMES)
            purge_after = _purge_after(closed_on)
        yield (new_public_id(), rng.choice(channel_ids), status,
               rng.choices(priorities, _PRIORITIES[1])[0], outcome, received_on,
               acknowledged_on, _ack_due(received_on),
               _feedback_due(received_on, acknowledged_on), closed_on, purge_after,
               os.urandom(32), recipient, os.urandom(80), False, 1)


def object_rows(reports: Iterable[tuple[int, date]]) -> Iterator[tuple[Any, ...]]:
    """One reporter content object per report (a 600-byte header, as age writes)."""
    for report_id, received_on in reports:
        yield (new_public_id(), report_id, "content", os.urandom(600), secrets.token_hex(16),
               2048, received_on, True)


def _chunks(rows: Iterator[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    chunk: list[tuple[Any, ...]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _bulk_insert(connection: Connection, table: str, columns: Sequence[str],
                 rows: Iterator[tuple[Any, ...]]) -> None:
    raw = connection.connection.driver_connection
    names = ", ".join(columns)
    if connection.dialect.name == "postgresql":
        with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join("?" * len(columns))
    cursor = raw.cursor()
    for chunk in _chunks(rows, BATCH):
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", chunk)  # noqa: S608
    cursor.close()


def _droppable_indexes(connection: Connection) -> list[tuple[str, str]]:
    """(name, CREATE statement) of the bulk tables' indexes that no constraint owns."""
    if connection.dialect.name == "postgresql":
        return [(row.indexname, row.indexdef) for row in connection.execute(text(
            "SELECT indexname, indexdef FROM pg_indexes i "
            "WHERE schemaname = current_schema() AND tablename = ANY(:tables) "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = "
            "(quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass)"),
            {"tables": list(BULK_TABLES)})]
    return [(row.name, row.sql) for row in connection.execute(text(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        "AND tbl_name IN ('report', 'report_object', 'access_grant', 'case_read', "
        "'report_label')"))]


def _fast_and_unsafe(connection: Connection) -> None:
    """Settings for a database that is thrown away: no journal, no fsync, big caches."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET synchronous_commit = off")
        connection.exec_driver_sql("SET maintenance_work_mem = '512MB'")
        return
    for pragma in ("journal_mode = OFF", "synchronous = OFF", "cache_size = -524288",
                   "temp_store = MEMORY"):
        connection.exec_driver_sql(f"PRAGMA {pragma}")


def database_bytes(engine: Engine, sqlite_file: Path | None) -> int:
    if sqlite_file is not None:
        return sqlite_file.stat().st_size
    with engine.connect() as connection:
        return int(connection.scalar(text(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = current_schema() AND c.relkind = 'r'")) or 0)


# VACUUMs on PostgreSQL until the visibility map covers a table: the inbox's index-only
# scans read the heap for every row it does not cover (a deep page then took 190 ms, not
# 40). One pass is not always enough: an autovacuum ANALYZE that the bulk load set off
# holds back the horizon, and VACUUM then cannot mark the new rows visible to all.
_VACUUM_PASSES = 5


def _analyse(engine: Engine) -> None:
    """Fresh statistics (and, on PostgreSQL, the visibility map index-only scans need)."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        if connection.dialect.name != "postgresql":
            connection.exec_driver_sql("ANALYZE")
            return
        pending = list(BULK_TABLES)
        for attempt in range(_VACUUM_PASSES):
            if attempt:
                time.sleep(2)
            for table in pending:
                connection.exec_driver_sql(f"VACUUM ANALYZE {table}")
            pending = [table for table in pending if not _all_visible(connection, table)]
            if not pending:
                return
        print(f"the visibility map still misses pages of {', '.join(pending)}", file=sys.stderr)


def _all_visible(connection: Connection, table: str) -> bool:
    visible, pages = connection.execute(text(
        "SELECT relallvisible, relpages FROM pg_class WHERE oid = CAST(:table AS regclass)"),
        {"table": table}).one()
    return bool(visible >= pages)


def seed_reports(engine: Engine, handler: str, count: int,
                 sqlite_file: Path | None) -> SeedFigures:
    """``count`` reports granted to ``handler``, with labels, one object each, read markers."""
    rng = random.Random(20261128)  # the same spread every run
    today = datetime.now(UTC).date()
    recipient = str(generate_identity(post_quantum=True).recipient)
    started = time.monotonic()
    with engine.connect() as connection:
        _fast_and_unsafe(connection)
        connection.commit()
        with connection.begin():
            indexes = _droppable_indexes(connection)
            for name, _create in indexes:
                connection.exec_driver_sql(f"DROP INDEX {name}")
            staff_id = connection.scalar(
                select(StaffAccount.id).where(StaffAccount.username == handler))
            channel_ids = list(connection.scalars(select(Channel.id)))
            _bulk_insert(connection, "report", REPORT_COLUMNS,
                         report_rows(count, channel_ids, recipient, today, rng))
            connection.execute(insert(AccessGrant).from_select(
                ["report_id", "staff_id", "granted_at"],
                select(Report.id, literal(staff_id),
                       literal(datetime.now(UTC).replace(tzinfo=None))),
            ))
            for number, label_id in enumerate(connection.scalars(select(Label.id)), start=3):
                connection.execute(insert(report_label).from_select(
                    ["report_id", "label_id"],
                    select(Report.id, literal(label_id)).where(Report.id % number == 0),
                ))
            reports = connection.execute(
                select(Report.id, Report.received_on).order_by(Report.id)).tuples()
            _bulk_insert(connection, "report_object", OBJECT_COLUMNS, object_rows(list(reports)))
            # Four in five reports read up to their newest object; the rest show as unread.
            connection.execute(insert(CaseRead).from_select(
                ["report_id", "staff_id", "last_object_id"],
                select(ReportObject.report_id, literal(staff_id), func.max(ReportObject.id))
                .where(ReportObject.report_id % 5 != 0)
                .group_by(ReportObject.report_id),
            ))
            loaded = time.monotonic()
            for _name, create in indexes:
                connection.exec_driver_sql(create)
    _analyse(engine)
    finished = time.monotonic()
    return SeedFigures(reports=count, seconds=finished - started,
                       load_seconds=loaded - started, index_seconds=finished - loaded,
                       database_bytes=database_bytes(engine, sqlite_file))
