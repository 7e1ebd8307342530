"""Reporter events wait for the day's release before they join the access log.

The log's order is the order of commits, and staff events carry exact times. A reporter's
event appended at once would sit between two staff events and be dated to the minute,
however coarse its own time. So events caused by reporters are held in their own table,
stored with the day only, and once a day (``reporting-portal audit release``, a systemd
timer in production, the development server at start) the held events of the days before
are appended together, in random order, in one transaction.

What still orders a reporter's act within the day is listed in SECURITY.md (Access log).
"""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from reporting_portal.audit.log import queue_event
from reporting_portal.storage.models import AuditEvent, HeldAuditEvent

_ID_BYTES = 16
# When the daily release runs, UTC: deploy/systemd/reporting-portal-audit-release.timer
# says the same (a test keeps them equal), so a reporter is told the right hour.
RELEASE_TIME_UTC = time(0, 5)
# Rows deleted per statement: well under every database's limit on bound parameters.
_DELETE_BATCH = 500


def hold_event(db: Session, *, actor_role: str, action: str, object_type: str | None,
               object_id: str | None, outcome: str, receipt_channel: str | None = None,
               receipt_headers: str | None = None) -> None:
    """Keep a reporter's event, dated to the day, until the next release.

    It is added to the caller's transaction, so it exists exactly when the act does.
    The random key leaves no order among held events, not even in the table's storage.
    """
    db.add(HeldAuditEvent(id=secrets.token_bytes(_ID_BYTES),
                          occurred_on=datetime.now(UTC).date(), actor_role=actor_role,
                          action=action, object_type=object_type, object_id=object_id,
                          outcome=outcome, receipt_channel=receipt_channel,
                          receipt_headers=receipt_headers))


def release_after(held_on: date, now: datetime) -> datetime:
    """When an event held on ``held_on`` joins the log: the first daily release still to
    come that releases its day (a release takes only the days before its own)."""
    release = datetime.combine(held_on + timedelta(days=1), RELEASE_TIME_UTC, UTC)
    while release <= now:
        release += timedelta(days=1)
    return release


def held_count(db: Session) -> int:
    """How many events wait for a release (for the auditor's page)."""
    return int(db.scalar(select(func.count()).select_from(HeldAuditEvent)) or 0)


def release_held_events(db: Session, *, before: date) -> int:
    """Append the events held from days before ``before`` to the log, in random order.

    They join the log when the caller commits (one signed head for all of them); their
    time is the midnight (UTC) of their day. Returns how many were released.
    """
    held = list(db.scalars(select(HeldAuditEvent).where(HeldAuditEvent.occurred_on < before)))
    secrets.SystemRandom().shuffle(held)
    for entry in held:
        queue_event(db, AuditEvent(
            occurred_at=datetime.combine(entry.occurred_on, time(0), UTC),
            actor_id=None, actor_role=entry.actor_role, action=entry.action,
            object_type=entry.object_type, object_id=entry.object_id, outcome=entry.outcome,
            receipt_channel=entry.receipt_channel, receipt_headers=entry.receipt_headers))
    ids = [entry.id for entry in held]
    for start in range(0, len(ids), _DELETE_BATCH):
        db.execute(delete(HeldAuditEvent).where(
            HeldAuditEvent.id.in_(ids[start:start + _DELETE_BATCH])))
    return len(held)
