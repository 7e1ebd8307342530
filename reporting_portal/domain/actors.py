"""Who acts: a member of staff (with their key, once unlocked), or the system itself.

One type for every service that records who did something: administration, casework,
custody, the command line. The audit event names the actor's public id and role.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from crypto.keys import Identity
from reporting_portal.audit.events import (
    AuditAction,
    ObjectType,
    Outcome,
    primary_role,
    record_event,
)
from reporting_portal.storage.models import Report, StaffAccount


class NoKeysError(RuntimeError):
    """The staff member's identity is not unlocked in this session."""


class NotStaffError(RuntimeError):
    """A service that needs a member of staff was called by the system."""


@dataclass(frozen=True)
class Actor:
    """``account`` is ``None`` for the system (the command line, a job); ``role`` is what
    the audit event names; ``identity`` is the staff member's unlocked age identity."""

    account: StaffAccount | None
    role: str
    identity: Identity | None = None

    @classmethod
    def member(cls, account: StaffAccount, identity: Identity | None = None) -> Actor:
        """A member of staff, named in events by all of their roles."""
        return cls(account=account, role=primary_role(account), identity=identity)

    @property
    def staff(self) -> StaffAccount:
        """The member of staff acting; raises :class:`NotStaffError` for the system."""
        if self.account is None:
            raise NotStaffError("this needs a member of staff")
        return self.account

    def require_identity(self) -> Identity:
        if self.identity is None:
            raise NoKeysError
        return self.identity


def record_case_event(db: Session, actor: Actor, action: AuditAction, report: Report, *,
                      outcome: Outcome = Outcome.SUCCESS) -> None:
    """An audit event by a member of staff about a case (casework and custody alike)."""
    record_event(db, action, actor=actor.account, actor_role=actor.role, outcome=outcome,
                 object_type=ObjectType.REPORT, object_id=report.public_id)


def record_account_event(db: Session, actor: Actor, action: AuditAction, account_id: str, *,
                         outcome: Outcome = Outcome.SUCCESS) -> None:
    """An audit event about a staff account (its creation, a sign-in, a key's download)."""
    record_event(db, action, actor=actor.account, actor_role=actor.role, outcome=outcome,
                 object_type=ObjectType.ACCOUNT, object_id=account_id)
