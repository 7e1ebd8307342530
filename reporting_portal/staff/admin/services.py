"""Staff account management: listing, second-factor resets, deactivation.

Creating an account (with its key) is ``reporting_portal.domain.accounts``, shared with
``init``.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from reporting_portal.audit.events import AuditAction, ObjectType, record_event
from reporting_portal.domain.accounts import AccountError
from reporting_portal.domain.actors import Actor, record_account_event
from reporting_portal.storage.models import StaffAccount
from reporting_portal.web.sessions import end_staff_sessions


def list_accounts(db: Session, actor: Actor) -> Sequence[StaffAccount]:
    record_event(db, AuditAction.ACCOUNT_LIST_VIEWED, actor=actor.account, actor_role=actor.role)
    return db.scalars(select(StaffAccount).order_by(StaffAccount.username)).all()


def find_account(db: Session, public_id: str) -> StaffAccount:
    account = db.scalar(select(StaffAccount).where(StaffAccount.public_id == public_id))
    if account is None:
        raise AccountError(_l("No such account"))
    return account


def reset_two_factor(db: Session, actor: Actor, account: StaffAccount) -> None:
    """Forget the account's authenticator; the person enrols a new one at next sign-in."""
    account.totp_secret = None
    account.totp_enrolled_at = None
    account.totp_last_step = None
    end_staff_sessions(db, account.id)
    record_account_event(db, actor, AuditAction.ACCOUNT_TOTP_RESET, account.public_id)


def set_active(db: Session, actor: Actor, account: StaffAccount, *, active: bool) -> None:
    """Deactivate (ending every session) or reactivate an account."""
    if actor.account is not None and actor.account.id == account.id and not active:
        raise AccountError(_l("You cannot deactivate your own account"))
    account.is_active = active
    if not active:
        end_staff_sessions(db, account.id)
    record_event(
        db,
        AuditAction.ACCOUNT_REACTIVATED if active else AuditAction.ACCOUNT_DEACTIVATED,
        actor=actor.account,
        actor_role=actor.role,
        object_type=ObjectType.ACCOUNT,
        object_id=account.public_id,
    )
