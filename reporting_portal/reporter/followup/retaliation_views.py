"""The mailbox's "Report retaliation" page: a form like the reply's, with or without
JavaScript, whose message is a retaliation report (reporter/followup/retaliation.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import redirect, render_template, session, url_for
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.wrappers import Response as BaseResponse

from reporting_portal.domain.notifications import notify_new_items
from reporting_portal.domain.retaliation import (
    BY_WHOM_MAX_CHARS,
    FORMS,
    RETALIATION_FIELDS,
    RETALIATION_FORMS,
    RetaliationFormError,
    parse_retaliation,
)
from reporting_portal.reporter.followup import bp
from reporting_portal.reporter.followup.message_form import read_message_form
from reporting_portal.reporter.followup.retaliation import report_retaliation
from reporting_portal.reporter.followup.views import (
    _current_report,
    _expired_reply,
    message_recipients_json,
)
from reporting_portal.reporter.intake.request_body import drain_request_body, refuse_upload
from reporting_portal.reporter.intake.services import SubmissionRefusedError
from reporting_portal.reporter.intake.submission_tokens import (
    FIELD_NAME,
    SubmissionReplayedError,
    check_submission_token,
    claim_submission_token,
    issue_submission_token,
)
from reporting_portal.storage.models import Report
from reporting_portal.web.database import get_session
from reporting_portal.web.extensions import csrf, get_blob_store, get_settings
from reporting_portal.web.security.access import reporter, reporter_keeping_text
from reporting_portal.web.security.sri import static_integrity
from reporting_portal.web.sessions import ServerSession
from reporting_portal.web.uploads import UploadError


def _render_form(report: Report, error: str | None = None, status: int = 200,
                 typed: MultiDict[str, str] | None = None) -> tuple[str, int]:
    settings = get_settings()
    shown = typed if typed is not None and typed.get("mode") != "encrypted" else MultiDict()
    page = render_template(
        "followup/retaliation.html", error=error, typed=shown,
        today=datetime.now(UTC).date(), by_whom_max=BY_WHOM_MAX_CHARS,
        retaliation_forms=RETALIATION_FORMS, ticked=shown.getlist(f"q_{FORMS}"),
        text_max=settings.message_max_chars,
        recipients_json=message_recipients_json(report, RETALIATION_FIELDS),
        script_integrity=static_integrity("js/report.bundle.js"),
        max_megabytes=settings.submission_max_bytes // (1024 * 1024),
        max_files=settings.submission_max_files,
        submission_token=issue_submission_token(session),
    )
    return page, status


@bp.route("/mailbox/retaliation")
@reporter
def retaliation_form() -> tuple[str, int]:
    return _render_form(_current_report())


@bp.route("/mailbox/retaliation", methods=["POST"])
@reporter_keeping_text(_expired_reply)
def report_retaliation_view() -> BaseResponse | tuple[str, int]:
    report = _current_report()
    settings = get_settings()
    typed: MultiDict[str, str] = MultiDict()  # what a refusal puts back in the form
    try:
        sent = read_message_form(RETALIATION_FIELDS, typed)
        checked = None
        if sent.content is None:
            checked = parse_retaliation(sent.fields, sent.fields.getlist(f"q_{FORMS}"),
                                        max_chars=settings.message_max_chars,
                                        today=datetime.now(UTC).date())
        check_submission_token(session, sent.fields.get(FIELD_NAME))
        report_retaliation(get_session(), get_blob_store(), report, retaliation=checked,
                           files=sent.files, content_upload=sent.content)
        if not isinstance(session, ServerSession):
            raise TypeError("the app must use ServerSessionInterface")
        claim_submission_token(get_session(), session, sent.fields.get(FIELD_NAME))
        notify_new_items(get_session(), report)
    except SubmissionReplayedError:
        refuse_upload()
        return _render_form(report, _("This report was already sent, so it was not sent "
                                      "again."), 409)
    except RequestEntityTooLarge:
        refuse_upload()
        drain_request_body()
        return _render_form(report, _("Your report or its files are too large. Nothing was "
                                      "sent."), 413, typed)
    except RetaliationFormError as error:
        refuse_upload()
        return _render_form(report, str(error), 400, typed)
    except (UploadError, SubmissionRefusedError) as error:
        refuse_upload()
        message = error.description if isinstance(error, HTTPException) else str(error)
        return _render_form(report, message, getattr(error, "code", None) or 400, typed)
    return redirect(url_for("followup.mailbox", retaliation=1), code=303)


csrf.exempt(report_retaliation_view)  # checked on the stream's first field, as for replies
