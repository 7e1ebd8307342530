"""A populated installation, backed up and restored into a new one, works as before.

The source runs on the test run's backend; each round trip restores into SQLite and into
PostgreSQL, so both directions of the migration path are exercised across the two runs.
"""

import re

import pytest
from sqlalchemy import func, select

from reporting_portal.audit.verify import verify_log
from reporting_portal.operations.archive import verify_backup_file
from reporting_portal.storage.models import AuditEvent, Installation, ReportObject
from reporting_portal.web.database import get_database
from tests.helpers import csrf_token, https_client
from tests.helpers.operations import HANDLER_REPLY, REPORTER_MESSAGE, back_up, restore
from tests.helpers.reporting import CASE_FILE, CONTENT_MARKER, open_mailbox
from tests.helpers.staff import signed_in

pytestmark = [pytest.mark.database, pytest.mark.slow]


# Local folder to S3 too (and, in the run with --blob-store=s3, S3 to a local folder).
@pytest.mark.parametrize(("target_backend", "target_store"),
                         [("sqlite", "local"), ("postgresql", "local"), ("sqlite", "s3")])
def test_a_restored_installation_opens_its_reports_and_verifies_its_log(
        populated, make_target, tmp_path, target_backend, target_store):
    backup = tmp_path / "portal.backup"
    made = back_up(populated.app, backup)
    assert backup.stat().st_mode & 0o777 == 0o600
    assert made.blobs >= 4  # the content, the identity, the file, the messages
    assert made.missing_blobs == ()
    _manifest, saved_head = verify_backup_file(backup)

    target = make_target(target_backend, target_store)
    restored = restore(target, backup, populated.settings.audit_key_file)
    assert restored.rows == made.rows
    assert len(list(target.extensions["blob_store"].names())) == made.blobs
    target_settings = target.extensions["settings"]
    assert target_settings.audit_key_file.read_text() == \
        populated.settings.audit_key_file.read_text()
    assert target_settings.audit_key_file.stat().st_mode & 0o777 == 0o600

    # The reporter signs in with the receipt code and reads the handler's reply.
    reporter = https_client(target)
    assert open_mailbox(reporter, populated.receipt_code).headers["Location"] == \
        "/followup/mailbox"
    mailbox = reporter.get("/followup/mailbox").get_data(as_text=True)
    assert HANDLER_REPLY in mailbox
    assert REPORTER_MESSAGE in mailbox

    # The handler reads the report, the reporter's message and the file.
    handler = signed_in(target, populated.handler, step=1)
    case = handler.get(f"/staff/cases/{populated.case_id}").get_data(as_text=True)
    assert CONTENT_MARKER in case.replace("&#39;", "'")
    assert REPORTER_MESSAGE in case
    assert "Assessment" in case
    link = re.search(r'href="(/staff/cases/[^"]+/files/[^"]+)"', case).group(1)
    assert handler.get(link).data == CASE_FILE
    # New reports get new ids: the sequences start after the restored rows.
    noted = handler.post(f"/staff/cases/{populated.case_id}/notes", data={
        "csrf_token": csrf_token(handler, f"/staff/cases/{populated.case_id}"),
        "note": "Written after the restore."})
    assert noted.status_code == 302

    # The restored log verifies against the head saved in the backup, and grew since.
    with get_database(target).session_factory() as db:
        key = db.scalar(select(Installation.audit_verifier_key))
        result = verify_log(db, key, saved_head)
        actions = list(db.scalars(select(AuditEvent.action).order_by(AuditEvent.leaf_index)))
        objects = db.scalar(select(func.count()).select_from(ReportObject))
    assert result.intact, result.problems
    assert result.saved_head.size == made.audit_tree_size < result.tree_size
    # The restore is the first new entry; then what the people above did.
    after = actions[made.audit_tree_size:]
    assert after[0] == "operations.backup_restored"
    assert {"case.read", "case.file_downloaded", "case.note_written"} <= set(after)
    with get_database(populated.app).session_factory() as db:
        assert objects == db.scalar(select(func.count()).select_from(ReportObject)) + 1
        assert "operations.backup_created" in db.scalars(select(AuditEvent.action)).all()
