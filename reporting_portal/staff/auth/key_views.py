"""A staff member's own key rotation: parse the form, call one service, render."""

from __future__ import annotations

from flask import flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from reporting_portal.domain.key_rotation import RotationError, stale_page_grace
from reporting_portal.domain.passwords import get_passwords
from reporting_portal.staff.auth import bp
from reporting_portal.staff.auth.forms import ContinueKeyRotationForm, RotateKeyForm
from reporting_portal.staff.auth.key_rotation import (
    NoKeyError,
    RotationInProgressError,
    continue_staff_rotation,
    old_identity_of,
    staff_rotation_progress,
    start_staff_rotation,
    unlock_current_identity,
)
from reporting_portal.staff.auth.services import (
    CurrentPasswordError,
    PasswordCheckThrottledError,
    spend_password_check,
)
from reporting_portal.staff.auth.viewer import (
    PREVIOUS_IDENTITY_KEY,
    current_viewer,
    keep_identity,
    keep_previous_identity,
    session_token,
)
from reporting_portal.staff.auth.views import password_checks_refused
from reporting_portal.web.database import get_session
from reporting_portal.web.extensions import get_settings
from reporting_portal.web.security.access import staff
from reporting_portal.web.security.rate_limit import get_rate_limits

Page = str | BaseResponse


def _page(form: RotateKeyForm, *, status: int = 200) -> tuple[str, int]:
    account = current_viewer().account
    return render_template(
        "auth/rotate_key.html", form=form, continue_form=ContinueKeyRotationForm(),
        progress=staff_rotation_progress(get_session(), account),
        has_key=account.wrapped_identity is not None), status


@bp.route("/account/key", methods=["GET", "POST"])
@staff()
def rotate_key() -> Page | tuple[str, int]:
    """Start a rotation of the person's own key pair, after the password again."""
    form = RotateKeyForm()
    if not form.validate_on_submit():
        return _page(form, status=400 if form.is_submitted() else 200)
    account = current_viewer().account
    db = get_session()
    try:
        # A stolen session must not guess the password here (issue 11, item 13).
        spent = spend_password_check(db, get_rate_limits(), get_settings(), account)
        old_identity = unlock_current_identity(account, form.password.data or "")
    except PasswordCheckThrottledError as throttled:
        form.password.errors = [password_checks_refused(throttled.retry_after)]
        return _page(form, status=429)
    except CurrentPasswordError:
        form.password.errors = [_("That password is not right.")]
        return _page(form, status=400)
    except NoKeyError:
        form.password.errors = [_("Your account has no key yet: choose a password first.")]
        return _page(form, status=409)
    get_rate_limits().refund(spent)  # before the rotation below writes anything
    try:
        new_identity = start_staff_rotation(
            db, get_passwords(), account, password=form.password.data or "",
            old_identity=old_identity, keep_session_token=session_token(),
            grace=stale_page_grace(get_settings().reporter_idle_minutes))
    except RotationInProgressError:
        return redirect(url_for("auth.rotate_key"))
    keep_identity(new_identity)
    keep_previous_identity(old_identity)
    return _continue()


@bp.route("/account/key/continue", methods=["POST"])
@staff()
def continue_key_rotation() -> Page | tuple[str, int]:
    """Re-grant the next batches of the rotation in progress, then show how far it is."""
    if not ContinueKeyRotationForm().validate_on_submit():
        return _page(RotateKeyForm(formdata=None), status=400)
    return _continue()


def _continue() -> BaseResponse:
    viewer = current_viewer()
    db = get_session()
    old_identity = old_identity_of(db, viewer.account, session.get(PREVIOUS_IDENTITY_KEY))
    if old_identity is None:
        if staff_rotation_progress(db, viewer.account) is not None:
            flash(_("Sign in again to continue: this session does not hold your old key."),
                  "error")
        return redirect(url_for("auth.rotate_key"))
    try:
        progress = continue_staff_rotation(db, viewer.account, old_identity)
    except RotationError:
        db.rollback()  # nothing of the failed batch is kept
        flash(_("One of your objects cannot be re-granted. Ask an administrator to check "
                "the installation; your old key keeps working until then."), "error")
        return redirect(url_for("auth.rotate_key"))
    if progress is not None and progress.completed:
        keep_previous_identity(None)
        flash(_("Your new key opens everything your old key opened. The old key is gone."),
              "success")
    return redirect(url_for("auth.rotate_key"))
