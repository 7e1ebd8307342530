"""Channel administration: intake forms, their case handlers and questionnaires."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from reporting_portal.audit.events import AuditAction, ObjectType, record_event
from reporting_portal.domain.actors import Actor
from reporting_portal.domain.channel_content import channel_languages, channel_questions
from reporting_portal.domain.default_channel import LANGUAGES as DEFAULT_LANGUAGES
from reporting_portal.domain.default_channel import default_corruption_questionnaire
from reporting_portal.domain.questionnaire import (
    CHOICE_TYPES,
    CONTENT_LANGUAGES,
    Choice,
    FieldType,
    Question,
    QuestionnaireError,
    choice_codes,
    parse_questionnaire,
)
from reporting_portal.storage.models import Channel, Role, StaffAccount, StaffRole

SLUG = re.compile(r"[a-z0-9][a-z0-9-]{1,62}[a-z0-9]")


class ChannelError(ValueError):
    """The channel cannot be saved as asked; the message says why."""


def list_channels(db: Session) -> Sequence[Channel]:
    return db.scalars(select(Channel).order_by(Channel.name)).all()


def find_channel(db: Session, public_id: str) -> Channel:
    channel = db.scalar(select(Channel).where(Channel.public_id == public_id))
    if channel is None:
        raise ChannelError(_l("no such channel"))
    return channel


def case_handlers(db: Session) -> Sequence[StaffAccount]:
    return db.scalars(
        select(StaffAccount)
        .join(StaffRole)
        .where(StaffRole.role == Role.CASE_HANDLER)
        .order_by(StaffAccount.display_name)
    ).all()


def save_channel(  # noqa: PLR0913 -- the channel's editable fields, by keyword
    db: Session,
    actor: Actor,
    channel: Channel | None,
    *,
    names: dict[str, str],
    slug: str,
    descriptions: dict[str, str],
    language_places: dict[str, int],
    retention_days: int,
    notify_identity_disclosure: bool,
    is_active: bool,
    handler_ids: set[str],
    reporter_reads_back: bool = True,
) -> Channel:
    """Create (``channel`` is None) or update a channel.

    ``language_places`` gives each offered language its place (1: the fallback); the
    name and description are kept in those languages only, and the name is required in
    the first."""
    languages = _ordered_languages(language_places)
    names = {code: names[code].strip() for code in languages if names.get(code, "").strip()}
    descriptions = {code: descriptions[code].strip() for code in languages
                    if descriptions.get(code, "").strip()}
    if languages[0] not in names:
        raise ChannelError(_l("give the name in the channel's first language"))
    slug = slug.strip().lower()
    if not SLUG.fullmatch(slug):
        raise ChannelError(_l("the address name is 3 to 64 lower-case letters, digits or '-'"))
    clash = db.scalar(select(Channel).where(Channel.slug == slug))
    if clash is not None and clash is not channel:
        raise ChannelError(_l("another channel uses that address name"))
    handlers = [h for h in case_handlers(db) if h.public_id in handler_ids]
    creating = channel is None
    if channel is None:
        channel = Channel(questionnaire=default_corruption_questionnaire())
        db.add(channel)
    channel.languages = languages
    channel.names = names
    channel.descriptions = descriptions
    channel.name = names[languages[0]]
    channel.slug = slug
    channel.description = descriptions.get(languages[0], "")
    channel.retention_days = retention_days
    channel.notify_identity_disclosure = notify_identity_disclosure
    channel.reporter_reads_back = reporter_reads_back
    channel.is_active = is_active
    channel.handlers = handlers
    db.flush()  # the public id names the channel in the audit event
    _record(db, actor, channel, created=creating)
    return channel


def new_channel_languages() -> list[str]:
    """The languages a new channel starts with: those of its default questionnaire."""
    return list(DEFAULT_LANGUAGES)


def _ordered_languages(places: dict[str, int]) -> list[str]:
    if not places:
        raise ChannelError(_l("offer the channel in at least one language"))
    if any(code not in CONTENT_LANGUAGES for code in places):
        raise ChannelError(_l("unknown language"))
    if sorted(places.values()) != list(range(1, len(places) + 1)):
        raise ChannelError(_l("give each offered language its own place: 1, 2, 3 and so on"))
    return sorted(places, key=places.__getitem__)


def _record(db: Session, actor: Actor, channel: Channel, *, created: bool = False) -> None:
    record_event(
        db,
        AuditAction.CHANNEL_CREATED if created else AuditAction.CHANNEL_CHANGED,
        actor=actor.account,
        actor_role=actor.role,
        object_type=ObjectType.CHANNEL,
        object_id=channel.public_id,
    )


def _store(db: Session, actor: Actor, channel: Channel, questions: list[Question]) -> None:
    raw: list[dict[str, Any]] = [q.to_json() for q in questions]
    try:
        parse_questionnaire(raw, channel_languages(channel)[0])
    except QuestionnaireError as error:
        raise ChannelError(str(error)) from None
    channel.questionnaire = raw
    _record(db, actor, channel)


def _question_texts(
    languages: list[str], labels: dict[str, str], helps: dict[str, str],
    choice_lines: dict[str, list[str]], choice_count: int | None,
) -> tuple[dict[str, str], dict[str, str], dict[str, list[str]]]:
    """The texts of the channel's languages; the first language's label is required,
    and each language's choices, when given, are as many as the first language's."""
    first = languages[0]
    kept_labels = {code: labels[code].strip() for code in languages
                   if labels.get(code, "").strip()}
    kept_helps = {code: helps[code].strip() for code in languages if helps.get(code, "").strip()}
    kept_choices = {code: [line.strip() for line in choice_lines.get(code, []) if line.strip()]
                    for code in languages}
    kept_choices = {code: lines for code, lines in kept_choices.items() if lines}
    if first not in kept_labels:
        raise ChannelError(_l("give the question in the channel's first language"))
    expected = choice_count if choice_count is not None else len(kept_choices.get(first, []))
    for code, lines in kept_choices.items():
        if len(lines) != expected:
            raise ChannelError(_l("give %(count)d choices in each language, one per line, "
                                  "in the same order (%(language)s: %(given)d)",
                                  count=expected, language=code, given=len(lines)))
    return kept_labels, kept_helps, kept_choices


def add_question(  # noqa: PLR0913 -- a question's fields, by keyword
    db: Session,
    actor: Actor,
    channel: Channel,
    *,
    field_id: str,
    field_type: str,
    labels: dict[str, str],
    helps: dict[str, str],
    required: bool,
    choices: dict[str, list[str]],
) -> None:
    """Add a question with its texts in the channel's languages. Each choice gets a code
    from its first-language label, which its answers store whatever the language."""
    questions = channel_questions(channel)
    try:
        kind = FieldType(field_type)
    except ValueError:
        raise ChannelError(_l("unknown field type")) from None
    languages = channel_languages(channel)
    if kind not in CHOICE_TYPES:
        choices = {}
    label, help_text, lines = _question_texts(languages, labels, helps, choices, None)
    codes = choice_codes(lines.get(languages[0], []))
    questions.append(Question(
        id=field_id.strip(), type=kind, label=label, help=help_text, required=required,
        choices=tuple(Choice(code=code, label={lang: lines[lang][place]
                                               for lang in lines})
                      for place, code in enumerate(codes)),
    ))
    _store(db, actor, channel, questions)


def update_question_texts(
    db: Session,
    actor: Actor,
    channel: Channel,
    field_id: str,
    *,
    labels: dict[str, str],
    helps: dict[str, str],
    choices: dict[str, list[str]],
) -> None:
    """Give a question's texts in the channel's languages. Its id, type and choice codes
    stay, so the answers already stored keep their meaning."""
    questions = channel_questions(channel)
    index = next((i for i, q in enumerate(questions) if q.id == field_id), None)
    if index is None:
        raise ChannelError(_l("no such question"))
    old = questions[index]
    label, help_text, lines = _question_texts(
        channel_languages(channel), labels, helps, choices, len(old.choices))
    questions[index] = Question(
        id=old.id, type=old.type, label=label, help=help_text, required=old.required,
        choices=tuple(Choice(code=choice.code, label={lang: lines[lang][place]
                                                      for lang in lines} or dict(choice.label))
                      for place, choice in enumerate(old.choices)),
    )
    _store(db, actor, channel, questions)


def remove_question(db: Session, actor: Actor, channel: Channel, field_id: str) -> None:
    questions = [q for q in channel_questions(channel) if q.id != field_id]
    _store(db, actor, channel, questions)


def move_question_up(db: Session, actor: Actor, channel: Channel, field_id: str) -> None:
    questions = channel_questions(channel)
    index = next((i for i, q in enumerate(questions) if q.id == field_id), None)
    if index is None:
        raise ChannelError(_l("no such question"))
    if index > 0:
        questions[index - 1], questions[index] = questions[index], questions[index - 1]
        _store(db, actor, channel, questions)
