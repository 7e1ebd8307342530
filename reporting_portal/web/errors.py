"""Error pages that reveal nothing: a status, a plain sentence, a way back.

The last-resort handler (ASVS 16.5.4) logs only the exception's type, through the
allow-list formatter, and never the request.
"""

from __future__ import annotations

from http import HTTPStatus

from flask import Flask, current_app, render_template, session
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from reporting_portal.web.database import rollback_request_session
from reporting_portal.web.sessions import ServerSession

_MESSAGES = {
    400: _l("The request could not be understood. Go back and try again."),
    403: _l("You do not have access to this page."),
    404: _l("There is nothing at this address."),
    405: _l("This page cannot be used that way."),
    413: _l("What you sent is larger than this site accepts."),
    429: _l("Too many requests. Wait a little and try again."),
    500: _l("Something went wrong on our side. Nothing you sent was kept half-way."),
    503: _l("The service is not available right now. Try again later."),
}


def _render(code: int) -> tuple[str, int]:
    server_error = code >= HTTPStatus.INTERNAL_SERVER_ERROR
    if server_error:
        rollback_request_session()
        # The session must not keep what the rolled-back request put in it (a receipt
        # code, a one-time token taken out): the reporter's page stays sendable.
        if isinstance(session, ServerSession):
            session.discard_changes()
    message = _MESSAGES.get(code, _MESSAGES[500 if server_error else 400])
    return render_template("error.html", code=code, message=message), code


def handle_http_error(error: HTTPException) -> tuple[str, int]:
    return _render(error.code or 500)


def handle_csrf_error(_error: CSRFError) -> tuple[str, int]:
    message = _l("This form has expired or was not sent from this site. Reload and try again.")
    return render_template("error.html", code=400, message=message), 400


def handle_unexpected_error(error: Exception) -> tuple[str, int]:
    current_app.logger.error("unhandled error", exc_info=error)
    return _render(500)


def init_error_handlers(app: Flask) -> None:
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(InternalServerError, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected_error)
