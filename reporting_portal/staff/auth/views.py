"""Staff sign-in views: parse the form, call one service, render."""

from __future__ import annotations

from datetime import timedelta

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.wrappers import Response as BaseResponse

from reporting_portal.domain.passwords import WeakPasswordError, get_passwords
from reporting_portal.staff.auth import bp, services
from reporting_portal.staff.auth.devices import COOKIE_NAME as DEVICE_COOKIE
from reporting_portal.staff.auth.devices import new_device_cookie
from reporting_portal.staff.auth.forms import (
    ChangePasswordForm,
    EnrolTotpForm,
    NewPasswordForm,
    SignInForm,
    SignOutForm,
)
from reporting_portal.staff.auth.key_rotation import previous_identity_at_sign_in
from reporting_portal.staff.auth.passkey_challenges import (
    UNLOCK_PENDING,
    sign_in_passkey_context,
)
from reporting_portal.staff.auth.passkeys import has_passkey, role_requires_passkey
from reporting_portal.staff.auth.services import (
    CurrentPasswordError,
    PasswordCheckThrottledError,
    SignInRefusedError,
    SignInThrottledError,
    WrongCodeError,
    enrol_totp,
    record_sign_out,
    record_signed_in,
    set_password,
    spend_password_check,
    unlock_identity,
)
from reporting_portal.staff.auth.totp import (
    new_totp_secret,
    provisioning_uri,
    qr_code_svg,
    secret_for_reading,
)
from reporting_portal.staff.auth.viewer import (
    IDENTITY_KEY,
    SIGNED_IN,
    SIGNING_IN,
    current_viewer,
    keep_identity,
    keep_previous_identity,
    promote_to_signed_in,
    session_token,
    start_staff_session,
)
from reporting_portal.web.database import get_session
from reporting_portal.web.extensions import get_settings
from reporting_portal.web.languages import clear_keeping_language
from reporting_portal.web.security.access import public, signing_in, staff
from reporting_portal.web.security.rate_limit import get_rate_limits, minutes_to_wait

Page = str | BaseResponse


def password_checks_refused(retry_after: timedelta) -> str:
    """What a signed-in person reads when their password re-checks are spent."""
    message: str = ngettext(
        "Too many wrong passwords. Try again in %(num)d minute.",
        "Too many wrong passwords. Try again in %(num)d minutes.",
        minutes_to_wait(retry_after),
    )
    return message


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in() -> Page:
    form = SignInForm()
    error = None
    if form.validate_on_submit():
        try:
            accepted = services.sign_in(
                get_session(),
                get_passwords(),
                get_settings(),
                get_rate_limits(),
                username=form.username.data or "",
                password=form.password.data or "",
                code=form.code.data or "",
                device_cookie=request.cookies.get(DEVICE_COOKIE),
            )
        except SignInRefusedError:
            error = _("Sign-in failed. Check the account name, password and code.")
        except SignInThrottledError as throttled:
            error = ngettext(
                "Too many failed attempts for this account. Try again in %(num)d minute.",
                "Too many failed attempts for this account. Try again in %(num)d minutes.",
                minutes_to_wait(throttled.retry_after),
            )
        else:
            stage = SIGNED_IN if accepted.complete else SIGNING_IN
            start_staff_session(accepted.account, stage=stage)
            identity = unlock_identity(get_passwords(), accepted.account,
                                       form.password.data or "")
            if identity is not None:
                keep_identity(identity)
            # A rotation of the person's key in progress: the old key still opens what
            # is not re-granted yet (auth/key_rotation).
            keep_previous_identity(previous_identity_at_sign_in(
                get_session(), accepted.account, form.password.data or ""))
            response = redirect(url_for("auth.continue_sign_in"))
            _remember_device(response, accepted.account.username)
            return response
    return render_template("auth/sign_in.html", form=form, error=error,
                           **sign_in_passkey_context())


def _remember_device(response: BaseResponse, username: str) -> None:
    """Give this browser its own sign-in budget for the account (auth/devices.py).

    A new nonce at every sign-in, as OWASP advises; it survives sign-out on purpose.
    """
    settings = get_settings()
    response.set_cookie(
        DEVICE_COOKIE,
        new_device_cookie(settings.secret_key, username),
        max_age=int(timedelta(days=settings.device_cookie_days).total_seconds()),
        path="/",
        secure=True,
        httponly=True,
        samesite="Strict",
    )


@bp.route("/sign-in/continue")
@signing_in
def continue_sign_in() -> BaseResponse:
    """Send the person to the next step their account still needs."""
    viewer = current_viewer()
    if session.get(UNLOCK_PENDING) is not None:
        return redirect(url_for("auth.passkey_password"))
    if viewer.account.totp_enrolled_at is None:
        return redirect(url_for("auth.enrol_two_factor"))
    if viewer.account.must_change_password:
        return redirect(url_for("auth.choose_password"))
    if role_requires_passkey(get_session(), viewer.account) and not has_passkey(
            get_session(), viewer.account):
        return redirect(url_for("auth.passkey_required"))
    if viewer.stage != SIGNED_IN:
        record_signed_in(get_session(), viewer.account)
        promote_to_signed_in(viewer.account)
    return redirect(url_for("staff_home.home"))


@bp.route("/sign-in/two-factor", methods=["GET", "POST"])
@signing_in
def enrol_two_factor() -> Page:
    viewer = current_viewer()
    if viewer.account.totp_enrolled_at is not None:
        return redirect(url_for("auth.continue_sign_in"))
    # The candidate secret waits in the encrypted server-side session until confirmed.
    secret = session.get("totp_candidate")
    if not isinstance(secret, str):
        secret = new_totp_secret()
        session["totp_candidate"] = secret
    form = EnrolTotpForm()
    error = None
    if form.validate_on_submit():
        try:
            enrol_totp(get_session(), viewer.account, secret=secret, code=form.code.data or "")
        except WrongCodeError:
            error = _("That code is not right. Check the clock of your phone and try again.")
        else:
            session.pop("totp_candidate", None)
            return redirect(url_for("auth.continue_sign_in"))
    uri = provisioning_uri(
        secret, account_name=viewer.account.username, issuer=get_settings().totp_issuer
    )
    return render_template(
        "auth/enrol.html", form=form, error=error, qr_svg=qr_code_svg(uri),
        secret=secret_for_reading(secret),
    )


@bp.route("/sign-in/new-password", methods=["GET", "POST"])
@signing_in
def choose_password() -> Page:
    viewer = current_viewer()
    if not viewer.account.must_change_password:
        return redirect(url_for("auth.continue_sign_in"))
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            created = set_password(
                get_session(),
                get_passwords(),
                viewer.account,
                new_password=form.new_password.data or "",
                current_password=None,
                keep_session_token=session_token(),
                unlocked_identity=session.get(IDENTITY_KEY),
            )
        except WeakPasswordError as weak:
            form.new_password.errors = [str(weak)]
        else:
            if created is not None:
                keep_identity(created)
            return redirect(url_for("auth.continue_sign_in"))
    return render_template("auth/new_password.html", form=form)


@bp.route("/account/password", methods=["GET", "POST"])
@staff()
def change_password() -> Page:
    viewer = current_viewer()
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            # Every change spends a re-check, right or wrong: set_password checks the
            # current password and writes in one go, so there is no moment to give it back.
            spend_password_check(get_session(), get_rate_limits(), get_settings(),
                                 viewer.account)
            created = set_password(
                get_session(),
                get_passwords(),
                viewer.account,
                new_password=form.new_password.data or "",
                current_password=form.current_password.data or "",
                keep_session_token=session_token(),
            )
        except PasswordCheckThrottledError as throttled:
            form.current_password.errors = [password_checks_refused(throttled.retry_after)]
        except CurrentPasswordError:
            form.current_password.errors = [_("The current password is not right.")]
        except WeakPasswordError as weak:
            form.new_password.errors = [str(weak)]
        else:
            promote_to_signed_in(viewer.account)
            if created is not None:
                keep_identity(created)
            flash(_("Your password was changed. Other sessions were signed out."), "success")
            return redirect(url_for("staff_home.home"))
    return render_template("auth/change_password.html", form=form)


@bp.route("/sign-out", methods=["POST"])
@signing_in
def sign_out() -> BaseResponse:
    form = SignOutForm()
    if form.validate_on_submit():
        record_sign_out(get_session(), current_viewer().account)
        clear_keeping_language(session)
    response = redirect(url_for("auth.sign_in"))
    # Drop what the browser kept of this origin (GlobaLeaks does the same). Not
    # "cookies": the session cookie is deleted with its row, and the device cookie must
    # outlive sign-out to keep this browser's own sign-in budget (auth/devices.py).
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response
