"""The directory of competent authorities a case can be referred to (issue 17, part 3).

Each authority receives a referral as one age file for its own recipient, so the key is
checked to be an age recipient of a type this portal encrypts to (X25519 ``age1…`` or the
post-quantum hybrid ``age1pq1…``) before it is saved. Authorities are deactivated rather
than deleted: past referrals keep naming who received them.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto import AgeError, parse_recipient
from reporting_portal.audit.events import AuditAction, ObjectType, record_event
from reporting_portal.domain.actors import Actor
from reporting_portal.storage.models import Authority

NAME_MAX = 200
CONTACT_MAX = 2000
# A post-quantum recipient is about 1,950 characters; nothing valid is longer.
RECIPIENT_MAX = 4000


class AuthorityError(ValueError):
    """The authority cannot be saved as asked; ``field`` names the form field it is about."""

    def __init__(self, message: object, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def list_authorities(db: Session, *, active_only: bool = False) -> Sequence[Authority]:
    query = select(Authority).order_by(Authority.name)
    if active_only:
        query = query.where(Authority.is_active.is_(True))
    return db.scalars(query).all()


def find_authority(db: Session, public_id: str) -> Authority:
    authority = db.scalar(select(Authority).where(Authority.public_id == public_id))
    if authority is None:
        raise AuthorityError(_l("No such authority"))
    return authority


def checked_recipient(text: str) -> str:
    """``text`` as a recipient this portal can encrypt a package to, or an error."""
    recipient = text.strip()
    if len(recipient) > RECIPIENT_MAX:
        raise AuthorityError(_l("That is not an age recipient."), "age_recipient")
    try:
        parse_recipient(recipient)
    except (AgeError, ValueError):
        raise AuthorityError(_l("That is not an age recipient: it starts with age1 (X25519) "
                                "or age1pq1 (post-quantum) and is copied whole."),
                             "age_recipient") from None
    return recipient


def save_authority(db: Session, actor: Actor, authority: Authority | None, *, name: str,
                   age_recipient: str, contact_note: str, is_active: bool) -> Authority:
    """Add (``authority`` is None) or change an authority. An audit event either way."""
    name = " ".join(name.split())
    if not 1 <= len(name) <= NAME_MAX:
        raise AuthorityError(_l("Give the authority's name (at most 200 characters)."), "name")
    if len(contact_note) > CONTACT_MAX:
        raise AuthorityError(_l("The contact note has at most 2,000 characters."),
                             "contact_note")
    recipient = checked_recipient(age_recipient)
    clash = db.scalar(select(Authority).where(Authority.name == name))
    if clash is not None and clash is not authority:
        raise AuthorityError(_l("Another authority has that name."), "name")
    adding = authority is None
    if authority is None:
        authority = Authority()
        db.add(authority)
    authority.name = name
    authority.age_recipient = recipient
    authority.contact_note = contact_note.strip()
    authority.is_active = is_active
    db.flush()  # the public id names the authority in the audit event
    record_event(db, AuditAction.AUTHORITY_ADDED if adding else AuditAction.AUTHORITY_CHANGED,
                 actor=actor.account, actor_role=actor.role,
                 object_type=ObjectType.AUTHORITY, object_id=authority.public_id)
    return authority
