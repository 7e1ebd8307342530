"""Files a case handler attached to a message, as the reporter's mailbox offers them.

Only a handler's files: what the reporter sent themselves is not downloadable here, so an
administrator's choice to hide "what I sent" from whoever holds the code stays whole.
The names come from the encrypted message, in its order; the links carry only the
file's random id, never its name (a URL ends up in proxy logs and browser history).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.errors import AgeError
from crypto.keys import AnyIdentity
from reporting_portal.domain.objects import read_small_json
from reporting_portal.storage.blobstore import BlobStore
from reporting_portal.storage.models import ObjectKind, Report, ReportObject


class ReplyFileNotFoundError(LookupError):
    """No file of a handler's message of this report has this id."""


def described_files(db: Session, message: ReportObject,
                    document: dict[str, Any]) -> list[tuple[ReportObject, str, int]]:
    """The message's file objects, each with the name and size its document gives."""
    children = db.scalars(
        select(ReportObject)
        .where(ReportObject.parent_id == message.id, ReportObject.kind == ObjectKind.FILE)
        .order_by(ReportObject.id)
    ).all()
    described = [f for f in document.get("files", []) if isinstance(f, dict)]
    found = []
    for index, obj in enumerate(children):
        info = described[index] if index < len(described) else {}
        found.append((obj, str(info.get("name") or f"file-{index + 1}"),
                      int(info.get("size") or obj.payload_size)))
    return found


def find_reply_file(db: Session, report: Report, public_id: str) -> ReportObject:
    """A file of one of the handlers' messages of ``report``."""
    obj = db.scalar(select(ReportObject).where(
        ReportObject.report_id == report.id, ReportObject.public_id == public_id,
        ReportObject.kind == ObjectKind.FILE, ReportObject.from_reporter.is_(False)))
    parent = db.get(ReportObject, obj.parent_id) if obj and obj.parent_id else None
    if obj is None or parent is None or parent.kind != ObjectKind.MESSAGE:
        raise ReplyFileNotFoundError(public_id)
    return obj


def reply_file_name(db: Session, store: BlobStore, obj: ReportObject,
                    identity: AnyIdentity) -> str:
    """The name the handler's file had, read from its encrypted message."""
    parent = db.get(ReportObject, obj.parent_id) if obj.parent_id else None
    if parent is None:
        return obj.public_id
    try:
        document = read_small_json(store, parent, [identity])
    except (AgeError, ValueError):
        return obj.public_id
    return next((name for child, name, _size in described_files(db, parent, document)
                 if child.id == obj.id), obj.public_id)
