"""Referral to another competent authority (issue 17, part 3).

An administrator keeps a directory of authorities, each with the age recipient a
package for it is encrypted to (UN declaration para. 37, cooperation between
authorities). A referral row records what was sent, to whom and by whom: object public
ids and plaintext metadata only. The redacted copy of the answers is a report object of
its own (kind ``redaction``), encrypted like the rest of the case.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reporting_portal.storage.db import Base, new_public_id
from reporting_portal.storage.models.reports import Report, ReportObject
from reporting_portal.storage.models.staff import StaffAccount
from reporting_portal.storage.models.types import UTCDateTime, utc_now


class Authority(Base):
    """A competent authority a case can be referred to, and the key it receives with."""

    __tablename__ = "authority"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # An age recipient (age1… or age1pq1…), checked to parse before it is saved.
    age_recipient: Mapped[str] = mapped_column(Text)
    # How to reach the authority's intake (an address, a desk): for the handler, not secret.
    contact_note: Mapped[str] = mapped_column(Text, default="")
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)


class Referral(Base):
    """One referral of a case, or of chosen parts of it, to an authority."""

    __tablename__ = "referral"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"),
                                           index=True)
    authority_id: Mapped[int] = mapped_column(ForeignKey("authority.id"))
    referred_by_id: Mapped[int] = mapped_column(ForeignKey("staff_account.id"))
    referred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    # The public ids of the referred objects (files, messages, notes), in case order.
    object_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The answers as sent: the redacted copy, or the original content object when the
    # handler redacted nothing; None when the answers were not referred.
    answers_id: Mapped[int | None] = mapped_column(
        ForeignKey("report_object.id", ondelete="SET NULL"))
    include_identity: Mapped[bool] = mapped_column(default=False)

    report: Mapped[Report] = relationship()
    authority: Mapped[Authority] = relationship()
    referred_by: Mapped[StaffAccount] = relationship()
    answers: Mapped[ReportObject | None] = relationship()
