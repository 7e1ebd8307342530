"""Administration: staff accounts (later: channels, labels, retention)."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/staff/admin", template_folder="templates")

from reporting_portal.admin import views  # noqa: E402, F401 -- registers the routes
