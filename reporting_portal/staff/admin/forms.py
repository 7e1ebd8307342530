"""Account administration forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs predate 3.3
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from reporting_portal.domain.questionnaire import (
    MAX_CHOICES,
    MAX_HELP_CHARS,
    MAX_LABEL_CHARS,
    FieldType,
)
from reporting_portal.storage.models import Role
from reporting_portal.web.languages import LANGUAGES

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


class PasskeyRolesForm(FlaskForm):
    """The roles whose members must sign in with a passkey (none: passkeys are optional)."""

    roles = SelectMultipleField(
        _l("Roles that must sign in with a passkey"),
        description=_l("Their members are led to register a passkey at their next sign-in; "
                       "from then on their password and code alone no longer sign them in."),
        choices=[SelectChoice(str(role), label) for role, label in ROLE_LABELS.items()],
        option_widget=widgets.CheckboxInput(),
        widget=widgets.ListWidget(prefix_label=False),
    )


class AccountActionForm(FlaskForm):
    """A POST button with a CSRF token: reset 2FA, deactivate, reactivate."""


LANGUAGE_PLACES = [SelectChoice("", _l("Not offered")),
                   *(SelectChoice(str(n), str(n)) for n in range(1, len(LANGUAGES) + 1))]
NAME_MAX = 128
DESCRIPTION_MAX = 2000


class ChannelForm(FlaskForm):
    """A channel's settings; its name and description in each language (``name_ar`` …)
    and each language's place (``place_ar``: 1 is the fallback, blank not offered) are
    added below, one set per language."""

    slug = StringField(
        _l("Address name"),
        description=_l("Part of the web address, after /report/. Lower-case letters, digits, '-'."),
        validators=[InputRequired(), Length(min=3, max=64)],
    )
    retention_days = IntegerField(
        _l("Keep closed reports for (days)"),
        description=_l("Then they are deleted. Germany's HinSchG: 3 years (1095 days)."),
        default=1095,
        validators=[InputRequired(), NumberRange(min=30, max=36500)],
    )
    notify_identity_disclosure = BooleanField(
        _l("Tell reporters when their identity is disclosed (EU Directive art. 16(3))"),
        default=True,
    )
    reporter_reads_back = BooleanField(
        _l("Reporters can read back what they sent, with their receipt code"),
        description=_l("Turn this off if reporters could be forced to hand over their code: "
                       "whoever holds it could then read the report."),
        default=True,
    )
    referral_notice = RadioField(
        _l("When a case is referred to another authority, the reporter's mailbox says"),
        choices=[
            SelectChoice("told", _l("that it was referred, without naming the authority")),
            SelectChoice("named", _l("that it was referred, and to which authority")),
            SelectChoice("none", _l("nothing")),
        ],
        # Optional: a form posted without it (an older page) keeps the channel's setting.
        default="told", validators=[Optional()],
    )
    is_active = BooleanField(_l("Open for reports"), default=True)
    handlers = SelectMultipleField(
        _l("Case handlers"),
        description=_l("Only people who have chosen their password can receive reports."),
        option_widget=widgets.CheckboxInput(),
        widget=widgets.ListWidget(prefix_label=False),
        validators=[Optional()],
    )


# What an administrator reads for each field type: plain words, never the stored name.
FIELD_TYPE_NAMES = {
    FieldType.SHORT_TEXT: _l("Short text"), FieldType.LONG_TEXT: _l("Long text"),
    FieldType.SINGLE_CHOICE: _l("Single choice"),
    FieldType.MULTIPLE_CHOICE: _l("Multiple choice"),
    FieldType.DATE: _l("Date"), FieldType.FILE: _l("File upload"),
}


class QuestionForm(FlaskForm):
    field_id = StringField(
        _l("Field id"), description=_l("Lower-case letters, digits, '_'; unique in the form."),
        validators=[InputRequired(), Length(max=32)],
    )
    field_type = SelectField(
        _l("Type"),
        choices=[SelectChoice(str(kind), label) for kind, label in FIELD_TYPE_NAMES.items()],
    )
    required = BooleanField(_l("Required"))


class QuestionTextsForm(FlaskForm):
    """A question's texts in each language: ``label_fr``, ``help_fr``, ``choices_fr``;
    and whether it is required."""

    required = BooleanField(_l("Required"))


class CopyQuestionsForm(FlaskForm):
    """Copy another channel's questions; the source's choices are set by the view."""

    source = SelectField(_l("Copy the questions of"), validators=[InputRequired()])
    mode = RadioField(
        _l("This channel's own questions"),
        choices=[SelectChoice("append", _l("Keep them; add the copied questions after them")),
                 SelectChoice("replace", _l("Replace them with the copied questions"))],
        default="append", validators=[InputRequired()],
    )


def _add_language_fields() -> None:
    for language in LANGUAGES:
        code = language.code
        setattr(ChannelForm, f"place_{code}", SelectField(
            language.name, choices=LANGUAGE_PLACES, default="", validators=[Optional()]))
        setattr(ChannelForm, f"name_{code}", StringField(
            _l("Name"), validators=[Optional(), Length(max=NAME_MAX)]))
        setattr(ChannelForm, f"description_{code}", TextAreaField(
            _l("Description shown to reporters"),
            validators=[Optional(), Length(max=DESCRIPTION_MAX)]))
        for form_class in (QuestionForm, QuestionTextsForm):
            setattr(form_class, f"label_{code}", StringField(
                _l("Question"), validators=[Optional(), Length(max=MAX_LABEL_CHARS)]))
            setattr(form_class, f"help_{code}", TextAreaField(
                _l("Help text"), validators=[Optional(), Length(max=MAX_HELP_CHARS)]))
            setattr(form_class, f"choices_{code}", TextAreaField(
                _l("Choices (one per line, for choice fields; the same order in every "
                   "language)"),
                validators=[Optional(), Length(max=MAX_CHOICES * (MAX_LABEL_CHARS + 1))],
                render_kw={"rows": 6}))


_add_language_fields()


def texts_from(form: FlaskForm, prefix: str) -> dict[str, str]:
    """``{language: text}`` from the form's ``<prefix>_<language>`` fields."""
    return {language.code: str(form[f"{prefix}_{language.code}"].data or "").strip()
            for language in LANGUAGES}


def languages_from(form: ChannelForm) -> dict[str, int]:
    """The place given to each offered language (1 is the fallback)."""
    return {language.code: int(form[f"place_{language.code}"].data)
            for language in LANGUAGES if form[f"place_{language.code}"].data}


class LabelForm(FlaskForm):
    name = StringField(_l("New label"), validators=[InputRequired(), Length(max=64)])


class AuthorityForm(FlaskForm):
    """An authority of the referral directory: shape here, the key is checked by the service."""

    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=200)])
    age_recipient = TextAreaField(
        _l("Age recipient"),
        description=_l("The authority's public key, as it gives it: age1… or age1pq1…. "
                       "Referral packages are encrypted to this key only."),
        validators=[InputRequired(), Length(max=4000)],
        render_kw={"rows": 3, "spellcheck": "false", "autocapitalize": "none"},
    )
    contact_note = TextAreaField(
        _l("Contact note"),
        description=_l("How to reach the authority's intake: for case handlers."),
        validators=[Optional(), Length(max=2000)], render_kw={"rows": 3},
    )
    is_active = BooleanField(_l("Active: case handlers can refer cases to it"), default=True)
