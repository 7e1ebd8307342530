"""Setting up an installation: recovery recipient, receipt salt, first administrator.

In development (what ``make run`` serves) ``init`` also makes a demo case handler, identity
custodian and auditor, the handler assigned to the default channel, so a newcomer can
report and read the report within a minute. A production ``init`` never does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.keys import generate_identity
from crypto.receipt import new_installation_salt
from reporting_portal.audit.events import AuditAction, ObjectType, record_event
from reporting_portal.audit.log import ensure_signing_key
from reporting_portal.domain import default_channel
from reporting_portal.domain.accounts import NewAccount, create_account
from reporting_portal.domain.actors import Actor
from reporting_portal.domain.passwords import PasswordService
from reporting_portal.storage.models import Channel, Installation, Role, StaffAccount, StaffRole


@dataclass(frozen=True)
class InitResult:
    """What ``init`` made this time; ``None`` for what already existed."""

    recovery_identity: str | None
    admin: NewAccount | None
    # The access log's verifier key, when this run recorded it: for the auditors.
    audit_verifier_key: str | None = None
    # Development only: the demo staff made with a new installation.
    demo_accounts: tuple[NewAccount, ...] = ()


# Account name, display name and role of each demo account (development only).
DEMO_STAFF = (
    ("demo-handler", "Demo Case Handler", Role.CASE_HANDLER),
    ("demo-custodian", "Demo Identity Custodian", Role.IDENTITY_CUSTODIAN),
    ("demo-auditor", "Demo Auditor", Role.AUDITOR),
)


_INSTALLATION = "installation"


def find_installation(db: Session) -> Installation | None:
    """The installation, or ``None`` before ``init``.

    Its one row is read once per session: a report needs it for its recipients and
    again for its receipt salt. The object stays the session's own, so a commit still
    expires it and the next use reads it afresh."""
    kept = db.info.get(_INSTALLATION)
    if kept is not None and kept in db:
        return kept  # type: ignore[no-any-return]
    installation = db.scalar(select(Installation).limit(1))
    if installation is not None:
        db.info[_INSTALLATION] = installation
    return installation


def get_installation(db: Session) -> Installation:
    """The installation made by ``init`` (its recovery key, its receipt salt)."""
    installation = find_installation(db)
    if installation is None:
        raise RuntimeError("not initialised: run `reporting-portal init`")
    return installation


def initialise_installation(
    db: Session, passwords: PasswordService, actor: Actor, *, admin_username: str,
    demo_staff: bool = False,
) -> InitResult:
    """Create what is missing; leave what exists. Safe to run on every start.

    ``demo_staff`` (development only) adds the :data:`DEMO_STAFF` accounts to a new
    installation, the handler on the default channel.
    """
    recovery_identity: str | None = None
    verifier_key: str | None = None
    existing = find_installation(db)
    if existing is not None and existing.audit_verifier_key is None:
        # Installed before the access log was signed (migration 0005): its key now, and
        # an event, whose commit signs the first head over the events numbered then.
        existing.audit_verifier_key = verifier_key = ensure_signing_key(db)
        record_event(db, AuditAction.AUDIT_KEY_CREATED, actor=actor.account,
                     actor_role=actor.role, object_type=ObjectType.INSTALLATION,
                     object_id=str(existing.id))
    if existing is None:
        # Post-quantum hybrid: reports kept for years must outlast a future quantum
        # computer (harvest now, decrypt later). The secret half leaves with the operator.
        identity = generate_identity(post_quantum=True)
        recovery_identity = identity.to_string()
        installation = Installation(
            recovery_recipient=str(identity.recipient),
            receipt_salt=new_installation_salt(),
            created_on=datetime.now(UTC).date(),
            audit_verifier_key=ensure_signing_key(db),
        )
        verifier_key = installation.audit_verifier_key
        db.add(installation)
        db.flush()  # the id names the installation in the audit event
        record_event(
            db,
            AuditAction.INSTALLATION_INITIALISED,
            actor=actor.account,
            actor_role=actor.role,
            object_type=ObjectType.INSTALLATION,
            object_id=str(installation.id),
        )
    admin: NewAccount | None = None
    has_admin = db.scalar(
        select(StaffAccount.id)
        .join(StaffRole)
        .where(StaffRole.role == Role.ADMINISTRATOR)
        .limit(1)
    )
    if has_admin is None:
        admin = create_account(
            db,
            passwords,
            actor,
            username=admin_username,
            display_name="Administrator",
            roles=[Role.ADMINISTRATOR],
        )
    channel = None
    if db.scalar(select(Channel.id).limit(1)) is None:
        channel = create_default_channel(db, actor)
    demo: tuple[NewAccount, ...] = ()
    if demo_staff and existing is None and channel is not None:
        demo = _create_demo_staff(db, passwords, actor, channel)
    return InitResult(recovery_identity=recovery_identity, admin=admin,
                      audit_verifier_key=verifier_key, demo_accounts=demo)


def _create_demo_staff(db: Session, passwords: PasswordService, actor: Actor,
                       channel: Channel) -> tuple[NewAccount, ...]:
    """The demo accounts; each has its key already, so the channel opens at once."""
    made = tuple(create_account(db, passwords, actor, username=username,
                                display_name=display_name, roles=[role])
                 for username, display_name, role in DEMO_STAFF)
    channel.handlers.extend(new.account for new in made if new.account.has_role(
        Role.CASE_HANDLER))
    record_event(db, AuditAction.CHANNEL_CHANGED, actor=actor.account, actor_role=actor.role,
                 object_type=ObjectType.CHANNEL, object_id=channel.public_id)
    return made


def create_default_channel(db: Session, actor: Actor) -> Channel:
    """A channel for corruption reports, so a new installation can take reports at once
    (after an administrator assigns case handlers to it)."""
    first = default_channel.LANGUAGES[0]
    channel = Channel(
        slug=default_channel.SLUG,
        languages=list(default_channel.LANGUAGES),
        names=dict(default_channel.NAME),
        descriptions=dict(default_channel.DESCRIPTION),
        name=default_channel.NAME[first],
        description=default_channel.DESCRIPTION[first],
        questionnaire=default_channel.default_corruption_questionnaire(),
    )
    db.add(channel)
    db.flush()  # the public id names the channel in the audit event
    record_event(db, AuditAction.CHANNEL_CREATED, actor=actor.account, actor_role=actor.role,
                 object_type=ObjectType.CHANNEL, object_id=channel.public_id)
    return channel
