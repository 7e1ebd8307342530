"""Custody forms: shape only; the services check the rules."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs predate 3.3
from wtforms.validators import InputRequired, Length

from reporting_portal.staff.custody.services import (
    JUSTIFICATION_MAX,
    JUSTIFICATION_MIN,
    REASON_MAX,
    REASON_MIN,
)


def _stripped(value: str | None) -> str | None:
    return value.strip() if isinstance(value, str) else value


def _bounds(low: int, high: int) -> list[Length | InputRequired]:
    message = _l("Write at least %(min)d and at most %(max)d characters.", min=low, max=high)
    return [InputRequired(message=message), Length(min=low, max=high, message=message)]


class IdentityRequestForm(FlaskForm):
    """A case handler asks to learn who reported."""

    justification = TextAreaField(
        _l("Why do you need to know who reported?"),
        description=_l("An identity custodian reads this and decides. Say what the "
                       "investigation cannot do without it. At least %(count)d characters.",
                       count=JUSTIFICATION_MIN),
        validators=_bounds(JUSTIFICATION_MIN, JUSTIFICATION_MAX),
        filters=[_stripped],
    )


class DecisionForm(FlaskForm):
    """A custodian's decision on one request, with the reason recorded beside it."""

    decision = RadioField(
        _l("Decision"),
        choices=[SelectChoice("approve", _l("Approve: the case handler may see the identity")),
                 SelectChoice("deny", _l("Deny: nothing is disclosed"))],
        validators=[InputRequired()],
    )
    reason = TextAreaField(
        _l("Reason"),
        description=_l("Recorded with the decision; the case handler sees it."),
        validators=_bounds(REASON_MIN, REASON_MAX),
        filters=[_stripped],
    )


class CustodyActionForm(FlaskForm):
    """A POST with a CSRF token (re-sealing identities)."""
