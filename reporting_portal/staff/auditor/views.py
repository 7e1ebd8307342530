"""The auditor's views: browse and filter the log, prove an event, keep and check heads,
export. Auditors see events only: no report content and no identity ever reaches here."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from datetime import UTC, datetime

from flask import Blueprint, abort, render_template, request
from flask_babel import format_decimal
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from crypto.errors import ProofError
from reporting_portal.audit.events import (
    AuditAction,
    ObjectType,
    Outcome,
    primary_role,
    record_event,
)
from reporting_portal.audit.held import held_count
from reporting_portal.audit.proofs import (
    EventNotFoundError,
    HeadCheckError,
    check_saved_head,
    inclusion_proof_for,
    latest_head,
    verifier_key,
)
from reporting_portal.staff.auditor.browse import (
    EXPORT_LIMIT,
    ROLE_ACTORS,
    EventFilter,
    actor_names,
    event_page,
    events_as_csv,
    events_as_json,
    exported_events,
    staff_actors,
)
from reporting_portal.staff.auditor.case_filter import with_case_resolved
from reporting_portal.staff.auditor.forms import HEAD_FILE_LIMIT, HeadUploadForm
from reporting_portal.staff.auth.viewer import current_viewer
from reporting_portal.storage.models import AuditTreeHead, Role
from reporting_portal.web.database import get_session
from reporting_portal.web.security.access import staff
from reporting_portal.web.security.headers import as_download

bp = Blueprint("audit", __name__, url_prefix="/staff/audit", template_folder="templates")
AUDITOR = Role.AUDITOR


def _record(action: AuditAction, *, outcome: Outcome = Outcome.SUCCESS,
            object_type: ObjectType | None = None, object_id: str | None = None) -> None:
    account = current_viewer().account
    record_event(get_session(), action, actor=account, actor_role=primary_role(account),
                 outcome=outcome, object_type=object_type, object_id=object_id)


def _head() -> AuditTreeHead:
    head = latest_head(get_session())
    if head is None:
        abort(404)
    return head


def _head_check_message(refused: HeadCheckError) -> str:
    """Why a saved head does not check out, in the auditor's language."""
    sizes = {"saved": format_decimal(refused.saved_size),
             "current": format_decimal(refused.current_size)}
    if refused.reason == "shrunk":
        return str(_("The log holds %(current)s entries, fewer than the %(saved)s this "
                     "head signed: entries were removed.", **sizes))
    if refused.reason == "rewritten":
        return str(_("The first %(saved)s entries are not the ones this head signed: the log "
                     "was rewritten. Run `reporting-portal audit verify --head` on the "
                     "server to locate it.", **sizes))
    if refused.reason == "not_a_head":
        return str(_("This file is not a signed tree head."))
    return str(_("This is not a tree head signed by this log's key."))


@bp.route("")
@staff(AUDITOR)
def log() -> str:
    db = get_session()
    chosen = EventFilter.from_args(request.args.to_dict())
    before = request.args.get("before", type=int)
    page = event_page(db, with_case_resolved(db, chosen), before)
    _record(AuditAction.AUDIT_LOG_VIEWED)
    return render_template(
        "audit/log.html", page=page, chosen=chosen, head=latest_head(db),
        names=actor_names(db, page.events), staff=staff_actors(db), role_actors=ROLE_ACTORS,
        actions=sorted(AuditAction), object_types=sorted(ObjectType),
        verifier_key=verifier_key(db), export_limit=EXPORT_LIMIT, held=held_count(db),
    )


@bp.route("/events/<int:leaf_index>")
@staff(AUDITOR)
def event(leaf_index: int) -> str | BaseResponse:
    db = get_session()
    try:
        proof = inclusion_proof_for(db, leaf_index)
    except EventNotFoundError:
        abort(404)
    except ProofError:
        abort(500)  # the stored tree is damaged: `audit verify` says where
    _record(AuditAction.AUDIT_PROOF_VIEWED, object_type=ObjectType.AUDIT_EVENT,
            object_id=str(leaf_index))
    if request.args.get("format") == "json":
        response = BaseResponse(json.dumps(proof.as_document(), indent=1),
                                mimetype="application/json")
        return as_download(response, f"audit-proof-{leaf_index}.json")
    return render_template("audit/event.html", proof=proof,
                           hashes=[base64.b64encode(h).decode("ascii") for h in proof.hashes],
                           names=actor_names(db, [proof.event]))


@bp.route("/head")
@staff(AUDITOR)
def download_head() -> BaseResponse:
    head = _head()
    _record(AuditAction.AUDIT_HEAD_DOWNLOADED)
    response = BaseResponse(head.checkpoint, mimetype="text/plain")
    return as_download(response, f"audit-head-{head.tree_size}.txt")


@bp.route("/check-head", methods=["GET", "POST"])
@staff(AUDITOR)
def check_head() -> tuple[str, int]:
    form = HeadUploadForm()
    result, error, status = None, None, 200
    not_a_head = False  # then there is no consistency to speak of
    if form.validate_on_submit():
        note = form.head.data.read(HEAD_FILE_LIMIT + 1)
        try:
            result = check_saved_head(get_session(), note.decode("utf-8"))
        except UnicodeDecodeError:
            error, not_a_head = _("This file is not a signed tree head."), True
        except HeadCheckError as refused:
            error, not_a_head = _head_check_message(refused), refused.reason == "not_a_head"
        _record(AuditAction.AUDIT_HEAD_CHECKED,
                outcome=Outcome.SUCCESS if result is not None else Outcome.FAILURE)
        status = 200 if result is not None else 422
    elif form.is_submitted():
        status = 400
    return render_template("audit/check_head.html", form=form, result=result,
                           error=error, not_a_head=not_a_head), status


@bp.route("/export")
@staff(AUDITOR)
def export() -> BaseResponse:
    db = get_session()
    chosen = with_case_resolved(db, EventFilter.from_args(request.args.to_dict()))
    head = _head()
    events, truncated = exported_events(db, chosen)
    _record(AuditAction.AUDIT_EXPORTED)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("events.json", events_as_json(events, head.checkpoint, chosen))
        archive.writestr("events.csv", events_as_csv(events))
        archive.writestr("head.txt", head.checkpoint)
        archive.writestr("verifier-key.txt", verifier_key(db) + "\n")
        archive.writestr("README.txt", render_template(
            "audit/export_readme.txt", count=len(events), truncated=truncated,
            head=head, chosen=chosen, limit=EXPORT_LIMIT))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    response = BaseResponse(buffer.getvalue(), mimetype="application/zip")
    return as_download(response, f"audit-{stamp}.zip")
