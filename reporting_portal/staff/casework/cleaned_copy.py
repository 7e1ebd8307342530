"""A case file's cleaned copy: decrypted and stripped of its metadata in memory (issue 18).

A handler who forwards a photo or a document, or opens it on a connected machine, should
not pass on the reporter's GPS position or name with it. The original stays as the
reporter sent it (evidence); this copy is made on request by the rules of
``domain/metadata_cleaning`` and is never stored: the plaintext exists only in this
process's memory, bounded by ``MAX_CLEANABLE_BYTES``, for the one response.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from reporting_portal.audit.events import AuditAction, ObjectType, Outcome, record_event
from reporting_portal.domain.actors import Actor
from reporting_portal.domain.metadata_cleaning import (
    MAX_CLEANABLE_BYTES,
    CannotClean,
    Reason,
    clean_file,
)
from reporting_portal.domain.objects import read_object
from reporting_portal.storage.blobstore import BlobStore
from reporting_portal.storage.models import ReportObject


def _read_bounded(store: BlobStore, actor: Actor, obj: ReportObject) -> bytes:
    """The whole plaintext, or CannotClean as soon as it passes the bound."""
    plaintext = bytearray()
    chunks = read_object(store, obj, [actor.require_identity()])
    try:
        for chunk in chunks:
            if len(plaintext) + len(chunk) > MAX_CLEANABLE_BYTES:
                raise CannotClean(Reason.TOO_LARGE)
            plaintext += chunk
    finally:
        close = getattr(chunks, "close", None)  # a generator: closing it closes the blob
        if close is not None:
            close()
    return bytes(plaintext)


def cleaned_copy(db: Session, store: BlobStore, actor: Actor, obj: ReportObject) -> bytes:
    """The file without its metadata; the read is an event, whether or not it could be
    cleaned (a refusal is recorded with outcome ``failure`` and raises CannotClean)."""
    try:
        cleaned = clean_file(_read_bounded(store, actor, obj))
    except CannotClean:
        record_event(db, AuditAction.CLEANED_FILE_DOWNLOADED, actor=actor.account,
                     actor_role=actor.role, outcome=Outcome.FAILURE,
                     object_type=ObjectType.FILE, object_id=obj.public_id)
        raise
    record_event(db, AuditAction.CLEANED_FILE_DOWNLOADED, actor=actor.account,
                 actor_role=actor.role, object_type=ObjectType.FILE, object_id=obj.public_id)
    return cleaned
