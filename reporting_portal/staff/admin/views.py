"""Account administration views."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from reporting_portal.domain.accounts import AccountError, create_account
from reporting_portal.domain.actors import Actor
from reporting_portal.domain.passwords import get_passwords
from reporting_portal.staff.admin import bp
from reporting_portal.staff.admin.forms import (
    ROLE_LABELS,
    AccountActionForm,
    CreateAccountForm,
    PasskeyRolesForm,
)
from reporting_portal.staff.admin.readiness import confirm_recovery_stored
from reporting_portal.staff.admin.services import (
    find_account,
    list_accounts,
    reset_two_factor,
    set_active,
)
from reporting_portal.staff.auth.passkeys import required_roles, set_required_roles
from reporting_portal.staff.auth.viewer import current_viewer
from reporting_portal.storage.models import Role
from reporting_portal.web.database import get_session
from reporting_portal.web.security.access import staff


def current_actor() -> Actor:
    account = current_viewer().account
    return Actor.member(account)


@bp.route("/accounts")
@staff(Role.ADMINISTRATOR)
def accounts() -> str:
    roles_form = PasskeyRolesForm(formdata=None,
                                  roles=sorted(str(role) for role in required_roles(get_session())))
    return render_template(
        "admin/accounts.html",
        accounts=list_accounts(get_session(), current_actor()),
        action_form=AccountActionForm(),
        passkey_roles_form=roles_form,
        role_labels=ROLE_LABELS,
    )


@bp.route("/passkey-roles", methods=["POST"])
@staff(Role.ADMINISTRATOR)
def passkey_roles() -> BaseResponse:
    """Require passkeys for the roles ticked (staff.auth.passkeys)."""
    form = PasskeyRolesForm()
    if not form.validate_on_submit():
        abort(400)
    roles = frozenset(Role(value) for value in form.roles.data or [])
    if set_required_roles(get_session(), current_actor(), roles):
        flash(_("Saved: the roles ticked must sign in with a passkey."), "success")
    return redirect(url_for("admin.accounts"))


@bp.route("/accounts/new", methods=["GET", "POST"])
@staff(Role.ADMINISTRATOR)
def new_account() -> str:
    form = CreateAccountForm()
    if form.validate_on_submit():
        try:
            created = create_account(
                get_session(),
                get_passwords(),
                current_actor(),
                username=form.username.data or "",
                display_name=form.display_name.data or "",
                email=form.email.data,
                roles=[Role(value) for value in form.roles.data or []],
            )
        except AccountError as error:
            form.username.errors = [str(error)]
        else:
            return render_template("admin/account_created.html", created=created)
    return render_template("admin/new_account.html", form=form)


@bp.route("/accounts/<public_id>/<action>", methods=["POST"])
@staff(Role.ADMINISTRATOR)
def account_action(public_id: str, action: str) -> BaseResponse:
    if action not in {"reset-two-factor", "deactivate", "reactivate"}:
        abort(404)
    form = AccountActionForm()
    if not form.validate_on_submit():
        abort(400)
    db = get_session()
    try:
        account = find_account(db, public_id)
        if action == "reset-two-factor":
            reset_two_factor(db, current_actor(), account)
            flash(_("Two-factor sign-in was reset. %(name)s enrols again at the next sign-in.",
                    name=account.display_name), "success")
        else:
            set_active(db, current_actor(), account, active=action == "reactivate")
            flash(_("Account updated."), "success")
    except AccountError as error:
        flash(str(error), "error")
    return redirect(url_for("admin.accounts"))


@bp.route("/recovery-stored", methods=["POST"])
@staff(Role.ADMINISTRATOR)
def recovery_stored() -> BaseResponse:
    """The administrator confirms the recovery identity is kept offline (checklist)."""
    if not AccountActionForm().validate_on_submit():
        abort(400)
    confirm_recovery_stored(get_session(), current_actor())
    flash(_("Noted: the recovery identity is stored offline."), "success")
    return redirect(url_for("staff_home.home"))
