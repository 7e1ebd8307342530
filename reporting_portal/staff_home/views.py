"""Staff home."""

from __future__ import annotations

from flask import render_template

from reporting_portal.admin.forms import ROLE_LABELS
from reporting_portal.auth.viewer import current_viewer
from reporting_portal.security.access import staff
from reporting_portal.staff_home import bp


@bp.route("/")
@staff()
def home() -> str:
    account = current_viewer().account
    return render_template(
        "staff_home/home.html",
        account=account,
        roles=[ROLE_LABELS[role] for role in sorted(account.role_set)],
    )
