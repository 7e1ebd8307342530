"""`reporting-portal fsck [--repair]`: each kind of damage is listed, repaired once, and gone.

Each test makes one kind of damage by hand, as a crash or a lost disk would leave it:
a blob no row names, a row whose blob was deleted, a partial upload file, a held audit
event a day overdue. The check lists it and exits 1; the repair removes it, logs it and
exits 0; a second check is clean. What may belong to a request still running (a blob seen
orphaned only once, an upload younger than the grace) is spared.
"""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select

from reporting_portal.cli import main
from reporting_portal.operations.fsck import repair
from reporting_portal.storage.blobstore import BlobStore, LocalBlobStore, open_blob_store
from reporting_portal.storage.models import (
    AuditEvent,
    HeldAuditEvent,
    ObjectKind,
    Report,
    ReportObject,
)
from reporting_portal.web.database import get_database
from tests.helpers.reporting import CASE_FILE_NAME, CONTENT_MARKER
from tests.helpers.staff import signed_in

pytestmark = pytest.mark.database


@pytest.fixture
def fsck(monkeypatch, settings):
    """The command as an operator runs it, on the test's installation."""
    monkeypatch.setenv("REPORTING_PORTAL_INSTANCE_DIR", str(settings.instance_dir))
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    # The same blob store as the app's: a folder, or the bucket of the --blob-store=s3 run.
    for name in ("blob_store", "s3_endpoint_url", "s3_bucket", "s3_region", "s3_prefix"):
        monkeypatch.setenv(f"REPORTING_PORTAL_{name.upper()}", str(getattr(settings, name)))
    monkeypatch.setenv("REPORTING_PORTAL_BLOB_DIR", str(settings.blob_dir))
    monkeypatch.delenv("REPORTING_PORTAL_CONFIG", raising=False)

    def run(*args: str):
        return CliRunner().invoke(main, ["fsck", *args], catch_exceptions=False)

    return run


@pytest.fixture
def store(settings) -> BlobStore:
    return open_blob_store(settings)


@pytest.fixture
def local_store(settings) -> LocalBlobStore:
    if settings.blob_store != "local":
        pytest.skip("partial files are the local store's; S3's multipart uploads: below")
    return LocalBlobStore(settings.blob_dir)


def actions(app: Flask) -> list[tuple[str, str | None, str | None]]:
    with get_database(app).session_factory() as db:
        return [(event.action, event.actor_role, event.object_id)
                for event in db.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def object_of(app: Flask, kind: ObjectKind) -> ReportObject:
    with get_database(app).session_factory() as db:
        return db.scalars(select(ReportObject).where(ReportObject.kind == kind)).one()


def write_blob(store: BlobStore) -> str:
    with store.create() as writer:
        writer.write(b"ciphertext of a killed request")
        writer.commit()
    return writer.name


def partial_upload(store: LocalBlobStore, *, age: timedelta):
    """A killed writer's temporary file, begun ``age`` ago (its mtime is its start)."""
    name = secrets.token_hex(16)
    path = store.root / name[:2] / f".{name}.{secrets.token_hex(4)}.partial"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"half a payload")
    started = (datetime.now(UTC) - age).timestamp()
    os.utime(path, (started, started))
    return path


def test_a_sound_installation_is_clean(fsck, full_case):
    result = fsck()
    assert result.exit_code == 0, result.output
    assert result.output == "fsck: clean.\n"


def test_an_orphan_blob_is_listed_then_deleted_and_the_cases_stay_whole(
        app, fsck, store, case_with_file, channel_with_handlers):
    kept = set(store.names())
    orphan = write_blob(store)

    listed = fsck()
    assert listed.exit_code == 1
    assert f"orphan blob: {orphan}\n" in listed.output
    assert "fsck: 1 orphan blob(s), 0 object(s) without payload" in listed.output
    assert orphan in set(store.names()), "listing alone deletes nothing"

    repaired = fsck("--repair", "--grace", "0")
    assert repaired.exit_code == 0, repaired.output
    assert "Repaired: deleted 1 orphan blob(s), removed 0 object row(s)" in repaired.output
    assert set(store.names()) == kept
    assert actions(app)[-2:] == [("operations.orphan_blob_deleted", "system", orphan),
                                 ("operations.fsck_repaired", "system", None)]
    assert fsck().output == "fsck: clean.\n"
    page = signed_in(app, channel_with_handlers["hana"]).get(f"/staff/cases/{case_with_file}")
    assert page.status_code == 200
    assert CONTENT_MARKER in page.get_data(as_text=True)


def test_a_file_whose_blob_is_gone_is_removed_from_the_case(
        app, fsck, store, case_with_file, channel_with_handlers):
    hana = signed_in(app, channel_with_handlers["hana"])
    lost = object_of(app, ObjectKind.FILE)
    download = f"/staff/cases/{case_with_file}/files/{lost.public_id}"
    assert CASE_FILE_NAME in hana.get(f"/staff/cases/{case_with_file}").get_data(as_text=True)
    store.delete(lost.blob_name)
    assert hana.get(download).status_code == 500

    listed = fsck()
    assert listed.exit_code == 1
    assert f"lost payload: file {lost.public_id} of report {case_with_file}\n" in listed.output
    assert CASE_FILE_NAME not in listed.output

    repaired = fsck("--repair", "--grace", "0")
    assert repaired.exit_code == 0, repaired.output
    assert "removed 1 object row(s)" in repaired.output
    assert ("report.object_removed", "system", case_with_file) in actions(app)
    assert fsck().output == "fsck: clean.\n"
    page = hana.get(f"/staff/cases/{case_with_file}")
    assert page.status_code == 200
    assert CONTENT_MARKER in page.get_data(as_text=True)
    # The case lists the file no more, so no handler is sent to a download that fails.
    assert CASE_FILE_NAME not in page.get_data(as_text=True)
    assert hana.get(download).status_code == 404


def test_lost_content_is_said_loudly_and_the_report_is_kept_without_answers_or_files(
        app, fsck, store, case_with_file, channel_with_handlers):
    content = object_of(app, ObjectKind.CONTENT)
    attached = object_of(app, ObjectKind.FILE)
    store.delete(content.blob_name)

    listed = fsck()
    assert listed.exit_code == 1
    assert f"LOST REPORT CONTENT: report {case_with_file}" in listed.output

    repaired = fsck("--repair", "--grace", "0")
    assert repaired.exit_code == 0, repaired.output
    # The file hangs off the content, whose text named it: both rows go, and its payload.
    assert "removed 2 object row(s)" in repaired.output
    assert f"Reports kept without their content: {case_with_file}." in repaired.output
    assert attached.blob_name not in set(store.names())
    assert [entry for entry in actions(app) if entry[0] == "report.object_removed"] == [
        ("report.object_removed", "system", case_with_file)] * 2
    with get_database(app).session_factory() as db:
        assert db.scalar(select(Report.public_id)) == case_with_file
        assert db.scalars(select(ReportObject)).all() == []
    assert fsck().output == "fsck: clean.\n"
    page = signed_in(app, channel_with_handlers["hana"]).get(f"/staff/cases/{case_with_file}")
    assert page.status_code == 200
    assert CONTENT_MARKER not in page.get_data(as_text=True)


def test_a_killed_upload_is_aborted_and_a_young_one_spared(app, fsck, local_store, installed):
    store = local_store
    old = partial_upload(store, age=timedelta(hours=5))
    young = partial_upload(store, age=timedelta(minutes=1))

    listed = fsck()
    assert listed.exit_code == 1
    assert f"unfinished upload: {old.parent.name}/{old.name}, started" in listed.output
    assert "2 unfinished upload(s)" in listed.output

    _findings, done = repair(get_database(app).session_factory, store,
                             grace=timedelta(hours=4), wait=lambda _seconds: None)
    assert (done.uploads_aborted, done.uploads_spared) == (1, 1)
    assert not old.exists()
    assert young.exists(), "a write younger than the grace may still be running"
    assert actions(app)[-2:] == [("operations.unfinished_upload_aborted", "system", None),
                                 ("operations.fsck_repaired", "system", None)]

    assert fsck("--repair", "--grace", "0").exit_code == 0
    assert not young.exists()
    assert fsck().output == "fsck: clean.\n"


def test_a_blob_whose_request_may_still_run_is_spared(app, store, receipt_code):
    """Only a blob orphaned in both listings, and unnamed after the wait, is deleted."""
    settled, named_meanwhile = write_blob(store), write_blob(store)
    appeared_meanwhile: list[str] = []
    factory = get_database(app).session_factory

    def wait(_seconds: float) -> None:
        # During the grace a request commits the row naming one blob, and another
        # request commits a blob of its own, its row not yet.
        with factory() as db:
            report = db.scalars(select(Report)).one()
            content = db.scalars(select(ReportObject)).one()
            db.add(ReportObject(report=report, kind=ObjectKind.FILE, header=content.header,
                                blob_name=named_meanwhile, payload_size=30,
                                created_on=content.created_on, from_reporter=True))
            db.commit()
        appeared_meanwhile.append(write_blob(store))

    findings, done = repair(factory, store, grace=timedelta(seconds=5), wait=wait)
    assert findings.orphan_blobs == {settled, *appeared_meanwhile}
    assert (done.orphan_blobs_deleted, done.orphans_spared) == (1, 1)
    assert settled not in set(store.names())
    assert {named_meanwhile, *appeared_meanwhile} <= set(store.names())


def test_held_events_a_day_overdue_are_released_never_dropped(app, fsck, installed):
    today = datetime.now(UTC).date()
    with get_database(app).session_factory() as db:
        for day, action in ((today - timedelta(days=3), "reporter.signed_in"),
                            (today - timedelta(days=2), "reporter.mailbox_read"),
                            (today, "reporter.message_sent")):
            db.add(HeldAuditEvent(id=secrets.token_bytes(16), occurred_on=day,
                                  actor_role="reporter", action=action, object_type=None,
                                  object_id=None, outcome="success"))
        db.commit()

    listed = fsck()
    assert listed.exit_code == 1
    assert "held audit events overdue: 2 " in listed.output

    repaired = fsck("--repair", "--grace", "0")
    assert repaired.exit_code == 0, repaired.output
    assert "released 2 held audit event(s)" in repaired.output
    logged = [action for action, _role, _id in actions(app)]
    assert {"reporter.signed_in", "reporter.mailbox_read"} <= set(logged)
    assert logged[-2:] == ["audit.held_events_released", "operations.fsck_repaired"]
    with get_database(app).session_factory() as db:
        assert db.scalars(select(HeldAuditEvent.action)).all() == ["reporter.message_sent"]
    assert fsck().output == "fsck: clean.\n"


@pytest.mark.parametrize("grace", ["-1", "604801", "soon"])
def test_a_grace_out_of_bounds_is_refused_and_nothing_is_touched(fsck, store, installed, grace):
    orphan = write_blob(store)
    refused = fsck("--repair", "--grace", grace)
    assert refused.exit_code == 2
    assert "Invalid value for '--grace'" in refused.output
    assert orphan in set(store.names())


def test_a_multipart_upload_left_by_a_killed_worker_is_aborted(s3_bucket, settings, fsck,
                                                               installed, monkeypatch):
    """On S3 a killed upload is a multipart upload never completed: listed, then aborted."""
    s3 = s3_bucket.settings_for(settings)
    for name in ("blob_store", "s3_endpoint_url", "s3_bucket", "s3_region", "s3_prefix"):
        monkeypatch.setenv(f"REPORTING_PORTAL_{name.upper()}", str(getattr(s3, name)))
    abandoned = open_blob_store(s3).create()
    abandoned.write(os.urandom(9 * 1024 * 1024))  # more than one part: the upload began
    assert len(s3_bucket.multipart_uploads()) == 1

    listed = fsck()
    assert listed.exit_code == 1
    assert "1 unfinished upload(s)" in listed.output
    assert fsck("--repair", "--grace", "0").exit_code == 0
    assert s3_bucket.multipart_uploads() == []
    assert fsck().output == "fsck: clean.\n"
