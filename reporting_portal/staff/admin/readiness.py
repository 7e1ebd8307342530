"""Is the installation ready for reporters? What the administrator's home page asks for.

A new installation works for reporters only once every open channel has a case handler
who can receive reports; it is safe to run only once someone can decide identity requests
(a custodian), someone can check the access log (an auditor), and the recovery identity,
shown once at ``init``, is stored offline. Until then the administrator sees a checklist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from reporting_portal.audit.events import AuditAction, ObjectType, record_event
from reporting_portal.domain.actors import Actor
from reporting_portal.domain.installation import find_installation, get_installation
from reporting_portal.domain.recipients import ready_handlers
from reporting_portal.storage.models import Channel, Role, StaffAccount, StaffRole


@dataclass(frozen=True)
class Readiness:
    """What is still missing; every field empty or true means ready."""

    channels_without_handlers: tuple[Channel, ...]
    has_custodian: bool
    has_auditor: bool
    recovery_confirmed: bool

    @property
    def ready(self) -> bool:
        return (not self.channels_without_handlers and self.has_custodian
                and self.has_auditor and self.recovery_confirmed)


def _has_active(db: Session, role: Role) -> bool:
    return db.scalar(select(StaffAccount.id).join(StaffRole).where(
        StaffRole.role == role, StaffAccount.is_active.is_(True)).limit(1)) is not None


def installation_readiness(db: Session) -> Readiness:
    """The checklist's state, from what the database holds now."""
    channels = db.scalars(select(Channel).where(Channel.is_active.is_(True))
                          .order_by(Channel.name)).all()
    installation = find_installation(db)
    return Readiness(
        channels_without_handlers=tuple(c for c in channels if not ready_handlers(c)),
        has_custodian=_has_active(db, Role.IDENTITY_CUSTODIAN),
        has_auditor=_has_active(db, Role.AUDITOR),
        recovery_confirmed=installation is not None
        and installation.recovery_confirmed_on is not None,
    )


def confirm_recovery_stored(db: Session, actor: Actor) -> None:
    """Record an administrator's word that the recovery identity is stored offline."""
    installation = get_installation(db)
    if installation.recovery_confirmed_on is None:
        installation.recovery_confirmed_on = datetime.now(UTC).date()
    record_event(db, AuditAction.RECOVERY_STORAGE_CONFIRMED, actor=actor.account,
                 actor_role=actor.role, object_type=ObjectType.INSTALLATION,
                 object_id=str(installation.id))
