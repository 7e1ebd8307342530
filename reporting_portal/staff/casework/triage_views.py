"""Triage views of a case: stage, acknowledgement, priority, labels and its handlers.

Each form carries the case's version (casework/versions.py): a change sent from a page
older than the case's last change is refused with 409 and the page says what changed.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from reporting_portal.audit.events import AuditAction
from reporting_portal.domain.actors import NoKeysError
from reporting_portal.staff.auth.viewer import current_viewer
from reporting_portal.staff.casework import bp
from reporting_portal.staff.casework.conflicts import conflict_message
from reporting_portal.staff.casework.forms import (
    AcknowledgeForm,
    CaseEditForm,
    PriorityForm,
    StatusForm,
)
from reporting_portal.staff.casework.services import (
    CaseRuleError,
    acknowledge,
    add_handler,
    remove_handler,
    set_labels,
    set_priority,
    set_status,
)
from reporting_portal.staff.casework.versions import CaseConflictError
from reporting_portal.staff.casework.views import (
    HANDLER,
    _actor,
    _after_change,
    _case,
    _record_failed,
    _refused,
    _render_case,
)
from reporting_portal.staff.casework.workflow import ClosingNeedsConfirmationError, close_case
from reporting_portal.storage.models import Report, ReportStatus
from reporting_portal.web.database import get_session
from reporting_portal.web.extensions import get_blob_store
from reporting_portal.web.security.access import staff


def _conflicted(report: Report, conflict: CaseConflictError,
                attempted: AuditAction) -> tuple[str, int]:
    """Another handler changed the case first: say what, show it as it is now."""
    _record_failed(report, attempted)
    flash(conflict_message(conflict), "error")
    return _render_case(report, 409)


def confirm_closing(report: Report, form: StatusForm,
                    needed: ClosingNeedsConfirmationError) -> tuple[str, int]:
    """The page that asks again, naming each legal deadline closing leaves unmet.

    Nothing changed, so no event: the case's version in the form is still the one the
    handler saw, and a change by a colleague meanwhile is caught when they confirm.
    """
    return render_template("casework/confirm_close.html", report=report, form=form,
                           unmet=needed.unmet), 200


@bp.route("/<public_id>/acknowledge", methods=["POST"])
@staff(HANDLER)
def acknowledge_case(public_id: str) -> BaseResponse | tuple[str, int]:
    report = _case(public_id)
    form = AcknowledgeForm()
    if not form.validate_on_submit():
        if not form.message.errors:
            abort(400)  # no version: not a form this site rendered
        return _refused(report, CaseRuleError(_("The message is too long.")),
                        AuditAction.CASE_ACKNOWLEDGED)
    try:
        acknowledge(get_session(), get_blob_store(), _actor(), report, form.message.data or "",
                    seen=form.seen_case())
    except CaseConflictError as conflict:
        return _conflicted(report, conflict, AuditAction.CASE_ACKNOWLEDGED)
    except CaseRuleError as error:
        return _refused(report, error, AuditAction.CASE_ACKNOWLEDGED)
    return _after_change(public_id, _("Acknowledged. The reporter sees your message."))


@bp.route("/<public_id>/status", methods=["POST"])
@staff(HANDLER)
def change_status(public_id: str) -> BaseResponse | tuple[str, int]:
    report = _case(public_id)
    form = StatusForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        if form.status.data == ReportStatus.CLOSED:
            close_case(get_session(), _actor(), report, form.outcome.data or None,
                       seen=form.seen_case(), confirmed=bool(form.close_anyway.data))
        else:
            set_status(get_session(), _actor(), report, form.status.data or "",
                       seen=form.seen_case(), outcome=form.outcome.data or None)
    except CaseConflictError as conflict:
        return _conflicted(report, conflict, AuditAction.CASE_STATUS_CHANGED)
    except ClosingNeedsConfirmationError as needed:
        return confirm_closing(report, form, needed)
    except CaseRuleError as error:
        return _refused(report, error, AuditAction.CASE_STATUS_CHANGED)
    return _after_change(public_id, _("Status changed."))


@bp.route("/<public_id>/priority", methods=["POST"])
@staff(HANDLER)
def change_priority(public_id: str) -> BaseResponse | tuple[str, int]:
    report = _case(public_id)
    form = PriorityForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        set_priority(get_session(), _actor(), report, form.priority.data or "",
                     seen=form.seen_case())
    except CaseConflictError as conflict:
        return _conflicted(report, conflict, AuditAction.CASE_PRIORITY_CHANGED)
    except CaseRuleError as error:
        return _refused(report, error, AuditAction.CASE_PRIORITY_CHANGED)
    return _after_change(public_id, _("Priority changed."))


@bp.route("/<public_id>/labels", methods=["POST"])
@staff(HANDLER)
def change_labels(public_id: str) -> BaseResponse | tuple[str, int]:
    report = _case(public_id)
    form = CaseEditForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        set_labels(get_session(), _actor(), report, request.form.getlist("labels"),
                   seen=form.seen_case())
    except CaseConflictError as conflict:
        return _conflicted(report, conflict, AuditAction.CASE_LABELS_CHANGED)
    return _after_change(public_id, _("Labels saved."))


@bp.route("/<public_id>/handlers", methods=["POST"])
@staff(HANDLER)
def add_case_handler(public_id: str) -> BaseResponse | tuple[str, int]:
    report = _case(public_id)
    form = CaseEditForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        add_handler(get_session(), _actor(), report, request.form.get("handler", ""),
                    seen=form.seen_case())
    except CaseConflictError as conflict:
        return _conflicted(report, conflict, AuditAction.CASE_HANDLER_ADDED)
    except (CaseRuleError, NoKeysError) as error:
        return _refused(report, error, AuditAction.CASE_HANDLER_ADDED)
    return _after_change(public_id, _("Case handler added. They can now open this case."))


@bp.route("/<public_id>/handlers/<handler_id>/remove", methods=["POST"])
@staff(HANDLER)
def remove_case_handler(public_id: str, handler_id: str) -> BaseResponse | tuple[str, int]:
    report = _case(public_id)
    form = CaseEditForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        remove_handler(get_session(), _actor(), report, handler_id, seen=form.seen_case())
    except CaseConflictError as conflict:
        return _conflicted(report, conflict, AuditAction.CASE_HANDLER_REMOVED)
    except (CaseRuleError, NoKeysError) as error:
        return _refused(report, error, AuditAction.CASE_HANDLER_REMOVED)
    if handler_id == current_viewer().account.public_id:
        flash(_("You are no longer on this case."), "success")
        return redirect(url_for("casework.inbox"))
    return _after_change(public_id, _("Case handler removed from this case."))
