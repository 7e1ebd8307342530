"""The inbox's bulk form: tick cases, choose one change, apply it to each (casework/bulk.py).

No JavaScript needed: each row's checkbox and version belong to the form through the
``form`` attribute, so the table stays outside it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from werkzeug.wrappers import Response as BaseResponse

from reporting_portal.domain.actors import Actor, NoKeysError
from reporting_portal.staff.auth.viewer import current_identity, current_viewer
from reporting_portal.staff.casework import bp
from reporting_portal.staff.casework.bulk import (
    MAX_BULK_CASES,
    BulkChange,
    BulkChoiceError,
    BulkOutcome,
    TickedCase,
    apply_bulk,
    bulk_handlers,
)
from reporting_portal.staff.casework.forms import BulkForm
from reporting_portal.storage.models import Role
from reporting_portal.web.database import get_session
from reporting_portal.web.security.access import staff

# The inbox's own query keys: the page the handler came from, and nothing else.
_INBOX_KEYS = {"status", "channel", "label", "priority", "overdue", "sort", "page", "q",
               "from", "to", "mine"}
_MAX_VERSION = 2**31 - 1
_MAX_VALUE_CHARS = 200  # longer than any inbox filter's value
_MAX_PUBLIC_ID_CHARS = 32  # Report.public_id's column


def bulk_context() -> dict[str, Any]:
    """What the inbox's bulk form offers: its CSRF form and the handlers to assign."""
    return {"bulk_form": BulkForm(back=request.query_string.decode("utf-8", "replace")),
            "bulk_handlers": bulk_handlers(get_session()),
            "max_bulk_cases": MAX_BULK_CASES}


def _back(form: BulkForm) -> BaseResponse:
    kept: dict[str, Any] = {key: value for key, value in parse_qsl(form.back.data or "")
            if key in _INBOX_KEYS and len(value) <= _MAX_VALUE_CHARS}
    return redirect(url_for("casework.inbox", **kept))


def _ticked() -> list[TickedCase]:
    ticked: dict[str, TickedCase] = {}
    for public_id in request.form.getlist("case"):
        try:
            version = int(request.form.get(f"version-{public_id}", ""))
        except ValueError:
            abort(400)  # no version: not a form this site rendered
        if len(public_id) > _MAX_PUBLIC_ID_CHARS or not 1 <= version <= _MAX_VERSION:
            abort(400)
        ticked.setdefault(public_id, TickedCase(public_id=public_id, version=version))
    return list(ticked.values())


def _tell(outcome: BulkOutcome) -> None:
    if outcome.changed:
        flash(ngettext("Changed %(num)d case: %(cases)s.", "Changed %(num)d cases: %(cases)s.",
                       len(outcome.changed), cases=", ".join(sorted(outcome.changed))), "success")
    if outcome.unchanged:
        flash(_("Already so, left as they were: %(cases)s.",
                cases=", ".join(sorted(outcome.unchanged))), "success")
    if outcome.conflicted:
        flash(_("Not changed, because someone changed them after you opened the inbox: "
                "%(cases)s. Check them and try again.",
                cases=", ".join(sorted(outcome.conflicted))), "error")
    if outcome.refused:
        flash(_("Not changed, because the change is not allowed for them: %(cases)s.",
                cases=", ".join(sorted(outcome.refused))), "error")
    if outcome.not_found:
        flash(ngettext("%(num)d case was not found.", "%(num)d cases were not found.",
                       outcome.not_found), "error")


@bp.route("/bulk", methods=["POST"])
@staff(Role.CASE_HANDLER)
def bulk_change() -> BaseResponse:
    form = BulkForm()
    if not form.validate_on_submit():
        abort(400)
    ticked = _ticked()
    if not ticked:
        flash(_("Tick at least one case first."), "error")
        return _back(form)
    if len(ticked) > MAX_BULK_CASES:
        flash(ngettext("Tick at most %(num)d case at a time.",
                       "Tick at most %(num)d cases at a time.", MAX_BULK_CASES), "error")
        return _back(form)
    try:
        actor = Actor.member(current_viewer().account, current_identity())
        outcome = apply_bulk(get_session(), actor, BulkChange.parse(form.change.data or ""),
                             ticked)
    except BulkChoiceError:
        flash(_("Choose one of the changes offered."), "error")
        return _back(form)
    except NoKeysError:
        flash(_("Sign in again to unlock your keys: adding a case handler needs them."),
              "error")
        return _back(form)
    _tell(outcome)
    return _back(form)
