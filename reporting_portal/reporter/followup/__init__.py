"""Follow-up: the reporter's mailbox, opened with the receipt code."""

from flask import Blueprint

from reporting_portal.reporter.session_notice import session_time

bp = Blueprint("followup", __name__, url_prefix="/followup", template_folder="templates")
bp.context_processor(session_time)

from reporting_portal.reporter.followup import (  # noqa: E402 -- registers the routes
    proof_views,  # noqa: F401
    retaliation_views,  # noqa: F401
    sent_views,  # noqa: F401
    views,  # noqa: F401
)
