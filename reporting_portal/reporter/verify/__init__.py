"""Checking a proof of receipt: a public page, for the reporter and whoever they show it to."""

from flask import Blueprint

bp = Blueprint("verify", __name__, template_folder="templates")

from reporting_portal.reporter.verify import views  # noqa: E402, F401 -- registers the routes
