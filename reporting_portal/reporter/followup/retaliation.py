"""Filing a reporter's retaliation report (domain/retaliation.py says what it is)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from reporting_portal.audit.events import AuditAction
from reporting_portal.domain.retaliation import RetaliationReport, mark_retaliation
from reporting_portal.reporter.followup.services import file_reporter_message
from reporting_portal.storage.blobstore import BlobStore
from reporting_portal.storage.models import MessageType, Report, ReportObject
from reporting_portal.web.uploads import StoredUpload


def report_retaliation(db: Session, store: BlobStore, report: Report, *,
                       retaliation: RetaliationReport | None, files: list[StoredUpload],
                       content_upload: StoredUpload | None) -> ReportObject:
    """File it as a message of its own type and mark the case, in one transaction.

    ``retaliation`` is the server path's checked form; on the browser path it is
    ``None`` and ``content_upload`` holds the same answers, encrypted in the page."""
    message = file_reporter_message(
        db, store, report, answers=retaliation.answers() if retaliation else {},
        files=files, content_upload=content_upload,
        action=AuditAction.REPORTER_RETALIATION_REPORTED,
        message_type=MessageType.RETALIATION)
    mark_retaliation(db, report)
    return message
