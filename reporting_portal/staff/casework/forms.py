"""Casework forms: shape only; the services check the rules."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs predate 3.3
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from reporting_portal.domain.case_words import OUTCOME_LABELS, PRIORITY_LABELS, STATUS_LABELS
from reporting_portal.domain.protection import (
    DETAIL_MAX_CHARS,
    MEASURE_LABELS,
    OUTCOME_MAX_CHARS,
    RESPONSIBLE_MAX_CHARS,
    STATE_LABELS,
    MeasureText,
)
from reporting_portal.staff.casework.versions import SNAPSHOT_MAX_CHARS, SeenCase

TEXT_MAX = 20000
# The inbox's query string a bulk change returns to.
BULK_BACK_MAX = 2000



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


class BulkForm(FlaskForm):
    """Shape only: which change, and where to return. Cases come as ``case`` values."""

    change = StringField(validators=[InputRequired(), Length(max=200)])
    back = HiddenField(validators=[Optional(), Length(max=BULK_BACK_MAX)])


class ReopenForm(CaseEditForm):
    reason = TextAreaField(_l("Why is the case reopened?"),
                           description=_l("Kept as an internal note: case handlers only."),
                           validators=[InputRequired(), Length(max=2000)],
                           render_kw={"rows": 3})


# --- the protection record (staff/casework/protection.py checks the rules) -------------


class MeasureForm(FlaskForm):
    """A new measure, or a measure's new state (each measure's form is prefilled)."""

    measure = SelectField(
        _l("Measure"), validators=[InputRequired()],
        choices=[SelectChoice(str(code), label) for code, label in MEASURE_LABELS.items()])
    state = SelectField(
        _l("State"), validators=[InputRequired()],
        choices=[SelectChoice(str(code), label) for code, label in STATE_LABELS.items()])
    on = DateField(_l("Day"), validators=[InputRequired()],
                   description=_l("When it was requested, granted or refused."))
    responsible = StringField(_l("Person responsible"),
                              validators=[InputRequired(), Length(max=RESPONSIBLE_MAX_CHARS)])
    detail = TextAreaField(_l("Detail (for case handlers)"),
                           validators=[Optional(), Length(max=DETAIL_MAX_CHARS)],
                           description=_l("Required for another measure: say what it is."))
    share = BooleanField(
        _l("Show this measure to the reporter"),
        description=_l("The reporter sees the measure, its state and day in their mailbox; "
                       "never the person responsible or the detail."))

    @classmethod
    def for_measure(cls, public_id: str, text: MeasureText, *, shared: bool) -> MeasureForm:
        """The form of one listed measure, prefilled, with ids of its own."""
        return cls(formdata=None, prefix=f"m-{public_id}", measure=str(text.kind),
                   state=str(text.state), on=text.on, responsible=text.responsible,
                   detail=text.detail, share=shared)


class ReviewForm(FlaskForm):
    review_on = DateField(_l("Review day"), validators=[InputRequired()],
                          description=_l("When the case handlers look at the measures again."))


class CloseRecordForm(FlaskForm):
    # Its own id: the case's closing outcome (StatusForm) is "outcome" on the same page.
    outcome = TextAreaField(_l("Outcome of the protection record"), id="protection-outcome",
                            validators=[InputRequired(), Length(max=OUTCOME_MAX_CHARS)])
