"""The reporter's proof of receipt, downloaded from the mailbox (issue 17)."""

from __future__ import annotations

from flask import abort, session
from werkzeug.wrappers import Response as BaseResponse

from reporting_portal.audit.events import REPORTER, AuditAction, ObjectType, record_event
from reporting_portal.audit.receipt_proofs import proof_of_receipt
from reporting_portal.reporter.followup import bp
from reporting_portal.reporter.followup.services import ReceiptNotRecognisedError, find_report
from reporting_portal.web.database import get_session
from reporting_portal.web.download_names import safe_download_name
from reporting_portal.web.security.access import reporter
from reporting_portal.web.security.headers import as_download


@bp.route("/mailbox/proof-of-receipt")
@reporter
def download_proof() -> BaseResponse:
    """The JSON file, once the day's reporter events are in the log (else 404: the
    mailbox says when it will be ready and offers no link until then)."""
    db = get_session()
    try:
        report = find_report(db, str(session.get("report_id")))
    except ReceiptNotRecognisedError:
        session.clear()
        abort(404)
    proof = proof_of_receipt(db, report.public_id)
    if proof is None:
        abort(404)
    # Held for the day's release like every reporter event (audit/held.py).
    record_event(db, AuditAction.REPORTER_PROOF_DOWNLOADED, actor=None, actor_role=REPORTER,
                 object_type=ObjectType.REPORT, object_id=report.public_id)
    response = BaseResponse(proof.to_json(), mimetype="application/json")
    return as_download(response, safe_download_name(f"proof-of-receipt-{report.public_id}.json"))
