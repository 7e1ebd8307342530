"""Questionnaires: the fields a channel asks a reporter to fill in.

A questionnaire is stored as JSON on the channel. :func:`parse_questionnaire` is the one
gate from stored or administrator-edited JSON to typed fields, so the reporter's form,
the server's validation and the case view all read the same definition.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

FIELD_ID = re.compile(r"[a-z][a-z0-9_]{0,31}")
MAX_FIELDS = 40
MAX_CHOICES = 30
MAX_LABEL_CHARS = 300
MAX_HELP_CHARS = 1000


class FieldType(StrEnum):
    SHORT_TEXT = "short_text"
    LONG_TEXT = "long_text"
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    DATE = "date"
    FILE = "file"


class QuestionnaireError(ValueError):
    """The questionnaire definition is invalid; the message says where."""


@dataclass(frozen=True)
class Question:
    id: str
    type: FieldType
    label: str
    help: str = ""
    required: bool = False
    choices: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["type"] = str(self.type)
        data["choices"] = list(self.choices)
        return data


def parse_questionnaire(raw: object) -> list[Question]:
    """Typed questions from stored JSON; raises :class:`QuestionnaireError`."""
    if not isinstance(raw, list) or len(raw) > MAX_FIELDS:
        raise QuestionnaireError(f"a questionnaire is a list of at most {MAX_FIELDS} fields")
    questions: list[Question] = []
    seen: set[str] = set()
    for position, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            raise QuestionnaireError(f"field {position}: not an object")
        question = _parse_question(item, position)
        if question.id in seen:
            raise QuestionnaireError(f"field {position}: the id {question.id!r} is used twice")
        seen.add(question.id)
        questions.append(question)
    return questions


def _parse_question(item: dict[str, Any], position: int) -> Question:
    field_id = item.get("id")
    if not isinstance(field_id, str) or not FIELD_ID.fullmatch(field_id):
        raise QuestionnaireError(f"field {position}: ids are lower-case letters, digits, '_'")
    try:
        field_type = FieldType(str(item.get("type")))
    except ValueError:
        raise QuestionnaireError(f"field {position}: unknown type {item.get('type')!r}") from None
    label = item.get("label")
    if not isinstance(label, str) or not label.strip() or len(label) > MAX_LABEL_CHARS:
        raise QuestionnaireError(f"field {position}: a label of 1 to {MAX_LABEL_CHARS} characters")
    help_text = item.get("help", "")
    if not isinstance(help_text, str) or len(help_text) > MAX_HELP_CHARS:
        raise QuestionnaireError(f"field {position}: help is at most {MAX_HELP_CHARS} characters")
    choices = item.get("choices", [])
    if not isinstance(choices, list) or not all(isinstance(c, str) and c for c in choices):
        raise QuestionnaireError(f"field {position}: choices are a list of texts")
    is_choice = field_type in (FieldType.SINGLE_CHOICE, FieldType.MULTIPLE_CHOICE)
    if is_choice and not 2 <= len(choices) <= MAX_CHOICES:  # noqa: PLR2004 -- a choice of one is no choice
        raise QuestionnaireError(f"field {position}: 2 to {MAX_CHOICES} choices")
    if not is_choice and choices:
        raise QuestionnaireError(f"field {position}: only choice fields have choices")
    if len(set(choices)) != len(choices):
        raise QuestionnaireError(f"field {position}: the same choice appears twice")
    return Question(
        id=field_id,
        type=field_type,
        label=label.strip(),
        help=help_text.strip(),
        required=bool(item.get("required", False)),
        choices=tuple(choices),
    )


def default_corruption_questionnaire() -> list[dict[str, Any]]:
    """The questionnaire ``init`` gives the default channel (ISO 37002 8.2: receive)."""
    questions = [
        Question("what", FieldType.LONG_TEXT, "What happened?", required=True,
                 help="Describe what you saw or know, in your own words. Leave out anything "
                      "that would identify you unless it is needed."),
        Question("when", FieldType.DATE, "When did it happen (or start)?",
                 help="An approximate date is fine."),
        Question("where", FieldType.SHORT_TEXT, "Where did it happen?",
                 help="Organisation, department, place or project."),
        Question("who", FieldType.LONG_TEXT, "Who was involved, and in which role?",
                 help="For example: who paid or received, who approved, who knew."),
        Question("kind", FieldType.MULTIPLE_CHOICE, "What kind of wrongdoing is it?",
                 choices=("Bribery", "Fraud", "Embezzlement or theft of public funds",
                          "Abuse of office", "Conflict of interest",
                          "Procurement irregularities", "Other")),
        Question("how_known", FieldType.SINGLE_CHOICE, "How do you know about it?",
                 choices=("I saw or heard it myself", "Someone told me",
                          "I found documents", "Other")),
        Question("evidence", FieldType.FILE, "Evidence (optional)",
                 help="Documents, photos or recordings. Files can contain hidden details "
                      "about you (author names, locations, device details): remove them "
                      "before uploading if you can."),
        Question("reported_elsewhere", FieldType.SINGLE_CHOICE,
                 "Have you reported this anywhere else?",
                 choices=("No", "Yes, inside the organisation",
                          "Yes, to another authority", "Yes, to the media")),
    ]
    return [question.to_json() for question in questions]
