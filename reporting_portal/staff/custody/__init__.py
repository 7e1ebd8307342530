"""Identity custody: custodians decide handlers' requests to learn who reported."""

from flask import Blueprint

bp = Blueprint("custody", __name__, url_prefix="/staff/identity-requests",
               template_folder="templates")

from reporting_portal.staff.custody import views  # noqa: E402, F401 -- routes
