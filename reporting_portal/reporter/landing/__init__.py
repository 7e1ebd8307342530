"""The public side for reporters: nothing here may reach a staff route or tell who reports."""

from flask import Blueprint

bp = Blueprint("reporter", __name__, template_folder="templates")

from reporting_portal.reporter.landing import views  # noqa: E402, F401 -- registers the routes
