"""What auditors search and export: events by actor, action, object and date.

Events hold no content and no identity by construction (audit.events), so nothing here
needs to hide anything; it only has to find events fast at any log size (indexes on
actor, action, object id, time and leaf index) and page without OFFSET.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from reporting_portal.audit.events import ANONYMOUS, REPORTER, SYSTEM, AuditAction, ObjectType
from reporting_portal.audit.log import canonical_event, event_time
from reporting_portal.storage.models import AuditEvent, StaffAccount

PAGE_SIZE = 50
EXPORT_LIMIT = 100_000
# Actors without an account are filtered by their role word.
ROLE_ACTORS = (REPORTER, SYSTEM, ANONYMOUS)
_MAX_TEXT = 64
MAX_LEAF_INDEX = 2**63 - 1


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@dataclass(frozen=True)
class EventFilter:
    """A search over the log; values outside what the log can hold are dropped."""

    actor: str | None = None  # a staff member's public id, or a role word from ROLE_ACTORS
    action: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    since: date | None = None
    until: date | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> EventFilter:
        def text(name: str) -> str | None:
            value = (args.get(name) or "").strip()
            return value if value and len(value) <= _MAX_TEXT else None

        action = text("action")
        object_type = text("object_type")
        return cls(
            actor=text("actor"),
            action=action if action in set(AuditAction) else None,
            object_type=object_type if object_type in set(ObjectType) else None,
            object_id=text("object_id"),
            since=_date(args.get("since")),
            until=_date(args.get("until")),
        )

    def as_args(self) -> dict[str, str]:
        values = {"actor": self.actor, "action": self.action, "object_type": self.object_type,
                  "object_id": self.object_id,
                  "since": self.since.isoformat() if self.since else None,
                  "until": self.until.isoformat() if self.until else None}
        return {key: value for key, value in values.items() if value}

    def apply(self, query: Select[Any]) -> Select[Any]:
        if self.actor in ROLE_ACTORS:
            query = query.where(AuditEvent.actor_id.is_(None), AuditEvent.actor_role == self.actor)
        elif self.actor:
            query = query.where(AuditEvent.actor_id == self.actor)
        if self.action:
            query = query.where(AuditEvent.action == self.action)
        if self.object_type:
            query = query.where(AuditEvent.object_type == self.object_type)
        if self.object_id:
            query = query.where(AuditEvent.object_id == self.object_id)
        if self.since:
            query = query.where(AuditEvent.occurred_at >= datetime.combine(self.since, time(),
                                                                           UTC))
        if self.until and self.until < date.max:  # the last day has no day after it
            end = datetime.combine(self.until + timedelta(days=1), time(), UTC)
            query = query.where(AuditEvent.occurred_at < end)
        return query


@dataclass(frozen=True)
class EventPage:
    events: list[AuditEvent]
    # The leaf index to continue from (newest first), or None on the last page.
    next_before: int | None


def event_page(db: Session, chosen: EventFilter, before: int | None) -> EventPage:
    """Newest first, paged by leaf index (a keyset, so page 1,000 costs what page 1 does)."""
    query = chosen.apply(select(AuditEvent))
    if before is not None:
        # From the URL: kept within a BIGINT, which both databases refuse to exceed.
        query = query.where(AuditEvent.leaf_index < min(before, MAX_LEAF_INDEX))
    rows = list(db.scalars(query.order_by(AuditEvent.leaf_index.desc()).limit(PAGE_SIZE + 1)))
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return EventPage(events=rows, next_before=rows[-1].leaf_index if more and rows else None)


def actor_names(db: Session, events: list[AuditEvent]) -> dict[str, str]:
    ids = {e.actor_id for e in events if e.actor_id}
    if not ids:
        return {}
    rows = db.execute(select(StaffAccount.public_id, StaffAccount.display_name)
                      .where(StaffAccount.public_id.in_(ids)))
    return {public_id: name for public_id, name in rows}


def staff_actors(db: Session) -> list[StaffAccount]:
    return list(db.scalars(select(StaffAccount).order_by(StaffAccount.display_name)))


def exported_events(db: Session, chosen: EventFilter) -> tuple[list[AuditEvent], bool]:
    """Up to EXPORT_LIMIT matching events, oldest first; and whether more matched."""
    rows = list(db.scalars(chosen.apply(select(AuditEvent))
                           .order_by(AuditEvent.leaf_index).limit(EXPORT_LIMIT + 1)))
    return rows[:EXPORT_LIMIT], len(rows) > EXPORT_LIMIT


def _record(event: AuditEvent) -> dict[str, Any]:
    return {
        "leaf_index": event.leaf_index,
        "occurred_at": event_time(event.occurred_at),
        "actor_id": event.actor_id,
        "actor_role": event.actor_role,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "outcome": event.outcome,
        "leaf_hash": base64.b64encode(event.leaf_hash).decode("ascii"),
        "encoded": canonical_event(event).decode("ascii"),
    }


def events_as_json(events: list[AuditEvent], checkpoint: str, chosen: EventFilter) -> str:
    """The exact events, each with the encoding its leaf hash covers, and the signed head."""
    return json.dumps({"format": "reporting-portal/audit-export/v1",
                       "filter": chosen.as_args(), "checkpoint": checkpoint,
                       "events": [_record(e) for e in events]}, indent=1)


# OWASP CSV injection: a spreadsheet would run a cell starting with these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def events_as_csv(events: list[AuditEvent]) -> str:
    """For spreadsheets. Cells that could start a formula get a leading apostrophe, so the
    JSON export, not this one, is the one to check leaf hashes against."""
    out = io.StringIO()
    fields = ["leaf_index", "occurred_at", "actor_id", "actor_role", "action", "object_type",
              "object_id", "outcome", "leaf_hash"]
    writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for event in events:
        record = _record(event)
        writer.writerow({key: _cell(record[key]) for key in fields})
    return out.getvalue()


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text
