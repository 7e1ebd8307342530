"""Staff home."""

from __future__ import annotations

from flask import render_template

from reporting_portal.staff.admin.forms import ROLE_LABELS, AccountActionForm
from reporting_portal.staff.admin.readiness import installation_readiness
from reporting_portal.staff.auth.viewer import current_viewer
from reporting_portal.staff.home import bp
from reporting_portal.storage.models import Role
from reporting_portal.web.database import get_session
from reporting_portal.web.security.access import staff


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
