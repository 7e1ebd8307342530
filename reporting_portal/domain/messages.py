"""Messages between a case's handlers and its reporter.

A message is an age object for everyone on the case and for the reporter, whose key
was made with the report. Casework (a handler's question, the acknowledgement) and the
reporter's mailbox (a reply) both write them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from reporting_portal.audit.events import (
    REPORTER,
    AuditAction,
    ObjectType,
    primary_role,
    record_event,
)
from reporting_portal.domain.installation import get_installation
from reporting_portal.domain.objects import (
    case_recipients,
    new_object,
    seal_for,
    store_small_payload,
)
from reporting_portal.storage.blobstore import BlobStore
from reporting_portal.storage.models import ObjectKind, Report, ReportObject, StaffAccount

MESSAGE_VERSION = 1


def message_recipients(db: Session, report: Report) -> list[str]:
    """A message is for the case's handlers, the recovery key and the reporter."""
    return [*case_recipients(db, report, get_installation(db)), report.reporter_recipient]


def post_message(
    db: Session,
    store: BlobStore,
    report: Report,
    *,
    text: str,
    author: StaffAccount | None,
) -> ReportObject:
    """Encrypt a message to everyone on the case and the reporter, and file it.

    ``author`` is the case handler who writes, or ``None`` for the reporter.
    """
    from_reporter = author is None
    document = {"version": MESSAGE_VERSION, "answers": {"message": text}, "files": []}
    blob_name, size, file_key = store_small_payload(
        db, store, json.dumps(document, ensure_ascii=False).encode("utf-8")
    )
    message = new_object(
        report=report, kind=ObjectKind.MESSAGE,
        header=seal_for(file_key, message_recipients(db, report)),
        blob_name=blob_name, payload_size=size, today=datetime.now(UTC).date(),
        from_reporter=from_reporter, author=author,
    )
    db.add(message)
    record_event(
        db,
        AuditAction.REPORTER_MESSAGE_SENT if from_reporter else AuditAction.HANDLER_MESSAGE_SENT,
        actor=author,
        actor_role=REPORTER if author is None else primary_role(author),
        object_type=ObjectType.REPORT, object_id=report.public_id,
    )
    return message
