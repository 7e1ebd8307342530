"""Guard-rails on a case's workflow: closing past an unmet legal duty, and reopening.

EU Directive 2019/1937 art. 9(1)(b) asks for an acknowledgement within 7 days and
art. 9(1)(f) for feedback within 3 months (domain/deadlines.py). A case closed before
either was given may be right (a duplicate, a report out of scope) but is more often a
slip, so closing it asks the handler to confirm and names the duty it leaves unmet.

A closed case can be reopened by its handlers, with a reason. The reason is sensitive
(it often names people or new facts), so it is kept as an internal note: an age object
for the case's handlers and the recovery key, like every other case text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reporting_portal.audit.events import AuditAction, ObjectType, Outcome
from reporting_portal.domain.actors import Actor, record_case_event
from reporting_portal.domain.deadlines import acknowledgement_due
from reporting_portal.staff.casework.history import record_case_change
from reporting_portal.staff.casework.services import CaseRuleError, post_note, set_status
from reporting_portal.staff.casework.versions import SeenCase, claim_case_version, ensure_current
from reporting_portal.storage.blobstore import BlobStore
from reporting_portal.storage.models import (
    AuditEvent,
    ClosingOutcome,
    ObjectKind,
    Report,
    ReportObject,
    ReportStatus,
)

# A reason is a few sentences; a longer text belongs in a note of its own.
REOPEN_REASON_MAX = 2000


class Duty(StrEnum):
    ACKNOWLEDGEMENT = "acknowledgement"  # art. 9(1)(b): within 7 days of receipt
    FEEDBACK = "feedback"  # art. 9(1)(f): within 3 months


@dataclass(frozen=True)
class UnmetDuty:
    """A legal duty towards the reporter not yet met, and the day it is (or was) due."""

    duty: Duty
    due_on: date


class ClosingNeedsConfirmationError(CaseRuleError):
    """Closing would leave a legal duty unmet: nothing changed, the handler must confirm."""

    def __init__(self, unmet: list[UnmetDuty]) -> None:
        super().__init__(_l("Confirm that you want to close this case."))
        self.unmet = unmet


def _was_acknowledged_with_a_message(db: Session, report: Report) -> bool:
    # The acknowledgement form posts a message; moving a case on acknowledges it silently.
    return db.scalar(select(AuditEvent.id).where(
        AuditEvent.object_type == ObjectType.REPORT, AuditEvent.object_id == report.public_id,
        AuditEvent.action == AuditAction.CASE_ACKNOWLEDGED,
        AuditEvent.outcome == Outcome.SUCCESS).limit(1)) is not None


def unmet_duties(db: Session, report: Report) -> list[UnmetDuty]:
    """The duties of art. 9(1)(b) and (f) this case has not met.

    Acknowledged: the case has left the ``received`` stage. Feedback given: a handler
    wrote to the reporter after the acknowledgement, that is, a handler's message other
    than the acknowledgement's own. Counting messages reads no content.
    """
    unmet = []
    if report.acknowledged_on is None:
        unmet.append(UnmetDuty(Duty.ACKNOWLEDGEMENT,
                               report.acknowledgement_due or acknowledgement_due(
                                   report.received_on)))
    handler_messages = db.scalar(select(func.count()).select_from(ReportObject).where(
        ReportObject.report_id == report.id, ReportObject.kind == ObjectKind.MESSAGE,
        ReportObject.from_reporter.is_(False))) or 0
    acknowledgement_messages = int(_was_acknowledged_with_a_message(db, report))
    if report.feedback_due is not None and handler_messages <= acknowledgement_messages:
        unmet.append(UnmetDuty(Duty.FEEDBACK, report.feedback_due))
    return unmet


def close_case(db: Session, actor: Actor, report: Report, outcome: str | None, *,
               seen: SeenCase, confirmed: bool) -> None:
    """Close a case with an outcome; unless ``confirmed``, refuse while a duty is unmet.

    Raises :class:`ClosingNeedsConfirmationError` (nothing changed) naming the duties;
    the other rules and the version check are :func:`set_status`'s.
    """
    ensure_current(db, report, seen)
    if (not confirmed and report.status != ReportStatus.CLOSED
            and outcome in set(ClosingOutcome)):
        unmet = unmet_duties(db, report)
        if unmet:
            raise ClosingNeedsConfirmationError(unmet)
    set_status(db, actor, report, ReportStatus.CLOSED, seen=seen, outcome=outcome)


def reopened_stage(report: Report) -> ReportStatus:
    """The stage a reopened case returns to.

    Assessment: a case is reopened because of new facts or a doubted conclusion, and
    weighing them is ISO 37002's assessment step, whatever stage the case was closed
    from (the handler moves it on from there). A case closed before it was ever
    acknowledged returns to ``received``, so its acknowledgement is still asked for.
    """
    return ReportStatus.RECEIVED if report.acknowledged_on is None else ReportStatus.ASSESSMENT


def reopen_case(db: Session, store: BlobStore, actor: Actor, report: Report, reason: str, *,
                seen: SeenCase) -> None:
    """Reopen a closed case: the reason becomes an internal note; an audit event.

    The outcome, closing day and purge day are cleared, so retention no longer runs.
    """
    ensure_current(db, report, seen)
    if report.status != ReportStatus.CLOSED:
        raise CaseRuleError(_l("Only a closed case can be reopened."))
    reason = reason.strip()
    if not reason:
        raise CaseRuleError(_l("Say why the case is reopened."))
    if len(reason) > REOPEN_REASON_MAX:
        raise CaseRuleError(_l("Write a reason of at most 2,000 characters."))
    claim_case_version(db, report, seen)
    record_case_change(db, actor, AuditAction.CASE_REOPENED, report,
                       old=report.status, new=str(reopened_stage(report)))
    report.status = reopened_stage(report)
    report.closing_outcome = None
    report.closed_on = None
    report.purge_after = None
    post_note(db, store, actor, report, reason)
    record_case_event(db, actor, AuditAction.CASE_REOPENED, report)
