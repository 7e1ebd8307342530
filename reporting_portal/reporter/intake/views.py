"""Reporter intake views: the channel list, the report form, the receipt."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, session, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.wrappers import Response as BaseResponse

from crypto.kdf import Argon2Params
from crypto.receipt import format_receipt_code
from reporting_portal.domain.channel_content import channel_text, questions_in
from reporting_portal.domain.notifications import notify_new_items
from reporting_portal.domain.questionnaire import FieldType
from reporting_portal.domain.questionnaire import LocalizedQuestion as Question
from reporting_portal.domain.recipients import ChannelRecipients, channel_recipients
from reporting_portal.reporter.intake import bp
from reporting_portal.reporter.intake.forms import answers_from, build_report_form
from reporting_portal.reporter.intake.reporter_key import (
    forget_reporter_key,
    reporter_key_for_form,
    reporter_key_for_submission,
)
from reporting_portal.reporter.intake.request_body import (
    drain_request_body,
    read_text_fields,
    read_upload,
    refuse_upload,
    sent_from_this_site,
)
from reporting_portal.reporter.intake.script_messages import report_script_messages
from reporting_portal.reporter.intake.services import (
    ChannelNotFoundError,
    Submission,
    SubmissionRefusedError,
    find_open_channel,
    open_channels,
    submit_report,
)
from reporting_portal.reporter.intake.submission_tokens import (
    FIELD_NAME,
    SubmissionReplayedError,
    check_submission_token,
    claim_submission_token,
    issue_submission_token,
)
from reporting_portal.storage.models import Channel
from reporting_portal.web.database import get_session
from reporting_portal.web.extensions import csrf, get_blob_store, get_settings
from reporting_portal.web.languages import language
from reporting_portal.web.security.access import public
from reporting_portal.web.security.sri import static_integrity
from reporting_portal.web.sessions import ServerSession
from reporting_portal.web.uploads import ParsedUpload, UploadError


def receipt_params() -> Argon2Params:
    settings = get_settings()
    return Argon2Params(
        time_cost=settings.receipt_kdf_time_cost,
        memory_cost_kib=settings.receipt_kdf_memory_kib,
        parallelism=1,
    )


@bp.route("")
@public
def choose_channel() -> str | BaseResponse:
    page_language = _page_language()
    channels = [(channel, channel_text(channel, page_language))
                for channel in open_channels(get_session())]
    return render_template("intake/channels.html", channels=channels, language_of=language)


def _page_language() -> str:
    """The page's language (web.languages chose it): it picks the texts shown, and is
    never stored with a report."""
    return str(get_locale() or "en")


def _render_form(channel: Channel, questions: list[Question], recipients: ChannelRecipients,
                 form: object, error: str | None = None, status: int = 200,
                 receipt_pending: bool = False,
                 session_ended: bool = False) -> tuple[str, int]:
    settings = get_settings()
    # The reporter's own key, when they may read back what they send, goes in as one
    # more "handler" (never one they can exclude), as the mailbox's replies do.
    reporter_key = reporter_key_for_form(session, channel)
    recipients_json = {
        "handlers": [{"id": h.public_id, "recipient": h.age_recipient}
                     for h in recipients.handlers]
        + ([{"id": "reporter", "recipient": reporter_key}] if reporter_key else []),
        "recovery": recipients.recovery,
        "custodians": list(recipients.custodians),
        "field_ids": [q.id for q in questions],
        "max_bytes": settings.submission_max_bytes,
        "max_files": settings.submission_max_files,
        "messages": report_script_messages(),
    }
    page = render_template(
        "intake/report_form.html",
        channel=channel,
        channel_text=channel_text(channel, _page_language()),
        language_of=language,
        questions=questions,
        form=form,
        error=error,
        recipients_json=recipients_json,
        script_integrity=static_integrity("js/report.bundle.js"),
        max_megabytes=settings.submission_max_bytes // (1024 * 1024),
        max_files=settings.submission_max_files,
        submission_token=issue_submission_token(session),
        receipt_pending=receipt_pending,
        session_ended=session_ended,
    )
    return page, status


def _channel_or_404(slug: str) -> tuple[Channel, list[Question], ChannelRecipients]:
    """The open channel, its questions and its recipients: read once for the request,
    so the page, the checks and the encryption all use the same keys."""
    try:
        channel = find_open_channel(get_session(), slug)
    except ChannelNotFoundError:
        abort(404)
    return (channel, questions_in(channel, _page_language()),
            channel_recipients(get_session(), channel))


def _handler_choices(recipients: ChannelRecipients) -> list[tuple[str, str]]:
    return [(h.public_id, h.display_name) for h in recipients.handlers]


@bp.route("/<slug>")
@public
def report_form(slug: str) -> tuple[str, int]:
    channel, questions, recipients = _channel_or_404(slug)
    form = build_report_form(questions, _handler_choices(recipients),
                             max_chars=get_settings().answer_max_chars)
    return _render_form(channel, questions, recipients, form)


@bp.route("/<slug>", methods=["POST"])
@public
def submit(slug: str) -> BaseResponse | tuple[str, int]:
    """Both paths post here: plaintext without JavaScript, age files with it."""
    channel, questions, recipients = _channel_or_404(slug)
    settings = get_settings()
    if "csrf_token" not in session:
        return _expired_form(channel, questions, recipients)
    file_questions = {q.id for q in questions if q.type == FieldType.FILE}
    typed: MultiDict[str, str] = MultiDict()  # the answers read, to show again on a refusal
    try:
        parsed = read_upload(file_questions, typed)
        submission = _submission_from(parsed, questions, recipients)
        if submission is None:
            refuse_upload()
            form = build_report_form(questions, _handler_choices(recipients),
                                     max_chars=settings.answer_max_chars, formdata=parsed.fields)
            form.validate()
            return _render_form(channel, questions, recipients, form,
                                _("Some answers need your attention. Files you chose must be "
                                  "added again."), 400)
        token = parsed.fields.get(FIELD_NAME)
        check_submission_token(session, token)
        report, code = submit_report(get_session(), get_blob_store(), channel=channel,
                                     submission=submission, receipt_params=receipt_params(),
                                     recipients=recipients,
                                     reporter_identity=reporter_key_for_submission(session,
                                                                                   channel))
        claim_submission_token(get_session(), _server_session(), token,
                               keep={"receipt_code": code,
                                     "receipt_reads_back": report.content_for_reporter})
        notify_new_items(get_session(), report)
    except RequestEntityTooLarge:
        refuse_upload()
        drain_request_body()
        message = ngettext(
            "Your report is larger than %(size)d MB, or has more than %(num)d file. Nothing "
            "was stored. Make the files smaller or send fewer.",
            "Your report is larger than %(size)d MB, or has more than %(num)d files. Nothing "
            "was stored. Make the files smaller or send fewer.",
            settings.submission_max_files, size=settings.submission_max_bytes // (1024 * 1024))
        return _render_form(channel, questions, recipients,
                            _typed_form(questions, recipients, typed), message, 413)
    except SubmissionReplayedError:
        refuse_upload()
        # An empty form: its answers again, under a new token, would invite a resend.
        form = build_report_form(questions, _handler_choices(recipients),
                                 max_chars=settings.answer_max_chars)
        return _render_form(channel, questions, recipients, form, _(
            "This report was already sent, so it was not sent again. To add something, "
            "follow up with your receipt code. If you did not send it, reload this page "
            "and fill it in again."), 409, receipt_pending=isinstance(
                session.get("receipt_code"), str))
    except (UploadError, SubmissionRefusedError) as error:
        refuse_upload()
        message = error.description if isinstance(error, HTTPException) else str(error)
        # 400 for a malformed form; 507 when the disk filled up (StorageFullError).
        status = getattr(error, "code", None) or 400
        return _render_form(channel, questions, recipients,
                            _typed_form(questions, recipients, typed), message, status)
    _server_session().set_kind("reporter")
    forget_reporter_key(session)
    session["receipt_code"] = code
    session["receipt_reads_back"] = report.content_for_reporter
    return redirect(url_for("intake.receipt"), code=303)


def _typed_form(questions: list[Question], recipients: ChannelRecipients,
                typed: MultiDict[str, str]) -> FlaskForm:
    """The form filled in with what the reporter typed (not validated: a refusal for
    another reason must not add field errors). Empty on the script's path, whose
    answers stay in the page."""
    formdata = typed if typed.get("mode") != "encrypted" else MultiDict()
    return build_report_form(questions, _handler_choices(recipients),
                             max_chars=get_settings().answer_max_chars, formdata=formdata)


def _server_session() -> ServerSession:
    if not isinstance(session, ServerSession):
        raise TypeError("the app must use ServerSessionInterface")
    return session


def _expired_form(channel: Channel, questions: list[Question],
                  recipients: ChannelRecipients) -> tuple[str, int]:
    """A report sent after its session ended (the page was open for hours): nothing is
    stored. The answers typed come back in the form, in this page only, with new tokens;
    files are read past and must be chosen again."""
    settings = get_settings()
    fields: MultiDict[str, str] = MultiDict()
    encrypted = False
    try:
        parsed = read_text_fields(settings.answer_max_chars)
    except (UploadError, RequestEntityTooLarge):
        drain_request_body()
    else:
        encrypted = parsed.fields.get("mode") == "encrypted"
        if sent_from_this_site() and not encrypted:
            fields = parsed.fields
    # Bound to the answers, never validated (it would only show errors): the new
    # session's CSRF token is rendered, not the stale one that was sent.
    form = build_report_form(questions, _handler_choices(recipients),
                             max_chars=settings.answer_max_chars, formdata=fields)
    sentences = [_("This page was open so long without activity that its session ended, so "
                   "nothing was sent.")]
    if fields or encrypted:
        sentences.append(_("Your answers are still in the form, kept only in this page: "
                           "check them, add any files again, and send the report again."))
    return _render_form(channel, questions, recipients, form, " ".join(sentences), 403,
                        session_ended=True)


# The token is checked on the stream itself (the first field), before any file is read;
# Flask-WTF's own check would parse the whole body first, spooling files to disk.
csrf.exempt(submit)


def _submission_from(parsed: ParsedUpload, questions: list[Question],
                     recipients: ChannelRecipients) -> Submission | None:
    """The submission, or ``None`` when plaintext answers fail validation."""
    fields = parsed.fields
    excluded = set(fields.getlist("exclude"))
    age_parts = [u for u in parsed.uploads if u.header is not None]
    if fields.get("mode") == "encrypted":
        contents = [u for u in age_parts if u.field_name == "content"]
        identities = [u for u in age_parts if u.field_name == "identity"]
        if len(contents) != 1 or len(identities) > 1 or len(age_parts) != len(parsed.uploads):
            raise UploadError(_("The encrypted report was incomplete. Please try again."))
        if any(name.startswith(("q_", "identity_")) for name in fields):
            raise UploadError(_("The encrypted report carried unencrypted answers."))
        return Submission(
            excluded_ids=excluded,
            files=[u for u in age_parts if u.field_name == "file"],
            content_upload=contents[0],
            identity_upload=identities[0] if identities else None,
        )
    if age_parts:
        raise UploadError(_("The form was not sent as expected. Reload it and try again."))
    form = build_report_form(questions, _handler_choices(recipients), check_csrf=False,
                             max_chars=get_settings().answer_max_chars, formdata=fields)
    missing_files = [q for q in questions if q.type == FieldType.FILE and q.required
                     and not any(u.field_name == q.id for u in parsed.uploads)]
    if not form.validate() or missing_files:
        return None
    identity = {"name": fields.get("identity_name", "").strip(),
                "contact": fields.get("identity_contact", "").strip()}
    return Submission(
        excluded_ids=excluded,
        files=parsed.uploads,
        answers=answers_from(form, questions),
        identity=identity if any(identity.values()) else None,
        file_descriptions=[
            {"field": u.field_name, "name": u.filename, "size": u.plaintext_size,
             "type": u.content_type}
            for u in parsed.uploads
        ],
    )


@bp.route("/receipt", methods=["GET", "POST"])
@public
def receipt() -> str | BaseResponse:
    """Show the receipt code until the reporter confirms they have written it down."""
    code = session.get("receipt_code")
    if not isinstance(code, str):
        return redirect(url_for("reporter.landing"))
    error = None
    if request.method == "POST":
        if request.form.get("written_down") == "yes":
            session.pop("receipt_code", None)
            return render_template("intake/thanks.html")
        error = _("Please confirm that you have written the code down.")
    return render_template("intake/receipt.html", code=format_receipt_code(code), error=error,
                           reads_back=session.get("receipt_reads_back") is True)
