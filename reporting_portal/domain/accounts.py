"""Staff accounts: names, and the creation of an account with its key.

Administrators never learn a working password: a new account gets a one-time password
that must be replaced at first sign-in (ASVS 6.4.6), after the person has enrolled their
own authenticator. The account's age identity is made at once, wrapped under the
one-time password (DESIGN.md, Key hierarchy), so an administrator can assign a case
handler to a channel before that person has signed in; choosing a password re-wraps it
(staff.auth.services.set_password). ``init`` makes the first accounts the same way.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.keys import generate_identity
from crypto.keywrap import wrap_with_password
from reporting_portal.audit.events import AuditAction
from reporting_portal.domain.actors import Actor, record_account_event
from reporting_portal.domain.passwords import PasswordService
from reporting_portal.storage.models import Role, StaffAccount, StaffRole

USERNAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]{1,62}[a-z0-9]")


def normalise_username(username: str) -> str:
    return username.strip().lower()


# 20 characters from token_urlsafe's 64-symbol alphabet: 120 bits.
_ONE_TIME_PASSWORD_BYTES = 15


class AccountError(ValueError):
    """The account cannot be created or changed as asked; the message says why."""


@dataclass(frozen=True)
class NewAccount:
    account: StaffAccount
    one_time_password: str


def create_account(
    db: Session,
    passwords: PasswordService,
    actor: Actor,
    *,
    username: str,
    display_name: str,
    roles: Iterable[Role],
    email: str | None = None,
) -> NewAccount:
    """Create a staff account with a one-time password, shown once to the creator."""
    username = normalise_username(username)
    if not USERNAME_PATTERN.fullmatch(username):
        raise AccountError(
            _l("Account names are 3 to 64 characters: lower-case letters, digits, '.', '_', '-'")
        )
    role_set = sorted(set(roles))
    if not role_set:
        raise AccountError(_l("An account needs at least one role"))
    if db.scalar(select(StaffAccount.id).where(StaffAccount.username == username)) is not None:
        raise AccountError(_l("That account name is taken"))
    one_time_password = secrets.token_urlsafe(_ONE_TIME_PASSWORD_BYTES)
    # Post-quantum hybrid, like every new staff key: reports outlive today's cryptography.
    identity = generate_identity(post_quantum=True)
    account = StaffAccount(
        username=username,
        display_name=display_name.strip() or username,
        email=email or None,
        password_hash=passwords.hash(one_time_password),
        must_change_password=True,
        roles=[StaffRole(role=str(role)) for role in role_set],
        age_recipient=str(identity.recipient),
        wrapped_identity=wrap_with_password(identity.to_string().encode("ascii"),
                                            one_time_password, passwords.identity_wrap_params),
    )
    db.add(account)
    db.flush()  # the public id is needed for the audit event
    record_account_event(db, actor, AuditAction.ACCOUNT_CREATED, account.public_id)
    return NewAccount(account=account, one_time_password=one_time_password)
