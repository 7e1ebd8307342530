"""The reporter's mailbox views."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import (
    abort,
    g,
    redirect,
    render_template,
    request,
    session,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.wrappers import Response as BaseResponse

from crypto.errors import AgeError
from crypto.keys import parse_identity
from reporting_portal.audit.events import REPORTER, AuditAction, ObjectType, record_event
from reporting_portal.audit.receipt_proofs import proof_availability
from reporting_portal.domain.installation import get_installation
from reporting_portal.domain.notifications import notify_new_items
from reporting_portal.domain.objects import case_recipients, read_object
from reporting_portal.reporter.followup import bp
from reporting_portal.reporter.followup.forms import ReceiptForm, SignOutForm
from reporting_portal.reporter.followup.message_form import read_message_form
from reporting_portal.reporter.followup.reply_files import (
    ReplyFileNotFoundError,
    find_reply_file,
    reply_file_name,
)
from reporting_portal.reporter.followup.services import (
    FollowUpBusyError,
    ProofOfWork,
    ProofOfWorkRefusedError,
    ReceiptNotRecognisedError,
    ReceiptTypoError,
    find_report,
    first_open_level,
    open_mailbox,
    post_reporter_reply,
    pow_bits,
    read_mailbox,
)
from reporting_portal.reporter.intake.request_body import (
    drain_request_body,
    read_text_fields,
    refuse_upload,
    sent_from_this_site,
)
from reporting_portal.reporter.intake.script_messages import report_script_messages
from reporting_portal.reporter.intake.services import SubmissionRefusedError
from reporting_portal.reporter.intake.submission_tokens import (
    FIELD_NAME,
    SubmissionReplayedError,
    check_submission_token,
    claim_submission_token,
    issue_submission_token,
)
from reporting_portal.reporter.intake.views import receipt_params
from reporting_portal.storage.models import Report
from reporting_portal.web.database import get_session
from reporting_portal.web.download_names import safe_download_name
from reporting_portal.web.extensions import csrf, get_blob_store, get_settings
from reporting_portal.web.languages import clear_keeping_language
from reporting_portal.web.security.access import public, reporter, reporter_keeping_text
from reporting_portal.web.security.headers import as_download
from reporting_portal.web.security.proof_of_work import new_challenge
from reporting_portal.web.security.rate_limit import get_rate_limits
from reporting_portal.web.security.sri import static_integrity
from reporting_portal.web.sessions import ServerSession
from reporting_portal.web.uploads import UploadError

REPLY_FIELDS = ["message", "attachments"]


# The session key of the page's proof-of-work challenge (hex), used once.
POW_CHALLENGE = "receipt_pow_challenge"


@bp.route("", methods=["GET", "POST"])
@public
def sign_in() -> str | BaseResponse | tuple[str, int]:
    form = ReceiptForm()
    # Taken out at every POST, whatever follows: a solution is good for one attempt.
    kept = session.pop(POW_CHALLENGE, None) if request.method == "POST" else None
    if not form.validate_on_submit():
        return _sign_in_page(form)
    settings = get_settings()
    proof = _submitted_proof(form, kept)
    try:
        key = open_mailbox(get_session(), form.code.data or "", params=receipt_params(),
                           rate_limits=get_rate_limits(), settings=settings, proof=proof)
    except (ReceiptTypoError, ReceiptNotRecognisedError, ProofOfWorkRefusedError,
            FollowUpBusyError) as refused:
        return _refused_page(form, refused)
    if not isinstance(session, ServerSession):
        raise TypeError("the app must use ServerSessionInterface")
    clear_keeping_language(session)
    session.regenerate()
    session.set_kind("reporter")
    session["report_id"] = key.report_public_id
    session["reporter_identity"] = key.reporter_identity
    if carried := _carried_message():
        # Straight to the mailbox with the text in its reply box: a redirect would need
        # the text stored somewhere in between. Flask-WTF keeps this request's CSRF token
        # in ``g``; it belongs to the session just cleared, so the page needs a new one.
        g.pop("csrf_token", None)
        return _render_mailbox(_current_report(), draft=carried)
    return redirect(url_for("followup.mailbox"))


def _carried_message() -> str:
    """A reply typed before the session ended, travelling in the sign-in form (never
    stored), so that it goes back into the reply box after signing in again."""
    if request.method != "POST":
        return ""
    return request.form.get("carried_message", "")[: get_settings().message_max_chars]


def _refused_page(form: ReceiptForm, refused: Exception) -> tuple[str, int]:
    """The page again, saying why; the script resends by itself where that can help."""
    if isinstance(refused, ReceiptTypoError):
        return _sign_in_page(form, _(
            "There is a typo in this code: one digit is wrong or two are swapped. "
            "Check it against what you wrote down."), code_refused=True)
    if isinstance(refused, ProofOfWorkRefusedError):
        # A page left open in another tab, or a tampered form: the script redoes it.
        return _sign_in_page(form, _(
            "The page's check had expired. It was renewed; press the button again."),
            status=400, resend=True)
    if isinstance(refused, FollowUpBusyError) and refused.next_level is not None:
        return _sign_in_page(form, _(
            "Many people are signing in right now. This page is doing a little more work "
            "before it tries again."), status=429, level=refused.next_level, resend=True)
    if isinstance(refused, FollowUpBusyError) and refused.plain:
        # Anyone can fill this lane at no cost (SECURITY.md says so); the other has one.
        return _sign_in_page(form, _(
            "Too many people are signing in right now. Please wait a minute and try "
            "again. If you can allow JavaScript for this site, it has a separate way in."),
            status=429)
    if isinstance(refused, FollowUpBusyError):
        return _sign_in_page(form, _(
            "Too many people are signing in right now. Please wait a minute and try "
            "again."), status=429)
    return _sign_in_page(form, _("This code does not open a report. Check it and try again."),
                         code_refused=True)


def _submitted_proof(form: ReceiptForm, kept: object) -> ProofOfWork | None:
    """The script's solution, or ``None`` for the plain lane (no script ran)."""
    if not form.pow_nonce.data:
        return None
    challenge, issued_at = None, None
    if isinstance(kept, str) and kept.count(".") == 1:  # "<hex>.<unix time>", as set below
        challenge_hex, issued = kept.split(".")
        challenge = bytes.fromhex(challenge_hex)
        issued_at = datetime.fromtimestamp(int(issued), UTC)
    return ProofOfWork(challenge=challenge, issued_at=issued_at,
                       level=int(form.pow_level.data or 0), nonce=int(form.pow_nonce.data))


# The script sends a sign-in again by itself at most this often (levels filling, a
# renewed challenge), so a page never loops.
MAX_RESENDS = 8


def _sign_in_page(form: ReceiptForm, error: str | None = None, *, status: int = 200,
                  level: int | None = None, resend: bool = False,
                  carried: str | None = None, session_ended: str | None = None,
                  code_refused: bool = False) -> tuple[str, int]:
    """The sign-in page with a fresh single-use challenge for its script; with
    ``code_refused`` the error is tied to the code's field (WCAG 3.3.1)."""
    settings = get_settings()
    if level is None:
        level = first_open_level(get_rate_limits(), settings)
    challenge = new_challenge()
    session[POW_CHALLENGE] = f"{challenge.hex()}.{int(get_rate_limits().clock().timestamp())}"
    resent = int(form.pow_retries.data or 0) if request.method == "POST" else 0
    page = render_template(
        "followup/sign_in.html", form=form, error=error,
        pow_challenge=challenge.hex(), pow_level=level, pow_bits=pow_bits(settings, level),
        pow_resend=resend and resent < MAX_RESENDS, pow_retries=resent + 1 if resend else 0,
        script_integrity=static_integrity("js/receipt-pow.bundle.js"),
        carried_message=_carried_message() if carried is None else carried,
        session_ended=session_ended, code_refused=code_refused,
    )
    return page, status


def _current_report() -> Report:
    try:
        return find_report(get_session(), str(session.get("report_id")))
    except ReceiptNotRecognisedError:
        session.clear()
        abort(404)


def message_recipients_json(report: Report, field_ids: list[str]) -> dict[str, object]:
    """What the page's script encrypts a message to, and the form's fields it reads.

    The same people the server would (message_recipients): the case's handlers, the
    recovery key and the reporter, who is listed as one more "handler" so the script
    needs no special case."""
    db = get_session()
    installation = get_installation(db)
    handler_keys = [key for key in case_recipients(db, report, installation)
                    if key != installation.recovery_recipient]
    return {
        "handlers": [{"id": f"h{index}", "recipient": key}
                     for index, key in enumerate(handler_keys)]
        + [{"id": "reporter", "recipient": report.reporter_recipient}],
        "recovery": installation.recovery_recipient,
        "custodians": [],
        "field_ids": field_ids,
        "max_bytes": get_settings().submission_max_bytes,
        "max_files": get_settings().submission_max_files,
        "messages": report_script_messages(),
    }


def _render_mailbox(report: Report, error: str | None = None, status: int = 200,
                    sent: bool = False, draft: str = "") -> tuple[str, int]:
    db = get_session()
    mailbox = read_mailbox(db, get_blob_store(), report, str(session["reporter_identity"]))
    page = render_template(
        "followup/mailbox.html", mailbox=mailbox, error=error, sent=sent,
        proof=proof_availability(db, report.public_id, datetime.now(UTC)),
        retaliation_sent=request.args.get("retaliation") == "1",
        sign_out_form=SignOutForm(), recipients_json=message_recipients_json(report,
                                                                             REPLY_FIELDS),
        script_integrity=static_integrity("js/report.bundle.js"),
        max_megabytes=get_settings().submission_max_bytes // (1024 * 1024),
        max_files=get_settings().submission_max_files,
        submission_token=issue_submission_token(session), draft=draft,
    )
    return page, status


@bp.route("/mailbox")
@reporter
def mailbox() -> tuple[str, int]:
    return _render_mailbox(_current_report(), sent=request.args.get("sent") == "1")


@bp.route("/mailbox/files/<file_id>")
@reporter
def download_reply_file(file_id: str) -> BaseResponse:
    """A file a case handler attached to a message, decrypted here with the reporter's
    identity held in the session, as the mailbox's messages are: with JavaScript or
    without, the same link works. Never rendered: a sandboxed attachment."""
    report = _current_report()
    db = get_session()
    identity = parse_identity(str(session["reporter_identity"]))
    try:
        obj = find_reply_file(db, report, file_id)
        chunks = read_object(get_blob_store(), obj, [identity])
    except (ReplyFileNotFoundError, AgeError):
        abort(404)
    name = reply_file_name(db, get_blob_store(), obj, identity)
    # Held for the day's release like every reporter event (audit/held.py).
    record_event(db, AuditAction.FILE_DOWNLOADED, actor=None, actor_role=REPORTER,
                 object_type=ObjectType.FILE, object_id=obj.public_id)
    response = BaseResponse(stream_with_context(chunks), mimetype="application/octet-stream")
    return as_download(response, safe_download_name(name))


def _expired_reply() -> tuple[str, int]:
    """A reply that arrives after the reporter's session ended (the access rule sends it
    here). Nothing is sent or stored: the body's text is read into memory, its files are
    read past, and the receipt sign-in form comes back with the text in it, in this page
    only, so that after signing in it is back in the reply box."""
    settings = get_settings()
    text, dropped, encrypted = "", False, False
    try:
        parsed = read_text_fields(settings.message_max_chars)
    except (UploadError, RequestEntityTooLarge):
        drain_request_body()
    else:
        encrypted = parsed.fields.get("mode") == "encrypted"
        # The script's encrypted message is a file part too: only the reporter's count.
        dropped = any(name in {"file", "q_attachments"} for name in parsed.dropped_files)
        if sent_from_this_site() and parsed.fields.get("q_message", "").strip():
            text = parsed.fields["q_message"]
    sentences = [_("Your session ended after %(minutes)d minutes without activity, so your "
                   "message was not sent.", minutes=settings.reporter_idle_minutes)]
    if text:
        sentences.append(_("It is still in the box below, kept only in this page: enter your "
                           "receipt code and it will be back in the reply box, ready to "
                           "send."))
    elif encrypted:
        sentences.append(_("It is still in the reply box on this page: copy it, reload the "
                           "page to sign in again with your receipt code, and paste it into "
                           "the reply box."))
    if dropped:
        sentences.append(_("Files you chose were not kept: add them again."))
    return _sign_in_page(ReceiptForm(formdata=None), status=403, carried=text,
                         session_ended=" ".join(sentences))


@bp.route("/reply", methods=["POST"])
@reporter_keeping_text(_expired_reply)
def reply() -> BaseResponse | tuple[str, int]:
    report = _current_report()
    settings = get_settings()
    typed: MultiDict[str, str] = MultiDict()  # what a refusal puts back in the reply box
    try:
        sent = read_message_form(["message"], typed)
        text = sent.fields.get("q_message", "")
        if sent.content is None and len(text) > settings.message_max_chars:
            raise RequestEntityTooLarge()
        check_submission_token(session, sent.fields.get(FIELD_NAME))
        post_reporter_reply(get_session(), get_blob_store(), report, text=text,
                            files=sent.files, content_upload=sent.content)
        if not isinstance(session, ServerSession):
            raise TypeError("the app must use ServerSessionInterface")
        claim_submission_token(get_session(), session, sent.fields.get(FIELD_NAME))
        notify_new_items(get_session(), report)
    except SubmissionReplayedError:
        refuse_upload()
        return _render_mailbox(report, _("This message was already sent, so it was not sent "
                                         "again."), 409)
    except RequestEntityTooLarge:
        refuse_upload()
        drain_request_body()
        return _render_mailbox(report, _("Your message or files are too large. Nothing was "
                                         "sent."), 413, draft=_draft(typed))
    except (UploadError, SubmissionRefusedError) as error:
        refuse_upload()
        message = error.description if isinstance(error, HTTPException) else str(error)
        # 400 for a malformed form; 507 when the disk filled up (StorageFullError).
        status = getattr(error, "code", None) or 400
        return _render_mailbox(report, message, status, draft=_draft(typed))
    # Said in the address, not the session: the browser path fetches the page twice.
    return redirect(url_for("followup.mailbox", sent=1), code=303)


csrf.exempt(reply)  # checked on the stream's first field, as for new reports


def _draft(typed: MultiDict[str, str]) -> str:
    """The reply as typed, for the box again after a refusal (none on the script path,
    whose text stays in the page)."""
    return "" if typed.get("mode") == "encrypted" else typed.get("q_message", "")


@bp.route("/sign-out", methods=["POST"])
@reporter
def sign_out() -> str:
    form = SignOutForm()
    if form.validate_on_submit():
        clear_keeping_language(session)
    return render_template("followup/signed_out.html")
