"""Referral of a case, or of chosen parts of it, to another competent authority.

Issue 17, part 3; the services say how.
"""

from flask import Blueprint

bp = Blueprint("referral", __name__, url_prefix="/staff/cases", template_folder="templates")

from reporting_portal.staff.referral import views  # noqa: E402, F401 -- routes
