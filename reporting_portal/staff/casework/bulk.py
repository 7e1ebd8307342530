"""Bulk triage from the inbox: one change applied to each ticked case, case by case.

Each case goes through the same service as its own page (its rules, its own audit event)
and the version check of casework/versions.py: a case changed since the inbox was shown
is skipped, and the handler is told which. A case the handler cannot open is skipped as
if it did not exist. A case that already is as asked is left alone, with no event, as
nothing happened to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from reporting_portal.audit.events import AuditAction, Outcome
from reporting_portal.domain.actors import Actor, NoKeysError, record_case_event
from reporting_portal.staff.casework.services import (
    CaseNotFoundError,
    CaseRuleError,
    add_handler,
    open_case,
    record_refused_open,
    set_labels,
    set_priority,
)
from reporting_portal.staff.casework.versions import CaseConflictError, SeenCase
from reporting_portal.storage.models import (
    AccessGrant,
    Label,
    Priority,
    Report,
    Role,
    StaffAccount,
)

# One inbox page: a bulk change never reaches further than what the handler saw.
MAX_BULK_CASES = 50


class BulkAction(StrEnum):
    ASSIGN = "assign"
    ADD_LABEL = "add-label"
    REMOVE_LABEL = "remove-label"
    PRIORITY = "priority"


_ATTEMPTED = {
    BulkAction.ASSIGN: AuditAction.CASE_HANDLER_ADDED,
    BulkAction.ADD_LABEL: AuditAction.CASE_LABELS_CHANGED,
    BulkAction.REMOVE_LABEL: AuditAction.CASE_LABELS_CHANGED,
    BulkAction.PRIORITY: AuditAction.CASE_PRIORITY_CHANGED,
}


class BulkChoiceError(ValueError):
    """The chosen action or its value is not one the inbox offered."""


@dataclass(frozen=True)
class BulkChange:
    action: BulkAction
    value: str  # a handler's public id, a label's name or a priority

    @classmethod
    def parse(cls, choice: str) -> BulkChange:
        """``"priority:high"``, ``"add-label:urgent"``…: the value of the inbox's select."""
        action, _, value = choice.partition(":")
        try:
            return cls(BulkAction(action), value)
        except ValueError:
            raise BulkChoiceError(choice) from None


@dataclass(frozen=True)
class TickedCase:
    public_id: str
    version: int  # the version the inbox showed


@dataclass
class BulkOutcome:
    """Case references by what happened to them."""

    changed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    conflicted: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    not_found: int = 0


def bulk_handlers(db: Session) -> list[StaffAccount]:
    """Who the inbox offers to assign: active case handlers with keys."""
    candidates = db.scalars(select(StaffAccount).where(
        StaffAccount.is_active.is_(True), StaffAccount.age_recipient.is_not(None))
        .order_by(StaffAccount.display_name))
    return [c for c in candidates if c.has_role(Role.CASE_HANDLER)]


def _check_value(db: Session, change: BulkChange) -> None:
    if change.action == BulkAction.PRIORITY:
        valid = change.value in set(Priority)
    elif change.action == BulkAction.ASSIGN:
        valid = any(h.public_id == change.value for h in bulk_handlers(db))
    else:
        valid = db.scalar(select(Label.id).where(Label.name == change.value)) is not None
    if not valid:
        raise BulkChoiceError(change.value)


def _already_so(db: Session, report: Report, change: BulkChange) -> bool:
    names = {label.name for label in report.labels}
    if change.action == BulkAction.PRIORITY:
        return report.priority == change.value
    if change.action == BulkAction.ADD_LABEL:
        return change.value in names
    if change.action == BulkAction.REMOVE_LABEL:
        return change.value not in names
    return db.scalar(select(AccessGrant.staff_id)
                     .join(StaffAccount, StaffAccount.id == AccessGrant.staff_id)
                     .where(AccessGrant.report_id == report.id,
                            StaffAccount.public_id == change.value)) is not None


def _apply(db: Session, actor: Actor, report: Report, change: BulkChange,
           seen: SeenCase) -> None:
    if change.action == BulkAction.PRIORITY:
        set_priority(db, actor, report, change.value, seen=seen)
    elif change.action == BulkAction.ASSIGN:
        add_handler(db, actor, report, change.value, seen=seen)
    else:
        names = [label.name for label in report.labels if label.name != change.value]
        if change.action == BulkAction.ADD_LABEL:
            names.append(change.value)
        set_labels(db, actor, report, names, seen=seen)


def apply_bulk(db: Session, actor: Actor, change: BulkChange,
               ticked: list[TickedCase]) -> BulkOutcome:
    """Apply ``change`` to each ticked case the handler holds, each on its own terms.

    Raises :class:`BulkChoiceError` for a value the inbox did not offer, and
    :class:`NoKeysError` (before anything changes) for an assignment without the
    handler's keys unlocked: granting a colleague rewrites each object's header.
    """
    _check_value(db, change)
    if change.action == BulkAction.ASSIGN:
        actor.require_identity()
    outcome = BulkOutcome()
    for item in ticked:
        try:
            report = open_case(db, actor.staff, item.public_id)
        except CaseNotFoundError:
            record_refused_open(db, actor.staff, item.public_id)
            outcome.not_found += 1
            continue
        if _already_so(db, report, change):
            outcome.unchanged.append(report.case_reference)
            continue
        try:
            # Each service checks the version first and changes nothing when it refuses.
            _apply(db, actor, report, change, SeenCase(version=item.version))
        except CaseConflictError:
            outcome.conflicted.append(report.case_reference)
        except (CaseRuleError, NoKeysError):
            outcome.refused.append(report.case_reference)
        else:
            outcome.changed.append(report.case_reference)
            continue
        record_case_event(db, actor, _ATTEMPTED[change.action], report,
                          outcome=Outcome.FAILURE)
    return outcome
