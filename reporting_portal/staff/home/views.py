"""Staff home, and the person's own account page."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app, render_template

from reporting_portal.staff.admin.forms import ROLE_LABELS, AccountActionForm
from reporting_portal.staff.admin.readiness import installation_readiness
from reporting_portal.staff.auth.viewer import current_viewer
from reporting_portal.staff.home import bp
from reporting_portal.staff.home.counts import case_counts, waiting_identity_requests
from reporting_portal.storage.models import Role
from reporting_portal.web.database import get_session
from reporting_portal.web.security.access import staff, staff_may_reach


@bp.route("/")
@staff()
def home() -> str:
    account = current_viewer().account
    db = get_session()
    readiness = (installation_readiness(db)
                 if account.has_role(Role.ADMINISTRATOR) else None)
    roles = account.role_set
    cases = (case_counts(db, account.id, datetime.now(UTC).date())
             if staff_may_reach(current_app, "casework.inbox", roles) else None)
    waiting = (waiting_identity_requests(db)
               if staff_may_reach(current_app, "custody.requests", roles) else None)
    return render_template(
        "staff_home/home.html",
        account=account,
        roles=[ROLE_LABELS[role] for role in sorted(account.role_set)],
        readiness=readiness if readiness is not None and not readiness.ready else None,
        confirm_form=AccountActionForm(),
        cases=cases,
        waiting_identity_requests=waiting,
    )


@bp.route("/account")
@staff()
def account() -> str:
    roles = current_viewer().account.role_set
    return render_template(
        "staff_home/account.html",
        account=current_viewer().account,
        identity_file=staff_may_reach(current_app, "casework.identity_file", roles),
    )
