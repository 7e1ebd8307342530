"""Staff sign-in: password and TOTP or a passkey, enrolment, password changes, sign-out."""

from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/staff", template_folder="templates")

from reporting_portal.staff.auth import key_views, passkey_views, views  # noqa: E402, F401 -- registers the routes
