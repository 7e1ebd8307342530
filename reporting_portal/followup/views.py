"""The reporter's mailbox views."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.wrappers import Response as BaseResponse

from reporting_portal.db import get_session
from reporting_portal.extensions import csrf, get_blob_store, get_settings
from reporting_portal.followup import bp
from reporting_portal.followup.forms import ReceiptForm, SignOutForm
from reporting_portal.followup.services import (
    FollowUpBusyError,
    ReceiptNotRecognisedError,
    ReceiptTypoError,
    find_report,
    open_mailbox,
    post_reporter_reply,
    read_mailbox,
)
from reporting_portal.intake.services import SubmissionRefusedError, get_installation
from reporting_portal.intake.uploads import UploadError
from reporting_portal.intake.views import (
    drain_request_body,
    read_upload,
    receipt_params,
    refuse_upload,
)
from reporting_portal.models import Report
from reporting_portal.notifications import notify_new_items
from reporting_portal.objects import case_recipients
from reporting_portal.security.access import public, reporter
from reporting_portal.security.sri import static_integrity
from reporting_portal.sessions import ServerSession

REPLY_FIELDS = ["message", "attachments"]


@bp.route("", methods=["GET", "POST"])
@public
def sign_in() -> str | BaseResponse | tuple[str, int]:
    form = ReceiptForm()
    error = None
    if form.validate_on_submit():
        settings = get_settings()
        try:
            key = open_mailbox(get_session(), form.code.data or "", params=receipt_params(),
                               attempts_per_minute=settings.receipt_attempts_per_minute)
        except ReceiptTypoError:
            error = _("There is a typo in this code: one digit is wrong or two are swapped. "
                      "Check it against what you wrote down.")
        except ReceiptNotRecognisedError:
            error = _("This code does not open a report. Check it and try again.")
        except FollowUpBusyError:
            return render_template("followup/sign_in.html", form=form, error=_(
                "Too many people are signing in right now. Please wait a minute and try "
                "again.")), 429
        else:
            if not isinstance(session, ServerSession):
                raise TypeError("the app must use ServerSessionInterface")
            session.clear()
            session.regenerate()
            session.set_kind("reporter")
            session["report_id"] = key.report_public_id
            session["reporter_identity"] = key.reporter_identity
            return redirect(url_for("followup.mailbox"))
    return render_template("followup/sign_in.html", form=form, error=error)


def _current_report() -> Report:
    try:
        return find_report(get_session(), str(session.get("report_id")))
    except ReceiptNotRecognisedError:
        session.clear()
        abort(404)


def _render_mailbox(report: Report, error: str | None = None, status: int = 200,
                    sent: bool = False) -> tuple[str, int]:
    db = get_session()
    mailbox = read_mailbox(db, get_blob_store(), report, str(session["reporter_identity"]))
    installation = get_installation(db)
    handler_keys = [key for key in case_recipients(db, report, installation)
                    if key != installation.recovery_recipient]
    # The browser encrypts a reply to the same people the server would
    # (message_recipients): the case's handlers, the recovery key and the reporter,
    # who is listed as one more "handler" so the script needs no special case.
    recipients_json = {
        "handlers": [{"id": f"h{index}", "recipient": key}
                     for index, key in enumerate(handler_keys)]
        + [{"id": "reporter", "recipient": report.reporter_recipient}],
        "recovery": installation.recovery_recipient,
        "custodians": [],
        "field_ids": REPLY_FIELDS,
        "max_bytes": get_settings().submission_max_bytes,
        "max_files": get_settings().submission_max_files,
    }
    page = render_template(
        "followup/mailbox.html", mailbox=mailbox, error=error, sent=sent,
        sign_out_form=SignOutForm(), recipients_json=recipients_json,
        script_integrity=static_integrity("js/report.bundle.js"),
        max_megabytes=get_settings().submission_max_bytes // (1024 * 1024),
    )
    return page, status


@bp.route("/mailbox")
@reporter
def mailbox() -> tuple[str, int]:
    return _render_mailbox(_current_report(), sent=request.args.get("sent") == "1")


@bp.route("/reply", methods=["POST"])
@reporter
def reply() -> BaseResponse | tuple[str, int]:
    report = _current_report()
    settings = get_settings()
    try:
        parsed = read_upload({"attachments"})
        fields = parsed.fields
        age_parts = [u for u in parsed.uploads if u.header is not None]
        if fields.get("mode") == "encrypted":
            contents = [u for u in age_parts if u.field_name == "content"]
            if len(contents) != 1 or "q_message" in fields:
                raise UploadError(_("The encrypted message was incomplete. Please try again."))
            files = [u for u in age_parts if u.field_name == "file"]
            content = contents[0]
            text = ""
        else:
            if age_parts:
                raise UploadError(_("The form was not sent as expected. Reload it."))
            files, content = parsed.uploads, None
            text = fields.get("q_message", "")
            if len(text) > settings.message_max_chars:
                raise RequestEntityTooLarge()
        post_reporter_reply(get_session(), get_blob_store(), report, text=text, files=files,
                            content_upload=content)
        notify_new_items(get_session(), report)
    except RequestEntityTooLarge:
        refuse_upload()
        drain_request_body()
        return _render_mailbox(report, _("Your message or files are too large. Nothing was "
                                         "sent."), 413)
    except (UploadError, SubmissionRefusedError) as error:
        refuse_upload()
        message = error.description if isinstance(error, HTTPException) else str(error)
        return _render_mailbox(report, message, 400)
    # Said in the address, not the session: the browser path fetches the page twice.
    return redirect(url_for("followup.mailbox", sent=1), code=303)


csrf.exempt(reply)  # checked on the stream's first field, as for new reports


@bp.route("/sign-out", methods=["POST"])
@reporter
def sign_out() -> str:
    form = SignOutForm()
    if form.validate_on_submit():
        session.clear()
    return render_template("followup/signed_out.html")
