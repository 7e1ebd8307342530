"""The report form, built from a channel's questionnaire.

The same form renders the page and checks the answers that arrive without JavaScript
(with JavaScript the server sees only ciphertext; the browser checks required fields).
CSRF is checked separately, on the first field of the stream, before any file is read.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import StringField, TextAreaField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs predate 3.3
from wtforms.validators import Length, Optional

from reporting_portal.domain.question_fields import CheckboxListField, question_field
from reporting_portal.domain.questionnaire import FieldType
from reporting_portal.domain.questionnaire import LocalizedQuestion as Question

IDENTITY_NAME_MAX = 200
IDENTITY_CONTACT_MAX = 1000


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
        setattr(ReportForm, f"q_{question.id}", question_field(question, max_chars))
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
