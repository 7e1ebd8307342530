"""Channel administration views: plain pages, real effects."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as BaseResponse
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs predate 3.3

from reporting_portal.domain.channel_content import channel_languages, channel_questions
from reporting_portal.domain.recipients import ready_handlers
from reporting_portal.staff.admin import bp
from reporting_portal.staff.admin.channels import (
    ChannelError,
    add_question,
    case_handlers,
    find_channel,
    list_channels,
    move_question_down,
    move_question_up,
    new_channel_languages,
    remove_question,
    save_channel,
    update_question,
)
from reporting_portal.staff.admin.forms import (
    FIELD_TYPE_NAMES,
    AccountActionForm,
    ChannelForm,
    CopyQuestionsForm,
    QuestionForm,
    QuestionTextsForm,
    languages_from,
    texts_from,
)
from reporting_portal.staff.admin.views import current_actor
from reporting_portal.storage.models import Channel, ReferralNotice, Role
from reporting_portal.web.database import get_session
from reporting_portal.web.languages import Language, language
from reporting_portal.web.security.access import staff


def _channel_form(channel: Channel | None = None, *, from_request: bool = True) -> ChannelForm:
    # Not from the request when another form of the page was posted: its fields are not
    # in that request, and the channel's own settings must show, not blanks.
    form = ChannelForm(obj=channel) if from_request else ChannelForm(formdata=None, obj=channel)
    form.handlers.choices = [
        SelectChoice(h.public_id, h.display_name + ("" if h.age_recipient else _(" (not ready)")))
        for h in case_handlers(get_session())
    ]
    if not (from_request and form.is_submitted()):
        languages = channel_languages(channel) if channel else new_channel_languages()
        for place, code in enumerate(languages, start=1):
            form[f"place_{code}"].data = str(place)
        if channel is not None:
            form.handlers.data = [h.public_id for h in channel.handlers]
            for code in languages:
                form[f"name_{code}"].data = (channel.names or {}).get(code, "")
                form[f"description_{code}"].data = (channel.descriptions or {}).get(code, "")
    return form


def _editor_languages(channel: Channel | None) -> list[Language]:
    """The languages whose texts the editor asks for, in the channel's order."""
    return [language(code) for code in
            (channel_languages(channel) if channel else new_channel_languages())]


def _save(form: ChannelForm, channel: Channel | None) -> Channel:
    return save_channel(
        get_session(), current_actor(), channel,
        names=texts_from(form, "name"), slug=form.slug.data or "",
        descriptions=texts_from(form, "description"), language_places=languages_from(form),
        retention_days=form.retention_days.data or 0,
        notify_identity_disclosure=bool(form.notify_identity_disclosure.data),
        is_active=bool(form.is_active.data), handler_ids=set(form.handlers.data or []),
        reporter_reads_back=bool(form.reporter_reads_back.data),
        referral_notice=form.referral_notice.data or ReferralNotice.TOLD,
    )


@bp.route("/channels")
@staff(Role.ADMINISTRATOR)
def channels() -> str:
    items = [(c, len(ready_handlers(c))) for c in list_channels(get_session())]
    return render_template("admin/channels.html", channels=items)


@bp.route("/channels/new", methods=["GET", "POST"])
@staff(Role.ADMINISTRATOR)
def new_channel() -> tuple[str, int] | BaseResponse:
    form = _channel_form()
    refusal = None
    if form.validate_on_submit():
        try:
            channel = _save(form, None)
        except ChannelError as error:
            refusal = str(error)
        else:
            flash(_("Channel created with the default questionnaire."), "success")
            return redirect(url_for("admin.edit_channel", public_id=channel.public_id))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/channel_form.html", form=form, channel=None, refusal=refusal,
                           editor_languages=_editor_languages(None)), status


@bp.route("/channels/<public_id>", methods=["GET", "POST"])
@staff(Role.ADMINISTRATOR)
def edit_channel(public_id: str) -> tuple[str, int] | BaseResponse:
    try:
        channel = find_channel(get_session(), public_id)
    except ChannelError:
        abort(404)
    form = _channel_form(channel)
    refusal = None
    if form.validate_on_submit():
        try:
            _save(form, channel)
        except ChannelError as error:
            refusal = str(error)
        else:
            flash(_("Channel saved."), "success")
            return redirect(url_for("admin.edit_channel", public_id=public_id))
    return render_editor(channel, form=form, refusal=refusal,
                          status=400 if form.is_submitted() else 200)


def render_editor(channel: Channel, *, form: ChannelForm | None = None,
                   question_form: QuestionForm | None = None, refusal: str | None = None,
                   question_refusal: str | None = None, copy_form: CopyQuestionsForm | None = None,
                   copy_refusal: str | None = None, status: int = 200) -> tuple[str, int]:
    return render_template(
        "admin/channel_form.html", channel=channel,
        form=form or _channel_form(channel, from_request=False),
        questions=channel_questions(channel), editor_languages=_editor_languages(channel),
        question_form=question_form or QuestionForm(prefix="question", formdata=None),
        action_form=AccountActionForm(), refusal=refusal, question_refusal=question_refusal,
        type_names=FIELD_TYPE_NAMES,
        copy_form=copy_form or copy_questions_form(channel, from_request=False),
        copy_refusal=copy_refusal,
    ), status


def copy_questions_form(channel: Channel, *, from_request: bool = True) -> CopyQuestionsForm:
    """The form that copies another channel's questions here; its sources are the others."""
    form = (CopyQuestionsForm(prefix="copy") if from_request
            else CopyQuestionsForm(prefix="copy", formdata=None))
    form.source.choices = [SelectChoice(c.public_id, c.name)
                           for c in list_channels(get_session()) if c.id != channel.id]
    return form


def refusal_at_field(form: FlaskForm, error: ChannelError) -> str:
    """Show a refusal next to the field it is about, and say at the top where to look."""
    if error.field is not None and error.field in form:
        form[error.field].errors = [str(error)]
        return str(_("Not saved yet: a field below needs your attention."))
    return str(error)


@bp.route("/channels/<public_id>/questions", methods=["POST"])
@staff(Role.ADMINISTRATOR)
def add_channel_question(public_id: str) -> tuple[str, int] | BaseResponse:
    db = get_session()
    try:
        channel = find_channel(db, public_id)
    except ChannelError:
        abort(404)
    form = QuestionForm(prefix="question")
    if not form.validate_on_submit():
        return render_editor(channel, question_form=form, status=400, question_refusal=_(
            "Not saved yet: a field below needs your attention."))
    try:
        add_question(
            db, current_actor(), channel, field_id=form.field_id.data or "",
            field_type=form.field_type.data or "", labels=texts_from(form, "label"),
            helps=texts_from(form, "help"), required=bool(form.required.data),
            choices={code: text.splitlines() for code, text in texts_from(form, "choices").items()},
        )
    except ChannelError as error:
        return render_editor(channel, question_form=form, status=400,
                              question_refusal=refusal_at_field(form, error))
    flash(_("Question added."), "success")
    return redirect(url_for("admin.edit_channel", public_id=public_id))


@bp.route("/channels/<public_id>/questions/<field_id>", methods=["GET", "POST"])
@staff(Role.ADMINISTRATOR)
def edit_channel_question(public_id: str, field_id: str) -> tuple[str, int] | BaseResponse:
    """A question's texts in each of the channel's languages, whether it is required,
    and its choices."""
    db = get_session()
    try:
        channel = find_channel(db, public_id)
    except ChannelError:
        abort(404)
    question = next((q for q in channel_questions(channel) if q.id == field_id), None)
    if question is None:
        abort(404)
    form = QuestionTextsForm()
    refusal = None
    if form.validate_on_submit():
        try:
            update_question(
                db, current_actor(), channel, field_id, labels=texts_from(form, "label"),
                helps=texts_from(form, "help"), required=bool(form.required.data),
                choices={code: text.splitlines()
                         for code, text in texts_from(form, "choices").items()})
        except ChannelError as error:
            refusal = refusal_at_field(form, error)
        else:
            flash(_("Question saved."), "success")
            return redirect(url_for("admin.edit_channel", public_id=public_id))
    elif form.is_submitted():
        refusal = _("Not saved yet: a field below needs your attention.")
    else:
        form.required.data = question.required
        for code in channel_languages(channel):
            form[f"label_{code}"].data = question.label.get(code, "")
            form[f"help_{code}"].data = question.help.get(code, "")
            form[f"choices_{code}"].data = "\n".join(
                c.label.get(code, "") for c in question.choices
            ) if all(code in c.label for c in question.choices) else ""
    return render_template(
        "admin/question_form.html", form=form, channel=channel, question=question,
        editor_languages=_editor_languages(channel), refusal=refusal,
        type_names=FIELD_TYPE_NAMES,
    ), 400 if form.is_submitted() else 200


@bp.route("/channels/<public_id>/questions/<field_id>/<action>", methods=["POST"])
@staff(Role.ADMINISTRATOR)
def change_channel_question(public_id: str, field_id: str, action: str) -> BaseResponse:
    if action not in {"remove", "move-up", "move-down"}:
        abort(404)
    if not AccountActionForm().validate_on_submit():
        abort(400)
    db = get_session()
    try:
        channel = find_channel(db, public_id)
        if action == "remove":
            remove_question(db, current_actor(), channel, field_id)
        elif action == "move-down":
            move_question_down(db, current_actor(), channel, field_id)
        else:
            move_question_up(db, current_actor(), channel, field_id)
    except ChannelError as error:
        flash(str(error), "error")
    return redirect(url_for("admin.edit_channel", public_id=public_id))
