"""Staff sign-in and account security: the rules, apart from the views.

Services take the database session explicitly, return domain objects and raise the
domain errors defined here; the view layer maps them to messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.settings import Settings
from crypto.keys import generate_identity, parse_identity
from crypto.keywrap import (
    needs_rewrap,
    rewrap_with_password,
    unwrap_with_password,
    wrap_with_password,
)
from reporting_portal.audit.events import (
    ANONYMOUS,
    AuditAction,
    ObjectType,
    Outcome,
    record_event,
)
from reporting_portal.domain.accounts import normalise_username
from reporting_portal.domain.actors import Actor, record_account_event
from reporting_portal.domain.key_rotation import unfinished_rotation
from reporting_portal.domain.passwords import PasswordService
from reporting_portal.staff.auth.devices import device_nonce
from reporting_portal.staff.auth.passkeys import (
    has_passkey,
    password_sign_in_refused,
    role_requires_passkey,
)
from reporting_portal.staff.auth.totp import verify_code
from reporting_portal.storage.models import RotationSubject, StaffAccount
from reporting_portal.web.security.rate_limit import Budget, BudgetSpentError, RateLimits, Spent
from reporting_portal.web.sessions import end_staff_sessions


class SignInRefusedError(Exception):
    """The account name, password or code is wrong: one answer for all three."""


class SignInThrottledError(Exception):
    """Too many recent failures for this account name (from this device, or untrusted ones)."""

    def __init__(self, retry_after: timedelta) -> None:
        super().__init__("sign-in throttled")
        self.retry_after = retry_after


class PasswordCheckThrottledError(Exception):
    """Too many recent password re-checks for this signed-in account."""

    def __init__(self, retry_after: timedelta) -> None:
        super().__init__("password check throttled")
        self.retry_after = retry_after


class WrongCodeError(Exception):
    """The TOTP code given while enrolling is wrong or used."""


class CurrentPasswordError(Exception):
    """The current password given to change it is wrong."""


@dataclass(frozen=True)
class PasswordAccepted:
    """Password (and second factor, if enrolled) accepted; what remains of sign-in."""

    account: StaffAccount
    needs_enrolment: bool
    needs_new_password: bool
    # A role that requires passkeys, and none registered yet (staff.auth.passkeys).
    needs_passkey: bool = False

    @property
    def complete(self) -> bool:
        return not (self.needs_enrolment or self.needs_new_password or self.needs_passkey)


def untrusted_devices_budget(settings: Settings) -> Budget:
    """Sign-ins for one account name from browsers without its device cookie."""
    return Budget("staff-sign-in-untrusted", settings.sign_in_max_failures,
                  timedelta(minutes=settings.sign_in_window_minutes))


def device_budget(settings: Settings) -> Budget:
    """Sign-ins from one browser that holds a device cookie for the name typed."""
    return Budget("staff-sign-in-device", settings.sign_in_device_max_failures,
                  timedelta(minutes=settings.sign_in_window_minutes))


def password_check_budget(settings: Settings) -> Budget:
    """Password re-checks of one signed-in account (identity download, password change)."""
    return Budget("staff-password-check", settings.password_check_max_failures,
                  timedelta(minutes=settings.sign_in_window_minutes))


def _spend_sign_in_attempt(
    rate_limits: RateLimits, settings: Settings, username: str, device_cookie: str | None
) -> Spent:
    """Spend the device's budget if the browser proves it signed in as this name before,
    else the name's budget for untrusted devices. Known and unknown names alike."""
    nonce = device_nonce(settings.secret_key, device_cookie, username)
    if nonce is not None:
        budget = device_budget(settings)
        return rate_limits.spend(budget, rate_limits.key(budget.bucket, nonce))
    budget = untrusted_devices_budget(settings)
    return rate_limits.spend(budget, rate_limits.key(budget.bucket, username))


def spend_password_check(
    db: Session, rate_limits: RateLimits, settings: Settings, account: StaffAccount
) -> Spent:
    """Spend one of the account's password re-checks, before the Argon2id of the check.

    A stolen session must not become an online password oracle (issue 11, item 13).
    When the budget is spent the refusal is an audit event, and nothing is checked.
    Call it before the request's session writes anything (see RateLimits).
    """
    budget = password_check_budget(settings)
    try:
        return rate_limits.spend(budget, rate_limits.key(budget.bucket, account.public_id))
    except BudgetSpentError as refused:
        record_account_event(db, Actor.member(account), AuditAction.PASSWORD_CHECK_THROTTLED,
                             account.public_id, outcome=Outcome.DENIED)
        raise PasswordCheckThrottledError(refused.retry_after) from None


def sign_in(
    db: Session,
    passwords: PasswordService,
    settings: Settings,
    rate_limits: RateLimits,
    *,
    username: str,
    password: str,
    code: str,
    device_cookie: str | None,
) -> PasswordAccepted:
    """Check name, password and (once enrolled) the TOTP code together.

    Unknown names, wrong passwords and wrong codes all raise :class:`SignInRefusedError`
    after the same Argon2id work. Each attempt first spends a budget (see
    :func:`_spend_sign_in_attempt`), in a transaction of its own before any Argon2id;
    once it is spent, attempts are refused with :class:`SignInThrottledError` without
    checking anything, known name or not. A success gives its attempt back.
    """
    name = normalise_username(username)
    account = db.scalar(select(StaffAccount).where(StaffAccount.username == name))
    try:
        spent = _spend_sign_in_attempt(rate_limits, settings, name, device_cookie)
    except BudgetSpentError as refused:
        _record_anonymous_attempt(db, AuditAction.STAFF_SIGN_IN_THROTTLED, Outcome.DENIED,
                                  account)
        raise SignInThrottledError(refused.retry_after) from None

    usable = account is not None and account.is_active
    password_ok = passwords.verify(account.password_hash if usable and account else None, password)
    step: int | None = None
    accepted = password_ok
    if accepted and account is not None and account.totp_enrolled_at is not None:
        step = verify_code(account.totp_secret or "", code, last_used_step=account.totp_last_step)
        accepted = step is not None
    if accepted and account is not None and password_sign_in_refused(db, account):
        # Passkey-only (chosen, or required for the role): a phished password and code
        # must not open the account. The same answer as a wrong code.
        accepted = False
    if not accepted or account is None:
        _record_anonymous_attempt(db, AuditAction.STAFF_SIGN_IN_FAILED, Outcome.FAILURE,
                                  account)
        raise SignInRefusedError

    # Before the session below writes anything (RateLimits: a connection of its own).
    rate_limits.refund(spent)
    if step is not None:
        account.totp_last_step = step
    if passwords.needs_rehash(account.password_hash):
        account.password_hash = passwords.hash(password)
    result = PasswordAccepted(
        account=account,
        needs_enrolment=account.totp_enrolled_at is None,
        needs_new_password=account.must_change_password,
        needs_passkey=role_requires_passkey(db, account) and not has_passkey(db, account),
    )
    if result.complete:
        record_signed_in(db, account)
    return result


def _record_anonymous_attempt(db: Session, action: AuditAction, outcome: Outcome,
                              account: StaffAccount | None) -> None:
    # Nobody is signed in yet: the event names the account typed, when there is one.
    record_event(db, action, actor=None, actor_role=ANONYMOUS, outcome=outcome,
                 object_type=ObjectType.ACCOUNT if account else None,
                 object_id=account.public_id if account else None)


def record_signed_in(db: Session, account: StaffAccount) -> None:
    record_account_event(db, Actor.member(account), AuditAction.STAFF_SIGN_IN, account.public_id)


def enrol_totp(db: Session, account: StaffAccount, *, secret: str, code: str) -> None:
    """Confirm a new TOTP secret with a code from the person's authenticator."""
    step = verify_code(secret, code, last_used_step=None)
    if step is None:
        raise WrongCodeError
    account.totp_secret = secret
    account.totp_last_step = step
    account.totp_enrolled_at = datetime.now(UTC)
    record_account_event(db, Actor.member(account), AuditAction.TOTP_ENROLLED, account.public_id)


def set_password(
    db: Session,
    passwords: PasswordService,
    account: StaffAccount,
    *,
    new_password: str,
    current_password: str | None,
    keep_session_token: bytes | None,
    unlocked_identity: str | None = None,
) -> str | None:
    """Change a password (the first one replaces the administrator's one-time password).

    The age identity is re-wrapped under the new password; nothing else changes. A change
    asks for ``current_password``. The first choice, made right after signing in with the
    one-time password, passes the identity that sign-in unwrapped (``unlocked_identity``,
    held in the sealed session) instead. An account made before identities came with the
    account gets one now. Every other session of the account ends (ASVS 7.4.3). Returns
    the new identity's secret string when one was made, for the session to hold.
    """
    if current_password is not None and not passwords.verify(
        account.password_hash, current_password
    ):
        raise CurrentPasswordError
    passwords.check_policy(new_password, username=account.username)
    params = passwords.identity_wrap_params
    created: str | None = None
    if account.wrapped_identity is None:
        identity = generate_identity(post_quantum=True)
        created = identity.to_string()
        account.age_recipient = str(identity.recipient)
        account.wrapped_identity = wrap_with_password(
            identity.to_string().encode("ascii"), new_password, params
        )
    elif current_password is not None:
        account.wrapped_identity = rewrap_with_password(
            account.wrapped_identity, current_password, new_password, params
        )
        _rewrap_rotation_key(db, account, current_password, new_password, passwords)
    elif account.must_change_password and _is_accounts_identity(account, unlocked_identity):
        account.wrapped_identity = wrap_with_password(
            (unlocked_identity or "").encode("ascii"), new_password, params
        )
    else:
        raise CurrentPasswordError  # an existing identity needs the old password to re-wrap
    account.password_hash = passwords.hash(new_password)
    account.must_change_password = False
    end_staff_sessions(db, account.id, keep_token=keep_session_token)
    record_account_event(db, Actor.member(account), AuditAction.PASSWORD_CHANGED, account.public_id)
    return created


def _rewrap_rotation_key(db: Session, account: StaffAccount, current_password: str,
                         new_password: str, passwords: PasswordService) -> None:
    """A key rotation in progress keeps the old key under the password: re-wrap it too,
    or the next sign-in could not open what is not re-granted yet."""
    rotation = unfinished_rotation(db, RotationSubject.STAFF, staff_id=account.id)
    if rotation is not None and rotation.old_wrapped_identity is not None:
        rotation.old_wrapped_identity = rewrap_with_password(
            rotation.old_wrapped_identity, current_password, new_password,
            passwords.identity_wrap_params)


def _is_accounts_identity(account: StaffAccount, identity_text: str | None) -> bool:
    """Whether ``identity_text`` is the secret half of the account's recipient."""
    if identity_text is None or account.age_recipient is None:
        return False
    return str(parse_identity(identity_text).recipient) == account.age_recipient


def unlock_identity(passwords: PasswordService, account: StaffAccount, password: str) -> str | None:
    """Unwrap the account's age identity with the password just verified.

    Re-wraps it under the current Argon2id parameters when they have risen since.
    """
    if account.wrapped_identity is None:
        return None
    secret = unwrap_with_password(account.wrapped_identity, password)
    params = passwords.identity_wrap_params
    if needs_rewrap(account.wrapped_identity, params):
        account.wrapped_identity = wrap_with_password(secret, password, params)
    return secret.decode("ascii")


def record_sign_out(db: Session, account: StaffAccount) -> None:
    record_account_event(db, Actor.member(account), AuditAction.STAFF_SIGN_OUT, account.public_id)
