"""Two handlers on one case: no change overwrites another's unseen.

Each triage form carries the case's version and a snapshot of what the handler saw
(stage, priority, labels, handlers). A change applies only while the case is still at
that version. The version is raised by a compare-and-set UPDATE, atomic on SQLite and
PostgreSQL alike: PostgreSQL's UPDATE waits for a concurrent one to commit, then checks
its condition again, so of two simultaneous changes exactly one applies. The other
changes nothing, and the handler is told what changed meanwhile.

The snapshot comes from the browser and is used only to describe the difference; the
version decides.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from reporting_portal.storage.models import AccessGrant, Report, StaffAccount

# A snapshot longer than this is not one this site rendered: it is ignored.
SNAPSHOT_MAX_CHARS = 8000


@dataclass(frozen=True)
class CaseSnapshot:
    """What a handler sees of a case's triage state."""

    status: str
    priority: str
    labels: tuple[str, ...]
    handlers: tuple[str, ...]

    def encode(self) -> str:
        return json.dumps({"status": self.status, "priority": self.priority,
                           "labels": list(self.labels), "handlers": list(self.handlers)},
                          ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def decode(cls, text: str) -> CaseSnapshot | None:
        """The snapshot a form sent back, or None when it is missing or malformed."""
        if not text or len(text) > SNAPSHOT_MAX_CHARS:
            return None
        try:
            raw: Any = json.loads(text)
        except ValueError:
            return None
        if not isinstance(raw, dict):
            return None
        labels, handlers = raw.get("labels"), raw.get("handlers")
        status, priority = raw.get("status"), raw.get("priority")
        if not (isinstance(status, str) and isinstance(priority, str)
                and isinstance(labels, list) and isinstance(handlers, list)):
            return None
        return cls(status=status, priority=priority,
                   labels=tuple(str(name) for name in labels),
                   handlers=tuple(str(name) for name in handlers))


@dataclass(frozen=True)
class SeenCase:
    """The version a triage form was rendered at, and what it showed."""

    version: int
    snapshot: str = ""


class CaseConflictError(Exception):
    """The case changed after the handler's form was shown: nothing was applied."""

    def __init__(self, seen: CaseSnapshot | None, current: CaseSnapshot) -> None:
        super().__init__("the case changed meanwhile")
        self.seen = seen
        self.current = current


def case_snapshot(db: Session, report: Report) -> CaseSnapshot:
    handlers = db.scalars(
        select(StaffAccount.display_name).join(AccessGrant, AccessGrant.staff_id == StaffAccount.id)
        .where(AccessGrant.report_id == report.id).order_by(StaffAccount.display_name))
    return CaseSnapshot(status=report.status, priority=report.priority,
                        labels=tuple(sorted(label.name for label in report.labels)),
                        handlers=tuple(handlers))


def _conflict(db: Session, report: Report, seen: SeenCase) -> CaseConflictError:
    db.refresh(report)  # what the other handler committed
    return CaseConflictError(CaseSnapshot.decode(seen.snapshot), case_snapshot(db, report))


def ensure_current(db: Session, report: Report, seen: SeenCase) -> None:
    """Refuse at once a form shown before the case's last change.

    Checked before the casework rules, so a stale form hears "the case changed" rather
    than a rule it could not have known was broken.
    """
    if report.version != seen.version:
        raise _conflict(db, report, seen)


def claim_case_version(db: Session, report: Report, seen: SeenCase) -> None:
    """Raise the case's version if it is still ``seen.version``; else nothing changes.

    Called after the rules passed and before anything is changed: when two handlers
    get this far at once, only one of them goes on.
    """
    result: CursorResult[Any] = db.execute(  # type: ignore[assignment]  # an UPDATE's result
        update(Report).where(Report.id == report.id, Report.version == seen.version)
        .values(version=Report.version + 1).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise _conflict(db, report, seen)
    set_committed_value(report, "version", seen.version + 1)
