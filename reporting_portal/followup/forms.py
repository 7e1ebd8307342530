"""Follow-up forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import InputRequired, Length


class ReceiptForm(FlaskForm):
    code = StringField(
        _l("Receipt code"),
        description=_l("The 28 digits you were given. Spaces and dashes do not matter."),
        validators=[InputRequired(), Length(max=200)],
        render_kw={"autocomplete": "off", "inputmode": "numeric", "spellcheck": "false",
                   "autocapitalize": "none"},
    )


class SignOutForm(FlaskForm):
    """A POST with a CSRF token."""
