"""Referral forms: shape only; the services check the rules."""

from __future__ import annotations

from collections.abc import Sequence

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SelectMultipleField, TextAreaField, widgets
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs predate 3.3
from wtforms.validators import InputRequired, Length, Optional

from reporting_portal.staff.referral.parts import Part, TextAnswer
from reporting_portal.staff.referral.services import MARKED_MAX, ReferralDraft
from reporting_portal.storage.models import Authority

MARKED_PREFIX = "marked_"


class ReferralForm(FlaskForm):
    """The authority, the parts, and one text box per free-text answer (added below)."""

    authority = SelectField(_l("Refer to"), validators=[InputRequired()])
    include_answers = BooleanField(_l("The report's answers, redacted as marked below"),
                                   default=True)
    parts = SelectMultipleField(
        _l("Files, messages and notes to send"),
        option_widget=widgets.CheckboxInput(), widget=widgets.ListWidget(prefix_label=False),
        validators=[Optional()],
    )
    include_identity = BooleanField(_l("The reporter's identity"))

    def marked_fields(self) -> list[TextAreaField]:
        return [field for field in self if field.name.startswith(MARKED_PREFIX)]

    def draft(self) -> ReferralDraft:
        return ReferralDraft(
            authority_id=self.authority.data or "",
            include_answers=bool(self.include_answers.data),
            marked={f.name.removeprefix(MARKED_PREFIX): f.data or "" for f in self.marked_fields()},
            object_ids=list(self.parts.data or []),
            include_identity=bool(self.include_identity.data))


def _rows(text: str) -> int:
    # About as tall as the answer, so the handler reads it whole while marking.
    return min(14, 2 + len(text) // 90 + text.count("\n"))


def referral_form(authorities: Sequence[Authority], answers: Sequence[TextAnswer],
                  parts: Sequence[Part]) -> ReferralForm:
    """The form for this case: a marked-text box per answer, starting with the original."""

    class CaseReferralForm(ReferralForm):
        pass

    for answer in answers:
        setattr(CaseReferralForm, MARKED_PREFIX + answer.key, TextAreaField(
            answer.label, default=answer.original,
            validators=[Optional(), Length(max=MARKED_MAX)],
            render_kw={"rows": _rows(answer.original), "aria-describedby": "marks-help"}))
    form = CaseReferralForm()
    form.authority.choices = [SelectChoice(a.public_id, a.name) for a in authorities]
    form.parts.choices = [SelectChoice(p.public_id, p.described) for p in parts]
    return form


class PackageForm(FlaskForm):
    """A POST with a CSRF token (the package download)."""
