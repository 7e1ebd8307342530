"""How long a reporter's session lasts, said on every reporter page (issue 15).

Without JavaScript the page says how long the session lasts without activity; with it,
web/src/reporter-page.js announces, one minute before, that it is about to end (an
aria-live notice). Only the time left is in the page, never when the session began.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app, request, session

from reporting_portal.web.security.sri import static_integrity
from reporting_portal.web.sessions import ServerSession, ServerSessionInterface

SCRIPT = "js/reporter-page.bundle.js"
# Pages whose session matters before anyone signs in: what is typed there is lost with it.
FORM_ENDPOINTS = frozenset({"intake.report_form", "intake.submit"})


@dataclass(frozen=True)
class SessionTime:
    idle_minutes: int
    seconds_left: int
    signed_in: bool  # a reporter's session (receipt, mailbox), not a form's


def session_time() -> dict[str, Any]:
    """Template context for ``_session_time.html`` (a blueprint context processor)."""
    interface = current_app.session_interface
    if not isinstance(interface, ServerSessionInterface) or not isinstance(session,
                                                                           ServerSession):
        return {}
    signed_in = session.kind == "reporter"
    if not signed_in and request.endpoint not in FORM_ENDPOINTS:
        return {}  # the channel list, the sign-in page: no session worth announcing
    return {
        "session_time": SessionTime(
            idle_minutes=int(interface.idle_timeout(session).total_seconds() // 60),
            seconds_left=interface.seconds_left(session),
            signed_in=signed_in,
        ),
        "reporter_script_integrity": static_integrity(SCRIPT),
    }
