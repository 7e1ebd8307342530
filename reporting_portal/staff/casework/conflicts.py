"""Telling a handler what changed while they were editing a case (casework/versions.py)."""

from __future__ import annotations

from flask_babel import gettext as _

from reporting_portal.domain.case_words import priority_label as _priority
from reporting_portal.domain.case_words import status_label as _status
from reporting_portal.staff.casework.versions import CaseConflictError, CaseSnapshot


def _names(names: tuple[str, ...]) -> str:
    return ", ".join(names) if names else _("none")


def _differences(seen: CaseSnapshot, now: CaseSnapshot) -> list[str]:
    changes = []
    if seen.status != now.status:
        changes.append(_("status is now '%(now)s' (was '%(was)s')",
                         now=_status(now.status), was=_status(seen.status)))
    if seen.priority != now.priority:
        changes.append(_("priority is now '%(now)s' (was '%(was)s')",
                         now=_priority(now.priority), was=_priority(seen.priority)))
    if set(seen.labels) != set(now.labels):
        changes.append(_("labels are now '%(now)s' (was '%(was)s')",
                         now=_names(now.labels), was=_names(seen.labels)))
    if set(seen.handlers) != set(now.handlers):
        changes.append(_("case handlers are now '%(now)s' (was '%(was)s')",
                         now=_names(now.handlers), was=_names(seen.handlers)))
    return changes


def conflict_message(error: CaseConflictError) -> str:
    """One paragraph: what the other person changed, and that nothing of this was saved."""
    changes = _differences(error.seen, error.current) if error.seen is not None else []
    if changes:
        opening = _("While you were editing, this case changed: %(changes)s.",
                    changes="; ".join(changes))
    else:
        opening = _("While you were editing, someone else changed this case.")
    return f"{opening} {_('Your change was not saved. Check and submit it again.')}"
