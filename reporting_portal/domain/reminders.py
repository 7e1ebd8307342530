"""Deadline reminders: a handler hears, content-free, that a date is near or past.

Each run of ``reporting-portal send-notices`` looks at the open deadlines of EU Directive
2019/1937 (:mod:`reporting_portal.domain.deadlines`) and, for each report whose
acknowledgement or feedback date is two days away or has passed, queues one reminder per
stage ("soon", then "past") for every active case handler with a grant on the report.
A ``deadline_reminder`` row records each (report, deadline, due date, stage) queued, so a
stage is reminded of once, not at every run; two runs at once insert the same record,
and only the one whose insert went in queues the reminder.

A deadline that was met gets no reminder, by the inbox's own rules: the acknowledgement
is due while the report is still ``received``; feedback is due until the case is closed.
The mail says only that a date on one of the handler's cases needs a look; all reminders
for one handler in one window are one mail (the outbox has one row per window).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import InstrumentedAttribute, Session

from reporting_portal.domain.outbox import NewsKind, queue_news
from reporting_portal.storage.models import (
    AccessGrant,
    DeadlineReminder,
    Report,
    ReportStatus,
    Role,
    StaffAccount,
    StaffRole,
)

REMINDER_LEAD = timedelta(days=2)
_INSERT_CHUNK = 500


class Deadline(StrEnum):
    ACKNOWLEDGEMENT = "acknowledgement"
    FEEDBACK = "feedback"


class Stage(StrEnum):
    SOON = "soon"  # the date is at most two days away, or today
    PAST = "past"  # the date has passed


def stage_on(due_on: date, today: date) -> Stage | None:
    """Which reminder a deadline on ``due_on`` has earned by ``today``, if any."""
    if today > due_on:
        return Stage.PAST
    if today >= due_on - REMINDER_LEAD:
        return Stage.SOON
    return None


def _open_deadlines() -> dict[Deadline, tuple[InstrumentedAttribute[date | None],
                                              ColumnElement[bool]]]:
    # The same rules as the inbox's "overdue" (staff/casework/inbox.py).
    return {
        Deadline.ACKNOWLEDGEMENT: (Report.acknowledgement_due,
                                   Report.status == ReportStatus.RECEIVED),
        Deadline.FEEDBACK: (Report.feedback_due, Report.status != ReportStatus.CLOSED),
    }


def _earned(db: Session, deadline: Deadline, stage: Stage, today: date) -> list[tuple[int, date]]:
    """(report id, due date) of open deadlines at ``stage`` not yet reminded of."""
    due, still_open = _open_deadlines()[deadline]
    in_stage = due < today if stage == Stage.PAST else and_(
        due >= today, due <= today + REMINDER_LEAD)
    reminded = exists().where(
        DeadlineReminder.report_id == Report.id, DeadlineReminder.deadline == deadline.value,
        DeadlineReminder.due_on == due, DeadlineReminder.stage == stage.value)
    rows = db.execute(select(Report.id, due).where(still_open, due.is_not(None), in_stage,
                                                   ~reminded))
    return [(report_id, due_on) for report_id, due_on in rows if due_on is not None]


def _record(db: Session, records: Sequence[dict[str, Any]]) -> set[int]:
    """Insert reminder records; returns the reports whose record this call inserted."""
    insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    won: set[int] = set()
    for start in range(0, len(records), _INSERT_CHUNK):
        statement = (insert(DeadlineReminder).values(list(records[start:start + _INSERT_CHUNK]))
                     .on_conflict_do_nothing().returning(DeadlineReminder.report_id))
        won.update(db.execute(statement).scalars())
    return won


def _handlers_per_report(db: Session, report_ids: Iterable[int]) -> dict[int, int]:
    """Per active case handler with an address: how many of ``report_ids`` they hold a
    grant on."""
    ids = sorted(set(report_ids))
    counts: dict[int, int] = {}
    for start in range(0, len(ids), _INSERT_CHUNK):
        rows = db.execute(
            select(AccessGrant.staff_id, func.count())
            .join(StaffAccount, StaffAccount.id == AccessGrant.staff_id)
            .join(StaffRole, StaffRole.staff_id == StaffAccount.id)
            .where(AccessGrant.report_id.in_(ids[start:start + _INSERT_CHUNK]),
                   StaffAccount.is_active.is_(True), StaffRole.role == Role.CASE_HANDLER,
                   StaffAccount.email.is_not(None), StaffAccount.email != "")
            .group_by(AccessGrant.staff_id))
        for staff_id, count in rows:
            counts[staff_id] = counts.get(staff_id, 0) + int(count)
    return counts


def queue_deadline_reminders(db: Session, *, now: datetime, window_minutes: int) -> int:
    """Record and queue the reminders earned by ``now``'s day (UTC), in the caller's
    transaction; returns how many (report, deadline, stage) reminders were new."""
    today = now.date()
    reminded: list[int] = []
    for deadline in Deadline:
        for stage in Stage:
            earned = _earned(db, deadline, stage, today)
            won = _record(db, [{"report_id": report_id, "deadline": deadline.value,
                                "due_on": due_on, "stage": stage.value}
                               for report_id, due_on in earned])
            reminded.extend(won)
    queue_news(db, NewsKind.DEADLINE_REMINDERS, _handlers_per_report(db, reminded),
               window_minutes=window_minutes, now=now)
    return len(reminded)
