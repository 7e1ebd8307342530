"""Reports and their encrypted objects, access grants, labels and identity requests.

Triage metadata (status, priority, labels, channel, assignment, dates) is plaintext so it
can be queried; content, files, messages, notes and identity are age objects whose header
lives here and whose payload lives in the blob store (DESIGN.md, storage split).
Reporter-originated times are stored at day precision.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reporting_portal.storage.db import Base, new_public_id
from reporting_portal.storage.models.channels import Channel
from reporting_portal.storage.models.staff import StaffAccount
from reporting_portal.storage.models.types import UTCDateTime, utc_now


class ReportStatus(StrEnum):
    """ISO 37002 stages: receive, assess, address, conclude."""

    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    ASSESSMENT = "assessment"
    INVESTIGATION = "investigation"
    CLOSED = "closed"


class ClosingOutcome(StrEnum):
    """How a case ended: stored as a code, put into words only for display."""

    REFERRED = "referred"
    DEALT_WITH_INTERNALLY = "dealt_with_internally"
    NOT_SUBSTANTIATED = "not_substantiated"
    OUT_OF_SCOPE = "out_of_scope"
    NOT_ENOUGH_INFORMATION = "not_enough_information"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class ObjectKind(StrEnum):
    CONTENT = "content"
    FILE = "file"
    MESSAGE = "message"
    NOTE = "note"
    IDENTITY = "identity"
    # A redacted copy of the answers, made for a referral; the original is never changed.
    REDACTION = "redaction"
    # A protection measure's or the protection record's state, for the case's handlers
    # (domain/protection.py); a measure shared with the reporter gets a second, shorter
    # object for the reporter too.
    PROTECTION = "protection"
    SHARED_MEASURE = "shared_measure"


class IdentityPurpose(StrEnum):
    HANDLER = "handler"
    REFERRAL = "referral"


class MessageType(StrEnum):
    """What a reporter's message is, when it is more than a reply (``message_type``)."""

    RETALIATION = "retaliation"


class IdentityRequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    # Approved once, then taken back when the identity was re-sealed without the handler
    # (they had left the case).
    WITHDRAWN = "withdrawn"


report_label = Table(
    "report_label",
    Base.metadata,
    Column("report_id", ForeignKey("report.id", ondelete="CASCADE"), primary_key=True),
    Column("label_id", ForeignKey("label.id", ondelete="CASCADE"), primary_key=True),
)


class Label(Base):
    """A triage label from the vocabulary the administrator manages."""

    __tablename__ = "label"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)


class Report(Base):
    __tablename__ = "report"
    # The inbox sorts by day received and counts by status over a handler's grants.
    __table_args__ = (
        Index("ix_report_received_on_id", "received_on", "id"),
        Index("ix_report_status_id", "status", "id"),
        Index("ix_report_status_priority", "status", "priority", "received_on"),
        # Two cases never share a number: the counter allocates them, the index vouches.
        Index("ix_report_case_year_number", "case_year", "case_number", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The case reference shown to staff; random, so it says nothing about volume or order.
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=ReportStatus.RECEIVED, index=True)
    priority: Mapped[str] = mapped_column(String(16), default=Priority.NORMAL)
    closing_outcome: Mapped[str | None] = mapped_column(String(64))
    received_on: Mapped[date] = mapped_column(Date, index=True)
    acknowledged_on: Mapped[date | None] = mapped_column(Date)
    # EU Directive 2019/1937 deadlines, kept as columns so the inbox filters and sorts
    # on them in the database (see reporting_portal.domain.deadlines for the rules).
    acknowledgement_due: Mapped[date | None] = mapped_column(Date, index=True)
    feedback_due: Mapped[date | None] = mapped_column(Date, index=True)
    closed_on: Mapped[date | None] = mapped_column(Date)
    purge_after: Mapped[date | None] = mapped_column(Date)
    # Argon2id(receipt code, installation salt) -> HKDF: finds the report; the code itself
    # is never stored.
    receipt_lookup: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    reporter_recipient: Mapped[str] = mapped_column(Text)
    wrapped_reporter_identity: Mapped[bytes] = mapped_column(LargeBinary)
    # The content and files were also encrypted to ``reporter_recipient`` (the channel let
    # reporters read back what they sent); false for reports from before issue 15.
    content_for_reporter: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Raised by every triage change; a form sent from an older version is refused, so
    # no handler's change silently overwrites another's (casework/versions.py).
    version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    # The number handlers say on the phone ("2026-0142"): per year of receipt, allocated
    # at submission (domain/case_numbers.py). It says how many reports a year brought,
    # which staff know anyway; the random public id stays the one in URLs.
    case_year: Mapped[int | None] = mapped_column(Integer)
    case_number: Mapped[int | None] = mapped_column(Integer)
    # The reporter reported retaliation (domain/retaliation.py): how often, and the day
    # of the latest (a day, as for every reporter's act). The inbox marks such a case.
    retaliation_reports: Mapped[int] = mapped_column(Integer, default=0,
                                                     server_default=text("0"))
    retaliation_reported_on: Mapped[date | None] = mapped_column(Date)

    channel: Mapped[Channel] = relationship()
    objects: Mapped[list[ReportObject]] = relationship(
        back_populates="report", cascade="all, delete-orphan"
    )
    grants: Mapped[list[AccessGrant]] = relationship(
        back_populates="report", cascade="all, delete-orphan"
    )
    labels: Mapped[list[Label]] = relationship(secondary=report_label)

    @property
    def case_reference(self) -> str:
        """What staff call the case: its number, else the start of its random id."""
        if self.case_year is None or self.case_number is None:
            return self.public_id[:8]
        return f"{self.case_year}-{self.case_number:04d}"


class CaseNumberCounter(Base):
    """The last case number given in a year: one row per year, raised in the
    submission's transaction, so two submissions never get the same number."""

    __tablename__ = "case_number_counter"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class ReportObject(Base):
    """One age object: header here, payload in the blob store under ``blob_name``.

    Deleting the row shreds the object: without the header nobody can unwrap the file key,
    even from a backup of the blob store.
    """

    __tablename__ = "report_object"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    header: Mapped[bytes] = mapped_column(LargeBinary)
    blob_name: Mapped[str] = mapped_column(String(64), unique=True)
    payload_size: Mapped[int] = mapped_column(BigInteger)
    created_on: Mapped[date] = mapped_column(Date)
    # The moment, for staff objects only (a reporter's stays a day: see the module doc).
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    from_reporter: Mapped[bool] = mapped_column(default=False)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff_account.id"))
    # Files belong to the content or message whose (encrypted) text names them.
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("report_object.id", ondelete="CASCADE"), index=True
    )
    # A message's type when it is not a plain reply (MessageType), set by the server
    # from the form it came through, on either path (the browser's encrypted document
    # cannot be read here).
    message_type: Mapped[str | None] = mapped_column(String(16))

    report: Mapped[Report] = relationship(back_populates="objects")
    author: Mapped[StaffAccount | None] = relationship()
    parent: Mapped[ReportObject | None] = relationship(remote_side=[id])


class AccessGrant(Base):
    """A staff member is a recipient of a report's objects."""

    __tablename__ = "access_grant"
    # A handler's cases, found and counted from the index alone; the second walks them
    # newest (or oldest) first, so a deep page of the whole inbox skips index entries
    # only, not a grant lookup per case it passes.
    __table_args__ = (
        Index("ix_access_grant_staff_report", "staff_id", "report_id"),
        Index("ix_access_grant_staff_received", "staff_id", "received_on", "report_id"),
    )

    report_id: Mapped[int] = mapped_column(
        ForeignKey("report.id", ondelete="CASCADE"), primary_key=True
    )
    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff_account.id", ondelete="CASCADE"), primary_key=True
    )
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_account.id"))
    # The case's day of receipt, copied by triggers (migration 0019), never set by the
    # application: it only orders the index above.
    received_on: Mapped[date | None] = mapped_column(Date)

    report: Mapped[Report] = relationship(back_populates="grants")
    staff: Mapped[StaffAccount] = relationship(foreign_keys=[staff_id])


class InboxCount(Base):
    """How many cases a staff member holds in each status and priority: the inbox's
    counts, and the totals of pages filtered by status and priority alone.

    Kept by database triggers (migration 0019), never by the application: every grant
    added or removed, every change of a case's status or priority and every deleted case
    moves a count in the same transaction, whichever code path made the change.
    Counting the grants instead reads every one of them: 0.8 s at a million cases.
    """

    __tablename__ = "inbox_count"

    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff_account.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    priority: Mapped[str] = mapped_column(String(16), primary_key=True)
    cases: Mapped[int] = mapped_column(Integer, default=0)


class CaseRead(Base):
    """How far a handler has read a case: reporter messages after this are unread."""

    __tablename__ = "case_read"

    report_id: Mapped[int] = mapped_column(
        ForeignKey("report.id", ondelete="CASCADE"), primary_key=True
    )
    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff_account.id", ondelete="CASCADE"), primary_key=True
    )
    last_object_id: Mapped[int] = mapped_column(default=0)


class ReportExclusion(Base):
    """A case handler the reporter excluded (conflict of interest): never a recipient."""

    __tablename__ = "report_exclusion"

    report_id: Mapped[int] = mapped_column(
        ForeignKey("report.id", ondelete="CASCADE"), primary_key=True
    )
    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff_account.id", ondelete="CASCADE"), primary_key=True
    )

    report: Mapped[Report] = relationship()


class IdentityAccessRequest(Base):
    """A handler's request to learn who reported, decided by an identity custodian.

    The justification and the custodian's reason often quote the case, so each is an age
    file (header and payload together: a few hundred bytes) for the identity custodians,
    the requesting handler and the recovery key, never plaintext in the database.
    """

    __tablename__ = "identity_access_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"), index=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("staff_account.id"))
    sealed_justification: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(16), default=IdentityRequestStatus.PENDING)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sealed_decision_reason: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Why the identity is asked for: to read it ("handler") or to send it with a
    # referral to another authority ("referral"), which the custodian weighs apart.
    purpose: Mapped[str] = mapped_column(String(16), default=IdentityPurpose.HANDLER,
                                         server_default=IdentityPurpose.HANDLER.value)

    report: Mapped[Report] = relationship()
    requester: Mapped[StaffAccount] = relationship(foreign_keys=[requester_id])
    decided_by: Mapped[StaffAccount | None] = relationship(foreign_keys=[decided_by_id])
