"""``/verify``: anyone checks a proof of receipt against this organisation's log.

Works without JavaScript (a plain file upload). Verifying is tied to nobody: no session
data, no audit event, nothing stored; it reads no report content, only the log's public
hashes and signed heads.
"""

from __future__ import annotations

import base64

from flask import render_template
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from crypto.errors import ProofOfReceiptError
from crypto.proof_of_receipt import MAX_PROOF_BYTES
from reporting_portal.audit.proofs import HeadCheckError, verifier_key
from reporting_portal.audit.receipt_proofs import check_receipt
from reporting_portal.reporter.verify import bp
from reporting_portal.reporter.verify.forms import ProofUploadForm
from reporting_portal.web.database import get_session
from reporting_portal.web.security.access import public


def published_key(db: Session) -> str | None:
    """The log's verifier key, or ``None`` before the installation is set up."""
    try:
        return verifier_key(db)
    except LookupError:
        return None


def _refusal(refused: ProofOfReceiptError | HeadCheckError) -> str:
    if isinstance(refused, HeadCheckError):
        return str(_("The proof itself is genuine, but this access log no longer contains "
                     "everything its signed head covered: entries were removed or rewritten "
                     "since. Keep the proof and this answer; they show that the log was "
                     "changed."))
    messages: dict[str, str] = {
        "signature": _("This proof is not signed by this organisation's access log: its "
                       "checkpoint's signature does not verify with the key published on "
                       "this page. It comes from another log, or it was changed."),
        "origin": _("This proof names another log than the one its checkpoint signs: it "
                    "was changed."),
        "inclusion": _("The event in this proof is not in the signed log: the event or one "
                       "of the proof's hashes was changed."),
        "not_a_receipt": _("The event in this proof is not the receipt of a report."),
    }
    return messages.get(refused.reason, str(_("This file is not a proof of receipt.")))


@bp.route("/verify", methods=["GET", "POST"])
@public
def verify() -> tuple[str, int]:
    db = get_session()
    form = ProofUploadForm()
    result, error, status = None, None, 200
    if form.validate_on_submit():
        try:
            result = check_receipt(db, form.proof.data.read(MAX_PROOF_BYTES + 1))
        except (ProofOfReceiptError, HeadCheckError) as refused:
            error, status = _refusal(refused), 422
    elif form.is_submitted():
        status = 400
    hashes = ([base64.b64encode(h).decode("ascii") for h in result.consistency]
              if result is not None else [])
    return render_template("verify/verify.html", form=form, result=result, error=error,
                           consistency=hashes, verifier_key=published_key(db)), status
