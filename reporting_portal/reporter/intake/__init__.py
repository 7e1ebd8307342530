"""Reporter intake: choosing a channel, the report form on both paths, the receipt."""

from flask import Blueprint

bp = Blueprint("intake", __name__, url_prefix="/report", template_folder="templates")

from reporting_portal.reporter.intake import views  # noqa: E402, F401 -- registers the routes
