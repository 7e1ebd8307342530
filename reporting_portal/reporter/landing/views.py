"""Reporter pages."""

from __future__ import annotations

from flask import render_template, request

from reporting_portal.reporter.landing import bp
from reporting_portal.reporter.verify.views import published_key
from reporting_portal.web.database import get_session
from reporting_portal.web.security.access import public


@bp.route("/")
@public
def landing() -> str:
    # Reached through the onion service, the reporter is already using Tor Browser.
    via_onion = request.host.split(":", 1)[0].endswith(".onion")
    return render_template("reporter/landing.html", via_onion=via_onion,
                           verifier_key=published_key(get_session()))
