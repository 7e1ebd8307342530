"""Re-granting what an old key opens to a new key, batch by batch (key rotation).

Shared by the recovery key's rotation (an operator's command) and a staff member's own
(their account page). Each batch rewrites up to :data:`BATCH_SIZE` headers in the
caller's transaction: the stanzas the old identity opens are replaced by one for the new
recipient, the payloads are never touched (crypto ``replace_recipient``). The row's
cursors move in the same transaction, so an interrupted rotation resumes after the last
batch that committed; a header rewritten already is skipped, as the old identity no
longer opens it.

The first pass goes through the objects and sealed texts once. A transaction that read
the old recipient before the switch can still commit something sealed to it (a long
upload), or overwrite a header a batch had just rewritten (a grant made at that moment):
so a second pass, the sweep, starts again from the beginning, and the rotation is
complete only when it is through. The reporter's browser encrypts to the recipients of
the page it loaded, which the server cannot check stanza by stanza: the sweep therefore
also waits until every reporter session from before the switch has timed out
(:func:`stale_page_grace`), taking in what such pages sent, before it completes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, true
from sqlalchemy.orm import Session

from crypto import AgeError, NoMatchError, replace_recipient, replace_recipient_in_file
from crypto.keys import AnyIdentity, AnyRecipient, Identity
from reporting_portal.domain.objects import recipient_from
from reporting_portal.storage.models import (
    AccessGrant,
    IdentityAccessRequest,
    KeyRotation,
    ObjectKind,
    ReportObject,
    RotationSubject,
)

# Headers per transaction: a post-quantum stanza costs about a millisecond to open and
# one to make, so a batch holds its row locks for well under a second.
BATCH_SIZE = 200


def stale_page_grace(reporter_idle_minutes: int) -> timedelta:
    """How long after the switch a reporter's page can still send to the old key: its
    session's idle timeout, and a minute for the request in flight."""
    return timedelta(minutes=reporter_idle_minutes + 1)


class RotationError(RuntimeError):
    """A stored header cannot be re-granted (damaged, or of another key type)."""


@dataclass(frozen=True)
class RotationProgress:
    """How far a rotation is: ``examined`` of ``total`` objects and texts looked at."""

    examined: int
    total: int
    objects_regranted: int
    texts_regranted: int
    sweeping: bool
    completed: bool
    # Not complete before this (reporters' pages from before the switch).
    complete_after: datetime

    @property
    def waiting(self) -> bool:
        """Whether completion still waits for reporters' pages from before the switch."""
        return not self.completed and datetime.now(UTC) < self.complete_after


def unfinished_rotation(db: Session, subject: RotationSubject, *,
                        staff_id: int | None = None, lock: bool = False) -> KeyRotation | None:
    """The rotation of this key still in progress, if there is one."""
    query = select(KeyRotation).where(KeyRotation.subject == str(subject),
                                      KeyRotation.completed_at.is_(None))
    if staff_id is not None:
        query = query.where(KeyRotation.staff_id == staff_id)
    if lock:
        query = query.with_for_update()
    return db.scalar(query.order_by(KeyRotation.id).limit(1))


def _object_scope(rotation: KeyRotation) -> ColumnElement[bool]:
    """The objects the old key can be a recipient of."""
    if rotation.subject == RotationSubject.STAFF:
        # A staff member's key is on the objects of the cases granted to them, and (as a
        # custodian, or a handler given access) on identities; nowhere else.
        granted = select(AccessGrant.report_id).where(AccessGrant.staff_id == rotation.staff_id)
        return or_(ReportObject.report_id.in_(granted),
                   ReportObject.kind == str(ObjectKind.IDENTITY))
    return true()


@dataclass(frozen=True)
class Batch:
    """What one call of :func:`regrant_batch` did."""

    examined: int
    completed: bool
    # The sweep is through, but pages from before the switch may still send (see
    # ``KeyRotation.complete_after``): call again after that.
    waiting: bool = False


def regrant_batch(db: Session, rotation: KeyRotation, old_identity: Identity, *,
                  batch_size: int = BATCH_SIZE) -> Batch:
    """Re-grant the next batch: up to ``batch_size`` objects, or else sealed texts.

    Objects first, then sealed texts; then the sweep does both again. A call that finds
    a pass finished moves on to what comes next; the one that finds the sweep finished
    sets ``completed_at`` (the caller records the event).
    """
    if rotation.completed_at is not None:
        return Batch(examined=0, completed=True)
    new_recipient = recipient_from(rotation.new_recipient)
    while True:
        # Locked (PostgreSQL), so a grant made at the same moment waits for this batch
        # instead of being written over by it.
        objects = db.scalars(
            select(ReportObject)
            .where(ReportObject.id > rotation.object_cursor, _object_scope(rotation))
            .order_by(ReportObject.id).limit(batch_size).with_for_update()
        ).all()
        if objects:
            for obj in objects:
                header = _replaced(obj.header, old_identity, new_recipient,
                                   name=f"object {obj.public_id}")
                if header is not None:
                    obj.header = header
                    rotation.objects_regranted += 1
            rotation.object_cursor = objects[-1].id
            return Batch(examined=len(objects), completed=False)
        requests = db.scalars(
            select(IdentityAccessRequest).where(IdentityAccessRequest.id > rotation.text_cursor)
            .order_by(IdentityAccessRequest.id).limit(batch_size).with_for_update()
        ).all()
        if requests:
            for request in requests:
                rotation.texts_regranted += _regrant_texts(request, old_identity, new_recipient)
            rotation.text_cursor = requests[-1].id
            return Batch(examined=len(requests), completed=False)
        if rotation.sweeping:
            now = datetime.now(UTC)
            if now < rotation.complete_after:
                # The cursors stay: what a late page sends gets a higher id, found next time.
                return Batch(examined=0, completed=False, waiting=True)
            rotation.completed_at = now
            return Batch(examined=0, completed=True)
        rotation.sweeping = True
        rotation.object_cursor = rotation.text_cursor = 0


def _replaced(header: bytes, old_identity: Identity, new_recipient: AnyRecipient, *,
              whole_file: bool = False, name: str = "") -> bytes | None:
    """The re-granted header (or sealed file), or ``None`` when the old key is not on it."""
    try:
        if whole_file:
            return replace_recipient_in_file(header, old_identity, new_recipient)
        return replace_recipient(header, old_identity, new_recipient)
    except NoMatchError:
        return None
    except AgeError as error:
        # Stop rather than skip: an object left on the old key would be lost with it.
        raise RotationError(f"{name} cannot be re-granted: {error}") from None


def _regrant_texts(request: IdentityAccessRequest, old_identity: Identity,
                   new_recipient: AnyRecipient) -> int:
    regranted = 0
    name = f"identity request {request.public_id}"
    justification = _replaced(request.sealed_justification, old_identity, new_recipient,
                              whole_file=True, name=name)
    if justification is not None:
        request.sealed_justification = justification
        regranted += 1
    if request.sealed_decision_reason is not None:
        reason = _replaced(request.sealed_decision_reason, old_identity, new_recipient,
                           whole_file=True, name=name)
        if reason is not None:
            request.sealed_decision_reason = reason
            regranted += 1
    return regranted


def rotation_progress(db: Session, rotation: KeyRotation) -> RotationProgress:
    """The rotation's progress as the database holds it now (objects, then requests)."""
    scope = _object_scope(rotation)
    objects = _count(db, select(func.count()).select_from(ReportObject).where(scope))
    requests = _count(db, select(func.count()).select_from(IdentityAccessRequest))
    if rotation.sweeping or rotation.completed_at is not None:
        examined = objects + requests
    else:
        examined = _count(db, select(func.count()).select_from(ReportObject).where(
            scope, ReportObject.id <= rotation.object_cursor)) + _count(
            db, select(func.count()).select_from(IdentityAccessRequest).where(
                IdentityAccessRequest.id <= rotation.text_cursor))
    return RotationProgress(
        examined=examined, total=objects + requests,
        objects_regranted=rotation.objects_regranted,
        texts_regranted=rotation.texts_regranted,
        sweeping=rotation.sweeping, completed=rotation.completed_at is not None,
        complete_after=rotation.complete_after,
    )


def _count(db: Session, query: Any) -> int:
    return int(db.scalar(query) or 0)


def matching_identity(identities: Sequence[AnyIdentity], recipient: str) -> AnyIdentity | None:
    """The identity among ``identities`` whose public half is ``recipient``, if any."""
    return next((identity for identity in identities
                 if str(identity.recipient) == recipient), None)
