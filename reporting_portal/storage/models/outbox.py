"""The notice outbox and the record of deadline reminders already queued.

An outbox row is one mail to one member of staff for one window: who (the account id,
never the address, which is looked up when the mail is sent), which window, how much
news of each kind, and where the row is in its sending. Nothing in it names a report.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from reporting_portal.storage.db import Base
from reporting_portal.storage.models.types import UTCDateTime


class NoticeState(StrEnum):
    """Where an outbox row is: ``pending`` (due at ``next_attempt_at``), ``sending``
    (claimed by a run, which committed the claim before talking to SMTP), ``sent``,
    ``failed`` (given up, or unknown after a crash: never resent), or ``dropped`` (when
    the mail was due, the account was deactivated or had no address, or everything had
    been read or decided)."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    DROPPED = "dropped"


class NoticeOutbox(Base):
    __tablename__ = "notice_outbox"
    __table_args__ = (
        # One mail per recipient and window, however many workers or hosts queue news.
        UniqueConstraint("staff_id", "window_start", name="uq_notice_outbox_staff_window"),
        # What a run claims: the pending rows whose time has come.
        Index("ix_notice_outbox_state_next_attempt", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_account.id", ondelete="CASCADE"))
    window_start: Mapped[datetime] = mapped_column(UTCDateTime())
    # The counts as queued say which kinds of news there were; the mail counts afresh.
    # Handlers: granted cases with unread reporter activity.
    unread_cases: Mapped[int] = mapped_column(default=0)
    # Custodians: identity requests waiting for a decision.
    waiting_identity_requests: Mapped[int] = mapped_column(default=0)
    # Handlers: deadline stages reached on their cases; the mail says only that one was.
    deadline_reminders: Mapped[int] = mapped_column(default=0)
    state: Mapped[str] = mapped_column(String(16), default=NoticeState.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DeadlineReminder(Base):
    """A reminder queued for one report, deadline, due date and stage, so the timer
    queues it once and not at every run. The due date is part of the key: acknowledging
    a report moves its feedback date, and the new date earns its own reminders."""

    __tablename__ = "deadline_reminder"

    report_id: Mapped[int] = mapped_column(
        ForeignKey("report.id", ondelete="CASCADE"), primary_key=True
    )
    deadline: Mapped[str] = mapped_column(String(16), primary_key=True)
    due_on: Mapped[date] = mapped_column(Date, primary_key=True)
    stage: Mapped[str] = mapped_column(String(8), primary_key=True)
