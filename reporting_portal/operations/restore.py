"""``reporting-portal restore FILE --audit-key KEYFILE``: a backup into an empty installation.

Everything that can refuse is checked before anything is written: the whole file against
its manifest (a truncated or altered file changes nothing), the schema revision (a backup
newer than this release is refused), the audit key against the verifier key the backup's
installation recorded, and the target: any row in any table, or any blob in the store,
and the restore stops. Only then are the key installed (owner-only), the schema made at
the backup's revision, the blobs written through the configured store (so a local backup
restores into S3 as well as into a folder) and the rows inserted in foreign-key order, in
one transaction. The log is verified against the backup's signed head before that
transaction commits; if anything fails, it rolls back and the blobs written are deleted.
Afterwards the schema is upgraded to this release's, and the restore is logged.
"""

from __future__ import annotations

import gzip
import hmac
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Integer, MetaData, Table, and_, false, func, inspect, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from crypto.checkpoint import verifier_key_for
from crypto.errors import CheckpointError
from reporting_portal.audit.events import SYSTEM, AuditAction, ObjectType, record_event
from reporting_portal.audit.verify import verify_log
from reporting_portal.operations.archive import (
    BLOB_PREFIX,
    BLOB_REFERENCES,
    BackupFileError,
    HashingReader,
    Manifest,
    MemberDigest,
    TableEntry,
    copy_stream,
    read_members,
    verify_backup_file,
)
from reporting_portal.operations.backup import SKIPPED_TABLES
from reporting_portal.operations.progress import ProgressBar, ProgressFactory, no_progress
from reporting_portal.operations.rows import MAX_LINE_BYTES, RowEncodingError, decode_row
from reporting_portal.storage.blobstore import BlobStore
from reporting_portal.storage.db import Database
from reporting_portal.storage.migrate import alembic_config, downgrade_database, upgrade_database
from reporting_portal.storage.secret_files import write_secret_file

_BATCH = 1_000
_MAX_KEY_FILE_BYTES = 4096
# The migrations seed the log's append cursor at size 0; the backup's row replaces it.
_SEEDED_TABLE = "audit_log_state"


class RestoreError(RuntimeError):
    """The restore was refused or failed; the message says why."""


class TargetNotEmptyError(RestoreError):
    """The installation restored into already holds data."""


@dataclass(frozen=True)
class RestoreSummary:
    rows: int
    blobs: int
    missing_blobs: tuple[str, ...]
    audit_tree_size: int
    schema_revision: str


def restore_backup(database: Database, store: BlobStore, audit_key_file: Path, backup: Path,
                   audit_key: Path, progress: ProgressFactory = no_progress) -> RestoreSummary:
    """Restore ``backup`` into the empty installation of ``database`` and ``store``.

    ``audit_key`` is the log's signing key, kept apart from the backup; it is installed at
    ``audit_key_file`` (the settings' path). Raises :class:`BackupFileError` for a bad
    file, :class:`TargetNotEmptyError` and :class:`RestoreError` for the other refusals.
    """
    manifest, head = verify_backup_file(backup, progress)
    revisions = _known_revisions(database.engine)
    if manifest.schema_revision not in revisions:
        raise RestoreError(
            f"the backup's schema revision {manifest.schema_revision!r} is unknown to this "
            "release: restore it with the release that made it, or a newer one")
    signer_key = _read_signer_key(audit_key, manifest.audit_verifier_key)
    key_exists = _check_installed_key(audit_key_file, signer_key)
    _refuse_non_empty(database.engine, store)

    if not key_exists:
        audit_key_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_secret_file(audit_key_file, signer_key + "\n")
    written: list[str] = []
    try:
        _prepare_schema(database.engine, manifest.schema_revision, revisions)
        with database.session_factory() as db:
            installation_id = _load(db, store, backup, manifest, head, written, progress)
            db.commit()
    except BaseException:
        for name in written:
            store.delete(name)
        if not key_exists:
            audit_key_file.unlink(missing_ok=True)
        raise
    upgrade_database(database.engine)
    with database.session_factory() as db:
        record_event(db, AuditAction.BACKUP_RESTORED, actor=None, actor_role=SYSTEM,
                     object_type=ObjectType.INSTALLATION, object_id=str(installation_id))
        db.commit()
    return RestoreSummary(rows=manifest.row_count, blobs=len(written),
                          missing_blobs=manifest.missing_blobs,
                          audit_tree_size=manifest.audit_tree_size,
                          schema_revision=manifest.schema_revision)


def _known_revisions(engine: Engine) -> list[str]:
    """This release's revisions, newest first."""
    script = ScriptDirectory.from_config(alembic_config(str(engine.url)))
    return [revision.revision for revision in script.walk_revisions()]


def _read_signer_key(path: Path, recorded_verifier_key: str) -> str:
    try:
        with path.open("rb") as handle:
            data = handle.read(_MAX_KEY_FILE_BYTES + 1)
    except OSError as error:
        raise RestoreError(f"cannot read the audit key {path}: {error.strerror}") from None
    try:
        signer_key = data.decode("ascii").strip()
        verifier_key = verifier_key_for(signer_key)
    except (UnicodeDecodeError, CheckpointError):
        raise RestoreError(f"{path} is not an audit signing key") from None
    if not hmac.compare_digest(verifier_key.encode(), recorded_verifier_key.encode()):
        raise RestoreError(
            f"{path} is not the key that signed this backup's access log: the backup's "
            f"installation records the verifier key {recorded_verifier_key}")
    return signer_key


def _check_installed_key(key_file: Path, signer_key: str) -> bool:
    """Whether the settings' key file already holds this key; refuses another key."""
    if not key_file.exists():
        return False
    installed = key_file.read_text(encoding="ascii").strip()
    if not hmac.compare_digest(installed.encode(), signer_key.encode()):
        raise RestoreError(
            f"{key_file} holds another audit signing key: this is not an empty installation "
            "(move the file away if it is left from an earlier one)")
    return True


def _refuse_non_empty(engine: Engine, store: BlobStore) -> None:
    with engine.connect() as connection:
        quote = connection.dialect.identifier_preparer.quote
        for name in sorted(inspect(connection).get_table_names()):
            if name in SKIPPED_TABLES:
                continue
            query = f"SELECT 1 FROM {quote(name)}"  # noqa: S608  # nosec B608 -- a table name from the schema, quoted
            if name == _SEEDED_TABLE:
                query += " WHERE tree_size <> 0"
            if connection.execute(text(query + " LIMIT 1")).first() is not None:
                raise TargetNotEmptyError(
                    f"the target installation is not empty (table {name} has rows): "
                    "restore only into a new database and an empty blob store")
    if next(iter(store.names()), None) is not None:
        raise TargetNotEmptyError(
            "the target blob store already holds blobs: restore only into an empty one")


def _prepare_schema(engine: Engine, revision: str, revisions: list[str]) -> None:
    """The schema at the backup's revision: made, or moved there (the database is empty)."""
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    if current == revision:
        return
    if current is not None and current not in revisions:
        raise RestoreError(f"the target database's schema revision {current!r} is unknown "
                           "to this release")
    if current is None or revisions.index(current) > revisions.index(revision):
        upgrade_database(engine, revision)
    else:
        downgrade_database(engine, revision)


def _load(db: Session, store: BlobStore, backup: Path, manifest: Manifest, head: str,
          written: list[str], progress: ProgressFactory) -> int:
    """Write the blobs and insert the rows; returns the installation's id."""
    connection = db.connection()
    metadata = MetaData()
    metadata.reflect(bind=connection)
    connection.execute(text(f"DELETE FROM {_SEEDED_TABLE}"))  # noqa: S608  # nosec B608 -- a constant
    tables = {entry.member: entry for entry in manifest.tables}
    renamed: dict[str, str] = {}
    with progress("Restoring", manifest.row_count + len(manifest.blob_names)) as bar:
        for name, reader in read_members(backup, manifest):
            if name.startswith(BLOB_PREFIX):
                renamed[name.removeprefix(BLOB_PREFIX)] = _write_blob(
                    store, reader, manifest.members[name], written)
                bar.update(1)
            elif name in tables:
                entry = tables[name]
                table = metadata.tables.get(entry.name)
                if table is None:
                    raise RestoreError(f"the backup has a table {entry.name} that its schema "
                                       "revision does not")
                _insert_table(connection, table, entry, reader, renamed,
                              frozenset(manifest.missing_blobs), bar)
    _reset_sequences(connection, metadata)
    recorded = list(connection.execute(text("SELECT id, audit_verifier_key FROM installation")))
    if len(recorded) != 1 or recorded[0].audit_verifier_key != manifest.audit_verifier_key:
        raise BackupFileError("the backup's installation row is not the one its manifest names")
    verification = verify_log(db, manifest.audit_verifier_key, head)
    problem = verification.first_problem
    if problem is not None:
        where = "" if problem.leaf_index is None else f"entry {problem.leaf_index}: "
        raise RestoreError(f"the restored access log does not verify ({where}"
                           f"{problem.message}); nothing was restored")
    return int(recorded[0].id)


def _write_blob(store: BlobStore, reader: HashingReader, expected: MemberDigest,
                written: list[str]) -> str:
    with store.create() as writer:
        copy_stream(reader, writer)
        if reader.digest() != expected:
            raise BackupFileError("a blob changed while it was being restored")
        writer.commit()
    written.append(writer.name)
    return writer.name


def _insert_table(connection: Connection, table: Table, entry: TableEntry,
                  reader: HashingReader, renamed: dict[str, str], missing: frozenset[str],
                  bar: ProgressBar) -> None:
    """Insert in batches. A column naming its own table (a file's parent object) is set
    afterwards, so a row may come before the row it names."""
    columns = frozenset(table.c.keys())
    blob_column = BLOB_REFERENCES.get(table.name)
    self_references = [key.parent.name for key in table.foreign_keys
                       if key.column.table is table]
    primary_key = [column.name for column in table.primary_key.columns]
    links: list[dict[str, object]] = []
    batch: list[dict[str, object]] = []
    count = 0
    for row in _rows(reader, columns, entry.name):
        if blob_column is not None:
            row[blob_column] = _new_blob_name(row[blob_column], renamed, missing)
        if any(row[column] is not None for column in self_references):
            links.append({column: row[column] for column in primary_key + self_references})
            row.update(dict.fromkeys(self_references))
        batch.append(row)
        count += 1
        if len(batch) == _BATCH:
            connection.execute(table.insert(), batch)
            bar.update(len(batch))
            batch = []
    if batch:
        connection.execute(table.insert(), batch)
        bar.update(len(batch))
    for link in links:
        connection.execute(update(table).where(and_(*(
            table.c[column] == link[column] for column in primary_key)))
            .values({column: link[column] for column in self_references}))
    if count != entry.rows:
        raise BackupFileError(f"table {entry.name} has {count} rows, its manifest "
                              f"{entry.rows}")


def _rows(reader: HashingReader, columns: frozenset[str],
          table_name: str) -> Iterator[dict[str, object]]:
    try:
        with gzip.GzipFile(fileobj=reader, mode="rb") as lines:
            while line := lines.readline(MAX_LINE_BYTES + 1):
                yield decode_row(line, columns)
    except (OSError, EOFError, zlib.error, RowEncodingError) as error:
        raise BackupFileError(f"table {table_name} cannot be read: {error}") from None


def _new_blob_name(old: object, renamed: dict[str, str], missing: frozenset[str]) -> object:
    if not isinstance(old, str):
        raise BackupFileError("a blob reference is not a name")
    if old in renamed:
        return renamed[old]
    if old in missing:
        # Purged while the backup ran: the next purge removes its report again.
        return old
    raise BackupFileError(f"a row names blob {old}, which the backup does not hold")


def _reset_sequences(connection: Connection, metadata: MetaData) -> None:
    """PostgreSQL's id sequences start after the highest id restored (SQLite needs none)."""
    if connection.dialect.name != "postgresql":
        return
    for table in metadata.sorted_tables:
        [*key] = table.primary_key.columns
        if len(key) != 1 or not isinstance(key[0].type, Integer):
            continue
        highest = select(func.max(key[0])).scalar_subquery()
        connection.execute(select(func.setval(
            func.pg_get_serial_sequence(table.name, key[0].name),
            func.coalesce(highest, 0) + 1, false())))
