"""What a backup file holds: ciphertext and metadata, never a report's plaintext or the
audit signing key; and how it stays consistent while a purge runs."""

import base64
import gzip
import tarfile
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from reporting_portal.domain.retention import delete_blobs, purge_expired_reports
from reporting_portal.operations.archive import verify_backup_file
from reporting_portal.operations.backup import BackupError
from reporting_portal.storage.migrate import head_revision
from reporting_portal.storage.models import Label, Report, ReportStatus
from reporting_portal.web.database import get_database
from tests.helpers.custody import JUSTIFICATION
from tests.helpers.operations import HANDLER_REPLY, REPORTER_MESSAGE, back_up, restore
from tests.helpers.reporting import CASE_FILE, CONTENT_MARKER, REPORTER_CONTACT, REPORTER_NAME

pytestmark = [pytest.mark.database, pytest.mark.slow]


def everything_in(path):
    """The file's bytes, and each gzipped table's lines uncompressed: all a thief gets."""
    parts = [path.read_bytes()]
    with tarfile.open(path) as tar:
        for info in tar:
            if info.name.endswith(".gz"):
                parts.append(gzip.decompress(tar.extractfile(info).read()))
    return b"\n".join(parts)


def test_the_backup_holds_no_plaintext_of_the_report_and_no_signing_key(
        populated, installed, tmp_path):
    backup = tmp_path / "portal.backup"
    back_up(populated.app, backup)
    stored = everything_in(backup)
    assert b'"blob_name":' in stored  # the tables' lines are there, uncompressed
    for plaintext in (CONTENT_MARKER, REPORTER_NAME, REPORTER_CONTACT, HANDLER_REPLY,
                      REPORTER_MESSAGE, JUSTIFICATION, "We have your report."):
        assert plaintext.encode() not in stored, plaintext
        assert base64.b64encode(plaintext.encode())[:24] not in stored, plaintext
    assert CASE_FILE not in stored
    signer_key = populated.settings.audit_key_file.read_text().strip()
    seed = signer_key.split("+", 4)[4]  # PRIVATE+KEY+<name>+<key id>+<base64 seed>
    assert len(seed) > 40
    assert seed.encode() not in stored
    assert base64.b64decode(seed)[1:] not in stored
    assert installed.recovery_identity.encode() not in stored


def test_members_are_in_restore_order_with_tables_in_foreign_key_order(app, case_with_file,
                                                                        tmp_path):
    backup = tmp_path / "portal.backup"
    back_up(app, backup)
    with tarfile.open(backup) as tar:
        names = tar.getnames()
        assert all(info.mode == 0o600 and info.mtime == 0 for info in tar)
    kinds = [name.split("/")[0] for name in names]
    assert kinds == sorted(kinds, key=["blobs", "database", "audit-head.txt", "manifest.json",
                                       "manifest.sha256"].index)
    tables = [name for name in names if name.startswith("database/")]
    for parent, child in [("channel", "report"), ("report", "report_object"),
                          ("staff_account", "access_grant")]:
        assert tables.index(f"database/{parent}.jsonl.gz") < \
            tables.index(f"database/{child}.jsonl.gz")
    manifest, head = verify_backup_file(backup)
    assert manifest.schema_revision == head_revision()
    assert head.startswith("reporting-portal.test/audit\n")


def close_for_purge(app):
    with get_database(app).session_factory() as db:
        report = db.scalar(select(Report))
        report.status, report.closed_on = ReportStatus.CLOSED, datetime.now(UTC).date()
        report.purge_after = datetime.now(UTC).date()
        db.commit()


class PurgeDuringCopy:
    """A blob store on which a purge runs just after the snapshot, before the copying."""

    def __init__(self, app, store):
        self._app, self._store, self._purged = app, store, False

    def size(self, name):
        if not self._purged:
            self._purged = True
            with get_database(self._app).session_factory() as db:
                purged = purge_expired_reports(db, datetime.now(UTC).date())
                db.commit()
            delete_blobs(self._store, purged.blob_names)
        return self._store.size(name)

    def __getattr__(self, name):
        return getattr(self._store, name)


def test_blobs_purged_after_the_snapshot_are_listed_not_fatal(app, case_with_file, settings,
                                                              make_target, tmp_path):
    from reporting_portal.operations.backup import create_backup

    close_for_purge(app)
    backup = tmp_path / "portal.backup"
    summary = create_backup(get_database(app), PurgeDuringCopy(app, app.extensions["blob_store"]),
                            backup)
    # Every blob belonged to the purged report: listed as missing, none copied.
    assert len(summary.missing_blobs) >= 2
    assert summary.blobs == 0
    target = make_target("sqlite")
    restored = restore(target, backup, settings.audit_key_file)
    assert restored.missing_blobs == summary.missing_blobs
    with get_database(target).session_factory() as db:
        # The report as the snapshot had it; the next purge removes it again.
        assert db.scalar(select(Report.status)) == "closed"
        assert purge_expired_reports(db, datetime.now(UTC).date()).report_ids
        db.commit()


def test_a_blob_missing_while_its_report_remains_stops_the_backup(app, case_with_file,
                                                                  tmp_path):
    store = app.extensions["blob_store"]
    victim = sorted(store.names())[0]
    store.delete(victim)
    backup = tmp_path / "portal.backup"
    with pytest.raises(BackupError, match=f"blob {victim} is missing"):
        back_up(app, backup)
    assert list(tmp_path.glob("*portal.backup*")) == []


def test_an_existing_file_is_never_overwritten(app, case_with_file, tmp_path):
    backup = tmp_path / "portal.backup"
    backup.write_text("an older backup")
    with pytest.raises(BackupError, match="already exists"):
        back_up(app, backup)
    assert backup.read_text() == "an older backup"


class WriteDuringCopy:
    """A blob store on which someone adds a label while the backup copies the blobs."""

    def __init__(self, app, store):
        self._app, self._store, self._written = app, store, False

    def size(self, name):
        if not self._written:
            self._written = True
            with get_database(self._app).session_factory() as db:
                db.add(Label(name="added-during-the-backup"))
                db.commit()
        return self._store.size(name)

    def __getattr__(self, name):
        return getattr(self._store, name)


def test_the_tables_are_read_as_they_were_when_the_backup_began(app, case_with_file,
                                                                tmp_path):
    from reporting_portal.operations.backup import create_backup

    backup = tmp_path / "portal.backup"
    create_backup(get_database(app), WriteDuringCopy(app, app.extensions["blob_store"]),
                  backup)
    with get_database(app).session_factory() as db:
        assert db.scalar(select(Label.name)) == "added-during-the-backup"
    with tarfile.open(backup) as tar:
        labels = gzip.decompress(tar.extractfile("database/label.jsonl.gz").read())
    assert labels == b""


class RecordedBars:
    """A progress factory that keeps each bar's label, length and the steps it was given."""

    def __init__(self):
        self.bars = []

    def __call__(self, label, length):
        import contextlib

        bar = {"label": label, "length": length, "steps": 0}
        self.bars.append(bar)

        class Bar:
            def update(self, steps):
                bar["steps"] += steps

        return contextlib.nullcontext(Bar())


def test_progress_runs_from_start_to_end_over_rows_blobs_and_bytes(app, case_with_file,
                                                                   settings, make_target,
                                                                   tmp_path):
    from reporting_portal.operations.backup import create_backup
    from reporting_portal.operations.restore import restore_backup

    backup = tmp_path / "portal.backup"
    recorded = RecordedBars()
    summary = create_backup(get_database(app), app.extensions["blob_store"], backup, recorded)
    target = make_target("sqlite")
    restore_backup(get_database(target), target.extensions["blob_store"],
                   target.extensions["settings"].audit_key_file, backup,
                   settings.audit_key_file, recorded)
    backing_up, checking, restoring = recorded.bars
    assert backing_up["length"] == summary.rows + summary.blobs == backing_up["steps"]
    assert checking["label"] == "Checking the backup"
    assert 0 < checking["steps"] <= checking["length"] == backup.stat().st_size
    assert restoring["length"] == summary.rows + summary.blobs == restoring["steps"]
