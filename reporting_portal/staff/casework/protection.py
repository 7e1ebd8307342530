"""The handlers' protection record of a case: measures, a review date, a closing outcome.

Each change files a new encrypted object (domain/protection.py) and points the row at
it; the earlier state stays on the case as an older object, so the record keeps its own
history (requested on one day, granted on another). Sharing a measure files what the
reporter may read of it as a ``shared_measure`` object sealed to the reporter too;
unsharing deletes that row, which shreds it (without its header the blob is noise, and
``fsck`` deletes the blob). Every change is an audit event; reading the record is part
of reading the case (``case.read``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from reporting_portal.audit.events import AuditAction
from reporting_portal.domain.actors import Actor, record_case_event
from reporting_portal.domain.installation import get_installation
from reporting_portal.domain.objects import case_recipients
from reporting_portal.domain.protection import (
    DETAIL_MAX_CHARS,
    OUTCOME_MAX_CHARS,
    PROTECTION_VERSION,
    RESPONSIBLE_MAX_CHARS,
    MeasureKind,
    MeasureState,
    MeasureText,
    file_protection_object,
    measure_from,
    read_document,
)
from reporting_portal.staff.casework.services import CaseRuleError
from reporting_portal.storage.blobstore import BlobStore
from reporting_portal.storage.models import (
    ObjectKind,
    ProtectionMeasure,
    ProtectionRecord,
    Report,
)

# A measure's day: when it was requested or decided, or when a granted one starts.
EARLIEST_DAY = date(1950, 1, 1)
LATEST_DAYS_AHEAD = 366


@dataclass(frozen=True)
class MeasureRow:
    public_id: str
    # None when the object cannot be opened with this handler's key (damaged).
    text: MeasureText | None
    shared: bool
    is_open: bool


@dataclass(frozen=True)
class ProtectionView:
    measures: list[MeasureRow]
    review_on: date | None
    outcome: str
    closed_on: date | None


def check_measure(text: MeasureText, today: date) -> MeasureText:
    """The measure as given, or CaseRuleError saying what to correct."""
    responsible = text.responsible.strip()
    detail = text.detail.strip()
    if not responsible:
        raise CaseRuleError(_l("Name the person responsible for the measure."))
    if len(responsible) > RESPONSIBLE_MAX_CHARS or len(detail) > DETAIL_MAX_CHARS:
        raise CaseRuleError(_l("The person responsible or the detail is too long."))
    if text.kind == MeasureKind.OTHER and not detail:
        raise CaseRuleError(_l("Say what the other measure is, in the detail."))
    if not EARLIEST_DAY <= text.on <= today + timedelta(days=LATEST_DAYS_AHEAD):
        raise CaseRuleError(_l("Check the day of the measure."))
    return MeasureText(kind=text.kind, state=text.state, on=text.on,
                       responsible=responsible, detail=detail)


def _record(db: Session, report: Report) -> ProtectionRecord | None:
    return db.get(ProtectionRecord, report.id)


def _ensure_open(db: Session, report: Report) -> None:
    record = _record(db, report)
    if record is not None and record.closed_on is not None:
        raise CaseRuleError(_l("The protection record is closed."))


def _file_measure(db: Session, store: BlobStore, actor: Actor, report: Report,
                  measure: ProtectionMeasure, text: MeasureText, *, share: bool) -> None:
    case_keys = case_recipients(db, report, get_installation(db))
    measure.object = file_protection_object(
        db, store, report, kind=ObjectKind.PROTECTION, document=text.document(),
        recipients=case_keys, author=actor.account)
    measure.is_open = text.is_open
    old_shared = measure.shared_object
    measure.shared_object = None
    if old_shared is not None:
        db.delete(old_shared)
    if share:
        measure.shared_object = file_protection_object(
            db, store, report, kind=ObjectKind.SHARED_MEASURE,
            document=text.shared_document(),
            recipients=[*case_keys, report.reporter_recipient], author=actor.account)


def record_measure(db: Session, store: BlobStore, actor: Actor, report: Report,
                   text: MeasureText, *, share: bool) -> ProtectionMeasure:
    """A new measure of the case's protection record."""
    _ensure_open(db, report)
    checked = check_measure(text, datetime.now(UTC).date())
    measure = ProtectionMeasure(report_id=report.id)
    _file_measure(db, store, actor, report, measure, checked, share=share)
    db.add(measure)
    record_case_event(db, actor, AuditAction.PROTECTION_MEASURE_RECORDED, report)
    return measure


def change_measure(db: Session, store: BlobStore, actor: Actor, report: Report,
                   measure_id: str, text: MeasureText, *, share: bool) -> None:
    """A measure's new state (granted, refused), day, person, detail or sharing."""
    _ensure_open(db, report)
    measure = db.scalar(select(ProtectionMeasure).where(
        ProtectionMeasure.report_id == report.id, ProtectionMeasure.public_id == measure_id))
    if measure is None:
        raise CaseRuleError(_l("That measure is not on this case."))
    checked = check_measure(text, datetime.now(UTC).date())
    _file_measure(db, store, actor, report, measure, checked, share=share)
    record_case_event(db, actor, AuditAction.PROTECTION_MEASURE_CHANGED, report)


def _record_document(*, review_on: date | None, outcome: str) -> dict[str, object]:
    return {"version": PROTECTION_VERSION,
            "review_on": review_on.isoformat() if review_on else None,
            "outcome": outcome}


def _file_record(db: Session, store: BlobStore, actor: Actor, report: Report,
                 document: dict[str, object]) -> ProtectionRecord:
    obj = file_protection_object(db, store, report, kind=ObjectKind.PROTECTION,
                                 document=document,
                                 recipients=case_recipients(db, report, get_installation(db)),
                                 author=actor.account)
    record = _record(db, report)
    if record is None:
        record = ProtectionRecord(report_id=report.id, object=obj)
        db.add(record)
    else:
        record.object = obj
    return record


def set_review(db: Session, store: BlobStore, actor: Actor, report: Report,
               review_on: date) -> None:
    """The day the handlers look at the record again (art. 21: protection lasts)."""
    _ensure_open(db, report)
    today = datetime.now(UTC).date()
    if not today <= review_on <= today + timedelta(days=LATEST_DAYS_AHEAD * 3):
        raise CaseRuleError(_l("Choose a review day from today on."))
    current = read_protection(db, store, actor, report)
    _file_record(db, store, actor, report,
                 _record_document(review_on=review_on, outcome=current.outcome))
    record_case_event(db, actor, AuditAction.PROTECTION_REVIEW_SET, report)


def close_record(db: Session, store: BlobStore, actor: Actor, report: Report,
                 outcome: str) -> None:
    """Close the record with its outcome; its measures are no longer counted as open."""
    _ensure_open(db, report)
    outcome = outcome.strip()
    if not outcome or len(outcome) > OUTCOME_MAX_CHARS:
        raise CaseRuleError(_l("Write the outcome of the protection record (at most "
                               "%(count)d characters).", count=OUTCOME_MAX_CHARS))
    record = _file_record(db, store, actor, report,
                          _record_document(review_on=None, outcome=outcome))
    record.closed_on = datetime.now(UTC).date()
    for measure in db.scalars(select(ProtectionMeasure).where(
            ProtectionMeasure.report_id == report.id)):
        measure.is_open = False
    record_case_event(db, actor, AuditAction.PROTECTION_RECORD_CLOSED, report)


def read_protection(db: Session, store: BlobStore, actor: Actor,
                    report: Report) -> ProtectionView:
    """The record as this handler's key opens it (the caller logs the case's read)."""
    identity = actor.require_identity()
    rows = []
    for measure in db.scalars(select(ProtectionMeasure).where(
            ProtectionMeasure.report_id == report.id).order_by(ProtectionMeasure.id)):
        document = read_document(store, measure.object, [identity])
        rows.append(MeasureRow(public_id=measure.public_id,
                               text=None if document is None else measure_from(document),
                               shared=measure.shared_object_id is not None,
                               is_open=measure.is_open))
    record = _record(db, report)
    review_on, outcome = None, ""
    if record is not None:
        document = read_document(store, record.object, [identity]) or {}
        review_on = _day_or_none(document.get("review_on"))
        outcome = str(document.get("outcome") or "")
    return ProtectionView(measures=rows, review_on=review_on, outcome=outcome,
                          closed_on=record.closed_on if record is not None else None)


def _day_or_none(value: object) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def measure_text(*, kind: str, state: str, on: date, responsible: str,
                 detail: str) -> MeasureText:
    """A measure from a form's values; unknown codes are refused as a rule."""
    try:
        return MeasureText(kind=MeasureKind(kind), state=MeasureState(state), on=on,
                           responsible=responsible, detail=detail)
    except ValueError:
        raise CaseRuleError(_l("Choose a measure and its state.")) from None
