"""Casework rules: who may open a case, reading it, and changing it.

A handler reaches a case only through an access grant; any other case answers exactly as
one that does not exist. Reading decrypts with the handler's own identity, held in their
session; granting a colleague adds their recipient to every object's header (no payload
is touched), revoking rewrites the headers without them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from crypto import AgeError, add_recipients, rewrite_recipients
from crypto.keys import Identity
from reporting_portal.audit.events import (
    AuditAction,
    ObjectType,
    Outcome,
    primary_role,
    record_event,
)
from reporting_portal.domain.actors import Actor, record_account_event, record_case_event
from reporting_portal.domain.channel_content import questions_in
from reporting_portal.domain.deadlines import feedback_due
from reporting_portal.domain.installation import get_installation
from reporting_portal.domain.messages import AttachedFile, post_message
from reporting_portal.domain.objects import (
    case_recipients,
    new_object,
    read_small_json,
    recipient_from,
    seal_for,
    store_small_payload,
)
from reporting_portal.domain.retaliation import RetaliationWords, retaliation_words
from reporting_portal.staff.casework.history import record_case_change
from reporting_portal.staff.casework.timeline import TimelineEntry, event_entries, in_order
from reporting_portal.staff.casework.versions import SeenCase, claim_case_version, ensure_current
from reporting_portal.storage.blobstore import BlobStore
from reporting_portal.storage.models import (
    AccessGrant,
    CaseRead,
    ClosingOutcome,
    Label,
    MessageType,
    ObjectKind,
    Priority,
    Report,
    ReportExclusion,
    ReportObject,
    ReportStatus,
    Role,
    StaffAccount,
)

NOTE_VERSION = 1
# ISO 37002 stages, in order; a case moves forward, or is closed from any stage.
STATUS_FLOW = [s.value for s in ReportStatus]
# The handler's form starts with it, in the handler's language; they may rewrite it in the
# reporter's (the portal does not know which language a reporter reads).
DEFAULT_ACKNOWLEDGEMENT = _l(
    "Thank you for your report. We have received it and a case handler is assessing it. "
    "We will give you feedback within three months. If we have questions, you will find "
    "them here; please check back with your receipt code.")


class CaseNotFoundError(LookupError):
    """No such case for this handler (whether it exists or not: the same answer)."""


class CaseRuleError(ValueError):
    """The change breaks a casework rule; the message is for the handler."""


def open_case(db: Session, account: StaffAccount, public_id: str) -> Report:
    """The case, if this handler holds a grant for it."""
    report = db.scalar(
        select(Report).join(AccessGrant, AccessGrant.report_id == Report.id)
        .where(Report.public_id == public_id, AccessGrant.staff_id == account.id)
    )
    if report is None or not account.is_active or not account.has_role(Role.CASE_HANDLER):
        raise CaseNotFoundError(public_id)
    return report


def record_refused_open(db: Session, account: StaffAccount, public_id: str) -> None:
    """A handler asked for a case they hold no grant for: denied, and kept in the log.

    The object is named only if such a report exists (the handler's answer is the same
    404 either way), so arbitrary text from a URL never enters the log.
    """
    exists = db.scalar(select(Report.id).where(Report.public_id == public_id)) is not None
    record_event(db, AuditAction.CASE_READ, actor=account, actor_role=primary_role(account),
                 outcome=Outcome.DENIED, object_type=ObjectType.REPORT,
                 object_id=public_id if exists else None)


@dataclass(frozen=True)
class Answer:
    label: str
    value: str | list[str]


@dataclass(frozen=True)
class CaseFile:
    object: ReportObject
    name: str
    size: int
    content_type: str


@dataclass(frozen=True)
class CaseView:
    report: Report
    answers: list[Answer]
    files: list[CaseFile]
    timeline: list[TimelineEntry]
    handlers: list[StaffAccount]
    excluded_ids: set[int]


def _files_of(document: dict[str, Any], children: list[ReportObject]) -> list[CaseFile]:
    described = [f for f in document.get("files", []) if isinstance(f, dict)]
    files = []
    for index, obj in enumerate(children):
        info = described[index] if index < len(described) else {}
        files.append(CaseFile(
            object=obj,
            name=str(info.get("name") or f"file-{index + 1}"),
            size=int(info.get("size") or obj.payload_size),
            content_type=str(info.get("type") or ""),
        ))
    return files


def read_case(db: Session, store: BlobStore, actor: Actor, report: Report, *,
              language: str = "en") -> CaseView:
    """Decrypt what the handler may read of a case, and mark it read. An audit event.

    Question labels and chosen answers are shown in ``language`` (the handler's page),
    else in the channel's first language; the answers themselves hold choice codes."""
    identity = actor.require_identity()
    objects = list(db.scalars(
        select(ReportObject).where(ReportObject.report_id == report.id)
        .order_by(ReportObject.id)
    ))
    children: dict[int, list[ReportObject]] = {}
    for obj in objects:
        if obj.parent_id is not None:
            children.setdefault(obj.parent_id, []).append(obj)
    questions = {q.id: q for q in questions_in(report.channel, language)}
    answers: list[Answer] = []
    files: list[CaseFile] = []
    timeline: list[TimelineEntry] = []
    for obj in objects:
        if obj.kind == ObjectKind.CONTENT:
            document = read_small_json(store, obj, [identity])
            raw = document.get("answers", {})
            for key, value in (raw.items() if isinstance(raw, dict) else []):
                if value in ("", [], None):
                    continue
                question = questions.get(str(key))
                choice_labels = dict(question.choices) if question else {}
                shown = ([choice_labels.get(str(v), str(v)) for v in value]
                         if isinstance(value, list) else choice_labels.get(str(value), str(value)))
                answers.append(Answer(label=question.label if question else str(key),
                                      value=shown))
            files.extend(_files_of(document, children.get(obj.id, [])))
        elif obj.kind in (ObjectKind.MESSAGE, ObjectKind.NOTE):
            timeline.append(_timeline_entry(store, obj, identity, children.get(obj.id, [])))
    timeline = in_order(timeline, event_entries(db, report))
    _mark_read(db, actor.staff, report, objects)
    record_case_event(db, actor, AuditAction.CASE_READ, report)
    handlers = list(db.scalars(
        select(StaffAccount).join(AccessGrant, AccessGrant.staff_id == StaffAccount.id)
        .where(AccessGrant.report_id == report.id).order_by(StaffAccount.display_name)
    ))
    excluded = set(db.scalars(
        select(ReportExclusion.staff_id).where(ReportExclusion.report_id == report.id)))
    return CaseView(report=report, answers=answers, files=files,
                    timeline=timeline, handlers=handlers, excluded_ids=excluded)


def _timeline_entry(store: BlobStore, obj: ReportObject, identity: Identity,
                    attachments: list[ReportObject]) -> TimelineEntry:
    try:
        document = read_small_json(store, obj, [identity])
    except (AgeError, ValueError):
        document = {"answers": {"message": str(_l("(this item could not be decrypted)"))}}
    answers = document.get("answers", {})
    text = str(answers.get("message", "")) if isinstance(answers, dict) else ""
    if obj.kind == ObjectKind.NOTE:
        kind = "note"
    elif obj.message_type == MessageType.RETALIATION:
        kind, text = "retaliation report", retaliation_text(retaliation_words(document))
    else:
        kind = "reporter message" if obj.from_reporter else "message"
    author = str(_l("Reporter")) if obj.from_reporter else (
        obj.author.display_name if obj.author else str(_l("Case handler")))
    return TimelineEntry(when=obj.created_on, kind=kind, author=author, text=text,
                         files=tuple(_files_of(document, attachments)), at=obj.created_at)


def retaliation_text(words: RetaliationWords) -> str:
    """A retaliation report in the timeline's one text, one line per question."""
    lines = [_l("What was done: %(forms)s", forms="; ".join(words.forms))] if words.forms else []
    lines += [_l("What happened: %(text)s", text=words.what_happened),
             _l("When: %(day)s", day=format_date(words.happened_day, "medium")
                if words.happened_day else words.happened_on)]
    if words.by_whom:
        lines.append(_l("By whom: %(who)s", who=words.by_whom))
    return "\n".join(str(line) for line in lines)


def _mark_read(db: Session, account: StaffAccount, report: Report,
               objects: list[ReportObject]) -> None:
    newest = max((obj.id for obj in objects), default=0)
    marker = db.get(CaseRead, (report.id, account.id))
    if marker is None:
        db.add(CaseRead(report_id=report.id, staff_id=account.id, last_object_id=newest))
    else:
        marker.last_object_id = max(marker.last_object_id, newest)


def find_file(db: Session, report: Report, public_id: str) -> ReportObject:
    obj = db.scalar(select(ReportObject).where(
        ReportObject.report_id == report.id, ReportObject.public_id == public_id,
        ReportObject.kind == ObjectKind.FILE))
    if obj is None:
        raise CaseNotFoundError(public_id)
    return obj


def download_name(db: Session, store: BlobStore, actor: Actor, obj: ReportObject) -> str:
    """The name the reporter gave a file, read from its encrypted parent document.

    Worked out here rather than carried in the download link: a file name is report
    content, and a URL ends up in proxy logs and browser history.
    """
    if obj.parent_id is None:
        return obj.public_id
    parent = db.get(ReportObject, obj.parent_id)
    if parent is None:
        return obj.public_id
    siblings = list(db.scalars(select(ReportObject).where(ReportObject.parent_id == parent.id)
                               .order_by(ReportObject.id)))
    try:
        document = read_small_json(store, parent, [actor.require_identity()])
    except (AgeError, ValueError):
        return obj.public_id
    named = {f.object.id: f.name for f in _files_of(document, siblings)}
    return named.get(obj.id, obj.public_id)


def record_download(db: Session, actor: Actor, report: Report, obj: ReportObject) -> None:
    record_event(db, AuditAction.FILE_DOWNLOADED, actor=actor.account, actor_role=actor.role,
                 object_type=ObjectType.FILE, object_id=obj.public_id)


# --- workflow ---------------------------------------------------------------------------


def set_status(db: Session, actor: Actor, report: Report, status: str, *,
               seen: SeenCase, outcome: str | None = None) -> None:
    """Move a case forward through ISO 37002's stages, or close it with an outcome.

    Each triage change here takes ``seen``, the version its form showed: a case changed
    since raises :class:`CaseConflictError` and nothing is applied (casework/versions.py).
    """
    ensure_current(db, report, seen)
    if status not in STATUS_FLOW or status == ReportStatus.RECEIVED:
        raise CaseRuleError(_l("Choose a valid next stage."))
    if report.status == ReportStatus.CLOSED:
        raise CaseRuleError(_l("This case is closed."))
    if STATUS_FLOW.index(status) <= STATUS_FLOW.index(report.status):
        raise CaseRuleError(_l("A case moves forward only."))
    if status == ReportStatus.CLOSED and outcome not in set(ClosingOutcome):
        raise CaseRuleError(_l("Choose the outcome of the case to close it."))
    claim_case_version(db, report, seen)
    record_case_change(db, actor, AuditAction.CASE_CLOSED if status == ReportStatus.CLOSED
                       else AuditAction.CASE_STATUS_CHANGED, report,
                       old=report.status, new=status,
                       **({"outcome": outcome} if status == ReportStatus.CLOSED else {}))
    today = datetime.now(UTC).date()
    if status == ReportStatus.CLOSED:
        report.closing_outcome = outcome
        report.closed_on = today
        report.purge_after = date.fromordinal(today.toordinal() + report.channel.retention_days)
    if report.acknowledged_on is None and status != ReportStatus.CLOSED:
        report.acknowledged_on = today
        report.feedback_due = feedback_due(report.received_on, today)
    report.status = status
    record_case_event(db, actor,
           AuditAction.CASE_CLOSED if status == ReportStatus.CLOSED
           else AuditAction.CASE_STATUS_CHANGED, report)


def acknowledge(db: Session, store: BlobStore, actor: Actor, report: Report, text: str, *,
                seen: SeenCase) -> None:
    """Acknowledge receipt (art. 9(1)(b)) and tell the reporter in their mailbox."""
    ensure_current(db, report, seen)
    if report.status != ReportStatus.RECEIVED:
        raise CaseRuleError(_l("This report was already acknowledged."))
    claim_case_version(db, report, seen)
    record_case_change(db, actor, AuditAction.CASE_ACKNOWLEDGED, report,
                       old=report.status, new=str(ReportStatus.ACKNOWLEDGED))
    today = datetime.now(UTC).date()
    report.status = ReportStatus.ACKNOWLEDGED
    report.acknowledged_on = today
    report.feedback_due = feedback_due(report.received_on, today)
    post_message(db, store, report, text=text.strip() or str(DEFAULT_ACKNOWLEDGEMENT),
                 author=actor.account)
    record_case_event(db, actor, AuditAction.CASE_ACKNOWLEDGED, report)


def set_priority(db: Session, actor: Actor, report: Report, priority: str, *,
                 seen: SeenCase) -> None:
    ensure_current(db, report, seen)
    if priority not in set(Priority):
        raise CaseRuleError(_l("Unknown priority."))
    claim_case_version(db, report, seen)
    record_case_change(db, actor, AuditAction.CASE_PRIORITY_CHANGED, report,
                       old=report.priority, new=priority)
    report.priority = priority
    record_case_event(db, actor, AuditAction.CASE_PRIORITY_CHANGED, report)


def set_labels(db: Session, actor: Actor, report: Report, names: list[str], *,
               seen: SeenCase) -> None:
    ensure_current(db, report, seen)
    claim_case_version(db, report, seen)
    labels = list(db.scalars(select(Label).where(Label.name.in_(names))))
    before = {label.name for label in report.labels}
    after = {label.name for label in labels}
    record_case_change(db, actor, AuditAction.CASE_LABELS_CHANGED, report,
                       added=sorted(after - before), removed=sorted(before - after))
    report.labels = labels
    record_case_event(db, actor, AuditAction.CASE_LABELS_CHANGED, report)


def list_labels(db: Session) -> list[Label]:
    return list(db.scalars(select(Label).order_by(Label.name)))


def assignable_handlers(db: Session, report: Report) -> list[StaffAccount]:
    """Case handlers who could be added: active, with keys, not excluded, not on it."""
    on_case = select(AccessGrant.staff_id).where(AccessGrant.report_id == report.id)
    excluded = select(ReportExclusion.staff_id).where(ReportExclusion.report_id == report.id)
    candidates = db.scalars(
        select(StaffAccount).where(
            StaffAccount.is_active.is_(True), StaffAccount.age_recipient.is_not(None),
            StaffAccount.id.not_in(on_case), StaffAccount.id.not_in(excluded),
        ).order_by(StaffAccount.display_name)
    )
    return [c for c in candidates if c.has_role(Role.CASE_HANDLER)]


def _case_objects(db: Session, report: Report) -> list[ReportObject]:
    # The identity object is never a case handler's by assignment (issue: identity kept
    # apart); it has its own recipients, changed only by a custodian's approval.
    return list(db.scalars(select(ReportObject).where(
        ReportObject.report_id == report.id, ReportObject.kind != ObjectKind.IDENTITY)))


def add_handler(db: Session, actor: Actor, report: Report, handler_public_id: str, *,
                seen: SeenCase) -> None:
    """Grant a colleague the case: their recipient joins every object's header."""
    identity = actor.require_identity()
    ensure_current(db, report, seen)
    handler = next((h for h in assignable_handlers(db, report)
                    if h.public_id == handler_public_id), None)
    if handler is None or handler.age_recipient is None:
        raise CaseRuleError(_l("That person cannot be added to this case."))
    claim_case_version(db, report, seen)
    new_recipient = [recipient_from(handler.age_recipient)]
    for obj in _case_objects(db, report):
        obj.header = add_recipients(obj.header, [identity], new_recipient)
    db.add(AccessGrant(report_id=report.id, staff_id=handler.id,
                       granted_by_id=actor.staff.id))
    record_case_event(db, actor, AuditAction.CASE_HANDLER_ADDED, report)
    record_case_change(db, actor, AuditAction.CASE_HANDLER_ADDED, report,
                       handler=handler.public_id)
    record_account_event(db, actor, AuditAction.CASE_ACCESS_GRANTED, handler.public_id)


def remove_handler(db: Session, actor: Actor, report: Report, handler_public_id: str, *,
                   seen: SeenCase) -> None:
    """Take a handler off the case: headers are rewritten without them."""
    identity = actor.require_identity()
    ensure_current(db, report, seen)
    grant = db.scalar(
        select(AccessGrant).join(StaffAccount, StaffAccount.id == AccessGrant.staff_id)
        .where(AccessGrant.report_id == report.id, StaffAccount.public_id == handler_public_id)
    )
    if grant is None:
        raise CaseRuleError(_l("That person is not on this case."))
    remaining = db.scalar(select(func.count()).select_from(AccessGrant)
                          .where(AccessGrant.report_id == report.id)) or 0
    if remaining <= 1:
        raise CaseRuleError(_l("A case needs at least one case handler."))
    claim_case_version(db, report, seen)
    db.execute(delete(AccessGrant).where(AccessGrant.report_id == report.id,
                                         AccessGrant.staff_id == grant.staff_id))
    db.flush()  # case_recipients below must no longer see the removed grant
    keys = case_recipients(db, report, get_installation(db))
    for obj in _case_objects(db, report):
        wanted = keys + ([report.reporter_recipient] if _for_reporter(obj, report) else [])
        obj.header = rewrite_recipients(obj.header, [identity], [recipient_from(k) for k in wanted])
    record_case_event(db, actor, AuditAction.CASE_HANDLER_REMOVED, report)
    record_case_change(db, actor, AuditAction.CASE_HANDLER_REMOVED, report,
                       handler=handler_public_id)
    record_account_event(db, actor, AuditAction.CASE_ACCESS_REVOKED, handler_public_id)


def _for_reporter(obj: ReportObject, report: Report) -> bool:
    """A message, or a file of one: the reporter's key stays among its recipients; so it
    does on what the reporter sent, when that was sealed for them (issue 15), and on a
    protection measure shared with them (issue 17)."""
    if obj.kind in (ObjectKind.MESSAGE, ObjectKind.SHARED_MEASURE) or (
            obj.kind == ObjectKind.FILE and obj.parent is not None
            and obj.parent.kind == ObjectKind.MESSAGE):
        return True
    return (report.content_for_reporter and obj.from_reporter
            and obj.kind in {ObjectKind.CONTENT, ObjectKind.FILE})


def post_note(db: Session, store: BlobStore, actor: Actor, report: Report, text: str) -> None:
    """An internal note: for the case's handlers and the recovery key, never the reporter."""
    if not text.strip():
        raise CaseRuleError(_l("Write something first."))
    document = {"version": NOTE_VERSION, "answers": {"message": text}, "files": []}
    blob_name, size, file_key = store_small_payload(
        db, store, json.dumps(document, ensure_ascii=False).encode("utf-8"))
    db.add(new_object(
        report=report, kind=ObjectKind.NOTE,
        header=seal_for(file_key, case_recipients(db, report, get_installation(db))),
        blob_name=blob_name, payload_size=size, today=datetime.now(UTC).date(),
        from_reporter=False, author=actor.account,
    ))
    record_case_event(db, actor, AuditAction.CASE_NOTE_WRITTEN, report)


def reply_to_reporter(db: Session, store: BlobStore, actor: Actor, report: Report,
                      text: str, *, files: Sequence[AttachedFile] = ()) -> None:
    """A message for the reporter, with files if any: both encrypted to the reporter,
    the case's handlers and the recovery key (domain/messages.py)."""
    if not text.strip() and not files:
        raise CaseRuleError(_l("Write something first."))
    post_message(db, store, report, text=text, author=actor.account, files=files)
