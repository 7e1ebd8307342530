"""Custodian views: the requests waiting, and one request's decision."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.wrappers import Response as BaseResponse

from reporting_portal.audit.events import AuditAction, Outcome
from reporting_portal.domain.actors import Actor, NoKeysError, record_case_event
from reporting_portal.staff.auth.viewer import current_identity, current_viewer
from reporting_portal.staff.custody import bp
from reporting_portal.staff.custody.forms import CustodyActionForm, DecisionForm
from reporting_portal.staff.custody.services import (
    IdentityRuleError,
    RequestNotFoundError,
    approve,
    deny,
    find_request,
    pending_requests,
    recent_decisions,
    request_texts,
    reseal_identities,
)
from reporting_portal.storage.models import IdentityAccessRequest, IdentityRequestStatus, Role
from reporting_portal.web.database import get_session
from reporting_portal.web.security.access import staff

CUSTODIAN = Role.IDENTITY_CUSTODIAN


def _actor() -> Actor:
    return Actor.member(current_viewer().account, current_identity())


def _request(public_id: str) -> IdentityAccessRequest:
    try:
        return find_request(get_session(), public_id)
    except RequestNotFoundError:
        abort(404)


def _record_refused(access_request: IdentityAccessRequest, approving: bool) -> None:
    attempted = (AuditAction.IDENTITY_ACCESS_APPROVED if approving
                 else AuditAction.IDENTITY_ACCESS_DENIED)
    record_case_event(get_session(), _actor(), attempted, access_request.report,
                      outcome=Outcome.FAILURE)


@bp.route("")
@staff(CUSTODIAN)
def requests() -> str:
    db = get_session()
    pending, decided = pending_requests(db), recent_decisions(db)
    identity = current_identity()
    texts = {r.public_id: request_texts(r, identity) for r in [*pending, *decided]}
    return render_template("custody/requests.html", pending=pending, decided=decided,
                           texts=texts, me=current_viewer().account,
                           action_form=CustodyActionForm())


@bp.route("/reseal", methods=["POST"])
@staff(CUSTODIAN)
def reseal() -> BaseResponse:
    if not CustodyActionForm().validate_on_submit():
        abort(400)
    try:
        result = reseal_identities(get_session(), _actor())
    except NoKeysError:
        flash(_("Sign in again: your key is not unlocked."), "error")
        return redirect(url_for("custody.requests"))
    message = ngettext("Updated %(num)d identity.", "Updated %(num)d identities.",
                       result.updated)
    if result.withdrawn:
        message += " " + ngettext(
            "%(num)d approval was withdrawn from a handler no longer on the case.",
            "%(num)d approvals were withdrawn from handlers no longer on their case.",
            result.withdrawn)
    if result.unopened:
        message += " " + ngettext(
            "%(num)d identity was given before you became a custodian; another custodian "
            "must update it.",
            "%(num)d identities were given before you became a custodian; another custodian "
            "must update them.", result.unopened)
    flash(message, "success")
    return redirect(url_for("custody.requests"))


@bp.route("/<request_id>", methods=["GET", "POST"])
@staff(CUSTODIAN)
def decide(request_id: str) -> str | tuple[str, int] | BaseResponse:
    access_request = _request(request_id)
    form = DecisionForm()
    status = 200
    if access_request.status == IdentityRequestStatus.PENDING and form.validate_on_submit():
        decision = approve if form.decision.data == "approve" else deny
        try:
            decision(get_session(), _actor(), access_request, form.reason.data or "")
        except (IdentityRuleError, NoKeysError) as error:
            message = str(error) or _("Sign in again: your key is not unlocked.")
            flash(message, "error")
            status = 400
            # Refused decisions are kept too: a custodian deciding their own request is
            # exactly what an auditor must be able to find.
            _record_refused(access_request, form.decision.data == "approve")
        else:
            flash(_("Approved. The case handler can now see the identity.")
                  if form.decision.data == "approve"
                  else _("Denied. Nothing was disclosed."), "success")
            return redirect(url_for("custody.requests"))
    elif form.is_submitted():
        status = 400
    own = access_request.requester_id == current_viewer().account.id
    return render_template("custody/decide.html", access_request=access_request, form=form,
                           own=own, texts=request_texts(access_request, current_identity())
                           ), status
