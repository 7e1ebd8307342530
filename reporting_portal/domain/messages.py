"""Messages between a case's handlers and its reporter.

A message is an age object for everyone on the case and for the reporter, whose key
was made with the report. Casework (a handler's question, the acknowledgement) and the
reporter's mailbox (a reply) both write them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Protocol

from sqlalchemy.orm import Session

from crypto import FileKey
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


class AttachedFile(Protocol):
    """A file whose payload is already encrypted in the blob store (web/uploads.py's
    ``StoredUpload``, plaintext path): its header is sealed here, with the message's."""

    @property
    def blob_name(self) -> str: ...
    @property
    def payload_size(self) -> int: ...
    @property
    def plaintext_size(self) -> int | None: ...
    @property
    def file_key(self) -> FileKey | None: ...
    @property
    def filename(self) -> str: ...
    @property
    def content_type(self) -> str: ...


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
    files: Sequence[AttachedFile] = (),
) -> ReportObject:
    """Encrypt a message to everyone on the case and the reporter, and file it.

    ``author`` is the case handler who writes, or ``None`` for the reporter. ``files``
    become the message's file objects, for the same recipients; their names, sizes and
    types travel only inside the encrypted message, in the same order.
    """
    from_reporter = author is None
    recipients = message_recipients(db, report)
    document = {
        "version": MESSAGE_VERSION,
        "answers": {"message": text},
        "files": [{"field": "attachments", "name": f.filename, "size": f.plaintext_size,
                   "type": f.content_type} for f in files],
    }
    blob_name, size, file_key = store_small_payload(
        db, store, json.dumps(document, ensure_ascii=False).encode("utf-8")
    )
    message = new_object(
        report=report, kind=ObjectKind.MESSAGE,
        header=seal_for(file_key, recipients),
        blob_name=blob_name, payload_size=size, today=datetime.now(UTC).date(),
        from_reporter=from_reporter, author=author,
    )
    db.add(message)
    for attached in files:
        if attached.file_key is None:
            raise ValueError("an attached file must be encrypted by the server")
        db.add(new_object(
            report=report, kind=ObjectKind.FILE,
            header=seal_for(attached.file_key, recipients),
            blob_name=attached.blob_name, payload_size=attached.payload_size,
            today=message.created_on, from_reporter=from_reporter, author=author,
            parent=message,
        ))
    record_event(
        db,
        AuditAction.REPORTER_MESSAGE_SENT if from_reporter else AuditAction.HANDLER_MESSAGE_SENT,
        actor=author,
        actor_role=REPORTER if author is None else primary_role(author),
        object_type=ObjectType.REPORT, object_id=report.public_id,
    )
    return message
