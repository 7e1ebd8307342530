"""Questionnaires: the fields a channel asks a reporter to fill in, in its languages.

A questionnaire is stored as JSON on the channel. :func:`parse_questionnaire` is the one
gate from stored or administrator-edited JSON to typed fields, so the reporter's form,
the server's validation and the case view all read the same definition.

Each text (a question's label and help, each choice's label) is a map from language code
to text (issue 14). A choice also has a code that never changes with the language: the
answers store question ids and choice codes, so a report reads the same to a handler
whatever language the reporter used, and that language is never stored with it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from reporting_portal.web.languages import DEFAULT, LANGUAGES

FIELD_ID = re.compile(r"[a-z][a-z0-9_]{0,31}")
MAX_FIELDS = 40
MAX_CHOICES = 30
MAX_LABEL_CHARS = 300
MAX_HELP_CHARS = 1000
CONTENT_LANGUAGES = tuple(language.code for language in LANGUAGES)


class FieldType(StrEnum):
    SHORT_TEXT = "short_text"
    LONG_TEXT = "long_text"
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    DATE = "date"
    FILE = "file"


CHOICE_TYPES = (FieldType.SINGLE_CHOICE, FieldType.MULTIPLE_CHOICE)


class QuestionnaireError(ValueError):
    """The questionnaire definition is invalid; the message says where."""


def in_language(texts: Mapping[str, str], language: str, fallback: str) -> str:
    """The text in ``language``, else in ``fallback`` (the channel's first language),
    else the first one given: a reporter always sees something to answer."""
    return texts.get(language) or texts.get(fallback) or next(iter(texts.values()), "")


@dataclass(frozen=True)
class Choice:
    code: str  # stored in the answers; never shown, never translated
    label: Mapping[str, str]


@dataclass(frozen=True)
class LocalizedQuestion:
    """A question in one language, as a form or a case page shows it."""

    id: str
    type: FieldType
    label: str
    help: str
    required: bool
    choices: tuple[tuple[str, str], ...]  # (code, label)


@dataclass(frozen=True)
class Question:
    id: str
    type: FieldType
    label: Mapping[str, str]
    help: Mapping[str, str] = field(default_factory=dict)
    required: bool = False
    choices: tuple[Choice, ...] = field(default_factory=tuple)

    def in_language(self, language: str, fallback: str) -> LocalizedQuestion:
        return LocalizedQuestion(
            id=self.id, type=self.type, label=in_language(self.label, language, fallback),
            help=in_language(self.help, language, fallback), required=self.required,
            choices=tuple((c.code, in_language(c.label, language, fallback))
                          for c in self.choices),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "type": str(self.type), "label": dict(self.label),
            "help": dict(self.help), "required": self.required,
            "choices": [{"code": c.code, "label": dict(c.label)} for c in self.choices],
        }


def localize(questions: list[Question], language: str, fallback: str) -> list[LocalizedQuestion]:
    return [question.in_language(language, fallback) for question in questions]


def parse_questionnaire(raw: object, default_language: str = DEFAULT) -> list[Question]:
    """Typed questions from stored JSON; raises :class:`QuestionnaireError`.

    A text may be a plain string (the form before issue 14): it is taken as written in
    ``default_language``, the channel's first language.
    """
    if not isinstance(raw, list) or len(raw) > MAX_FIELDS:
        raise QuestionnaireError(_l("A questionnaire is a list of at most %(count)d fields",
                                    count=MAX_FIELDS))
    questions: list[Question] = []
    seen: set[str] = set()
    for position, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            raise QuestionnaireError(_l("Field %(position)d: not an object", position=position))
        question = _parse_question(item, position, default_language)
        if question.id in seen:
            raise QuestionnaireError(_l("Field %(position)d: the id %(id)s is used twice",
                                        position=position, id=question.id))
        seen.add(question.id)
        questions.append(question)
    return questions


def parse_texts(value: object, *, default_language: str, max_chars: int) -> dict[str, str]:
    """A ``{language: text}`` map from a plain string or a map; empty texts are dropped.
    Raises :class:`QuestionnaireError` naming what is wrong."""
    if isinstance(value, str):
        value = {default_language: value}
    if not isinstance(value, dict):
        raise QuestionnaireError(_l("A text is a string or a map from language to string"))
    texts: dict[str, str] = {}
    for language, text in value.items():
        if language not in CONTENT_LANGUAGES:
            raise QuestionnaireError(_l("Unknown language %(language)s",
                                                language=repr(str(language)[:20])))
        if not isinstance(text, str) or len(text) > max_chars:
            raise QuestionnaireError(_l("A text of at most %(count)d characters", count=max_chars))
        if text.strip():
            texts[language] = text.strip()
    return texts


def _in_field(position: int, error: QuestionnaireError) -> LazyString:
    return _l("Field %(position)d: %(problem)s", position=position, problem=str(error))


def _choices_are_texts(position: int) -> LazyString:
    return _l("Field %(position)d: choices are a list of texts", position=position)


def _parse_question(item: dict[str, Any], position: int, default_language: str) -> Question:
    field_id = item.get("id")
    if not isinstance(field_id, str) or not FIELD_ID.fullmatch(field_id):
        raise QuestionnaireError(_l("Field %(position)d: ids are lower-case letters, digits, '_'",
                                    position=position))
    try:
        field_type = FieldType(str(item.get("type")))
    except ValueError:
        raise QuestionnaireError(_l("Field %(position)d: unknown type %(type)s", position=position,
                                    type=repr(item.get("type"))[:40])) from None
    try:
        label = parse_texts(item.get("label"), default_language=default_language,
                            max_chars=MAX_LABEL_CHARS)
        help_text = parse_texts(item.get("help", ""), default_language=default_language,
                                max_chars=MAX_HELP_CHARS)
    except QuestionnaireError as error:
        raise QuestionnaireError(_in_field(position, error)) from None
    if not label:
        raise QuestionnaireError(_l("Field %(position)d: a label of 1 to %(count)d characters",
                                    position=position, count=MAX_LABEL_CHARS))
    choices = _parse_choices(item.get("choices", []), position, default_language)
    is_choice = field_type in CHOICE_TYPES
    if is_choice and not 2 <= len(choices) <= MAX_CHOICES:  # noqa: PLR2004 -- a choice of one is no choice
        raise QuestionnaireError(_l("Field %(position)d: 2 to %(count)d choices",
                                    position=position, count=MAX_CHOICES))
    if not is_choice and choices:
        raise QuestionnaireError(_l("Field %(position)d: only choice fields have choices",
                                    position=position))
    return Question(
        id=field_id,
        type=field_type,
        label=label,
        help=help_text,
        required=bool(item.get("required", False)),
        choices=choices,
    )


def _parse_choices(raw: object, position: int, default_language: str) -> tuple[Choice, ...]:
    if not isinstance(raw, list) or len(raw) > MAX_CHOICES:
        raise QuestionnaireError(_choices_are_texts(position))
    choices: list[Choice] = []
    for item in raw:
        # Before issue 14 a choice was its text, and the answers stored that text: it
        # stays the code, so those answers still name their choice.
        code, label = (item, item) if isinstance(item, str) else (
            (item.get("code"), item.get("label")) if isinstance(item, dict) else (None, None))
        if not isinstance(code, str) or not code.strip() or len(code) > MAX_LABEL_CHARS:
            raise QuestionnaireError(_choices_are_texts(position))
        try:
            texts = parse_texts(label, default_language=default_language,
                                max_chars=MAX_LABEL_CHARS)
        except QuestionnaireError as error:
            raise QuestionnaireError(_in_field(position, error)) from None
        if not texts:
            raise QuestionnaireError(_choices_are_texts(position))
        choices.append(Choice(code=code, label=texts))
    if len({c.code for c in choices}) != len(choices):
        raise QuestionnaireError(_l("Field %(position)d: the same choice appears twice",
                                    position=position))
    return tuple(choices)


def choice_codes(labels: list[str]) -> list[str]:
    """Stable codes for new choices, from their first-language labels: a readable ASCII
    name where the label gives one (``"Someone told me"`` → ``someone_told_me``), else
    its place (``choice_3``), so labels in any script get a code."""
    codes: list[str] = []
    for place, label in enumerate(labels, start=1):
        ascii_text = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
        code = "_".join(re.findall(r"[a-z0-9]+", ascii_text.lower()))[:40] or f"choice_{place}"
        while code in codes:
            code = f"{code}_{place}"
        codes.append(code)
    return codes
