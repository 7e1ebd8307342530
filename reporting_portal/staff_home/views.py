"""Staff home."""

from __future__ import annotations

from flask import render_template

from reporting_portal.admin.forms import ROLE_LABELS, AccountActionForm
from reporting_portal.admin.readiness import installation_readiness
from reporting_portal.auth.viewer import current_viewer
from reporting_portal.db import get_session
from reporting_portal.models import Role
from reporting_portal.security.access import staff
from reporting_portal.staff_home import bp


@bp.route("/")
@staff()
def home() -> str:
    account = current_viewer().account
    readiness = (installation_readiness(get_session())
                 if account.has_role(Role.ADMINISTRATOR) else None)
    return render_template(
        "staff_home/home.html",
        account=account,
        roles=[ROLE_LABELS[role] for role in sorted(account.role_set)],
        readiness=readiness if readiness is not None and not readiness.ready else None,
        confirm_form=AccountActionForm(),
    )
