"""The questionnaire editor's preview and its copy from another channel."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from markupsafe import Markup
from werkzeug.wrappers import Response as BaseResponse

from reporting_portal.domain.channel_content import channel_languages, questions_in
from reporting_portal.domain.question_fields import questions_form
from reporting_portal.staff.admin import bp
from reporting_portal.staff.admin.channel_views import (
    copy_questions_form,
    refusal_at_field,
    render_editor,
)
from reporting_portal.staff.admin.channels import ChannelError, copy_questions, find_channel
from reporting_portal.staff.admin.views import current_actor
from reporting_portal.storage.models import Role
from reporting_portal.web.database import get_session
from reporting_portal.web.extensions import get_settings
from reporting_portal.web.languages import language
from reporting_portal.web.security.access import staff


@bp.route("/channels/<public_id>/preview")
@staff(Role.ADMINISTRATOR)
def preview_channel_questions(public_id: str) -> str:
    """The questions as a reporter reading the chosen language will see them, inert.

    The reporter's own partial renders them, under that language's locale, so the words
    the form adds (“required”, the file limits) are the reporter's too."""
    try:
        channel = find_channel(get_session(), public_id)
    except ChannelError:
        abort(404)
    offered = channel_languages(channel)
    chosen = request.args.get("language", "")
    code = chosen if chosen in offered else offered[0]
    settings = get_settings()
    questions = questions_in(channel, code)
    with force_locale(code):
        shown = Markup(render_template(  # noqa: S704  # nosec B704 -- a template's own autoescaped output
            "admin/_question_preview.html", questions=questions,
            form=questions_form(questions, max_chars=settings.answer_max_chars),
            max_megabytes=settings.submission_max_bytes // (1024 * 1024),
            max_files=settings.submission_max_files))
    return render_template(
        "admin/question_preview.html", channel=channel, preview=shown,
        preview_language=language(code), languages=[language(c) for c in offered])


@bp.route("/channels/<public_id>/questions/copy", methods=["POST"])
@staff(Role.ADMINISTRATOR)
def copy_channel_questions(public_id: str) -> tuple[str, int] | BaseResponse:
    db = get_session()
    try:
        channel = find_channel(db, public_id)
    except ChannelError:
        abort(404)
    form = copy_questions_form(channel)
    if not form.validate_on_submit():
        return render_editor(channel, copy_form=form, status=400, copy_refusal=_(
            "Not saved yet: a field below needs your attention."))
    try:
        source = find_channel(db, form.source.data or "")
        count = copy_questions(db, current_actor(), channel, source,
                               replace=form.mode.data == "replace")
    except ChannelError as error:
        return render_editor(channel, copy_form=form, status=400,
                              copy_refusal=refusal_at_field(form, error))
    flash(ngettext("%(num)d question copied from %(channel)s.",
                   "%(num)d questions copied from %(channel)s.", count, channel=source.name),
          "success")
    return redirect(url_for("admin.edit_channel", public_id=public_id))
