"""Sign-in forms: they check shape; the services check the rules."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import AnyOf, EqualTo, InputRequired, Length, Optional


class SignInForm(FlaskForm):
    username = StringField(
        _l("Account name"),
        validators=[InputRequired(), Length(max=64)],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[InputRequired(), Length(max=256)],
        render_kw={"autocomplete": "current-password"},
    )
    code = StringField(
        _l("Code from your authenticator app"),
        description=_l("Six digits. Leave empty only when signing in for the first time."),
        validators=[Optional(), Length(max=12)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


class EnrolTotpForm(FlaskForm):
    code = StringField(
        _l("Code shown by your authenticator app"),
        validators=[InputRequired(), Length(max=12)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


class NewPasswordForm(FlaskForm):
    new_password = PasswordField(
        _l("New password"),
        description=_l("At least 12 characters. A few unrelated words work well."),
        validators=[InputRequired(), Length(max=256)],
        render_kw={"autocomplete": "new-password"},
    )
    confirm_password = PasswordField(
        _l("New password, again"),
        validators=[
            InputRequired(),
            EqualTo("new_password", message=_l("The two passwords differ.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class ChangePasswordForm(NewPasswordForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[InputRequired(), Length(max=256)],
        render_kw={"autocomplete": "current-password"},
    )


class SignOutForm(FlaskForm):
    """Sign-out is a POST with a CSRF token: a link could be forged (SecureDrop 2024)."""


class RotateKeyForm(FlaskForm):
    """The password again, before a new key pair replaces the old one."""

    password = PasswordField(
        _l("Your password"),
        validators=[InputRequired(), Length(max=256)],
        render_kw={"autocomplete": "current-password"},
    )


class ContinueKeyRotationForm(FlaskForm):
    """The next batches of a key rotation: a POST with a CSRF token, nothing else."""


class AddPasskeyForm(FlaskForm):
    """A new passkey: its name, and what the browser script fills in (web/src/passkeys.js).

    ``credential`` is the attestation; ``unlock`` the assertion that follows it where the
    authenticator has PRF, to wrap the key's copy.
    """

    name = StringField(
        _l("A name for this passkey"),
        description=_l("To tell your passkeys apart, such as “work laptop” or “blue key”."),
        validators=[InputRequired(), Length(max=64)],
    )
    credential = HiddenField(validators=[InputRequired(), Length(max=16384)])
    unlock = HiddenField(validators=[Optional(), Length(max=16384)])


class PasskeySignInForm(FlaskForm):
    """The browser's assertion, filled in by web/src/passkeys.js."""

    credential = HiddenField(validators=[InputRequired(), Length(max=16384)])


class RemovePasskeyForm(FlaskForm):
    """Removing a passkey: a POST with a CSRF token."""


class PasskeyOnlyForm(FlaskForm):
    enabled = HiddenField(validators=[InputRequired(), AnyOf(["on", "off"])])


class UnlockKeyForm(FlaskForm):
    """The password after a passkey, to unlock the key where the passkey cannot."""

    password = PasswordField(
        _l("Your password"),
        validators=[InputRequired(), Length(max=256)],
        render_kw={"autocomplete": "current-password"},
    )
