"""Follow-up: the reporter's mailbox, opened with the receipt code."""

from flask import Blueprint

bp = Blueprint("followup", __name__, url_prefix="/followup", template_folder="templates")

from reporting_portal.reporter.followup import views  # noqa: E402, F401 -- registers the routes
