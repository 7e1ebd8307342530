"""A staff member rotates their own key pair, from their account page.

After the password again, a new identity replaces the old one on the account (wrapped
under the same password), so whatever is sealed for the person from then on is sealed to
the new key. Everything the old key opens (the objects of their cases, identities, sealed
texts) is then re-granted to the new key in batches, page after page
(domain.key_rotation). Until that is done the old identity stays on the rotation row,
still wrapped under the password, and the session holds both keys, so the person reads
their cases throughout; a new sign-in unwraps both. Other sessions end at the start, as
they hold the old key only. Start and completion are audit events. The passkeys' copies
of the key are dropped at the start (staff.auth.passkeys).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from crypto.errors import KeyWrapError
from crypto.keys import HybridIdentity, Identity, generate_identity, parse_identity
from crypto.keywrap import unwrap_with_password, wrap_with_password
from reporting_portal.audit.events import AuditAction, ObjectType, record_event
from reporting_portal.domain.actors import Actor
from reporting_portal.domain.key_rotation import BATCH_SIZE as DEFAULT_BATCH_SIZE
from reporting_portal.domain.key_rotation import (
    RotationProgress,
    regrant_batch,
    rotation_progress,
    unfinished_rotation,
)
from reporting_portal.domain.passwords import PasswordService
from reporting_portal.staff.auth.passkeys import drop_identity_copies
from reporting_portal.staff.auth.services import CurrentPasswordError
from reporting_portal.storage.models import KeyRotation, RotationSubject, StaffAccount
from reporting_portal.web.sessions import end_staff_sessions

# Headers per page load: a few hundred keep each request to about a second.
BATCH_SIZE = DEFAULT_BATCH_SIZE
BATCHES_PER_REQUEST = 2


class NoKeyError(Exception):
    """The account has no key yet (it is made with the first password)."""


class RotationInProgressError(Exception):
    """A rotation of this person's key is already under way: continue it instead."""


def staff_rotation(db: Session, account: StaffAccount, *, lock: bool = False) -> KeyRotation | None:
    """The rotation of this person's key still in progress, if any."""
    return unfinished_rotation(db, RotationSubject.STAFF, staff_id=account.id, lock=lock)


def unlock_current_identity(account: StaffAccount, password: str) -> str:
    """The account's identity, unwrapped with ``password``: the re-check before rotating.

    Raises :class:`CurrentPasswordError` for a wrong password. Writes nothing, so the
    caller can give the spent re-check back before the rotation writes.
    """
    if account.wrapped_identity is None or account.age_recipient is None:
        raise NoKeyError
    try:
        return unwrap_with_password(account.wrapped_identity, password).decode("ascii")
    except KeyWrapError:
        raise CurrentPasswordError from None


def start_staff_rotation(db: Session, passwords: PasswordService, account: StaffAccount, *,
                         password: str, old_identity: str, grace: timedelta,
                         keep_session_token: bytes | None) -> str:
    """Put a new key pair on the account and record the rotation; return the new secret.

    ``old_identity`` is what :func:`unlock_current_identity` returned for ``password``;
    ``grace``, how long reporters' pages from before may still send to the old key
    (domain.key_rotation.stale_page_grace): the rotation completes after that only.
    """
    if staff_rotation(db, account, lock=True) is not None:
        raise RotationInProgressError
    old = parse_identity(old_identity)
    if account.age_recipient != str(old.recipient):
        raise CurrentPasswordError  # not this account's key: never rotate from it
    new = generate_identity(post_quantum=isinstance(old, HybridIdentity))
    rotation = KeyRotation(subject=str(RotationSubject.STAFF), staff_id=account.id,
                           old_recipient=account.age_recipient,
                           new_recipient=str(new.recipient),
                           old_wrapped_identity=account.wrapped_identity,
                           complete_after=datetime.now(UTC) + grace)
    account.age_recipient = str(new.recipient)
    account.wrapped_identity = wrap_with_password(new.to_string().encode("ascii"), password,
                                                  passwords.identity_wrap_params)
    db.add(rotation)
    db.flush()  # the public id names the rotation in the audit event
    # The passkeys' copies hold the old key: dropped, not re-wrapped (the PRF output that
    # keys them is not here). The next sign-in with passkey and password makes new ones.
    drop_identity_copies(db, account)
    # Other sessions hold the old key only: they would stop opening what is re-granted.
    end_staff_sessions(db, account.id, keep_token=keep_session_token)
    _record(db, account, AuditAction.STAFF_KEY_ROTATION_STARTED, rotation)
    return new.to_string()


def continue_staff_rotation(db: Session, account: StaffAccount,
                            old_identity: Identity) -> RotationProgress | None:
    """Re-grant the next batches; ``None`` when no rotation is in progress.

    On completion the old wrapped identity is deleted: from then on only the new key
    opens anything of this person's.
    """
    rotation = staff_rotation(db, account, lock=True)
    if rotation is None:
        return None
    budget = BATCH_SIZE * BATCHES_PER_REQUEST
    while budget > 0:
        batch = regrant_batch(db, rotation, old_identity, batch_size=min(BATCH_SIZE, budget))
        if batch.completed:
            rotation.old_wrapped_identity = None
            _record(db, account, AuditAction.STAFF_KEY_ROTATION_COMPLETED, rotation)
            break
        if batch.waiting:
            break
        budget -= batch.examined
    return rotation_progress(db, rotation)


def staff_rotation_progress(db: Session, account: StaffAccount) -> RotationProgress | None:
    """How far this person's rotation in progress is, or ``None``."""
    rotation = staff_rotation(db, account)
    return rotation_progress(db, rotation) if rotation is not None else None


def old_identity_of(db: Session, account: StaffAccount,
                    identity_text: str | None) -> Identity | None:
    """``identity_text`` parsed, if it is the old key of this person's rotation in progress."""
    rotation = staff_rotation(db, account)
    if rotation is None or identity_text is None:
        return None
    identity = parse_identity(identity_text)
    return identity if str(identity.recipient) == rotation.old_recipient else None


def previous_identity_at_sign_in(db: Session, account: StaffAccount,
                                 password: str) -> str | None:
    """The old key of a rotation in progress, unwrapped with the password just accepted."""
    rotation = staff_rotation(db, account)
    if rotation is None or rotation.old_wrapped_identity is None:
        return None
    return unwrap_with_password(rotation.old_wrapped_identity, password).decode("ascii")


def _record(db: Session, account: StaffAccount, action: AuditAction,
            rotation: KeyRotation) -> None:
    actor = Actor.member(account)
    record_event(db, action, actor=actor.account, actor_role=actor.role,
                 object_type=ObjectType.KEY_ROTATION, object_id=rotation.public_id)
