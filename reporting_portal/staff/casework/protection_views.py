"""The protection record's forms on the case page: parse, call one service, redirect."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from reporting_portal.audit.events import AuditAction
from reporting_portal.domain.protection import MeasureText
from reporting_portal.staff.casework import bp
from reporting_portal.staff.casework.forms import (
    CloseRecordForm,
    MeasureForm,
    ReviewForm,
)
from reporting_portal.staff.casework.protection import (
    change_measure,
    close_record,
    measure_text,
    record_measure,
    set_review,
)
from reporting_portal.staff.casework.services import CaseRuleError
from reporting_portal.staff.casework.views import HANDLER, _actor, _case, _refused
from reporting_portal.web.database import get_session
from reporting_portal.web.extensions import get_blob_store
from reporting_portal.web.security.access import staff


def _back_to_record(public_id: str, message: str) -> BaseResponse:
    flash(message, "success")
    return redirect(url_for("casework.case", public_id=public_id, _anchor="protection"))


def _form_refused(form: MeasureForm | ReviewForm | CloseRecordForm) -> CaseRuleError:
    """The first thing to correct, named with its field (the page is shown again)."""
    for field in form:
        if field.errors:
            return CaseRuleError(_("%(field)s: %(error)s", field=field.label.text,
                                   error=field.errors[0]))
    return CaseRuleError(_("The form was not sent as expected. Reload it."))


def _measure_from(form: MeasureForm) -> MeasureText:
    if not form.validate_on_submit() or form.on.data is None:
        raise _form_refused(form)
    return measure_text(kind=form.measure.data or "", state=form.state.data or "",
                        on=form.on.data, responsible=form.responsible.data or "",
                        detail=form.detail.data or "")


@bp.route("/<public_id>/protection/measures", methods=["POST"])
@staff(HANDLER)
def add_measure(public_id: str) -> BaseResponse | tuple[str, int]:
    report = _case(public_id)  # only the case's own handlers get past this
    form = MeasureForm()
    try:
        record_measure(get_session(), get_blob_store(), _actor(), report, _measure_from(form),
                       share=bool(form.share.data))
    except CaseRuleError as error:
        return _refused(report, error, AuditAction.PROTECTION_MEASURE_RECORDED)
    return _back_to_record(public_id, _("Measure recorded in the protection record."))


@bp.route("/<public_id>/protection/measures/<measure_id>", methods=["POST"])
@staff(HANDLER)
def update_measure(public_id: str, measure_id: str) -> BaseResponse | tuple[str, int]:
    report = _case(public_id)
    form = MeasureForm(prefix=f"m-{measure_id}")
    try:
        change_measure(get_session(), get_blob_store(), _actor(), report, measure_id,
                       _measure_from(form), share=bool(form.share.data))
    except CaseRuleError as error:
        return _refused(report, error, AuditAction.PROTECTION_MEASURE_CHANGED)
    return _back_to_record(public_id, _("Measure changed in the protection record."))


@bp.route("/<public_id>/protection/review", methods=["POST"])
@staff(HANDLER)
def review_protection(public_id: str) -> BaseResponse | tuple[str, int]:
    report = _case(public_id)
    form = ReviewForm()
    try:
        if not form.validate_on_submit() or form.review_on.data is None:
            raise _form_refused(form)
        set_review(get_session(), get_blob_store(), _actor(), report, form.review_on.data)
    except CaseRuleError as error:
        return _refused(report, error, AuditAction.PROTECTION_REVIEW_SET)
    return _back_to_record(public_id, _("Review day saved."))


@bp.route("/<public_id>/protection/close", methods=["POST"])
@staff(HANDLER)
def close_protection(public_id: str) -> BaseResponse | tuple[str, int]:
    report = _case(public_id)
    form = CloseRecordForm()
    try:
        if not form.validate_on_submit():
            raise _form_refused(form)
        close_record(get_session(), get_blob_store(), _actor(), report, form.outcome.data or "")
    except CaseRuleError as error:
        return _refused(report, error, AuditAction.PROTECTION_RECORD_CLOSED)
    return _back_to_record(public_id, _("Protection record closed."))
