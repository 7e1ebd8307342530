"""Who receives what: the keys each kind of object is encrypted to.

A report's content goes to the channel's case handlers (less those the reporter
excluded) and the recovery key; an identity to the identity custodians and the recovery
key. Both zones need this: intake encrypts to it, casework and custody re-encrypt.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from reporting_portal.domain.installation import get_installation
from reporting_portal.storage.models import Channel, Role, StaffAccount, StaffRole


@dataclass(frozen=True)
class ChannelRecipients:
    """Who may read what a reporter sends through a channel."""

    handlers: tuple[StaffAccount, ...]
    recovery: str
    custodians: tuple[str, ...]

    def content_for(self, excluded: set[str]) -> list[str]:
        chosen = [h.age_recipient for h in self.handlers if h.public_id not in excluded]
        return [key for key in chosen if key] + [self.recovery]

    def identity(self) -> list[str]:
        return [*self.custodians, self.recovery]


def ready_handlers(channel: Channel) -> tuple[StaffAccount, ...]:
    """The channel's case handlers who have a key (they have chosen a password)."""
    return tuple(
        handler
        for handler in channel.handlers
        if handler.is_active and handler.age_recipient and handler.has_role(Role.CASE_HANDLER)
    )


def custodian_recipients(db: Session) -> tuple[str, ...]:
    """The active identity custodians' recipients (those who have chosen a password)."""
    custodians = db.scalars(
        select(StaffAccount.age_recipient)
        .join(StaffRole)
        .where(
            StaffRole.role == Role.IDENTITY_CUSTODIAN,
            StaffAccount.is_active.is_(True),
            StaffAccount.age_recipient.is_not(None),
        )
        .order_by(StaffAccount.id)
    ).all()
    return tuple(key for key in custodians if key)


def channel_recipients(db: Session, channel: Channel) -> ChannelRecipients:
    return ChannelRecipients(
        handlers=ready_handlers(channel),
        recovery=get_installation(db).recovery_recipient,
        custodians=custodian_recipients(db),
    )
