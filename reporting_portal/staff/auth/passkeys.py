"""Passkeys (WebAuthn) for staff: registration, sign-in, and unlocking the key with PRF.

A passkey replaces the TOTP code: it proves possession of a device and, with user
verification required, the person's PIN or biometric on it, and it cannot be phished
(the browser signs for the relying party's id and the page's origin, which the server
checks). Attestation is ``none``: the portal trusts the person who registers while signed
in, not a vendor's certificate.

Where the authenticator has the PRF extension, its output for :data:`crypto.prf.PRF_INPUT`
keys (through HKDF-SHA-256 and a salt per credential) a second copy of the member's age
identity, so the passkey alone unlocks their key; the server never stores the output.
The copy wrapped under the password stays as the fallback. A key rotation drops the
copies (they hold the old key); the next sign-in with passkey and password makes a new one.

Challenges live in the sealed server-side session, one per purpose, and are spent once.
Every registration, use, failure, counter refusal and removal is an audit event.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import parse_authentication_credential_json
from webauthn.helpers.exceptions import (
    InvalidAuthenticationResponse,
    InvalidJSONStructure,
    InvalidRegistrationResponse,
)
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from config.settings import Settings
from crypto.errors import KeyWrapError
from crypto.keys import parse_identity
from crypto.prf import PRF_INPUT, PRF_OUTPUT_BYTES, new_salt, unwrap_with_prf, wrap_with_prf
from reporting_portal.audit.events import (
    ANONYMOUS,
    AuditAction,
    ObjectType,
    Outcome,
    record_event,
)
from reporting_portal.domain.actors import Actor, record_account_event
from reporting_portal.domain.installation import get_installation
from reporting_portal.storage.models import PasskeyRequiredRole, Role, StaffAccount, StaffPasskey

# A whole credential as the browser's toJSON() gives it: a few kilobytes at most.
MAX_CREDENTIAL_JSON_CHARS = 16384
MAX_PASSKEY_NAME_CHARS = 64
# More than anyone keeps (a phone, a laptop, two security keys), and a bound on the
# options every sign-in page of this person carries.
MAX_PASSKEYS = 10
_TIMEOUT_MS = 120_000


class PasskeyError(Exception):
    """The browser's answer is not a valid, fresh, user-verified assertion or attestation
    for this relying party and origin."""


class CounterWentBackError(PasskeyError):
    """A genuine signature with a counter at or below the stored one: a cloned key."""


class TooManyPasskeysError(Exception):
    """The account holds :data:`MAX_PASSKEYS` already."""


@dataclass(frozen=True)
class Challenge:
    """What the page needs (the options as JSON) and what the session keeps (the challenge)."""

    options_json: str
    challenge: bytes


@dataclass(frozen=True)
class PasskeyUse:
    """A verified assertion: whose passkey it was, and what it unlocked."""

    passkey: StaffPasskey
    account: StaffAccount
    prf_output: bytes | None
    identity: str | None


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _from_b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def passkeys_of(db: Session, account: StaffAccount) -> list[StaffPasskey]:
    return list(db.scalars(select(StaffPasskey).where(StaffPasskey.staff_id == account.id)
                           .order_by(StaffPasskey.created_at, StaffPasskey.id)))


def has_passkey(db: Session, account: StaffAccount) -> bool:
    count = db.scalar(select(func.count()).select_from(StaffPasskey)
                      .where(StaffPasskey.staff_id == account.id))
    return bool(count)


def required_roles(db: Session) -> frozenset[Role]:
    """The roles whose members must sign in with a passkey (an administrator's choice)."""
    return frozenset(Role(role) for role in db.scalars(select(PasskeyRequiredRole.role)))


def set_required_roles(db: Session, actor: Actor, roles: frozenset[Role]) -> bool:
    """Require passkeys for exactly ``roles``; an audit event when that changes anything."""
    if roles == required_roles(db):
        return False
    db.execute(delete(PasskeyRequiredRole))
    db.add_all(PasskeyRequiredRole(role=str(role)) for role in sorted(roles))
    record_event(db, AuditAction.PASSKEY_ROLES_CHANGED, actor=actor.account,
                 actor_role=actor.role, object_type=ObjectType.INSTALLATION,
                 object_id=str(get_installation(db).id))
    return True


def role_requires_passkey(db: Session, account: StaffAccount) -> bool:
    """Whether one of the account's roles must sign in with a passkey."""
    return bool(account.role_set & required_roles(db))


def password_sign_in_refused(db: Session, account: StaffAccount) -> bool:
    """Whether password and TOTP code no longer sign this account in: it chose
    passkey-only, or its role requires passkeys and it has one."""
    return account.passkey_only or (role_requires_passkey(db, account)
                                    and has_passkey(db, account))


def registration_challenge(db: Session, settings: Settings, account: StaffAccount) -> Challenge:
    """Options for navigator.credentials.create(): a discoverable credential, user
    verification required, attestation none, none of the person's passkeys again."""
    options = generate_registration_options(
        rp_id=settings.webauthn_rp_id,
        rp_name=settings.organisation_name,
        user_name=account.username,
        # The user handle names no person: the account's random public id.
        user_id=account.public_id.encode("ascii"),
        user_display_name=account.display_name,
        timeout=_TIMEOUT_MS,
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=passkey.credential_id)
                             for passkey in passkeys_of(db, account)],
    )
    return Challenge(options_to_json(options), options.challenge)


def sign_in_challenge(settings: Settings,
                      allow: list[StaffPasskey] | None = None) -> Challenge:
    """Options for navigator.credentials.get(): any discoverable passkey of this relying
    party (or only those in ``allow``), user verification required."""
    options = generate_authentication_options(
        rp_id=settings.webauthn_rp_id,
        timeout=_TIMEOUT_MS,
        allow_credentials=[PublicKeyCredentialDescriptor(id=passkey.credential_id)
                           for passkey in allow or []],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return Challenge(options_to_json(options), options.challenge)


def prf_input_b64url() -> str:
    """What the page asks the authenticator's PRF to evaluate, as base64url."""
    return _b64url(PRF_INPUT)


def _parse_json(text: str) -> dict[str, Any]:
    if not text or len(text) > MAX_CREDENTIAL_JSON_CHARS:
        raise PasskeyError("no credential, or one too large")
    try:
        parsed = json.loads(text)
    except ValueError:
        raise PasskeyError("not JSON") from None
    if not isinstance(parsed, dict):
        raise PasskeyError("not a credential")
    return parsed


def prf_output_of(credential: dict[str, Any]) -> bytes | None:
    """The PRF output in an assertion's client extension results, if any (32 bytes)."""
    results = credential.get("clientExtensionResults")
    prf = results.get("prf") if isinstance(results, dict) else None
    first = (prf.get("results") or {}).get("first") if isinstance(prf, dict) else None
    if not isinstance(first, str) or len(first) > 2 * PRF_OUTPUT_BYTES:
        return None
    try:
        output = _from_b64url(first)
    except (binascii.Error, ValueError):
        return None
    return output if len(output) == PRF_OUTPUT_BYTES else None


def register_passkey(
    db: Session,
    settings: Settings,
    account: StaffAccount,
    *,
    name: str,
    credential_json: str,
    challenge: bytes,
) -> StaffPasskey:
    """Verify the browser's attestation and keep the new credential.

    Raises :class:`PasskeyError` (recorded as a failure) for anything not a valid,
    user-verified registration for this relying party and origin.
    """
    if len(passkeys_of(db, account)) >= MAX_PASSKEYS:
        raise TooManyPasskeysError
    credential = _parse_json(credential_json)
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=settings.webauthn_rp_id,
            expected_origin=settings.webauthn_origin,
            require_user_verification=True,
        )
    except (InvalidRegistrationResponse, InvalidJSONStructure, KeyError, TypeError,
            ValueError):
        record_account_event(db, Actor.member(account), AuditAction.PASSKEY_REGISTRATION_FAILED,
                             account.public_id, outcome=Outcome.FAILURE)
        raise PasskeyError("registration refused") from None
    if db.scalar(select(StaffPasskey.id).where(
            StaffPasskey.credential_id == verified.credential_id)) is not None:
        record_account_event(db, Actor.member(account), AuditAction.PASSKEY_REGISTRATION_FAILED,
                             account.public_id, outcome=Outcome.FAILURE)
        raise PasskeyError("credential already registered")
    passkey = StaffPasskey(
        staff_id=account.id,
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        name=name.strip()[:MAX_PASSKEY_NAME_CHARS],
    )
    db.add(passkey)
    db.flush()  # the public id names the passkey in the audit event
    _record(db, account, AuditAction.PASSKEY_REGISTERED, passkey)
    return passkey


def verify_passkey(
    db: Session,
    settings: Settings,
    *,
    credential_json: str,
    challenge: bytes,
    expected_account: StaffAccount | None = None,
) -> PasskeyUse:
    """Verify an assertion: signature, challenge, relying party, origin, user
    verification, and a counter that went forward. Unlock the identity copy with the PRF
    output where there is one (and the setting allows).

    Raises :class:`PasskeyError` for anything else; :class:`CounterWentBackError` for a
    valid signature whose counter did not move forward (refused, audited as denied).
    """
    credential = _parse_json(credential_json)
    try:
        parsed = parse_authentication_credential_json(credential)
    except (InvalidJSONStructure, InvalidAuthenticationResponse, KeyError, TypeError,
            ValueError):
        _record_unknown(db)
        raise PasskeyError("not an assertion") from None
    passkey = db.scalar(select(StaffPasskey).where(
        StaffPasskey.credential_id == parsed.raw_id))
    account = db.get(StaffAccount, passkey.staff_id) if passkey is not None else None
    if passkey is None or account is None or not account.is_active or (
            expected_account is not None and account.id != expected_account.id):
        _record_unknown(db)
        raise PasskeyError("unknown credential")
    try:
        # The counter is checked below, after the signature: only then is a counter that
        # went back the mark of a cloned key and not of a forged answer.
        verified = verify_authentication_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=settings.webauthn_rp_id,
            expected_origin=settings.webauthn_origin,
            credential_public_key=passkey.public_key,
            credential_current_sign_count=0,
            require_user_verification=True,
        )
    except (InvalidAuthenticationResponse, InvalidJSONStructure, KeyError, TypeError,
            ValueError):
        _record(db, account, AuditAction.PASSKEY_SIGN_IN_FAILED, passkey, Outcome.FAILURE)
        raise PasskeyError("assertion refused") from None
    if (verified.new_sign_count or passkey.sign_count) and (
            verified.new_sign_count <= passkey.sign_count):
        _record(db, account, AuditAction.PASSKEY_COUNTER_WENT_BACK, passkey, Outcome.DENIED)
        raise CounterWentBackError("signature counter did not advance")
    passkey.sign_count = verified.new_sign_count
    passkey.last_used_at = datetime.now(UTC)
    _record(db, account, AuditAction.PASSKEY_USED, passkey)
    prf_output = prf_output_of(credential)
    identity = (unlock_with_passkey(passkey, account, prf_output)
                if settings.passkey_key_unlock else None)
    return PasskeyUse(passkey=passkey, account=account, prf_output=prf_output,
                      identity=identity)


def unlock_with_passkey(passkey: StaffPasskey, account: StaffAccount,
                        prf_output: bytes | None) -> str | None:
    """The identity in the passkey's copy, if it has one and ``prf_output`` opens it, and
    it is still the account's key."""
    if prf_output is None or passkey.wrapped_identity is None or passkey.prf_salt is None:
        return None
    try:
        secret = unwrap_with_prf(passkey.wrapped_identity, prf_output, passkey.prf_salt,
                                 passkey.credential_id).decode("ascii")
    except KeyWrapError:
        return None
    return secret if str(parse_identity(secret).recipient) == account.age_recipient else None


def keep_identity_copy(db: Session, settings: Settings, passkey: StaffPasskey,
                       account: StaffAccount, prf_output: bytes | None,
                       identity: str | None) -> bool:
    """Wrap a copy of ``identity`` (the account's, just unlocked) under the PRF output.

    Does nothing, and returns False, without an output, without the setting, or for an
    identity that is not the account's current key.
    """
    if (prf_output is None or identity is None or not settings.passkey_key_unlock
            or str(parse_identity(identity).recipient) != account.age_recipient):
        return False
    salt = new_salt()
    passkey.prf_salt = salt
    passkey.wrapped_identity = wrap_with_prf(identity.encode("ascii"), prf_output, salt,
                                             passkey.credential_id)
    _record(db, account, AuditAction.PASSKEY_KEY_COPY_MADE, passkey)
    return True


def remove_passkey(db: Session, account: StaffAccount, public_id: str) -> bool:
    """Delete one of the account's passkeys and its wrapped copy of the key.

    The last passkey gone, the account signs in with password and code again.
    Returns False for a passkey that is not this account's.
    """
    passkey = db.scalar(select(StaffPasskey).where(StaffPasskey.public_id == public_id,
                                                   StaffPasskey.staff_id == account.id))
    if passkey is None:
        return False
    _record(db, account, AuditAction.PASSKEY_REMOVED, passkey)
    db.delete(passkey)
    db.flush()
    if account.passkey_only and not has_passkey(db, account):
        set_passkey_only(db, account, enabled=False)
    return True


def set_passkey_only(db: Session, account: StaffAccount, *, enabled: bool) -> bool:
    """Switch passkey-only sign-in on (with a passkey registered) or off."""
    if enabled and not has_passkey(db, account):
        return False
    if account.passkey_only == enabled:
        return True
    account.passkey_only = enabled
    action = (AuditAction.PASSKEY_ONLY_ENABLED if enabled
              else AuditAction.PASSKEY_ONLY_DISABLED)
    record_account_event(db, Actor.member(account), action, account.public_id)
    return True


def drop_identity_copies(db: Session, account: StaffAccount) -> int:
    """Forget every passkey copy of the key (a rotation replaced it); how many there were."""
    dropped = 0
    for passkey in passkeys_of(db, account):
        if passkey.wrapped_identity is not None:
            passkey.wrapped_identity = None
            passkey.prf_salt = None
            dropped += 1
    return dropped


def _record(db: Session, account: StaffAccount, action: AuditAction, passkey: StaffPasskey,
            outcome: Outcome = Outcome.SUCCESS) -> None:
    actor = Actor.member(account)
    record_event(db, action, actor=actor.account, actor_role=actor.role, outcome=outcome,
                 object_type=ObjectType.PASSKEY, object_id=passkey.public_id)


def _record_unknown(db: Session) -> None:
    # Nobody is known: a credential of no account here, or not a credential at all.
    record_event(db, AuditAction.PASSKEY_SIGN_IN_FAILED, actor=None, actor_role=ANONYMOUS,
                 outcome=Outcome.FAILURE)
