"""Figures for a case handler's dashboard, over the reports they hold a grant for.

Every figure is a GROUP BY in the database, so the dashboard stays quick at 100,000
reports: the largest result is one row per day of the last twelve weeks. Weeks are made
from days in Python, because SQLite and PostgreSQL share no ISO-week expression.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Integer, and_, case, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

from reporting_portal.storage.models import (
    AccessGrant,
    Channel,
    ProtectionMeasure,
    Report,
    ReportStatus,
)

WEEKS_SHOWN = 12


@dataclass(frozen=True, slots=True)
class DashboardStats:
    """Aggregates only: no report is named, so showing them is not an access to log."""

    total: int
    # ``(ISO week such as "2026-W07", reports received)``, oldest first, WEEKS_SHOWN long.
    per_week: list[tuple[str, int]]
    # ``(channel name, reports)``, most reports first.
    by_channel: list[tuple[str, int]]
    # ``(status, reports)`` for every ISO 37002 stage, in workflow order, zeros included.
    by_status: list[tuple[str, int]]
    # Median of days from receipt to acknowledgement; None before any acknowledgement.
    median_days_to_acknowledge: float | None
    acknowledgement_overdue: int
    feedback_overdue: int
    # Reports with either deadline missed, each counted once.
    overdue: int
    # Retaliation reported by reporters (each report of it, and the cases concerned), and
    # protection measures requested or granted and not yet closed (issue 17).
    retaliation_reports: int = 0
    cases_with_retaliation: int = 0
    open_protection_measures: int = 0


class days_between(FunctionElement[int]):  # lower case, as SQL functions are named
    """Whole days from the first date to the second, on SQLite and PostgreSQL."""

    type = Integer()
    inherit_cache = True
    name = "days_between"


@compiles(days_between, "sqlite")
def _days_between_sqlite(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = list(element.clauses)
    return (
        f"CAST(julianday({compiler.process(end, **kw)}) - "
        f"julianday({compiler.process(start, **kw)}) AS INTEGER)"
    )


@compiles(days_between)
def _days_between_default(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    # PostgreSQL: date - date is an integer number of days.
    start, end = list(element.clauses)
    return f"({compiler.process(end, **kw)} - {compiler.process(start, **kw)})"


def iso_week_label(day: date) -> str:
    year, week, _weekday = day.isocalendar()
    return f"{year}-W{week:02d}"


def _granted(staff_id: int) -> ColumnElement[bool]:
    return Report.id.in_(select(AccessGrant.report_id).where(AccessGrant.staff_id == staff_id))


def median_from_counts(counts: dict[int, int]) -> float | None:
    """The median of a multiset given as ``{value: how often}``; None when it is empty."""
    total = sum(counts.values())
    if total == 0:
        return None
    ordered = sorted(counts.items())

    def nth(index: int) -> int:
        seen = 0
        for value, count in ordered:
            seen += count
            if index < seen:
                return value
        return ordered[-1][0]

    return (nth((total - 1) // 2) + nth(total // 2)) / 2


def _weekly(db: Session, granted: ColumnElement[bool], today: date) -> list[tuple[str, int]]:
    first_monday = today - timedelta(days=today.weekday()) - timedelta(weeks=WEEKS_SHOWN - 1)
    weeks = {
        iso_week_label(first_monday + timedelta(weeks=n)): 0 for n in range(WEEKS_SHOWN)
    }
    rows = db.execute(
        select(Report.received_on, func.count())
        .where(granted, Report.received_on >= first_monday, Report.received_on <= today)
        .group_by(Report.received_on)
    )
    for received_on, count in rows:
        weeks[iso_week_label(received_on)] += count
    return list(weeks.items())


def dashboard_stats(db: Session, staff_id: int, today: date) -> DashboardStats:
    """Counts over the reports ``staff_id`` has an access grant for, as of ``today``."""
    granted = _granted(staff_id)
    by_status_rows: dict[str, int] = {
        status: count
        for status, count in db.execute(
            select(Report.status, func.count()).where(granted).group_by(Report.status)
        )
    }
    by_status = [(str(status), by_status_rows.get(status, 0)) for status in ReportStatus]
    by_channel = [
        (name, count)
        for name, count in db.execute(
            select(Channel.name, func.count(Report.id))
            .join(Report, Report.channel_id == Channel.id)
            .where(granted)
            .group_by(Channel.id, Channel.name)
            .order_by(func.count(Report.id).desc(), Channel.name)
        )
    ]

    acknowledgement_late = and_(
        Report.status == ReportStatus.RECEIVED, Report.acknowledgement_due < today
    )
    feedback_late = and_(Report.status != ReportStatus.CLOSED, Report.feedback_due < today)
    overdue_row = db.execute(
        select(
            func.count(),
            func.coalesce(func.sum(case((acknowledgement_late, 1), else_=0)), 0),
            func.coalesce(func.sum(case((feedback_late, 1), else_=0)), 0),
            func.coalesce(
                func.sum(case((or_(acknowledgement_late, feedback_late), 1), else_=0)), 0
            ),
        ).where(granted)
    ).one()
    total, acknowledgement_overdue, feedback_overdue, overdue = (int(v) for v in overdue_row)

    lag = days_between(Report.received_on, Report.acknowledged_on)
    lag_counts = {
        int(days): count
        for days, count in db.execute(
            select(lag, func.count())
            .where(granted, Report.acknowledged_on.is_not(None))
            .group_by(lag)
        )
    }
    retaliation_row = db.execute(
        select(func.coalesce(func.sum(Report.retaliation_reports), 0),
               func.coalesce(func.sum(case((Report.retaliation_reports > 0, 1), else_=0)), 0))
        .where(granted)
    ).one()
    open_measures = db.scalar(
        select(func.count()).select_from(ProtectionMeasure)
        .where(ProtectionMeasure.is_open.is_(True), ProtectionMeasure.report_id.in_(
            select(AccessGrant.report_id).where(AccessGrant.staff_id == staff_id))))
    return DashboardStats(
        retaliation_reports=int(retaliation_row[0]),
        cases_with_retaliation=int(retaliation_row[1]),
        open_protection_measures=int(open_measures or 0),
        total=total,
        per_week=_weekly(db, granted, today),
        by_channel=by_channel,
        by_status=by_status,
        median_days_to_acknowledge=median_from_counts(lag_counts),
        acknowledgement_overdue=acknowledgement_overdue,
        feedback_overdue=feedback_overdue,
        overdue=overdue,
    )
