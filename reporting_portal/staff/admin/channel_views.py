"""Channel administration views: plain pages, real effects."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs predate 3.3

from reporting_portal.domain.questionnaire import parse_questionnaire
from reporting_portal.domain.recipients import ready_handlers
from reporting_portal.staff.admin import bp
from reporting_portal.staff.admin.channels import (
    ChannelError,
    add_question,
    case_handlers,
    find_channel,
    list_channels,
    move_question_up,
    remove_question,
    save_channel,
)
from reporting_portal.staff.admin.forms import AccountActionForm, ChannelForm, QuestionForm
from reporting_portal.staff.admin.views import current_actor
from reporting_portal.storage.models import Channel, Role
from reporting_portal.web.database import get_session
from reporting_portal.web.security.access import staff


def _channel_form(channel: Channel | None = None) -> ChannelForm:
    form = ChannelForm(obj=channel)
    form.handlers.choices = [
        SelectChoice(h.public_id, h.display_name + ("" if h.age_recipient else _(" (not ready)")))
        for h in case_handlers(get_session())
    ]
    if channel is not None and not form.is_submitted():
        form.handlers.data = [h.public_id for h in channel.handlers]
    return form


def _save(form: ChannelForm, channel: Channel | None) -> Channel:
    return save_channel(
        get_session(), current_actor(), channel,
        name=form.name.data or "", slug=form.slug.data or "",
        description=form.description.data or "", retention_days=form.retention_days.data or 0,
        notify_identity_disclosure=bool(form.notify_identity_disclosure.data),
        is_active=bool(form.is_active.data), handler_ids=set(form.handlers.data or []),
    )


@bp.route("/channels")
@staff(Role.ADMINISTRATOR)
def channels() -> str:
    items = [(c, len(ready_handlers(c))) for c in list_channels(get_session())]
    return render_template("admin/channels.html", channels=items)


@bp.route("/channels/new", methods=["GET", "POST"])
@staff(Role.ADMINISTRATOR)
def new_channel() -> str | BaseResponse:
    form = _channel_form()
    if form.validate_on_submit():
        try:
            channel = _save(form, None)
        except ChannelError as error:
            form.slug.errors = [str(error)]
        else:
            flash(_("Channel created with the default questionnaire."), "success")
            return redirect(url_for("admin.edit_channel", public_id=channel.public_id))
    return render_template("admin/channel_form.html", form=form, channel=None)


@bp.route("/channels/<public_id>", methods=["GET", "POST"])
@staff(Role.ADMINISTRATOR)
def edit_channel(public_id: str) -> str | BaseResponse:
    try:
        channel = find_channel(get_session(), public_id)
    except ChannelError:
        abort(404)
    form = _channel_form(channel)
    if form.validate_on_submit():
        try:
            _save(form, channel)
        except ChannelError as error:
            form.slug.errors = [str(error)]
        else:
            flash(_("Channel saved."), "success")
            return redirect(url_for("admin.edit_channel", public_id=public_id))
    return render_template(
        "admin/channel_form.html", form=form, channel=channel,
        questions=parse_questionnaire(channel.questionnaire),
        question_form=QuestionForm(prefix="question"), action_form=AccountActionForm(),
    )


@bp.route("/channels/<public_id>/questions", methods=["POST"])
@staff(Role.ADMINISTRATOR)
def add_channel_question(public_id: str) -> BaseResponse:
    db = get_session()
    try:
        channel = find_channel(db, public_id)
    except ChannelError:
        abort(404)
    form = QuestionForm(prefix="question")
    if not form.validate_on_submit():
        flash(_("The question needs an id, a type and a label."), "error")
    else:
        try:
            add_question(
                db, current_actor(), channel, field_id=form.field_id.data or "",
                field_type=form.field_type.data or "", label=form.label.data or "",
                help_text=form.help_text.data or "", required=bool(form.required.data),
                choices=(form.choices.data or "").splitlines(),
            )
        except ChannelError as error:
            flash(str(error), "error")
        else:
            flash(_("Question added."), "success")
    return redirect(url_for("admin.edit_channel", public_id=public_id))


@bp.route("/channels/<public_id>/questions/<field_id>/<action>", methods=["POST"])
@staff(Role.ADMINISTRATOR)
def change_channel_question(public_id: str, field_id: str, action: str) -> BaseResponse:
    if action not in {"remove", "move-up"}:
        abort(404)
    if not AccountActionForm().validate_on_submit():
        abort(400)
    db = get_session()
    try:
        channel = find_channel(db, public_id)
        if action == "remove":
            remove_question(db, current_actor(), channel, field_id)
        else:
            move_question_up(db, current_actor(), channel, field_id)
    except ChannelError as error:
        flash(str(error), "error")
    return redirect(url_for("admin.edit_channel", public_id=public_id))
