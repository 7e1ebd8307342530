"""Referral views: the choice and redaction form, its preview, the referral, the package."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, stream_with_context, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from reporting_portal.audit.events import AuditAction, Outcome
from reporting_portal.domain.actors import NoKeysError, record_case_event
from reporting_portal.domain.notifications import notify_custodians
from reporting_portal.staff.auth.viewer import current_viewer
from reporting_portal.staff.casework.views import HANDLER, _actor, _case
from reporting_portal.staff.custody.forms import IdentityRequestForm
from reporting_portal.staff.custody.services import IdentityRuleError, request_access
from reporting_portal.staff.referral import bp
from reporting_portal.staff.referral.forms import PackageForm, ReferralForm, referral_form
from reporting_portal.staff.referral.services import (
    CheckedDraft,
    ReferralChoices,
    ReferralNotFoundError,
    ReferralRuleError,
    check_draft,
    find_referral,
    package_stream,
    refer,
    referral_choices,
    referrals_of,
)
from reporting_portal.storage.models import IdentityPurpose, Referral, Report
from reporting_portal.web.database import get_session
from reporting_portal.web.extensions import get_blob_store
from reporting_portal.web.security.access import staff
from reporting_portal.web.security.headers import as_download


def _page(report: Report, choices: ReferralChoices, form: ReferralForm, *,
          preview: CheckedDraft | None = None, refusal: str | None = None,
          status: int = 200) -> tuple[str, int]:
    return render_template(
        "referral/refer.html", report=report, choices=choices, form=form, preview=preview,
        refusal=refusal, identity_form=IdentityRequestForm(),
        referrals=referrals_of(get_session(), report)), status


def _choices_and_form(report: Report, *, previewing: bool) -> tuple[ReferralChoices, ReferralForm]:
    """The page's choices, read from the case; shown to the handler, that is a read (an
    event); when confirming, the read is part of the referral and its own event."""
    choices = referral_choices(get_session(), get_blob_store(), _actor(), report)
    if previewing:
        record_case_event(get_session(), _actor(), AuditAction.REFERRAL_PREVIEWED, report)
    return choices, referral_form(choices.authorities, choices.text_answers, choices.parts)


@bp.route("/<public_id>/referral")
@staff(HANDLER)
def referral(public_id: str) -> tuple[str, int]:
    report = _case(public_id)
    try:
        choices, form = _choices_and_form(report, previewing=True)
    except NoKeysError:
        return render_template("casework/no_keys.html"), 409
    return _page(report, choices, form)


@bp.route("/<public_id>/referral/preview", methods=["POST"])
@staff(HANDLER)
def preview(public_id: str) -> tuple[str, int]:
    """The same form again, with what the authority would receive shown above it."""
    report = _case(public_id)
    try:
        choices, form = _choices_and_form(report, previewing=True)
    except NoKeysError:
        return render_template("casework/no_keys.html"), 409
    if not form.validate_on_submit():
        return _page(report, choices, form, status=400)
    try:
        checked = check_draft(get_session(), get_blob_store(), _actor(), report, form.draft())
    except ReferralRuleError as error:
        return _page(report, choices, form, refusal=str(error), status=400)
    return _page(report, choices, form, preview=checked)


@bp.route("/<public_id>/referral", methods=["POST"])
@staff(HANDLER)
def confirm(public_id: str) -> BaseResponse | tuple[str, int]:
    report = _case(public_id)
    try:
        choices, form = _choices_and_form(report, previewing=False)
    except NoKeysError:
        return render_template("casework/no_keys.html"), 409
    refusal = None
    if form.validate_on_submit():
        try:
            made = refer(get_session(), get_blob_store(), _actor(), report, form.draft())
        except ReferralRuleError as error:
            refusal = str(error)
        else:
            flash(_("Case referred. Download the package and send it to the authority."),
                  "success")
            return redirect(url_for("referral.sent", public_id=public_id,
                                    referral_id=made.public_id))
    record_case_event(get_session(), _actor(), AuditAction.CASE_REFERRED, report,
                      outcome=Outcome.FAILURE)
    return _page(report, choices, form, refusal=refusal, status=400)


@bp.route("/<public_id>/referral/identity-request", methods=["POST"])
@staff(HANDLER)
def request_identity(public_id: str) -> BaseResponse:
    """Ask a custodian for the identity, to send it with a referral."""
    report = _case(public_id)
    form = IdentityRequestForm()
    back = redirect(url_for("referral.referral", public_id=public_id))
    if not form.validate_on_submit():
        message = " ".join(form.justification.errors) or _("The request could not be sent.")
    else:
        try:
            request_access(get_session(), _actor(), report, form.justification.data or "",
                           IdentityPurpose.REFERRAL)
        except IdentityRuleError as error:
            message = str(error)
        else:
            notify_custodians(get_session())
            flash(_("Request sent. An identity custodian will decide it."), "success")
            return back
    # Back to the referral page, which shows the refusal: rendering here would read the
    # case again for a request that is about the identity only.
    record_case_event(get_session(), _actor(), AuditAction.IDENTITY_ACCESS_REQUESTED, report,
                      outcome=Outcome.FAILURE)
    flash(message, "error")
    return back


def _sent_page(report: Report, made: Referral) -> str:
    return render_template("referral/sent.html", report=report, referral=made,
                           form=PackageForm(),
                           mine=made.referred_by_id == current_viewer().account.id)


@bp.route("/<public_id>/referrals/<referral_id>")
@staff(HANDLER)
def sent(public_id: str, referral_id: str) -> tuple[str, int]:
    report = _case(public_id)
    try:
        made = find_referral(get_session(), report, referral_id)
    except ReferralNotFoundError:
        abort(404)
    return _sent_page(report, made), 200


@bp.route("/<public_id>/referrals/<referral_id>/package", methods=["POST"])
@staff(HANDLER)
def package(public_id: str, referral_id: str) -> BaseResponse | tuple[str, int]:
    report = _case(public_id)
    if not PackageForm().validate_on_submit():
        abort(400)
    try:
        made = find_referral(get_session(), report, referral_id)
    except ReferralNotFoundError:
        abort(404)
    try:
        chunks = package_stream(get_session(), get_blob_store(), _actor(), made)
    except NoKeysError:
        return render_template("casework/no_keys.html"), 409
    except ReferralRuleError as error:
        record_case_event(get_session(), _actor(), AuditAction.REFERRAL_DOWNLOADED, report,
                          outcome=Outcome.FAILURE)
        flash(str(error), "error")
        return _sent_page(report, made), 403
    response = BaseResponse(stream_with_context(chunks), mimetype="application/octet-stream")
    return as_download(response, f"referral-{report.public_id}-{made.public_id}.age")
