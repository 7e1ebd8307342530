"""A questionnaire's questions as form fields: the reporter's form and the editor's preview.

Both zones show a question the same way, so an administrator's preview is the form a
reporter will see; neither zone may import the other, so the one mapping lives here.
"""

from __future__ import annotations

from typing import Any, ClassVar

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

from reporting_portal.domain.questionnaire import FieldType, LocalizedQuestion

SHORT_TEXT_MAX = 500


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


def question_field(question: LocalizedQuestion, max_chars: int) -> Field:
    """The unbound form field that asks ``question``, with its checks."""
    required = [InputRequired()] if question.required else [Optional()]
    text_required = [*required, HasContent()] if question.required else required
    common: dict[str, Any] = {"label": question.label, "description": question.help}
    # The value is the choice's code, the same in every language: the answer stored
    # says nothing of the language the reporter read the form in.
    choices = [SelectChoice(code, label) for code, label in question.choices]
    if question.type == FieldType.SHORT_TEXT:
        return StringField(validators=[*text_required, Length(max=SHORT_TEXT_MAX)], **common)
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


def questions_form(questions: list[LocalizedQuestion], *, max_chars: int) -> FlaskForm:
    """An empty form of the questions alone, for showing them (the editor's preview):
    it is never submitted, so it carries no CSRF token."""

    class QuestionsForm(FlaskForm):  # type: ignore[misc]  # Flask-WTF ships no types
        class Meta:
            csrf = False

    for question in questions:
        setattr(QuestionsForm, f"q_{question.id}", question_field(question, max_chars))
    form: FlaskForm = QuestionsForm(formdata=MultiDict())
    return form
