"""The directory of competent authorities: list, add, change."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from reporting_portal.staff.admin import bp
from reporting_portal.staff.admin.authorities import (
    AuthorityError,
    find_authority,
    list_authorities,
    save_authority,
)
from reporting_portal.staff.admin.forms import AuthorityForm
from reporting_portal.staff.admin.views import current_actor
from reporting_portal.storage.models import Authority, Role
from reporting_portal.web.database import get_session
from reporting_portal.web.security.access import staff


@bp.route("/authorities")
@staff(Role.ADMINISTRATOR)
def authorities() -> str:
    return render_template("admin/authorities.html", authorities=list_authorities(get_session()))


def _edit(authority: Authority | None) -> tuple[str, int] | BaseResponse:
    form = AuthorityForm(obj=authority)
    status = 200
    if form.validate_on_submit():
        try:
            save_authority(get_session(), current_actor(), authority,
                           name=form.name.data or "", age_recipient=form.age_recipient.data or "",
                           contact_note=form.contact_note.data or "",
                           is_active=bool(form.is_active.data))
        except AuthorityError as error:
            getattr(form, error.field or "name").errors = [str(error)]
        else:
            flash(_("Authority saved."), "success")
            return redirect(url_for("admin.authorities"))
    if form.errors:
        status = 400
    return render_template("admin/authority_form.html", form=form, authority=authority), status


@bp.route("/authorities/new", methods=["GET", "POST"])
@staff(Role.ADMINISTRATOR)
def new_authority() -> tuple[str, int] | BaseResponse:
    return _edit(None)


@bp.route("/authorities/<public_id>", methods=["GET", "POST"])
@staff(Role.ADMINISTRATOR)
def edit_authority(public_id: str) -> tuple[str, int] | BaseResponse:
    try:
        authority = find_authority(get_session(), public_id)
    except AuthorityError:
        abort(404)
    return _edit(authority)
