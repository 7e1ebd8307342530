"""The case page's timeline: messages, notes, files and events in one chronological list.

Staff items carry their moment, shown in the installation's ``staff_time_zone``. A
reporter's items carry their day only: the time a reporter acted is never stored (an
access log or a database that timed a reporter could help identify them). Such an item
is placed after the staff objects that were stored before it on the same day (object
ids grow with time), else at the start of its day.

Each triage event says what it changed, from the case's history (staff/casework/
history.py); events from before that history was kept keep their plain names.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import lru_cache
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from reporting_portal.audit.events import REPORTER, AuditAction, ObjectType, Outcome
from reporting_portal.domain.case_words import outcome_label, priority_label, status_label
from reporting_portal.storage.models import (
    AuditEvent,
    CaseChange,
    HeldAuditEvent,
    Report,
    ReportObject,
    StaffAccount,
)

# What the page's filter links offer: all, messages (both ways) only, notes only.
SHOW_CHOICES = ("all", "messages", "notes")
_KINDS_SHOWN = {"messages": {"message", "reporter message", "retaliation report"},
                "notes": {"note"}}


class AttachedFile(Protocol):
    """A file as a message lists it (services.CaseFile); named so this module need not
    import the services that import it."""

    @property
    def object(self) -> ReportObject: ...
    @property
    def name(self) -> str: ...
    @property
    def size(self) -> int: ...


@dataclass(frozen=True)
class TimelineEntry:
    when: date  # the day (UTC), all a reporter's item has
    kind: str  # "message", "reporter message", "retaliation report", "note", "event"
    author: str
    text: str  # a message's text, or an event's (translated) description
    files: tuple[AttachedFile, ...] = ()
    at: datetime | None = None  # the moment (UTC), for staff items only
    # A day-only change the system made because of a reporter's item of this kind (a
    # priority raised for a "retaliation report"): placed right after the last such item
    # of its day, else at the end of the day; never before the act that caused it.
    follows: str | None = None


# Changes kept in the case's history, each named plainly when it holds no values.
_CHANGE_NAMES = {
    AuditAction.CASE_STATUS_CHANGED: _l("Status changed"),
    AuditAction.CASE_ACKNOWLEDGED: _l("Acknowledged"),
    AuditAction.CASE_PRIORITY_CHANGED: _l("Priority changed"),
    AuditAction.CASE_LABELS_CHANGED: _l("Labels changed"),
    AuditAction.CASE_HANDLER_ADDED: _l("Case handler added"),
    AuditAction.CASE_HANDLER_REMOVED: _l("Case handler removed"),
    AuditAction.CASE_CLOSED: _l("Closed"),
    AuditAction.CASE_REOPENED: _l("Reopened"),
}
# A change the system made because of a reporter's item: the kind of item that caused it.
_CAUSES = {"retaliation": "retaliation report"}
# Events with no value to show, read from the access log.
_LOGGED_EVENTS = {
    AuditAction.REPORT_SUBMITTED: _l("Report received"),
    AuditAction.CASE_EXPORTED: _l("Exported"),
    AuditAction.IDENTITY_ACCESS_REQUESTED: _l("Identity access requested"),
    AuditAction.IDENTITY_ACCESS_APPROVED: _l("Identity access approved"),
    AuditAction.IDENTITY_ACCESS_DENIED: _l("Identity access denied"),
    # The protection record's changes, without what they changed (that is encrypted).
    AuditAction.PROTECTION_MEASURE_RECORDED: _l("Protection measure recorded"),
    AuditAction.PROTECTION_MEASURE_CHANGED: _l("Protection measure changed"),
    AuditAction.PROTECTION_REVIEW_SET: _l("Protection review day set"),
    AuditAction.PROTECTION_RECORD_CLOSED: _l("Protection record closed"),
}


@lru_cache(maxsize=8)
def staff_zone(name: str) -> ZoneInfo:
    """The zone staff pages show times in (config/settings.py has checked the name)."""
    return ZoneInfo(name)


def in_order(object_entries: Iterable[TimelineEntry],
             events: Iterable[TimelineEntry]) -> list[TimelineEntry]:
    """One chronological list; ``object_entries`` come in the order they were stored."""
    keyed: list[tuple[datetime, int, TimelineEntry]] = []
    last_staff: datetime | None = None
    # The moment of the last object of each kind and day, for the events that follow one.
    last_of: dict[tuple[str, date], datetime] = {}
    for entry in object_entries:
        if entry.at is not None:
            last_staff = entry.at
        moment = _sort_moment(entry, last_staff)
        last_of[(entry.kind, entry.when)] = moment
        keyed.append((moment, 1, entry))
    for event in events:
        if event.follows is not None:
            # The same key as the object it follows: the stable sort keeps it after it.
            after = last_of.get((event.follows, event.when))
            keyed.append((after, 1, event) if after is not None
                         else (datetime.combine(event.when, time.max, UTC), 2, event))
            continue
        # A reporter's day-only event (the report's receipt) opens its day.
        first = 0 if event.at is None else 1
        keyed.append((_sort_moment(event, None), first, event))
    keyed.sort(key=lambda item: (item[0], item[1]))  # stable: storage order breaks ties
    return [entry for _moment, _first, entry in keyed]


def _sort_moment(entry: TimelineEntry, last_staff: datetime | None) -> datetime:
    if entry.at is not None:
        return entry.at
    if last_staff is not None and last_staff.date() == entry.when:
        return last_staff
    return datetime.combine(entry.when, time(0), UTC)


def shown(entries: list[TimelineEntry], show: str) -> list[TimelineEntry]:
    """The entries one filter link shows ("all" for an unknown value)."""
    kinds = _KINDS_SHOWN.get(show)
    return entries if kinds is None else [e for e in entries if e.kind in kinds]


def event_entries(db: Session, report: Report) -> list[TimelineEntry]:
    """The case's events: its triage history, logged events and reporters' still held."""
    changes = list(db.scalars(select(CaseChange).where(CaseChange.report_id == report.id)
                              .order_by(CaseChange.id)))
    logged = list(db.scalars(
        select(AuditEvent).where(AuditEvent.object_type == ObjectType.REPORT,
                                 AuditEvent.object_id == report.public_id,
                                 AuditEvent.outcome == Outcome.SUCCESS,
                                 AuditEvent.action.in_(_LOGGED_EVENTS))
        .order_by(AuditEvent.id)))
    held = list(db.scalars(
        select(HeldAuditEvent).where(HeldAuditEvent.object_type == ObjectType.REPORT,
                                     HeldAuditEvent.object_id == report.public_id,
                                     HeldAuditEvent.action.in_(_LOGGED_EVENTS))))
    handler_ids = {str(c.detail.get("handler")) for c in changes if c.detail.get("handler")}
    names = _staff_names(db, {c.actor_id for c in changes} | {e.actor_id for e in logged}
                         | handler_ids)
    # A change the system made because of a reporter's act keeps its day only, as the
    # act does (domain/retaliation.py).
    entries = [TimelineEntry(when=c.occurred_at.date(), kind="event",
                             at=None if c.detail.get("cause") else c.occurred_at,
                             follows=_CAUSES.get(str(c.detail.get("cause"))),
                             author=_author(names, c.actor_id, "staff"),
                             text=describe_change(AuditAction(c.action), c.detail, names))
               for c in changes]
    for event in logged:
        # Reporters' events join the log at midnight of their day (audit.held): a day only.
        by_reporter = event.actor_role == REPORTER
        entries.append(TimelineEntry(
            when=event.occurred_at.date(), kind="event",
            at=None if by_reporter else event.occurred_at,
            author=_author(names, event.actor_id, event.actor_role),
            text=str(_LOGGED_EVENTS[AuditAction(event.action)])))
    entries.extend(TimelineEntry(when=e.occurred_on, kind="event",
                                 author=_author(names, None, e.actor_role),
                                 text=str(_LOGGED_EVENTS[AuditAction(e.action)]))
                   for e in held)
    return entries


def describe_change(action: AuditAction, detail: dict[str, Any],
                    names: dict[str, str]) -> str:
    """What a triage change did, in the reader's language: "Stage: Assessment → Closed"."""
    if not detail:
        return str(_CHANGE_NAMES[action])
    if action == AuditAction.CASE_CLOSED:
        text = _("Stage: %(old)s → %(new)s. Outcome: %(outcome)s",
                 old=status_label(detail.get("old")), new=status_label(detail.get("new")),
                 outcome=outcome_label(detail.get("outcome")))
    elif action == AuditAction.CASE_REOPENED:
        text = _("Reopened. Stage: %(old)s → %(new)s", old=status_label(detail.get("old")),
                 new=status_label(detail.get("new")))
    elif action in (AuditAction.CASE_STATUS_CHANGED, AuditAction.CASE_ACKNOWLEDGED):
        text = _("Stage: %(old)s → %(new)s", old=status_label(detail.get("old")),
                 new=status_label(detail.get("new")))
    elif action == AuditAction.CASE_PRIORITY_CHANGED and detail.get("cause") == "retaliation":
        text = _("Priority raised to %(priority)s: the reporter reported retaliation",
                 priority=priority_label(detail.get("new")))
    elif action == AuditAction.CASE_PRIORITY_CHANGED:
        text = _("Priority: %(priority)s", priority=priority_label(detail.get("new")))
    elif action == AuditAction.CASE_LABELS_CHANGED:
        text = _label_changes(detail)
    elif action == AuditAction.CASE_HANDLER_ADDED:
        text = _("Assigned: %(name)s", name=_named(names, detail.get("handler")))
    else:
        text = _("Removed from the case: %(name)s", name=_named(names, detail.get("handler")))
    return str(text)


def _label_changes(detail: dict[str, Any]) -> str:
    changes = [f"+{name}" for name in detail.get("added", [])]
    changes += [f"\u2212{name}" for name in detail.get("removed", [])]  # a minus sign
    if not changes:
        return str(_("Labels: unchanged"))
    return str(_("Labels: %(changes)s", changes=" ".join(changes)))


def _staff_names(db: Session, public_ids: set[str | None]) -> dict[str, str]:
    wanted = {public_id for public_id in public_ids if public_id}
    if not wanted:
        return {}
    rows = db.execute(select(StaffAccount.public_id, StaffAccount.display_name)
                      .where(StaffAccount.public_id.in_(wanted)))
    return {public_id: name for public_id, name in rows}


def _named(names: dict[str, str], public_id: object) -> str:
    return names.get(str(public_id)) or str(_l("Former staff member"))


def _author(names: dict[str, str], actor_id: str | None, role: str) -> str:
    if actor_id is None:
        return str(_l("Reporter") if role == REPORTER else _l("System"))
    return _named(names, actor_id)
