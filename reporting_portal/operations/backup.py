"""``reporting-portal backup -o FILE``: the database, every blob and the audit head, in one file.

Why the file is consistent: every table, the audit head and the list of blobs are read in
ONE read transaction (PostgreSQL: REPEATABLE READ READ ONLY; SQLite: one transaction over
WAL, which reads one snapshot however long it lasts), so the rows agree with each other
and with the head as they were at one instant. Blobs are immutable once written and are
named by the rows, so copying the blobs the snapshot's rows name, even later, copies
exactly the payloads of that instant. The one thing that can happen meanwhile is a purge
deleting a report and then its blobs: a blob found missing whose row is gone now as well
was purged after the snapshot, and is listed in the manifest (the next purge after a
restore removes its report again); a missing blob whose row still exists is an error.

The audit signing key is never in the file: like the database and its key, a backup and
the key are kept apart, so that whoever holds the backup cannot sign a rewritten log.
Nothing in the file is plaintext of a report: contents, files, messages and identities
are age ciphertext, in the blobs and the headers alike.

The file is written under a temporary name beside FILE (owner-only) and renamed when
complete, so a backup cut short never looks like one.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import secrets
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData, Table, func, select, text
from sqlalchemy.engine import Connection, Engine

from reporting_portal.audit.events import SYSTEM, AuditAction, ObjectType, record_event
from reporting_portal.operations.archive import (
    AUDIT_HEAD,
    BLOB_PREFIX,
    BLOB_REFERENCES,
    MANIFEST,
    MANIFEST_CHECKSUM,
    ArchiveWriter,
    Manifest,
    TableEntry,
)
from reporting_portal.operations.progress import ProgressBar, ProgressFactory, no_progress
from reporting_portal.operations.rows import encode_row
from reporting_portal.storage.blobstore import BlobNotFoundError, BlobStore
from reporting_portal.storage.db import Database

_BATCH = 2_000
# The schema's own bookkeeping: the manifest records the revision instead.
# inbox_count is derived: the triggers of migration 0019 count the restored grants again.
SKIPPED_TABLES = frozenset({"alembic_version", "inbox_count"})


class BackupError(RuntimeError):
    """The backup cannot be made; no file was left behind."""


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    size: int
    rows: int
    blobs: int
    missing_blobs: tuple[str, ...]
    audit_tree_size: int


def create_backup(database: Database, store: BlobStore, output: Path,
                  progress: ProgressFactory = no_progress) -> BackupSummary:
    """Write a backup of the installation to ``output`` (a new file, mode 0600).

    Records ``operations.backup_created`` once the file is complete.
    """
    if output.exists():
        raise BackupError(f"{output} already exists: choose a new file name")
    if not output.parent.is_dir():
        raise BackupError(f"{output.parent} is not a folder")
    partial = output.with_name(f".{output.name}.{secrets.token_hex(4)}.partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            manifest, installation_id = _write_archive(database, store, handle, output.parent,
                                                       progress)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, output)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    _fsync_folder(output.parent)
    with database.session_factory() as db:
        record_event(db, AuditAction.BACKUP_CREATED, actor=None, actor_role=SYSTEM,
                     object_type=ObjectType.INSTALLATION, object_id=str(installation_id))
        db.commit()
    return BackupSummary(path=output, size=output.stat().st_size, rows=manifest.row_count,
                         blobs=len(manifest.blob_names), missing_blobs=manifest.missing_blobs,
                         audit_tree_size=manifest.audit_tree_size)


def _write_archive(database: Database, store: BlobStore, handle: BinaryIO, folder: Path,
                   progress: ProgressFactory) -> tuple[Manifest, int]:
    with _snapshot(database.engine) as connection:
        revision = MigrationContext.configure(connection).get_current_revision()
        if revision is None:
            raise BackupError("the database has no schema: nothing to back up")
        metadata = MetaData()
        metadata.reflect(bind=connection)
        tables = [table for table in metadata.sorted_tables
                  if table.name not in SKIPPED_TABLES]
        installation = connection.execute(text(
            "SELECT id, audit_verifier_key FROM installation ORDER BY id")).first()
        if installation is None or not installation.audit_verifier_key:
            raise BackupError("not initialised (no installation or no audit key): "
                              "nothing to back up")
        head = connection.execute(text(
            "SELECT tree_size, checkpoint FROM audit_tree_head "
            "ORDER BY tree_size DESC LIMIT 1")).first()
        if head is None:
            raise BackupError("the access log has no signed tree head yet")
        counts = {table.name: connection.scalar(select(func.count()).select_from(table)) or 0
                  for table in tables}
        blob_names = sorted(_referenced_blobs(connection, metadata))
        with tarfile.open(fileobj=handle, mode="w", format=tarfile.PAX_FORMAT) as tar, \
                progress("Backing up", len(blob_names) + sum(counts.values())) as bar:
            writer = ArchiveWriter(tar)
            missing = _copy_blobs(database.engine, store, blob_names, writer, bar)
            # The counts above size the progress bar; the manifest has what was written.
            dumped = {table.name: _dump_table(connection, table, writer, folder, bar)
                      for table in tables}
            writer.add_bytes(AUDIT_HEAD, head.checkpoint.encode("utf-8"))
            manifest = Manifest(
                schema_revision=revision,
                created_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                audit_verifier_key=installation.audit_verifier_key,
                audit_tree_size=head.tree_size,
                tables=tuple(TableEntry(table.name, dumped[table.name]) for table in tables),
                blob_names=tuple(name for name in blob_names if name not in missing),
                missing_blobs=tuple(sorted(missing)),
                members=dict(writer.members),
            )
            manifest_bytes = manifest.to_json()
            writer.add_bytes(MANIFEST, manifest_bytes)
            writer.add_bytes(MANIFEST_CHECKSUM, (
                f"{writer.members[MANIFEST].sha256}  {MANIFEST}\n").encode("ascii"))
    return manifest, int(installation.id)


@contextlib.contextmanager
def _snapshot(engine: Engine) -> Iterator[Connection]:
    """A connection whose reads all see one instant, until the block ends."""
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execution_options(isolation_level="REPEATABLE READ",
                                         postgresql_readonly=True)
        elif connection.dialect.name == "sqlite":
            # pysqlite starts transactions only before writes; without an explicit BEGIN
            # every SELECT would read its own, later state.
            connection.exec_driver_sql("BEGIN")
        try:
            yield connection
        finally:
            connection.rollback()


def _referenced_blobs(connection: Connection, metadata: MetaData) -> set[str]:
    names: set[str] = set()
    for table_name, column in BLOB_REFERENCES.items():
        table = metadata.tables.get(table_name)
        if table is not None:
            names.update(connection.scalars(select(table.c[column])))
    return names


def _copy_blobs(engine: Engine, store: BlobStore, names: list[str], writer: ArchiveWriter,
                bar: ProgressBar) -> set[str]:
    """Stream each blob into the archive; returns those a purge deleted meanwhile."""
    missing: set[str] = set()
    for name in names:
        try:
            size = store.size(name)
            with store.open(name) as payload:
                writer.add(BLOB_PREFIX + name, payload, size)
        except BlobNotFoundError:
            if _still_referenced(engine, name):
                raise BackupError(
                    f"blob {name} is missing from the blob store but a report still names "
                    "it: run `reporting-portal fsck` before backing up") from None
            missing.add(name)
        bar.update(1)
    return missing


def _still_referenced(engine: Engine, name: str) -> bool:
    # The present state, not the snapshot's: a new connection.
    with engine.connect() as connection:
        return any(
            connection.execute(text(f"SELECT 1 FROM {table} WHERE {column} = :name"),  # noqa: S608  # nosec B608 -- names from BLOB_REFERENCES, a constant
                               {"name": name}).first() is not None
            for table, column in BLOB_REFERENCES.items())


def _dump_table(connection: Connection, table: Table, writer: ArchiveWriter, folder: Path,
                bar: ProgressBar) -> int:
    # A tar member's size comes before its bytes, so the gzipped lines are spooled first:
    # to an unnamed owner-only file beside the backup (ciphertext and metadata only, as
    # in the database itself), never in memory, as the log's table can be large.
    written = 0
    with tempfile.TemporaryFile(dir=folder) as spool:
        with gzip.GzipFile(fileobj=spool, mode="wb", mtime=0) as lines:
            rows = connection.execution_options(yield_per=_BATCH).execute(
                select(table).order_by(*table.primary_key.columns))
            for partition in rows.mappings().partitions():
                for row in partition:
                    lines.write(encode_row(dict(row)))
                bar.update(len(partition))
                written += len(partition)
        size = spool.tell()
        spool.seek(0)
        writer.add(TableEntry(table.name, written).member, spool, size)
    return written


def _fsync_folder(folder: Path) -> None:
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
