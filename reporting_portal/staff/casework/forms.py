"""Casework forms: shape only; the services check the rules."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    TextAreaField,
    widgets,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs predate 3.3
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from reporting_portal.domain.case_words import OUTCOME_LABELS, PRIORITY_LABELS, STATUS_LABELS
from reporting_portal.staff.casework.versions import SNAPSHOT_MAX_CHARS, SeenCase

TEXT_MAX = 20000



class CaseActionForm(FlaskForm):
    """A POST with a CSRF token (export)."""


class CaseEditForm(FlaskForm):
    """A triage change: the case's version it was shown at, and what it showed then
    (casework/versions.py). Labels and assignment use it as it is."""

    version = IntegerField(widget=widgets.HiddenInput(),
                           validators=[InputRequired(), NumberRange(min=1)])
    seen = HiddenField(validators=[Optional(), Length(max=SNAPSHOT_MAX_CHARS)])

    def seen_case(self) -> SeenCase:
        return SeenCase(version=self.version.data or 0, snapshot=self.seen.data or "")


class StatusForm(CaseEditForm):
    status = SelectField(
        _l("Move to"),
        choices=[SelectChoice(str(s), label) for s, label in STATUS_LABELS.items()],
        validators=[InputRequired()],
    )
    outcome = SelectField(
        _l("Outcome (when closing)"),
        choices=[SelectChoice("", "—")]
        + [SelectChoice(str(o), label) for o, label in OUTCOME_LABELS.items()],
        validators=[Optional()],
    )
    # Ticked on the confirmation page when closing leaves a legal duty unmet (workflow.py).
    close_anyway = BooleanField(_l("Close the case anyway"), validators=[Optional()])


class PriorityForm(CaseEditForm):
    priority = SelectField(
        _l("Priority"),
        choices=[SelectChoice(str(p), label) for p, label in PRIORITY_LABELS.items()],
        validators=[InputRequired()],
    )


class LabelsForm(FlaskForm):
    labels = SelectMultipleField(
        _l("Labels"), option_widget=widgets.CheckboxInput(),
        widget=widgets.ListWidget(prefix_label=False), validators=[Optional()],
    )


class AddHandlerForm(FlaskForm):
    handler = SelectField(_l("Add a case handler"), validators=[InputRequired()])


class NoteForm(FlaskForm):
    note = TextAreaField(_l("Internal note (case handlers only)"),
                         validators=[InputRequired(), Length(max=TEXT_MAX)],
                         render_kw={"rows": 4})


class ReplyForm(FlaskForm):
    reply = TextAreaField(_l("Message to the reporter"),
                         validators=[InputRequired(), Length(max=TEXT_MAX)],
                         render_kw={"rows": 4})


class AcknowledgeForm(CaseEditForm):
    message = TextAreaField(_l("Acknowledgement sent to the reporter"),
                            validators=[Optional(), Length(max=TEXT_MAX)],
                            render_kw={"rows": 4})


class IdentityDownloadForm(FlaskForm):
    password = PasswordField(_l("Your password"), validators=[InputRequired(), Length(max=256)],
                             render_kw={"autocomplete": "current-password"})


class ReopenForm(CaseEditForm):
    reason = TextAreaField(_l("Why is the case reopened?"),
                           description=_l("Kept as an internal note: case handlers only."),
                           validators=[InputRequired(), Length(max=2000)],
                           render_kw={"rows": 3})
