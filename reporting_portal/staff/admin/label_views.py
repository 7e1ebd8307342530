"""Label vocabulary views."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from reporting_portal.staff.admin import bp
from reporting_portal.staff.admin.forms import AccountActionForm, LabelForm
from reporting_portal.staff.admin.labels import LabelError, add_label, delete_label
from reporting_portal.staff.admin.views import current_actor
from reporting_portal.staff.casework.services import list_labels
from reporting_portal.storage.models import Role
from reporting_portal.web.database import get_session
from reporting_portal.web.security.access import staff


@bp.route("/labels", methods=["GET", "POST"])
@staff(Role.ADMINISTRATOR)
def labels() -> str | BaseResponse:
    form = LabelForm()
    if form.validate_on_submit():
        try:
            add_label(get_session(), current_actor(), form.name.data or "")
        except LabelError as error:
            form.name.errors = [str(error)]
        else:
            flash(_("Label added."), "success")
            return redirect(url_for("admin.labels"))
    return render_template("admin/labels.html", form=form, labels=list_labels(get_session()),
                           action_form=AccountActionForm())


@bp.route("/labels/<int:label_id>/delete", methods=["POST"])
@staff(Role.ADMINISTRATOR)
def remove_label(label_id: int) -> BaseResponse:
    if AccountActionForm().validate_on_submit():
        try:
            delete_label(get_session(), current_actor(), label_id)
        except LabelError as error:
            flash(str(error), "error")
        else:
            flash(_("Label deleted."), "success")
    return redirect(url_for("admin.labels"))
