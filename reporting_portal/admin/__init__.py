"""Administration: staff accounts and channels (later: labels, retention)."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/staff/admin", template_folder="templates")

from reporting_portal.admin import channel_views, views  # noqa: E402, F401 -- registers routes
