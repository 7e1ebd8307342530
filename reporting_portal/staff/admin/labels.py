"""The label vocabulary case handlers triage with (managed by administrators)."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from reporting_portal.audit.events import AuditAction, ObjectType, record_event
from reporting_portal.domain.actors import Actor
from reporting_portal.storage.models import Label

LABEL_NAME = re.compile(r"[\w][\w .-]{0,62}[\w]|\w")


class LabelError(ValueError):
    """The label cannot be added or removed as asked; the message says why."""


def add_label(db: Session, actor: Actor, name: str) -> Label:
    name = " ".join(name.split()).lower()
    if not LABEL_NAME.fullmatch(name):
        raise LabelError(_l("A label is 1 to 64 letters, digits, spaces, '.', '-' or '_'"))
    if db.scalar(select(Label).where(Label.name == name)) is not None:
        raise LabelError(_l("That label exists already"))
    label = Label(name=name)
    db.add(label)
    db.flush()  # the id names the label in the audit event
    record_event(db, AuditAction.LABEL_CREATED, actor=actor.account, actor_role=actor.role,
                 object_type=ObjectType.LABEL, object_id=str(label.id))
    return label


def delete_label(db: Session, actor: Actor, label_id: int) -> None:
    label = db.get(Label, label_id)
    if label is None:
        raise LabelError(_l("No such label"))
    db.delete(label)
    record_event(db, AuditAction.LABEL_DELETED, actor=actor.account, actor_role=actor.role,
                 object_type=ObjectType.LABEL, object_id=str(label_id))
