"""Follow-up forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import InputRequired, Length, Optional, Regexp


class ReceiptForm(FlaskForm):
    code = StringField(
        _l("Receipt code"),
        description=_l("The 28 digits you were given. Spaces and dashes do not matter."),
        validators=[InputRequired(), Length(max=200)],
        render_kw={"autocomplete": "off", "inputmode": "numeric", "spellcheck": "false",
                   "autocapitalize": "none"},
    )
    # Filled by the page's script (receipt-pow.bundle.js); empty without JavaScript,
    # which puts the sign-in in the plain lane.
    pow_level = HiddenField(validators=[Optional(), Regexp(r"^[0-9]{1,2}$")])
    pow_nonce = HiddenField(validators=[Optional(), Regexp(r"^[0-9]{1,16}$")])
    # How many times the script has sent this sign-in again by itself (levels filling).
    pow_retries = HiddenField(validators=[Optional(), Regexp(r"^[0-9]{1,2}$")])


class SignOutForm(FlaskForm):
    """A POST with a CSRF token."""
