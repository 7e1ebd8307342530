"""The receipt code as a text file to save (issue 15).

The code comes from the session only, never from the address (it would sit in the
history, in logs and in the Referer); a POST with the page's CSRF token asks for it, and
the download is never cached (web/security/headers.py: no-store on every page).
"""

from __future__ import annotations

from flask import abort, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from crypto.receipt import format_receipt_code
from reporting_portal.reporter.intake import bp
from reporting_portal.web.security.access import public
from reporting_portal.web.security.headers import as_download

DOWNLOAD_NAME = "receipt-code.txt"


def receipt_text(code: str) -> str:
    """What the saved file says: the code, and where it is used."""
    lines = [
        _("Your receipt code:"),
        format_receipt_code(code),
        "",
        _("Sign in with it to read our messages and answer: %(address)s",
          address=url_for("followup.sign_in", _external=True)),
        _("Keep this file where only you can open it, or write the code down and delete "
          "the file."),
    ]
    return "\r\n".join(lines) + "\r\n"


@bp.route("/receipt/code.txt", methods=["POST"])
@public
def receipt_download() -> BaseResponse:
    code = session.get("receipt_code")
    if not isinstance(code, str):
        # No code in this session any more: confirmed, or the session ended. (The CSRF
        # token is checked for every POST before this runs.)
        abort(404)
    response = BaseResponse(receipt_text(code).encode("utf-8"),
                            mimetype="text/plain; charset=utf-8")
    return as_download(response, DOWNLOAD_NAME)
