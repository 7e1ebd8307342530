"""Workflow guard-rails: confirming a close past an unmet legal duty, and reopening.

Without JavaScript too: closing a case that was never acknowledged or never given
feedback answers with a confirmation page, whose form carries the same choice and a
required tick; reopening is a form on the closed case's page.
"""

from __future__ import annotations

from flask import abort
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from reporting_portal.audit.events import AuditAction
from reporting_portal.staff.casework import bp
from reporting_portal.staff.casework.forms import ReopenForm
from reporting_portal.staff.casework.services import CaseRuleError
from reporting_portal.staff.casework.triage_views import _conflicted
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
from reporting_portal.staff.casework.workflow import reopen_case
from reporting_portal.web.database import get_session
from reporting_portal.web.extensions import get_blob_store
from reporting_portal.web.security.access import staff


@bp.route("/<public_id>/reopen", methods=["POST"])
@staff(HANDLER)
def reopen(public_id: str) -> BaseResponse | tuple[str, int]:
    report = _case(public_id)  # only the case's own handlers get past this
    form = ReopenForm()
    if not form.validate_on_submit():
        if form.version.errors or form.csrf_token.errors:
            abort(400)  # no version or token: not a form this site rendered
        _record_failed(report, AuditAction.CASE_REOPENED)
        return _render_case(report, 400, reopen_form=form)
    try:
        reopen_case(get_session(), get_blob_store(), _actor(), report, form.reason.data or "",
                    seen=form.seen_case())
    except CaseConflictError as conflict:
        return _conflicted(report, conflict, AuditAction.CASE_REOPENED)
    except CaseRuleError as error:
        return _refused(report, error, AuditAction.CASE_REOPENED)
    return _after_change(public_id, _("Case reopened. The reason is kept as an internal note."))
