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
from reporting_portal.domain.questionnaire import (
    FieldType,
    Question,
    QuestionnaireError,
    default_corruption_questionnaire,
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
    name: str,
    slug: str,
    description: str,
    retention_days: int,
    notify_identity_disclosure: bool,
    is_active: bool,
    handler_ids: set[str],
) -> Channel:
    """Create (``channel`` is None) or update a channel."""
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
    channel.name = name.strip()
    channel.slug = slug
    channel.description = description.strip()
    channel.retention_days = retention_days
    channel.notify_identity_disclosure = notify_identity_disclosure
    channel.is_active = is_active
    channel.handlers = handlers
    db.flush()  # the public id names the channel in the audit event
    _record(db, actor, channel, created=creating)
    return channel


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
        parse_questionnaire(raw)
    except QuestionnaireError as error:
        raise ChannelError(str(error)) from None
    channel.questionnaire = raw
    _record(db, actor, channel)


def add_question(  # noqa: PLR0913 -- a question's fields, by keyword
    db: Session,
    actor: Actor,
    channel: Channel,
    *,
    field_id: str,
    field_type: str,
    label: str,
    help_text: str,
    required: bool,
    choices: list[str],
) -> None:
    questions = parse_questionnaire(channel.questionnaire)
    try:
        kind = FieldType(field_type)
    except ValueError:
        raise ChannelError(_l("unknown field type")) from None
    has_choices = kind in (FieldType.SINGLE_CHOICE, FieldType.MULTIPLE_CHOICE)
    questions.append(Question(
        id=field_id.strip(), type=kind, label=label, help=help_text, required=required,
        choices=tuple(c.strip() for c in choices if c.strip()) if has_choices else (),
    ))
    _store(db, actor, channel, questions)


def remove_question(db: Session, actor: Actor, channel: Channel, field_id: str) -> None:
    questions = [q for q in parse_questionnaire(channel.questionnaire) if q.id != field_id]
    _store(db, actor, channel, questions)


def move_question_up(db: Session, actor: Actor, channel: Channel, field_id: str) -> None:
    questions = parse_questionnaire(channel.questionnaire)
    index = next((i for i, q in enumerate(questions) if q.id == field_id), None)
    if index is None:
        raise ChannelError(_l("no such question"))
    if index > 0:
        questions[index - 1], questions[index] = questions[index], questions[index - 1]
        _store(db, actor, channel, questions)
