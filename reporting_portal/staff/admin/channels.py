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
    FIELD_ID,
    MAX_CHOICES,
    MAX_FIELDS,
    Choice,
    FieldType,
    Question,
    QuestionnaireError,
    choice_codes,
    parse_questionnaire,
)
from reporting_portal.storage.models import (
    Channel,
    ReferralNotice,
    Role,
    StaffAccount,
    StaffRole,
)

SLUG = re.compile(r"[a-z0-9][a-z0-9-]{1,62}[a-z0-9]")


class ChannelError(ValueError):
    """The channel cannot be saved as asked; the message says why, and ``field`` names
    the form field it is about (``field_id``, ``label_fr`` …) so the page shows it there."""

    def __init__(self, message: object, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def list_channels(db: Session) -> Sequence[Channel]:
    return db.scalars(select(Channel).order_by(Channel.name)).all()


def find_channel(db: Session, public_id: str) -> Channel:
    channel = db.scalar(select(Channel).where(Channel.public_id == public_id))
    if channel is None:
        raise ChannelError(_l("No such channel"))
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
    referral_notice: str = ReferralNotice.TOLD,
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
        raise ChannelError(_l("Give the name in the channel's first language"))
    if referral_notice not in set(ReferralNotice):
        raise ChannelError(_l("Choose what the reporter is told of a referral"))
    slug = slug.strip().lower()
    if not SLUG.fullmatch(slug):
        raise ChannelError(_l("The address name is 3 to 64 lower-case letters, digits or '-'"))
    clash = db.scalar(select(Channel).where(Channel.slug == slug))
    if clash is not None and clash is not channel:
        raise ChannelError(_l("Another channel uses that address name"))
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
    channel.referral_notice = referral_notice
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
        raise ChannelError(_l("Offer the channel in at least one language"))
    if any(code not in CONTENT_LANGUAGES for code in places):
        raise ChannelError(_l("Unknown language"))
    if sorted(places.values()) != list(range(1, len(places) + 1)):
        raise ChannelError(_l("Give each offered language its own place: 1, 2, 3 and so on"))
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
    if len(raw) > MAX_FIELDS:
        raise ChannelError(_l("A form holds at most %(count)d questions.", count=MAX_FIELDS))
    try:
        parse_questionnaire(raw, channel_languages(channel)[0])
    except QuestionnaireError as error:
        raise ChannelError(str(error)) from None
    channel.questionnaire = raw
    _record(db, actor, channel)


def _question_texts(
    languages: list[str], labels: dict[str, str], helps: dict[str, str],
    choice_lines: dict[str, list[str]], kept_choices: int = 0,
) -> tuple[dict[str, str], dict[str, str], dict[str, list[str]]]:
    """The texts of the channel's languages; the first language's label is required,
    and each language's choices, when given, are as many as the first language's, and
    at least the ``kept_choices`` a question has already: answers may name those."""
    first = languages[0]
    kept_labels = {code: labels[code].strip() for code in languages
                   if labels.get(code, "").strip()}
    kept_helps = {code: helps[code].strip() for code in languages if helps.get(code, "").strip()}
    given = {code: [line.strip() for line in choice_lines.get(code, []) if line.strip()]
             for code in languages}
    given = {code: lines for code, lines in given.items() if lines}
    if first not in kept_labels:
        raise ChannelError(_l("Write the question in this language: it is the channel's "
                              "first language."), field=f"label_{first}")
    expected = max(len(given.get(first, [])), kept_choices)
    if kept_choices and 0 < len(given.get(first, [])) < kept_choices:
        raise ChannelError(_l("Answers already received may name this question's choices, so "
                              "keep them all (%(count)d lines). Rename a choice on its own "
                              "line; add new ones at the end.", count=kept_choices),
                           field=f"choices_{first}")
    for code, lines in given.items():
        if len(lines) != expected:
            raise ChannelError(_l("Each language needs the same choices, one per line, in the "
                                  "same order. Lines needed: %(count)d; given here: %(given)d.",
                                  count=expected, given=len(lines)),
                               field=f"choices_{code}")
    return kept_labels, kept_helps, given


def _check_choice_count(kind: FieldType, count: int, first: str) -> None:
    if kind in CHOICE_TYPES and not 2 <= count <= MAX_CHOICES:  # noqa: PLR2004 -- a choice of one is no choice
        raise ChannelError(_l("Give 2 to %(count)d choices, one per line.", count=MAX_CHOICES),
                           field=f"choices_{first}")


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
    field_id = field_id.strip()
    if not FIELD_ID.fullmatch(field_id):
        raise ChannelError(_l("Start with a lower-case letter; then use only lower-case letters, "
                              "digits and '_', up to 32 in all."), field="field_id")
    if any(q.id == field_id for q in questions):
        raise ChannelError(_l("Another question of this channel has this id."), field="field_id")
    try:
        kind = FieldType(field_type)
    except ValueError:
        raise ChannelError(_l("Unknown field type"), field="field_type") from None
    languages = channel_languages(channel)
    if kind not in CHOICE_TYPES:
        choices = {}
    label, help_text, lines = _question_texts(languages, labels, helps, choices)
    _check_choice_count(kind, len(lines.get(languages[0], [])), languages[0])
    codes = choice_codes(lines.get(languages[0], []))
    questions.append(Question(
        id=field_id, type=kind, label=label, help=help_text, required=required,
        choices=tuple(Choice(code=code, label={lang: lines[lang][place]
                                               for lang in lines})
                      for place, code in enumerate(codes)),
    ))
    _store(db, actor, channel, questions)


def update_question(
    db: Session,
    actor: Actor,
    channel: Channel,
    field_id: str,
    *,
    labels: dict[str, str],
    helps: dict[str, str],
    required: bool,
    choices: dict[str, list[str]],
) -> None:
    """Change a question's texts, whether it is required, and its choices' labels; add
    choices at the end. Its id, type and existing choice codes stay, so the answers
    already stored keep their meaning; a new choice gets a code no other choice has."""
    questions = channel_questions(channel)
    index = next((i for i, q in enumerate(questions) if q.id == field_id), None)
    if index is None:
        raise ChannelError(_l("No such question"))
    old = questions[index]
    languages = channel_languages(channel)
    if old.type not in CHOICE_TYPES:
        choices = {}
    label, help_text, lines = _question_texts(
        languages, labels, helps, choices, len(old.choices))
    count = max((len(given) for given in lines.values()), default=len(old.choices))
    _check_choice_count(old.type, count, languages[0])
    codes = [choice.code for choice in old.choices]
    added = _new_choice_codes(codes, lines.get(languages[0], [])[len(codes):])
    # Texts in languages the channel no longer offers stay, as the editor cannot show them.
    kept = {place: {lang: text for lang, text in choice.label.items() if lang not in languages}
            for place, choice in enumerate(old.choices)}
    questions[index] = Question(
        id=old.id, type=old.type, label=label, help=help_text, required=required,
        choices=tuple(Choice(code=code, label={**kept.get(place, {}),
                                               **{lang: lines[lang][place] for lang in lines}}
                             or dict(old.choices[place].label))
                      for place, code in enumerate(codes + added)),
    )
    _store(db, actor, channel, questions)


def _new_choice_codes(existing: list[str], labels: list[str]) -> list[str]:
    """Codes for choices added after ``existing``, none equal to an existing one."""
    taken = set(existing)
    codes: list[str] = []
    for place, proposed in enumerate(choice_codes(labels), start=len(existing) + 1):
        code = proposed
        while code in taken:
            code = f"{code}_{place}"
        taken.add(code)
        codes.append(code)
    return codes


def remove_question(db: Session, actor: Actor, channel: Channel, field_id: str) -> None:
    questions = [q for q in channel_questions(channel) if q.id != field_id]
    _store(db, actor, channel, questions)


def move_question_up(db: Session, actor: Actor, channel: Channel, field_id: str) -> None:
    _move_question(db, actor, channel, field_id, -1)


def move_question_down(db: Session, actor: Actor, channel: Channel, field_id: str) -> None:
    _move_question(db, actor, channel, field_id, 1)


def _move_question(db: Session, actor: Actor, channel: Channel, field_id: str,
                   step: int) -> None:
    questions = channel_questions(channel)
    index = next((i for i, q in enumerate(questions) if q.id == field_id), None)
    if index is None:
        raise ChannelError(_l("No such question"))
    other = index + step
    if 0 <= other < len(questions):
        questions[other], questions[index] = questions[index], questions[other]
        _store(db, actor, channel, questions)


def copy_questions(db: Session, actor: Actor, channel: Channel, source: Channel, *,
                   replace: bool) -> int:
    """Give ``channel`` the questions of ``source``: instead of its own (``replace``) or
    after them. Ids must stay unique within a channel, since answers are stored by id, so
    a clash is refused rather than renamed. Returns how many questions were copied."""
    if source.id == channel.id:
        raise ChannelError(_l("Choose another channel to copy from."), field="source")
    copied = channel_questions(source)
    own = [] if replace else channel_questions(channel)
    clashes = sorted({q.id for q in own} & {q.id for q in copied})
    if clashes:
        raise ChannelError(_l(
            "Both channels have questions with these ids: %(ids)s. Remove them from this "
            "channel first, or replace its questions instead.", ids=", ".join(clashes)),
            field="mode")
    _store(db, actor, channel, own + copied)
    return len(copied)
