"""Staff sign-in views: parse the form, call one service, render."""

from __future__ import annotations

from flask import flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from reporting_portal.auth import bp, services
from reporting_portal.auth.forms import (
    ChangePasswordForm,
    EnrolTotpForm,
    NewPasswordForm,
    SignInForm,
    SignOutForm,
)
from reporting_portal.auth.passwords import WeakPasswordError
from reporting_portal.auth.services import (
    CurrentPasswordError,
    SignInRefusedError,
    SignInThrottledError,
    WrongCodeError,
    enrol_totp,
    record_sign_out,
    record_signed_in,
    set_password,
    unlock_identity,
)
from reporting_portal.auth.totp import new_totp_secret, provisioning_uri, qr_code_svg
from reporting_portal.auth.viewer import (
    IDENTITY_KEY,
    SIGNED_IN,
    SIGNING_IN,
    current_viewer,
    keep_identity,
    promote_to_signed_in,
    session_token,
    start_staff_session,
)
from reporting_portal.db import get_session
from reporting_portal.extensions import get_passwords, get_settings
from reporting_portal.security.access import public, signing_in, staff

Page = str | BaseResponse


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
                username=form.username.data or "",
                password=form.password.data or "",
                code=form.code.data or "",
            )
        except SignInRefusedError:
            error = _("Sign-in failed. Check the account name, password and code.")
        except SignInThrottledError:
            error = _("Too many failed attempts for this account. Try again in 15 minutes.")
        else:
            stage = SIGNED_IN if accepted.complete else SIGNING_IN
            start_staff_session(accepted.account, stage=stage)
            identity = unlock_identity(get_passwords(), accepted.account,
                                       form.password.data or "")
            if identity is not None:
                keep_identity(identity)
            return redirect(url_for("auth.continue_sign_in"))
    return render_template("auth/sign_in.html", form=form, error=error)


@bp.route("/sign-in/continue")
@signing_in
def continue_sign_in() -> BaseResponse:
    """Send the person to the next step their account still needs."""
    viewer = current_viewer()
    if viewer.account.totp_enrolled_at is None:
        return redirect(url_for("auth.enrol_two_factor"))
    if viewer.account.must_change_password:
        return redirect(url_for("auth.choose_password"))
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
        "auth/enrol.html", form=form, error=error, qr_svg=qr_code_svg(uri), secret=secret
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
            created = set_password(
                get_session(),
                get_passwords(),
                viewer.account,
                new_password=form.new_password.data or "",
                current_password=form.current_password.data or "",
                keep_session_token=session_token(),
            )
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
        session.clear()
    response = redirect(url_for("auth.sign_in"))
    # Drop anything the browser kept of this origin (GlobaLeaks does the same).
    response.headers["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    return response
