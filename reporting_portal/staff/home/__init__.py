"""The staff home page: what a signed-in person can do, by role."""

from flask import Blueprint

bp = Blueprint("staff_home", __name__, url_prefix="/staff", template_folder="templates")

from reporting_portal.staff.home import navigation, views  # noqa: E402, F401 -- registers them
