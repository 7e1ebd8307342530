"""Reporter pages."""

from __future__ import annotations

from flask import render_template

from reporting_portal.reporter import bp
from reporting_portal.security.access import public


@bp.route("/")
@public
def landing() -> str:
    return render_template("reporter/landing.html")
