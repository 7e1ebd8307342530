"""Passkeys: the account's list, adding and removing one, and signing in with one.

The pages carry the WebAuthn options as JSON; web/src/passkeys.js asks the browser for
the credential and posts it in an ordinary form with its CSRF token, so the script makes
no request of its own (challenges: auth/passkey_challenges).
"""

from __future__ import annotations

import base64
import json
from typing import Any

from flask import flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from reporting_portal.domain.passwords import get_passwords
from reporting_portal.staff.auth import bp
from reporting_portal.staff.auth.forms import (
    AddPasskeyForm,
    PasskeyOnlyForm,
    PasskeySignInForm,
    RemovePasskeyForm,
    SignInForm,
    UnlockKeyForm,
)
from reporting_portal.staff.auth.key_rotation import (
    previous_identity_at_sign_in,
    staff_rotation,
)
from reporting_portal.staff.auth.passkey_challenges import (
    UNLOCK_PENDING,
    encode,
    keep_challenge,
    script_context,
    sign_in_passkey_context,
    spend_challenge,
)
from reporting_portal.staff.auth.passkeys import (
    CounterWentBackError,
    PasskeyError,
    TooManyPasskeysError,
    keep_identity_copy,
    passkeys_of,
    register_passkey,
    registration_challenge,
    remove_passkey,
    role_requires_passkey,
    set_passkey_only,
    sign_in_challenge,
    verify_passkey,
)
from reporting_portal.staff.auth.services import (
    PasswordCheckThrottledError,
    spend_password_check,
    unlock_identity,
)
from reporting_portal.staff.auth.viewer import (
    IDENTITY_KEY,
    SIGNING_IN,
    current_viewer,
    keep_identity,
    keep_previous_identity,
    start_staff_session,
)
from reporting_portal.staff.auth.views import password_checks_refused
from reporting_portal.storage.models import StaffAccount, StaffPasskey
from reporting_portal.web.database import get_session
from reporting_portal.web.extensions import get_settings
from reporting_portal.web.security.access import public, signing_in, staff
from reporting_portal.web.security.rate_limit import get_rate_limits

Page = str | BaseResponse


def _registration_context(form: AddPasskeyForm) -> dict[str, Any]:
    account = current_viewer().account
    db = get_session()
    registration = registration_challenge(db, get_settings(), account)
    unlock = sign_in_challenge(get_settings())
    keep_challenge("register", registration.challenge)
    keep_challenge("unlock", unlock.challenge)
    return {"form": form, "registration_options": json.loads(registration.options_json),
            "unlock_options": json.loads(unlock.options_json), **script_context()}


def _add(form: AddPasskeyForm) -> StaffPasskey | None:
    """Register the posted passkey, and wrap the key's copy when its assertion came along.

    Puts the form's error on it and returns None when refused.
    """
    account = current_viewer().account
    db = get_session()
    settings = get_settings()
    registration, unlock = spend_challenge("register"), spend_challenge("unlock")
    if registration is None:
        form.name.errors = [_("This page was open too long. Try again.")]
        return None
    try:
        passkey = register_passkey(db, settings, account, name=form.name.data or "",
                                   credential_json=form.credential.data or "",
                                   challenge=registration)
    except TooManyPasskeysError:
        form.name.errors = [_("You have as many passkeys as an account may hold. "
                              "Remove one first.")]
        return None
    except PasskeyError:
        form.name.errors = [_("Your browser's answer was refused. Try again.")]
        return None
    if form.unlock.data and unlock is not None:
        try:
            use = verify_passkey(db, settings, credential_json=form.unlock.data,
                                 challenge=unlock, expected_account=account)
        except PasskeyError:
            use = None
        identity = session.get(IDENTITY_KEY)
        if use is not None and use.passkey.id == passkey.id and isinstance(identity, str):
            keep_identity_copy(db, settings, passkey, account, use.prf_output, identity)
    return passkey


def _added_message(passkey: StaffPasskey) -> str:
    if passkey.wrapped_identity is not None:
        message: str = _("Passkey added. It also unlocks your key: you can sign in with it "
                         "alone and open your cases without typing your password.")
    elif get_settings().passkey_key_unlock:
        message = _("Passkey added. It signs you in, but this authenticator cannot unlock "
                    "your key: after it, you type your password.")
    else:
        message = _("Passkey added. After signing in with it you type your password to "
                    "unlock your key.")
    return message


@bp.route("/account/passkeys", methods=["GET", "POST"])
@staff()
def passkeys() -> Page | tuple[str, int]:
    form = AddPasskeyForm()
    if form.validate_on_submit():
        passkey = _add(form)
        if passkey is not None:
            flash(_added_message(passkey), "success")
            return redirect(url_for("auth.passkeys"))
        status = 400
    else:
        status = 400 if form.is_submitted() else 200
    account = current_viewer().account
    return render_template(
        "auth/passkeys.html", account=account, passkeys=passkeys_of(get_session(), account),
        remove_form=RemovePasskeyForm(formdata=None), only_form=PasskeyOnlyForm(formdata=None),
        key_unlock=get_settings().passkey_key_unlock,
        required=role_requires_passkey(get_session(), account),
        **_registration_context(form)), status


@bp.route("/account/passkeys/<public_id>/remove", methods=["POST"])
@staff()
def remove_passkey_view(public_id: str) -> BaseResponse:
    if RemovePasskeyForm().validate_on_submit():
        if remove_passkey(get_session(), current_viewer().account, public_id):
            flash(_("Passkey removed, with its copy of your key."), "success")
        else:
            flash(_("That passkey is not one of yours."), "error")
    return redirect(url_for("auth.passkeys"))


@bp.route("/account/passkeys/only", methods=["POST"])
@staff()
def passkey_only() -> BaseResponse:
    form = PasskeyOnlyForm()
    if form.validate_on_submit():
        enabled = form.enabled.data == "on"
        if set_passkey_only(get_session(), current_viewer().account, enabled=enabled):
            flash(_("From now on you sign in with a passkey only.") if enabled else
                  _("You can sign in with your password and code again."), "success")
        else:
            flash(_("Add a passkey first."), "error")
    return redirect(url_for("auth.passkeys"))


@bp.route("/sign-in/passkey", methods=["POST"])
@public
def sign_in_with_passkey() -> Page | tuple[str, int]:
    """Sign in with a passkey alone: the key too when its copy opens, else ask the password."""
    form = PasskeySignInForm()
    challenge = spend_challenge("sign_in")
    error = _("Sign-in with the passkey failed. Try again, or use your password and code.")
    if form.validate_on_submit() and challenge is not None:
        db = get_session()
        try:
            use = verify_passkey(db, get_settings(), credential_json=form.credential.data or "",
                                 challenge=challenge)
        except CounterWentBackError:
            error = _("This passkey was refused: its counter went back, as a copied "
                      "authenticator's does. Use another passkey and tell your administrator.")
        except PasskeyError:
            pass
        else:
            start_staff_session(use.account, stage=SIGNING_IN)
            needs_password = use.identity is None or staff_rotation(db, use.account) is not None
            if needs_password:
                prf = encode(use.prf_output) if use.prf_output is not None else None
                session[UNLOCK_PENDING] = {"passkey": use.passkey.public_id, "prf": prf}
            else:
                keep_identity(use.identity or "")
            return redirect(url_for("auth.continue_sign_in"))
    return _sign_in_page(error), 400


def _sign_in_page(error: str) -> str:
    return render_template("auth/sign_in.html", form=SignInForm(formdata=None), error=error,
                           **sign_in_passkey_context())


@bp.route("/sign-in/passkey/password", methods=["GET", "POST"])
@signing_in
def passkey_password() -> Page | tuple[str, int]:
    """After a passkey that cannot unlock the key: the password unlocks it, and the
    passkey's PRF output (if it gave one) wraps a new copy for next time."""
    pending = session.get(UNLOCK_PENDING)
    if not isinstance(pending, dict):
        return redirect(url_for("auth.continue_sign_in"))
    form = UnlockKeyForm()
    status = 200
    if form.validate_on_submit():
        account = current_viewer().account
        db = get_session()
        password = form.password.data or ""
        try:
            spent = spend_password_check(db, get_rate_limits(), get_settings(), account)
        except PasswordCheckThrottledError as throttled:
            form.password.errors = [password_checks_refused(throttled.retry_after)]
            return render_template("auth/passkey_password.html", form=form), 429
        if get_passwords().verify(account.password_hash, password):
            get_rate_limits().refund(spent)  # before the session below writes anything
            identity = unlock_identity(get_passwords(), account, password)
            if identity is not None:
                keep_identity(identity)
                _copy_after_password(account, pending, identity)
            keep_previous_identity(previous_identity_at_sign_in(db, account, password))
            session.pop(UNLOCK_PENDING, None)
            return redirect(url_for("auth.continue_sign_in"))
        form.password.errors = [_("That password is not right.")]
        status = 400
    return render_template("auth/passkey_password.html", form=form), status


def _copy_after_password(account: StaffAccount, pending: dict[str, Any], identity: str) -> None:
    prf = pending.get("prf")
    if not isinstance(prf, str):
        return
    for passkey in passkeys_of(get_session(), account):
        if passkey.public_id == pending.get("passkey"):
            keep_identity_copy(get_session(), get_settings(), passkey, account,
                               base64.b64decode(prf), identity)


@bp.route("/sign-in/passkey/required", methods=["GET", "POST"])
@signing_in
def passkey_required() -> Page | tuple[str, int]:
    """A member of a role that requires passkeys, without one: register it to go on.

    Only after the password and the TOTP code (or its enrolment) were accepted, and the
    password chosen: never a way around them.
    """
    account = current_viewer().account
    if account.totp_enrolled_at is None or account.must_change_password or (
            session.get(UNLOCK_PENDING) is not None):
        return redirect(url_for("auth.continue_sign_in"))
    form = AddPasskeyForm()
    status = 200
    if form.validate_on_submit():
        passkey = _add(form)
        if passkey is not None:
            flash(_added_message(passkey), "success")
            return redirect(url_for("auth.continue_sign_in"))
        status = 400
    elif form.is_submitted():
        status = 400
    return render_template("auth/passkey_required.html",
                           **_registration_context(form)), status
