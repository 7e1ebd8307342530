"""Reporter intake: choosing a channel, the report form on both paths, the receipt."""

from flask import Blueprint

from reporting_portal.reporter.session_notice import session_time

bp = Blueprint("intake", __name__, url_prefix="/report", template_folder="templates")
bp.context_processor(session_time)

from reporting_portal.reporter.intake import (  # noqa: E402 -- registers the routes
    receipt_views,  # noqa: F401
    views,  # noqa: F401
)
