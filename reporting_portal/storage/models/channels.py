"""Channels: intake forms, each with its questionnaire, case handlers and retention."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, String, Table, Text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reporting_portal.storage.db import Base, new_public_id
from reporting_portal.storage.models.staff import StaffAccount
from reporting_portal.storage.models.types import UTCDateTime, utc_now


class ReferralNotice(StrEnum):
    """What the reporter's mailbox says when their case is referred to an authority."""

    NONE = "none"
    TOLD = "told"  # that it was referred, without naming the receiver
    NAMED = "named"  # that it was referred, and to whom

channel_handler = Table(
    "channel_handler",
    Base.metadata,
    Column("channel_id", ForeignKey("channel.id", ondelete="CASCADE"), primary_key=True),
    Column("staff_id", ForeignKey("staff_account.id", ondelete="CASCADE"), primary_key=True),
)


class Channel(Base):
    __tablename__ = "channel"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    # The languages the channel is offered in, in order; the first is the fallback for a
    # text missing in the reader's language (issue 14).
    languages: Mapped[list[str]] = mapped_column(JSON, default=lambda: ["en"])
    # Name and description in each language ({code: text}); ``name`` and ``description``
    # hold them in the first language, for sorting and for the staff's lists.
    names: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    descriptions: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    name: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(Text, default="")
    # The questionnaire: a list of field definitions (type, required, and label, help and
    # choices in each language; see reporting_portal.domain.questionnaire).
    questionnaire: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Closed reports are purged this many days after closing (HinSchG §11(5): 3 years).
    retention_days: Mapped[int] = mapped_column(default=3 * 365)
    # EU Directive 2019/1937 art. 16(3): tell the reporter when their identity is disclosed.
    notify_identity_disclosure: Mapped[bool] = mapped_column(default=True)
    # Whether a reporter signed in with the receipt code can read what they sent. Some
    # organisations turn it off: whoever holds the code (a coercer too) could read it.
    reporter_reads_back: Mapped[bool] = mapped_column(default=True, server_default=true())
    # Whether the reporter is told that their case was referred to another authority:
    # "none", "told" (without naming the receiver) or "named" (issue 17, part 3).
    referral_notice: Mapped[str] = mapped_column(String(16), default=ReferralNotice.TOLD,
                                                 server_default=ReferralNotice.TOLD.value)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)

    handlers: Mapped[list[StaffAccount]] = relationship(secondary=channel_handler)
