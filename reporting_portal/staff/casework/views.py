"""Casework views: parse, call one service, render."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from flask import abort, flash, redirect, render_template, request, stream_with_context, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response as BaseResponse
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs predate 3.3

from crypto import AgeError
from crypto.errors import KeyWrapError
from crypto.keys import parse_identity
from crypto.keywrap import unwrap_with_password
from reporting_portal.audit.events import AuditAction, Outcome
from reporting_portal.domain.actors import (
    Actor,
    NoKeysError,
    record_account_event,
    record_case_event,
)
from reporting_portal.domain.case_words import OUTCOME_LABELS
from reporting_portal.domain.installation import get_installation
from reporting_portal.domain.notifications import notify_custodians
from reporting_portal.domain.objects import case_recipients, read_object
from reporting_portal.staff.auth.services import PasswordCheckThrottledError, spend_password_check
from reporting_portal.staff.auth.viewer import current_identity, current_viewer
from reporting_portal.staff.casework import bp
from reporting_portal.staff.casework.bulk_views import bulk_context
from reporting_portal.staff.casework.deadline_words import case_deadlines
from reporting_portal.staff.casework.export import export_objects, stream_export
from reporting_portal.staff.casework.export_manifest import sealed_manifest
from reporting_portal.staff.casework.forms import (
    TEXT_MAX,
    AcknowledgeForm,
    AddHandlerForm,
    CaseActionForm,
    CloseRecordForm,
    IdentityDownloadForm,
    LabelsForm,
    MeasureForm,
    NoteForm,
    PriorityForm,
    ReopenForm,
    ReplyForm,
    ReviewForm,
    StatusForm,
)
from reporting_portal.staff.casework.inbox import InboxFilter, inbox_page
from reporting_portal.staff.casework.protection import read_protection
from reporting_portal.staff.casework.reply_upload import drain_rest, read_handler_reply
from reporting_portal.staff.casework.services import (
    DEFAULT_ACKNOWLEDGEMENT,
    CaseNotFoundError,
    CaseRuleError,
    CaseView,
    assignable_handlers,
    download_name,
    find_file,
    list_labels,
    open_case,
    post_note,
    read_case,
    record_download,
    record_refused_open,
    reply_to_reporter,
)
from reporting_portal.staff.casework.timeline import SHOW_CHOICES, shown, staff_zone
from reporting_portal.staff.casework.versions import case_snapshot
from reporting_portal.staff.custody.forms import IdentityRequestForm
from reporting_portal.staff.custody.services import (
    IdentityRuleError,
    ReporterIdentity,
    access_for,
    read_identity,
    request_access,
)
from reporting_portal.storage.models import Channel, Priority, Report, ReportStatus, Role
from reporting_portal.web.database import get_session, rollback_request_session
from reporting_portal.web.extensions import csrf, get_blob_store, get_settings
from reporting_portal.web.security.access import staff
from reporting_portal.web.security.headers import as_download
from reporting_portal.web.security.rate_limit import get_rate_limits, minutes_to_wait
from reporting_portal.web.uploads import UploadError

HANDLER = Role.CASE_HANDLER


def _actor() -> Actor:
    return Actor.member(current_viewer().account, current_identity())


def _case(public_id: str) -> Report:
    try:
        return open_case(get_session(), current_viewer().account, public_id)
    except CaseNotFoundError:
        record_refused_open(get_session(), current_viewer().account, public_id)
        abort(404)  # the same answer as for a case that does not exist


@bp.route("")
@staff(HANDLER)
def inbox() -> str:
    chosen = InboxFilter.from_args(request.args.to_dict())
    today = datetime.now(UTC).date()
    page = inbox_page(get_session(), current_viewer().account.id, chosen, today)
    channels = get_session().query(Channel).order_by(Channel.name).all()
    return render_template(
        "casework/inbox.html", page=page, chosen=chosen, today=today,
        statuses=list(ReportStatus), priorities=list(Priority), channels=channels,
        labels=list_labels(get_session()),
        query_without_page={k: v for k, v in request.args.items()
                            if k not in {"page", "after", "before"}},
        **bulk_context(),
    )


def _render_case(report: Report, status: int = 200, *,
                 identity: ReporterIdentity | None = None,
                 identity_form: IdentityRequestForm | None = None,
                 reopen_form: ReopenForm | None = None,
                 reply_text: str | None = None) -> tuple[str, int]:
    db = get_session()
    try:
        view = read_case(db, get_blob_store(), _actor(), report,
                         language=str(get_locale() or "en"))
    except NoKeysError:
        return render_template("casework/no_keys.html"), 409
    labels = list_labels(db)
    label_form = LabelsForm()
    label_form.labels.choices = [SelectChoice(label.name, label.name) for label in labels]
    label_form.labels.data = [label.name for label in report.labels]
    add_form = AddHandlerForm()
    add_form.handler.choices = [SelectChoice(h.public_id, h.display_name)
                                for h in assignable_handlers(db, report)]
    today = datetime.now(UTC).date()
    page = render_template(
        "casework/case.html", view=view, report=report, today=datetime.now(UTC).date(),
        status_form=StatusForm(), priority_form=PriorityForm(priority=report.priority),
        label_form=label_form, add_form=add_form, action_form=CaseActionForm(),
        note_form=NoteForm(),
        reply_form=ReplyForm() if reply_text is None else ReplyForm(formdata=None,
                                                                    reply=reply_text),
        acknowledge_form=AcknowledgeForm(message=str(DEFAULT_ACKNOWLEDGEMENT)),
        case_seen=case_snapshot(db, report).encode(),
        outcomes=OUTCOME_LABELS, next_statuses=_next_statuses(report),
        identity_access=access_for(db, _actor(), report), identity=identity,
        identity_form=identity_form or IdentityRequestForm(),
        deadlines=case_deadlines(report, datetime.now(UTC).date()),
        reopen_form=reopen_form or ReopenForm(),
        reply_max_files=get_settings().submission_max_files,
        reply_max_bytes=get_settings().submission_max_bytes,
        **_timeline_context(view),
        **_protection_context(report, today),
    )
    return page, status


def _protection_context(report: Report, today: date) -> dict[str, object]:
    """The protection record and its forms (each listed measure's prefilled)."""
    protection = read_protection(get_session(), get_blob_store(), _actor(), report)
    return {
        "protection": protection,
        "measure_form": MeasureForm(on=today),
        "measure_forms": {row.public_id: MeasureForm.for_measure(row.public_id, row.text,
                                                                 shared=row.shared)
                          for row in protection.measures if row.text is not None},
        "review_form": ReviewForm(formdata=None, review_on=protection.review_on),
        "close_form": CloseRecordForm(formdata=None),
    }


def _timeline_context(view: CaseView) -> dict[str, object]:
    """The timeline as the page's filter link asks for it, and the zone it shows."""
    show = request.args.get("show", "all")
    show = show if show in SHOW_CHOICES else "all"
    return {"timeline": shown(view.timeline, show), "timeline_show": show,
            "timeline_zone": staff_zone(get_settings().staff_time_zone)}


def _next_statuses(report: Report) -> list[str]:
    flow = [s.value for s in ReportStatus]
    if report.status == ReportStatus.CLOSED:
        return []
    return flow[flow.index(report.status) + 1:]


@bp.route("/<public_id>")
@staff(HANDLER)
def case(public_id: str) -> tuple[str, int]:
    return _render_case(_case(public_id))


_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def safe_filename(name: str) -> str:
    """A download name that cannot carry a path, a header break or a script extension."""
    cleaned = _SAFE_NAME.sub("_", name).strip("._") or "file"
    return cleaned[:100]


@bp.route("/<public_id>/files/<file_id>")
@staff(HANDLER)
def download(public_id: str, file_id: str) -> BaseResponse:
    report = _case(public_id)
    db = get_session()
    identity = current_identity()
    if identity is None:
        abort(409)
    try:
        obj = find_file(db, report, file_id)
    except CaseNotFoundError:
        abort(404)
    try:
        chunks = read_object(get_blob_store(), obj, [identity])
    except AgeError:
        abort(404)
    name = download_name(db, get_blob_store(), _actor(), obj)
    record_download(db, _actor(), report, obj)
    response = BaseResponse(stream_with_context(chunks), mimetype="application/octet-stream")
    return as_download(response, safe_filename(name))


def _after_change(public_id: str, message: str) -> BaseResponse:
    flash(message, "success")
    return redirect(url_for("casework.case", public_id=public_id))


def _record_failed(report: Report, attempted: AuditAction) -> None:
    """A refused change is still an event: the auditor sees what was tried."""
    record_case_event(get_session(), _actor(), attempted, report, outcome=Outcome.FAILURE)


def _refused(report: Report, error: Exception, attempted: AuditAction) -> tuple[str, int]:
    """Explain the refusal on the case page, and log the attempt with outcome failure."""
    _record_failed(report, attempted)
    flash(str(error), "error")
    return _render_case(report, 400)


@bp.route("/<public_id>/notes", methods=["POST"])
@staff(HANDLER)
def write_note(public_id: str) -> BaseResponse | tuple[str, int]:
    report = _case(public_id)
    form = NoteForm()
    if not form.validate_on_submit():
        return _refused(report, CaseRuleError(_("Write a note of at most 20,000 characters.")),
                        AuditAction.CASE_NOTE_WRITTEN)
    try:
        post_note(get_session(), get_blob_store(), _actor(), report, form.note.data or "")
    except CaseRuleError as error:
        return _refused(report, error, AuditAction.CASE_NOTE_WRITTEN)
    return _after_change(public_id, _("Note saved. Only case handlers see it."))


@bp.route("/<public_id>/messages", methods=["POST"])
@staff(HANDLER)
def write_message(public_id: str) -> BaseResponse | tuple[str, int]:
    report = _case(public_id)
    typed: MultiDict[str, str] = MultiDict()  # what a refusal puts back in the box
    try:
        # Streamed, never request.form: the files must not be spooled to disk.
        sent = read_handler_reply(TEXT_MAX, typed)
        reply_to_reporter(get_session(), get_blob_store(), _actor(), report, sent.text,
                          files=sent.files)
    except (RequestEntityTooLarge, UploadError, CaseRuleError) as error:
        # Read what is left first: no form parser may see the rest of this body.
        drain_rest()
        rollback_request_session()  # the files already stored go with the transaction
        if isinstance(error, RequestEntityTooLarge):
            error = CaseRuleError(_("The message or its files are too large. Nothing was "
                                    "sent."))
        _record_failed(report, AuditAction.HANDLER_MESSAGE_SENT)
        flash(error.description if isinstance(error, UploadError) else str(error), "error")
        return _render_case(report, 400, reply_text=typed.get("reply", ""))
    return _after_change(public_id, _("Message sent. The reporter sees it in their mailbox."))


csrf.exempt(write_message)  # checked on the stream's first field (casework/reply_upload.py)


@bp.route("/<public_id>/identity-requests", methods=["POST"])
@staff(HANDLER)
def request_identity(public_id: str) -> BaseResponse | tuple[str, int]:
    report = _case(public_id)
    form = IdentityRequestForm()
    if not form.validate_on_submit():
        _record_failed(report, AuditAction.IDENTITY_ACCESS_REQUESTED)
        return _render_case(report, 400, identity_form=form)
    try:
        request_access(get_session(), _actor(), report, form.justification.data or "")
    except IdentityRuleError as error:
        return _refused(report, error, AuditAction.IDENTITY_ACCESS_REQUESTED)
    notify_custodians(get_session())
    return _after_change(public_id, _("Request sent. An identity custodian will decide it."))


@bp.route("/<public_id>/identity")
@staff(HANDLER)
def show_identity(public_id: str) -> tuple[str, int]:
    """The case view with the reporter's identity shown: for approved requests only."""
    report = _case(public_id)
    try:
        identity = read_identity(get_session(), get_blob_store(), _actor(), report)
    except IdentityRuleError:
        abort(403)
    except NoKeysError:
        return render_template("casework/no_keys.html"), 409
    return _render_case(report, identity=identity)


@bp.route("/<public_id>/export", methods=["POST"])
@staff(HANDLER)
def export_case(public_id: str) -> BaseResponse | tuple[str, int]:
    report = _case(public_id)
    if not CaseActionForm().validate_on_submit():
        abort(400)
    identity = current_identity()
    if identity is None:
        return render_template("casework/no_keys.html"), 409
    db = get_session()
    objects = export_objects(db, report, include_identity=False)
    actor = _actor()
    record_case_event(db, actor, AuditAction.CASE_EXPORTED, report)
    names = sealed_manifest(get_blob_store(), report, objects, [identity],
                            case_recipients(db, report, get_installation(db)))
    response = BaseResponse(stream_with_context(stream_export(get_blob_store(), report, objects,
                                                              sealed_manifest=names)),
                            mimetype="application/zip")
    # A public id is URL-safe base64 (letters, digits, "-", "_"): already a safe name,
    # and kept whole, so the file names the case even when its id starts with "_".
    return as_download(response, f"case-{report.public_id}.zip")


@bp.route("/my-identity", methods=["GET", "POST"])
@staff(HANDLER)
def identity_file() -> str | BaseResponse:
    """The handler's own age identity, after the password again (to open exports)."""
    form = IdentityDownloadForm()
    account = current_viewer().account
    if form.validate_on_submit() and account.wrapped_identity is not None:
        try:
            # A stolen session must not guess the password here (issue 11, item 13).
            spent = spend_password_check(get_session(), get_rate_limits(), get_settings(),
                                         account)
            secret = unwrap_with_password(account.wrapped_identity, form.password.data or "")
        except PasswordCheckThrottledError as throttled:
            form.password.errors = [ngettext(
                "Too many wrong passwords. Try again in %(num)d minute.",
                "Too many wrong passwords. Try again in %(num)d minutes.",
                minutes_to_wait(throttled.retry_after))]
        except KeyWrapError:
            form.password.errors = [_("That password is not right.")]
        else:
            get_rate_limits().refund(spent)  # before the event below is written
            identity = parse_identity(secret.decode("ascii"))
            record_account_event(get_session(), Actor.member(account),
                                 AuditAction.IDENTITY_FILE_DOWNLOADED, account.public_id)
            created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            body = (f"# created: {created}\n# public key: {identity.recipient}\n"
                    f"{identity.to_string()}\n")
            response = BaseResponse(body, mimetype="application/octet-stream")
            return as_download(response, f"identity-{safe_filename(account.username)}.txt")
    return render_template("casework/identity_file.html", form=form,
                           has_keys=account.wrapped_identity is not None)
