"""The report form, built from a channel's questionnaire.

The same form renders the page and checks the answers that arrive without JavaScript
(with JavaScript the server sees only ciphertext; the browser checks required fields).
CSRF is checked separately, on the first field of the stream, before any file is read.
"""

from __future__ import annotations

from typing import Any, ClassVar

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import (
    DateField,
    Field,
    MultipleFileField,
    RadioField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs predate 3.3
from wtforms.validators import InputRequired, Length, Optional, StopValidation

from reporting_portal.domain.questionnaire import FieldType
from reporting_portal.domain.questionnaire import LocalizedQuestion as Question

IDENTITY_NAME_MAX = 200
IDENTITY_CONTACT_MAX = 1000


class CheckboxListField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class HasContent:
    """A required text answer needs more than spaces and line breaks.

    ``InputRequired`` is satisfied by any characters at all; the answer itself is kept
    as typed, only the check strips it.
    """

    field_flags: ClassVar[dict[str, bool]] = {"required": True}

    def __call__(self, form: FlaskForm, field: Field) -> None:
        if not str(field.data or "").strip():
            raise StopValidation(field.gettext("This field is required."))


def _field_for(question: Question, max_chars: int) -> Field:
    required = [InputRequired()] if question.required else [Optional()]
    text_required = [*required, HasContent()] if question.required else required
    common: dict[str, Any] = {"label": question.label, "description": question.help}
    # The value is the choice's code, the same in every language: the answer stored
    # says nothing of the language the reporter read the form in.
    choices = [SelectChoice(code, label) for code, label in question.choices]
    if question.type == FieldType.SHORT_TEXT:
        return StringField(validators=[*text_required, Length(max=500)], **common)
    if question.type == FieldType.LONG_TEXT:
        return TextAreaField(
            validators=[*text_required, Length(max=max_chars)], render_kw={"rows": 8}, **common
        )
    if question.type == FieldType.SINGLE_CHOICE:
        return RadioField(choices=choices, validators=required, **common)
    if question.type == FieldType.MULTIPLE_CHOICE:
        return CheckboxListField(choices=choices, validators=required, **common)
    if question.type == FieldType.DATE:
        return DateField(validators=required, **common)
    return MultipleFileField(
        render_kw={"multiple": True, "data-file-field": question.id}, **common
    )


def build_report_form(
    questions: list[Question],
    handler_choices: list[tuple[str, str]],
    *,
    max_chars: int,
    formdata: MultiDict[str, str] | None = None,
    check_csrf: bool = True,
) -> FlaskForm:
    """A form class made for this questionnaire, bound to ``formdata`` (never to
    ``request.form``: reading that would spool uploads to disk)."""

    class ReportForm(FlaskForm):
        class Meta:
            csrf = check_csrf

        exclude = CheckboxListField(
            _l("People who should not see your report (optional)"),
            description=_l(
                "If one of these case handlers may be involved, tick their name. They will "
                "never be able to read this report."
            ),
            choices=[SelectChoice(value, label) for value, label in handler_choices],
            validators=[Optional()],
        )
        identity_name = StringField(
            _l("Your name"), validators=[Optional(), Length(max=IDENTITY_NAME_MAX)]
        )
        identity_contact = TextAreaField(
            _l("How to reach you"),
            description=_l("For example a phone number or an email address you trust."),
            validators=[Optional(), Length(max=IDENTITY_CONTACT_MAX)],
            render_kw={"rows": 3},
        )

    for question in questions:
        setattr(ReportForm, f"q_{question.id}", _field_for(question, max_chars))
    form: FlaskForm = ReportForm(formdata=formdata if formdata is not None else MultiDict())
    return form


def answers_from(form: FlaskForm, questions: list[Question]) -> dict[str, str | list[str]]:
    """The plaintext answers of a validated form, keyed by question id."""
    answers: dict[str, str | list[str]] = {}
    for question in questions:
        if question.type == FieldType.FILE:
            continue
        value = form[f"q_{question.id}"].data
        if question.type == FieldType.MULTIPLE_CHOICE:
            answers[question.id] = list(value or [])
        elif question.type == FieldType.DATE:
            answers[question.id] = value.isoformat() if value else ""
        else:
            answers[question.id] = value or ""
    return answers
