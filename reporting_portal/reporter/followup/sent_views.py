"""The reporter's "What I sent" page and its file downloads (issue 15)."""

from __future__ import annotations

import re

from flask import abort, render_template, session, stream_with_context
from flask_babel import get_locale
from werkzeug.wrappers import Response as BaseResponse

from reporting_portal.reporter.followup import bp
from reporting_portal.reporter.followup.forms import SignOutForm
from reporting_portal.reporter.followup.sent_report import (
    SentFileNotFoundError,
    open_sent_file,
    read_sent_report,
)
from reporting_portal.reporter.followup.services import ReceiptNotRecognisedError, find_report
from reporting_portal.storage.models import Report
from reporting_portal.web.database import get_session
from reporting_portal.web.extensions import get_blob_store
from reporting_portal.web.security.access import reporter
from reporting_portal.web.security.headers import as_download

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def _download_name(name: str) -> str:
    """A name that cannot carry a path, a header break or a script extension."""
    return (_UNSAFE_NAME.sub("_", name).strip("._") or "file")[:100]


def _signed_in_report() -> Report:
    try:
        return find_report(get_session(), str(session.get("report_id")))
    except ReceiptNotRecognisedError:
        session.clear()
        abort(404)


@bp.route("/sent")
@reporter
def sent() -> str:
    report = _signed_in_report()
    sent_report = read_sent_report(get_session(), get_blob_store(), report,
                                   str(session["reporter_identity"]),
                                   language=str(get_locale() or "en"))
    return render_template("followup/sent.html", sent=sent_report,
                           sign_out_form=SignOutForm())


@bp.route("/sent/files/<file_id>")
@reporter
def sent_file(file_id: str) -> BaseResponse:
    report = _signed_in_report()
    try:
        name, chunks = open_sent_file(get_session(), get_blob_store(), report,
                                      str(session["reporter_identity"]), file_id[:64])
    except SentFileNotFoundError:
        abort(404)
    response = BaseResponse(stream_with_context(chunks), mimetype="application/octet-stream")
    return as_download(response, _download_name(name))
