"""The handler's "cleaned copy" of a case file: the file without its metadata (issue 18)."""

from __future__ import annotations

from flask import abort, render_template
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response as BaseResponse

from crypto import AgeError
from reporting_portal.domain.metadata_cleaning import MAX_CLEANABLE_BYTES, CannotClean, Reason
from reporting_portal.staff.auth.viewer import current_identity
from reporting_portal.staff.casework import bp
from reporting_portal.staff.casework.cleaned_copy import cleaned_copy
from reporting_portal.staff.casework.services import CaseNotFoundError, download_name, find_file
from reporting_portal.staff.casework.views import HANDLER, _actor, _case, safe_filename
from reporting_portal.web.database import get_session
from reporting_portal.web.extensions import get_blob_store
from reporting_portal.web.security.access import staff
from reporting_portal.web.security.headers import as_download

MEGABYTE = 1024 * 1024

WHY_NOT_CLEANED = {
    Reason.UNKNOWN_FORMAT: _l(
        "The portal cannot clean this kind of file. It cleans JPEG and PNG images, PDF "
        "documents, Word, Excel and PowerPoint files (DOCX, XLSX, PPTX) and OpenDocument "
        "files. Nothing was removed from this one."),
    Reason.ENCRYPTED: _l(
        "This file is protected with a password, so its metadata cannot be removed here."),
    Reason.TOO_LARGE: _l(
        "This file is larger than %(megabytes)s MB, the most the portal cleans in memory.",
        megabytes=MAX_CLEANABLE_BYTES // MEGABYTE),
    Reason.DAMAGED: _l(
        "This file is damaged or does not follow its format, so it cannot be cleaned."),
}


@bp.context_processor
def _cleaning_bound() -> dict[str, int]:
    """The case page offers a cleaned copy only of a file the server can hold to clean."""
    return {"max_cleanable_bytes": MAX_CLEANABLE_BYTES}


@bp.route("/<public_id>/files/<file_id>/cleaned")
@staff(HANDLER)
def download_cleaned(public_id: str, file_id: str) -> BaseResponse | tuple[str, int]:
    report = _case(public_id)
    db = get_session()
    if current_identity() is None:
        return render_template("casework/no_keys.html"), 409
    try:
        obj = find_file(db, report, file_id)
    except CaseNotFoundError:
        abort(404)
    name = download_name(db, get_blob_store(), _actor(), obj)
    try:
        cleaned = cleaned_copy(db, get_blob_store(), _actor(), obj)
    except AgeError:
        abort(404)
    except CannotClean as refused:
        return render_template("casework/cannot_clean.html", report=report, file=obj,
                               name=name, why=WHY_NOT_CLEANED[refused.reason]), 422
    response = BaseResponse(cleaned, mimetype="application/octet-stream")
    return as_download(response, safe_filename(f"cleaned-{name}"))
