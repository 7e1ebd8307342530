"""Account administration forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectMultipleField, StringField, widgets
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs predate 3.3
from wtforms.validators import InputRequired, Length, Optional

from reporting_portal.models import Role

ROLE_LABELS = {
    Role.ADMINISTRATOR: _l("Administrator"),
    Role.CASE_HANDLER: _l("Case handler"),
    Role.IDENTITY_CUSTODIAN: _l("Identity custodian"),
    Role.AUDITOR: _l("Auditor"),
}


class CreateAccountForm(FlaskForm):
    username = StringField(
        _l("Account name"),
        description=_l("Lower-case letters, digits, dots, dashes; 3 to 64 characters."),
        validators=[InputRequired(), Length(min=3, max=64)],
        render_kw={"autocapitalize": "none", "spellcheck": "false"},
    )
    display_name = StringField(
        _l("Full name"), validators=[InputRequired(), Length(max=128)]
    )
    email = EmailField(
        _l("Email for notifications (optional)"), validators=[Optional(), Length(max=254)]
    )
    roles = SelectMultipleField(
        _l("Roles"),
        choices=[SelectChoice(str(role), label) for role, label in ROLE_LABELS.items()],
        validators=[InputRequired(message=_l("Choose at least one role."))],
        option_widget=widgets.CheckboxInput(),
        widget=widgets.ListWidget(prefix_label=False),
    )


class AccountActionForm(FlaskForm):
    """A POST button with a CSRF token: reset 2FA, deactivate, reactivate."""
