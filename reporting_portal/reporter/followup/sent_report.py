""""What I sent": the reporter reads back their own report (issue 15).

Only where the channel allows it, and only for reports whose content and files were
sealed for the reporter's key when they were sent (``Report.content_for_reporter``):
those from before cannot be opened with it. Reading and each download are audit events,
held with the day only like every reporter event (audit/held.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.errors import AgeError
from crypto.keys import parse_identity
from reporting_portal.audit.events import REPORTER, AuditAction, ObjectType, record_event
from reporting_portal.domain.channel_content import questions_in
from reporting_portal.domain.objects import read_object, read_small_json
from reporting_portal.storage.blobstore import BlobStore
from reporting_portal.storage.models import ObjectKind, Report, ReportObject


class Unavailable(StrEnum):
    """Why a report cannot be shown to its reporter."""

    TURNED_OFF = "turned_off"  # the channel does not let reporters read back
    NOT_SEALED_FOR_REPORTER = "not_sealed"  # sent before reporters could read back


class SentFileNotFoundError(LookupError):
    """No file of this report's content by that id, or not readable by the reporter."""


@dataclass(frozen=True)
class SentAnswer:
    label: str
    value: str | tuple[str, ...]


@dataclass(frozen=True)
class SentFile:
    public_id: str
    name: str
    size: int


@dataclass(frozen=True)
class SentReport:
    sent_on: date
    answers: tuple[SentAnswer, ...] = ()
    files: tuple[SentFile, ...] = ()
    unavailable: Unavailable | None = None


def reads_back(report: Report) -> Unavailable | None:
    """``None`` when the reporter may read the report back, else why not."""
    if not report.channel.reporter_reads_back:
        return Unavailable.TURNED_OFF
    if not report.content_for_reporter:
        return Unavailable.NOT_SEALED_FOR_REPORTER
    return None


def _content_object(db: Session, report: Report) -> ReportObject | None:
    return db.scalar(select(ReportObject).where(
        ReportObject.report_id == report.id, ReportObject.kind == ObjectKind.CONTENT))


def _file_objects(db: Session, content: ReportObject) -> list[ReportObject]:
    return list(db.scalars(select(ReportObject).where(
        ReportObject.parent_id == content.id, ReportObject.kind == ObjectKind.FILE)
        .order_by(ReportObject.id)))


def read_sent_report(db: Session, store: BlobStore, report: Report, identity_text: str, *,
                     language: str) -> SentReport:
    """The answers (question labels in ``language``, else the channel's first language)
    and the files the reporter sent, decrypted with their key. An audit event."""
    unavailable = reads_back(report)
    content = _content_object(db, report) if unavailable is None else None
    if content is None:
        return SentReport(sent_on=report.received_on,
                          unavailable=unavailable or Unavailable.NOT_SEALED_FOR_REPORTER)
    try:
        document = read_small_json(store, content, [parse_identity(identity_text)])
    except (AgeError, ValueError):
        return SentReport(sent_on=report.received_on,
                          unavailable=Unavailable.NOT_SEALED_FOR_REPORTER)
    questions = {q.id: q for q in questions_in(report.channel, language)}
    answers = []
    raw = document.get("answers", {})
    for key, value in (raw.items() if isinstance(raw, dict) else []):
        if value in ("", [], None):
            continue
        question = questions.get(str(key))
        choices = dict(question.choices) if question else {}
        shown: str | tuple[str, ...] = (
            tuple(choices.get(str(v), str(v)) for v in value) if isinstance(value, list)
            else choices.get(str(value), str(value)))
        answers.append(SentAnswer(label=question.label if question else str(key), value=shown))
    described = [f for f in document.get("files", []) if isinstance(f, dict)]
    files = []
    for index, obj in enumerate(_file_objects(db, content)):
        info = described[index] if index < len(described) else {}
        files.append(SentFile(public_id=obj.public_id,
                              name=str(info.get("name") or f"file-{index + 1}"),
                              size=int(info.get("size") or obj.payload_size)))
    record_event(db, AuditAction.REPORTER_REPORT_READ, actor=None, actor_role=REPORTER,
                 object_type=ObjectType.REPORT, object_id=report.public_id)
    return SentReport(sent_on=report.received_on, answers=tuple(answers), files=tuple(files))


def open_sent_file(db: Session, store: BlobStore, report: Report, identity_text: str,
                   file_public_id: str) -> tuple[str, Iterator[bytes]]:
    """One file the reporter sent with the report: its name and its plaintext chunks.

    Raises :class:`SentFileNotFoundError` for anything else, or when it cannot be read
    back (the channel turned it off, or the file was not sealed for the reporter). An
    audit event."""
    content = _content_object(db, report) if reads_back(report) is None else None
    if content is None:
        raise SentFileNotFoundError(file_public_id)
    identity = parse_identity(identity_text)
    files = _file_objects(db, content)
    wanted = next((i for i, obj in enumerate(files) if obj.public_id == file_public_id), None)
    if wanted is None:
        raise SentFileNotFoundError(file_public_id)
    try:
        document = read_small_json(store, content, [identity])
        chunks = read_object(store, files[wanted], [identity])
    except (AgeError, ValueError):
        raise SentFileNotFoundError(file_public_id) from None
    described = [f for f in document.get("files", []) if isinstance(f, dict)]
    info = described[wanted] if wanted < len(described) else {}
    record_event(db, AuditAction.REPORTER_FILE_DOWNLOADED, actor=None, actor_role=REPORTER,
                 object_type=ObjectType.REPORT, object_id=report.public_id)
    return str(info.get("name") or f"file-{wanted + 1}"), chunks
