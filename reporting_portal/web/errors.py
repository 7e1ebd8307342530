"""Error pages that reveal nothing: a status, a plain sentence, a way back.

The last-resort handler (ASVS 16.5.4) logs only the exception's type, through the
allow-list formatter, and never the request. Two faults of the operator's world get
pages of their own: a database that is down or restarting (503, with Retry-After), and
a full disk (507 Insufficient Storage, RFC 4918: the server could not store what the
request needed; a status of its own, so monitoring can tell it from an outage).
"""

from __future__ import annotations

from contextlib import suppress
from http import HTTPStatus
from types import TracebackType

from flask import Flask, Response, current_app, g, render_template, request, session
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException, InternalServerError

from reporting_portal.storage.faults import is_database_unavailable, is_storage_full
from reporting_portal.web.database import request_may_be_saved, rollback_request_session
from reporting_portal.web.expired_form import kept_texts
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
DATABASE_UNAVAILABLE = _l("The service is unavailable for a moment. Nothing you sent was "
                          "saved. Please try again in a few minutes.")
# A COMMIT whose reply was lost, or a failure after the commit: what was sent may be
# stored. Sending it again is safe for a reporter (submission tokens refuse a second
# copy and point to the receipt); staff are asked to look first.
REPORTER_MAY_BE_SAVED = _l(
    "The service is unavailable for a moment, and it could not confirm whether what you "
    "sent was saved. It may have been. In a few minutes, reload this page and send it "
    "again if your browser asks: it is never stored twice, and if it was saved you will "
    "be told so.")
STAFF_MAY_BE_SAVED = _l(
    "The service is unavailable for a moment, and it could not confirm whether your "
    "change was saved. It may have been. In a few minutes, look at the page again before "
    "you repeat it.")
# The reporter's sentence says nothing of why: only that nothing of theirs was kept.
REPORTER_STORAGE_FULL = _l("Your report could not be saved. Nothing was stored. Please try "
                           "again later.")
STAFF_STORAGE_FULL = _l("What you sent could not be saved: the server's storage is full. "
                        "Nothing was stored. Tell your administrator, and try again later.")
# A database restart takes seconds to a minute; a browser or script may retry after this.
RETRY_AFTER_SECONDS = 60
INSUFFICIENT_STORAGE = 507


def _discard_request() -> None:
    # A connection that died with the database has lost its transaction anyway, and the
    # pool replaces it: the rollback's own failure changes nothing.
    with suppress(DBAPIError):
        rollback_request_session()
    # The session must not keep what the rolled-back request put in it (a receipt
    # code, a one-time token taken out): the reporter's page stays sendable.
    if isinstance(session, ServerSession):
        session.discard_changes()


def on_staff_surface() -> bool:
    """Whether this request belongs to the staff surface: the staff app, or a /staff/
    address of the combined one (the reporter app has no staff page to link to)."""
    if "staff_home" not in current_app.blueprints:
        return False
    return (current_app.extensions.get("surface") == "staff"
            or request.path == "/staff" or request.path.startswith("/staff/"))


def _error_page(code: int, message: object, *, after_rollback: bool = False) -> str:
    """The reporter's error page, or on the staff surface the staff one, which leads
    back to the staff home page."""
    if not on_staff_surface():
        return render_template("error.html", code=code, message=message)
    # After a rollback the signed-in account's row is expired, and reloading it needs the
    # database that may have just failed: such a page shows no personal links.
    hidden = {"viewer": None} if after_rollback else {}
    return render_template("staff_error.html", code=code, message=message, **hidden)


def _render(code: int) -> tuple[str, int]:
    server_error = code >= HTTPStatus.INTERNAL_SERVER_ERROR
    if server_error:
        _discard_request()
    message = _MESSAGES.get(code, _MESSAGES[500 if server_error else 400])
    return _error_page(code, message, after_rollback=server_error), code


def _database_unavailable(error: BaseException) -> tuple[str, int, dict[str, str]]:
    # The exception's text may quote SQL and its parameters: only its type is logged.
    current_app.logger.warning("database unavailable [%s]", type(error).__name__)
    may_be_saved = request.method == "POST" and request_may_be_saved()
    _discard_request()
    message = DATABASE_UNAVAILABLE
    if may_be_saved:
        message = STAFF_MAY_BE_SAVED if g.get("staff_viewer") is not None else REPORTER_MAY_BE_SAVED
    page = _error_page(503, message, after_rollback=True)
    return page, 503, {"Retry-After": str(RETRY_AFTER_SECONDS)}


def _storage_full(error: BaseException) -> tuple[str, int]:
    current_app.logger.error("storage full [%s]", type(error).__name__)
    # The rollback also deletes the blobs this request had finished (objects.py).
    _discard_request()
    message = STAFF_STORAGE_FULL if g.get("staff_viewer") is not None else REPORTER_STORAGE_FULL
    page = _error_page(INSUFFICIENT_STORAGE, message, after_rollback=True)
    return page, INSUFFICIENT_STORAGE


def _fault_page(error: BaseException) -> tuple[str, int] | tuple[str, int, dict[str, str]]:
    """The page for a storage fault, or for a bug when ``error`` is not one."""
    if is_database_unavailable(error):
        return _database_unavailable(error)
    if is_storage_full(error):
        return _storage_full(error)
    current_app.logger.error("unhandled error", exc_info=error)
    return _render(500)


def handle_http_error(error: HTTPException) -> tuple[str, int]:
    return _render(error.code or 500)


def handle_csrf_error(_error: CSRFError) -> tuple[str, int]:
    if on_staff_surface():
        # Nothing was stored; what the person typed comes back in this page only.
        kept = kept_texts(request.form) if request.method == "POST" else []
        return render_template("staff_expired_form.html", kept=kept), 400
    message = _l("This form has expired or was not sent from this site. Reload and try again.")
    return render_template("error.html", code=400, message=message), 400


def handle_unexpected_error(error: Exception) -> tuple[str, int] | tuple[str, int, dict[str, str]]:
    return _fault_page(error)


class PortalFlask(Flask):
    """Flask, answering storage faults met outside a view like those inside one.

    Loading the server-side session, the commit and saving the session run outside the
    view, where Flask's last resort would log the request's path and, under tests,
    re-raise; a database restart or a full disk there gets the same calm page instead.
    """

    def handle_exception(self, e: Exception) -> Response:
        if not (is_database_unavailable(e) or is_storage_full(e)):
            return super().handle_exception(e)
        return self.finalize_request(_fault_page(e), from_error_handler=True)

    def log_exception(
        self,
        exc_info: tuple[type, BaseException, TracebackType] | tuple[None, None, None],
    ) -> None:
        # Flask's own line names the request's path; a case reference is not for the log.
        self.logger.error("unhandled error", exc_info=exc_info)


def _raise_session_fault() -> None:
    """Re-raise, inside the request, a database fault met while loading the session
    (web/sessions.py), so that the error handlers answer it."""
    fault: BaseException | None = g.pop("session_fault", None)
    if fault is not None:
        raise fault


def init_error_handlers(app: Flask) -> None:
    # First of all the request's steps: before CSRF protection reads the empty session.
    app.before_request_funcs.setdefault(None, []).insert(0, _raise_session_fault)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(InternalServerError, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected_error)
