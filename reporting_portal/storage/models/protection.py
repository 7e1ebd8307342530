"""A case's protection record against retaliation: its measures and their state.

Kept by the case's handlers (issue 17; EU Directive 2019/1937 arts. 19-21). What a
measure is, its state, date and responsible person, the record's review date and its
closing outcome are age objects for the case's recipients (``ReportObject`` rows of kind
``protection``), never plaintext here. A row holds only what the dashboard counts and
the pages need to find the objects: whether a measure is still open, whether it is
shared with the reporter, whether the record is closed.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from reporting_portal.storage.db import Base, new_public_id
from reporting_portal.storage.models.reports import ReportObject
from reporting_portal.storage.models.types import UTCDateTime, utc_now


class ProtectionMeasure(Base):
    """One measure of a case's protection record; each change files a new object."""

    __tablename__ = "protection_measure"
    # The dashboard counts a handler's open measures from the index alone.
    __table_args__ = (Index("ix_protection_measure_report_open", "report_id", "is_open"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id", ondelete="CASCADE"))
    # The measure's current state (earlier states stay on the case as older objects).
    object_id: Mapped[int] = mapped_column(
        ForeignKey("report_object.id", ondelete="CASCADE"), index=True)
    # What the reporter sees of it, when the handler shares it; else none.
    shared_object_id: Mapped[int | None] = mapped_column(
        ForeignKey("report_object.id", ondelete="SET NULL"), index=True)
    # Requested or granted: counted on the dashboard until refused or the record closes.
    is_open: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)

    object: Mapped[ReportObject] = relationship(foreign_keys=[object_id])
    shared_object: Mapped[ReportObject | None] = relationship(foreign_keys=[shared_object_id])


class ProtectionRecord(Base):
    """The record's review date and closing outcome (one object), and whether it is closed."""

    __tablename__ = "protection_record"

    report_id: Mapped[int] = mapped_column(
        ForeignKey("report.id", ondelete="CASCADE"), primary_key=True)
    object_id: Mapped[int] = mapped_column(
        ForeignKey("report_object.id", ondelete="CASCADE"), index=True)
    closed_on: Mapped[date | None] = mapped_column(Date)

    object: Mapped[ReportObject] = relationship()
