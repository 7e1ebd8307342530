"""Administration: staff accounts, channels, the label vocabulary and the authorities
cases are referred to."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/staff/admin", template_folder="templates")

from reporting_portal.staff.admin import (  # noqa: E402, F401 -- routes
    authority_views,
    channel_views,
    label_views,
    questionnaire_views,
    views,
)
