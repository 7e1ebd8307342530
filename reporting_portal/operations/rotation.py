"""Rotating the organisation's recovery recipient (``reporting-portal rotate-recovery``).

The operator brings the old recovery identity from offline. Its first transaction makes
the new recovery key the installation's, so everything sealed from then on is sealed to
it, and records the rotation; the new identity is handed to the operator *before* that
commit, so no object is ever sealed to a key nobody holds. Then every object header and
sealed text is re-granted from the old key to the new one in batches, each its own
transaction (domain.key_rotation). Interrupted, the same command with the same old
identity resumes where the last batch committed. The readiness checklist asks again for
the new identity to be confirmed as stored offline.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crypto import KeyFormatError
from crypto.keys import AnyIdentity, HybridIdentity, generate_identity, parse_identities
from reporting_portal.audit.events import SYSTEM, AuditAction, ObjectType, record_event
from reporting_portal.domain.key_rotation import (
    BATCH_SIZE,
    RotationProgress,
    matching_identity,
    regrant_batch,
    rotation_progress,
    unfinished_rotation,
)
from reporting_portal.storage.models import Installation, KeyRotation, RotationSubject

# An identity file holds a line or two; anything far larger is the wrong file.
MAX_IDENTITY_FILE_BYTES = 64 * 1024


class RecoveryRotationError(Exception):
    """The rotation cannot start or resume as asked; the message tells the operator why."""


@dataclass(frozen=True)
class RecoveryRotation:
    """A rotation ready to run: its row, and the old identity that opens what is left."""

    rotation_id: int
    old_identity: AnyIdentity
    resumed: bool


def read_identity_file(path: Path) -> list[AnyIdentity]:
    """The identities in an age identity file; never echoes its content in an error."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_IDENTITY_FILE_BYTES + 1)
    except OSError as error:
        raise RecoveryRotationError(f"cannot read {path}: {error.strerror}") from None
    if len(data) > MAX_IDENTITY_FILE_BYTES:
        raise RecoveryRotationError(f"{path} is too large for an identity file")
    try:
        return parse_identities(data.decode("ascii"))
    except (UnicodeDecodeError, KeyFormatError):
        raise RecoveryRotationError(
            f"{path} is not an age identity file (AGE-SECRET-KEY-…)") from None


def _record(db: Session, action: AuditAction, rotation: KeyRotation) -> None:
    record_event(db, action, actor=None, actor_role=SYSTEM, object_type=ObjectType.KEY_ROTATION,
                 object_id=rotation.public_id)


def start_recovery_rotation(db: Session, identities: list[AnyIdentity],
                            deliver_new_identity: Callable[[str], None], *,
                            grace: timedelta) -> RecoveryRotation:
    """Start a rotation with the current recovery identity, or resume the one in progress
    with its old identity. Commit afterwards.

    ``grace`` is how long reporters' pages from before the switch may still send to the
    old key (domain.key_rotation.stale_page_grace). Starting calls
    ``deliver_new_identity`` with the new identity's secret string before anything is
    written; if it raises, nothing changes. Raises :class:`RecoveryRotationError`,
    changing nothing, when no identity given matches.
    """
    # Locked (PostgreSQL): two operators starting at once must not make two new keys.
    installation = db.scalar(select(Installation).limit(1).with_for_update())
    if installation is None:
        raise RecoveryRotationError("not initialised: run `reporting-portal init`")
    rotation = unfinished_rotation(db, RotationSubject.RECOVERY, lock=True)
    if rotation is not None:
        old = matching_identity(identities, rotation.old_recipient)
        if old is None:
            raise RecoveryRotationError(
                f"a rotation started on {rotation.started_at:%Y-%m-%d} is in progress, and "
                "this is not its old recovery identity: give the identity that was the "
                "recovery identity before it. Nothing was changed.")
        _record(db, AuditAction.RECOVERY_ROTATION_RESUMED, rotation)
        return RecoveryRotation(rotation.id, old, resumed=True)
    old = matching_identity(identities, installation.recovery_recipient)
    if old is None:
        raise RecoveryRotationError(
            "this is not the installation's recovery identity. Nothing was changed.")
    # The same type as the old key: post-quantum stays post-quantum, and an X25519 key
    # cannot join post-quantum headers anyway (age refuses mixed files).
    new = generate_identity(post_quantum=isinstance(old, HybridIdentity))
    deliver_new_identity(new.to_string())
    rotation = KeyRotation(subject=str(RotationSubject.RECOVERY),
                           old_recipient=installation.recovery_recipient,
                           new_recipient=str(new.recipient),
                           complete_after=datetime.now(UTC) + grace)
    installation.recovery_recipient = str(new.recipient)
    # The checklist asks again: the identity kept offline is now another one.
    installation.recovery_confirmed_on = None
    db.add(rotation)
    db.flush()  # the public id names the rotation in the audit event
    _record(db, AuditAction.RECOVERY_ROTATION_STARTED, rotation)
    return RecoveryRotation(rotation.id, old, resumed=False)


def recovery_progress(factory: sessionmaker[Session], rotation_id: int) -> RotationProgress:
    """Where the rotation stands, read in a session of its own."""
    with factory() as db:
        rotation = db.get_one(KeyRotation, rotation_id)
        return rotation_progress(db, rotation)


def run_recovery_rotation(factory: sessionmaker[Session], started: RecoveryRotation, *,
                          batch_size: int = BATCH_SIZE) -> Iterator[RotationProgress]:
    """Re-grant batch after batch, each committed on its own; yield progress after each.

    The last batch records the completion event. Stopping the iteration (or an
    interruption) loses at most the batch in flight, which rolls back. It also stops,
    not complete, when the sweep is through before reporters' pages from before the
    switch have timed out (``progress.complete_after``): run it again after that.
    """
    while True:
        with factory() as db:
            rotation = db.get_one(KeyRotation, started.rotation_id, with_for_update=True)
            finished_before = rotation.completed_at is not None  # by a run alongside this one
            batch = regrant_batch(db, rotation, started.old_identity, batch_size=batch_size)
            completed = batch.completed
            if completed and not finished_before:
                _record(db, AuditAction.RECOVERY_ROTATION_COMPLETED, rotation)
            progress = rotation_progress(db, rotation)
            db.commit()
        yield progress
        if completed or batch.waiting:
            return
