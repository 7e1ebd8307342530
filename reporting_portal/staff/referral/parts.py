"""What of a case can be referred, and each part as the receiving authority reads it.

The case's objects are age files for its handlers and the recovery key; the receiver has
neither, so each chosen part is decrypted with the referring handler's identity and goes
into the package (one age file for the receiver alone, crypto/referral.py) as plain JSON
or as the file itself. Files are streamed chunk by chunk; answers, messages and notes
are small documents read whole.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.keys import Identity
from crypto.referral import PackageEntry
from reporting_portal.domain.channel_content import channel_languages, questions_in
from reporting_portal.domain.objects import read_object, read_small_json
from reporting_portal.domain.questionnaire import CHOICE_TYPES, LocalizedQuestion
from reporting_portal.staff.casework.export_manifest import private_manifest
from reporting_portal.storage.blobstore import BlobStore
from reporting_portal.storage.models import ObjectKind, Report, ReportObject

# The kinds a handler may choose one by one; the answers and the identity are apart.
CHOSEN_KINDS = (ObjectKind.FILE, ObjectKind.MESSAGE, ObjectKind.NOTE)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class TextAnswer:
    """A free-text answer of the report, which the handler may redact."""

    key: str
    label: str
    original: str


@dataclass(frozen=True)
class Part:
    """An object the handler may refer: its public id and how the case page names it."""

    public_id: str
    kind: str
    place: str
    name: str | None

    @property
    def described(self) -> str:
        return f"{self.place}: {self.name}" if self.name else self.place


def content_object(db: Session, report: Report) -> ReportObject | None:
    return db.scalar(select(ReportObject).where(ReportObject.report_id == report.id,
                                                ReportObject.kind == ObjectKind.CONTENT))


def case_objects(db: Session, report: Report) -> list[ReportObject]:
    return list(db.scalars(select(ReportObject).where(ReportObject.report_id == report.id)
                           .order_by(ReportObject.id)))


def answers_document(store: BlobStore, content: ReportObject,
                     identity: Identity) -> dict[str, Any]:
    raw = read_small_json(store, content, [identity]).get("answers", {})
    return raw if isinstance(raw, dict) else {}


def _questions(report: Report) -> dict[str, LocalizedQuestion]:
    """The questions in the channel's first language: the receiver's copy is in one."""
    channel = report.channel
    return {q.id: q for q in questions_in(channel, channel_languages(channel)[0])}


def text_answers(report: Report, answers: dict[str, Any]) -> list[TextAnswer]:
    """The answers a handler can redact: free text, in the questionnaire's order.

    Choice answers are codes from the questionnaire, never the reporter's words, and go
    as they are."""
    questions = _questions(report)
    found = []
    for key, value in answers.items():
        question = questions.get(str(key))
        if not isinstance(value, str) or not value.strip():
            continue
        if question is not None and question.type in CHOICE_TYPES:
            continue
        found.append(TextAnswer(key=str(key), label=question.label if question else str(key),
                                original=value))
    return found


def referable_parts(store: BlobStore, report: Report, objects: Sequence[ReportObject],
                    identity: Identity) -> list[Part]:
    """Files, messages and notes, named as the export's manifest names them."""
    described = {entry["file"]: entry for entry in _manifest_objects(store, report, objects,
                                                                     identity)}
    parts = []
    for obj in objects:
        if obj.kind not in CHOSEN_KINDS:
            continue
        entry = described.get(f"objects/{obj.kind}-{obj.public_id}.age", {})
        parts.append(Part(public_id=obj.public_id, kind=obj.kind,
                          place=str(entry.get("place") or obj.kind),
                          name=entry.get("original_name")))
    return parts


def _manifest_objects(store: BlobStore, report: Report, objects: Sequence[ReportObject],
                      identity: Identity) -> list[dict[str, Any]]:
    listed = private_manifest(store, report, objects, [identity])["objects"]
    return list(listed) if isinstance(listed, list) else []


def _json_entry(name: str, kind: str, document: dict[str, Any]) -> PackageEntry:
    data = json.dumps(document, ensure_ascii=False, indent=2).encode("utf-8")
    return PackageEntry(name=name, kind=kind, chunks=lambda: [data])


def _entry_name(place: str, suffix: str) -> str:
    return "objects/" + (_UNSAFE.sub("-", f"{place}{suffix}").strip("-.") or "object")[:120]


def shown_answers(report: Report,
                  answers: dict[str, Any]) -> list[tuple[str, str, str | list[str]]]:
    """(key, question, answer) in the channel's first language; choices by their labels."""
    questions = _questions(report)
    shown: list[tuple[str, str, str | list[str]]] = []
    for key, value in answers.items():
        if value in ("", [], None):
            continue
        question = questions.get(str(key))
        choices = dict(question.choices) if question else {}
        answer = ([choices.get(str(v), str(v)) for v in value] if isinstance(value, list)
                  else choices.get(str(value), str(value)))
        shown.append((str(key), question.label if question else str(key), answer))
    return shown


def answers_entry(report: Report, answers: dict[str, Any], redactions: int) -> PackageEntry:
    """The answers as sent, each under its question in the channel's first language."""
    return _json_entry("objects/answers.json", "answers", {
        "reference": report.public_id, "redacted_spans": redactions,
        "answers": [{"question": label, "answer": answer}
                    for _, label, answer in shown_answers(report, answers)]})


def part_entries(store: BlobStore, parts: Sequence[Part], objects: Sequence[ReportObject],
                 identity: Identity) -> list[PackageEntry]:
    """Each chosen part as the receiver reads it; files are decrypted only when zipped."""
    by_id = {obj.public_id: obj for obj in objects}
    entries = []
    for part in parts:
        obj = by_id[part.public_id]
        if obj.kind == ObjectKind.FILE:
            entries.append(PackageEntry(name=_entry_name(part.place, f"-{part.name or 'file'}"),
                                        kind="file", chunks=_file_chunks(store, obj, identity)))
            continue
        document = read_small_json(store, obj, [identity])
        answers = document.get("answers", {})
        entries.append(_json_entry(_entry_name(part.place, ".json"), obj.kind, {
            "place": part.place,
            "from": "reporter" if obj.from_reporter else "case handler",
            "on": obj.created_on.isoformat(),
            "text": str(answers.get("message", "")) if isinstance(answers, dict) else "",
        }))
    return entries


def _file_chunks(store: BlobStore, obj: ReportObject,
                 identity: Identity) -> Callable[[], Iterator[bytes]]:
    def chunks() -> Iterator[bytes]:
        return read_object(store, obj, [identity])
    return chunks


def identity_entry(name: str, contact: str) -> PackageEntry:
    return _json_entry("objects/identity.json", "identity", {"name": name, "contact": contact})
