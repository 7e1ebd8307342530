"""A case's stage, priority and closing outcome in words, in the reader's language.

They are stored as codes (storage.models.reports) and put into words only here, so a
case closed by a handler reading French reads as closed in Arabic to the reporter, and
a translation can change without a migration.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from reporting_portal.storage.models import ClosingOutcome, Priority, ReportStatus

STATUS_LABELS: dict[str, LazyString] = {
    ReportStatus.RECEIVED: _l("Received"),
    ReportStatus.ACKNOWLEDGED: _l("Acknowledged"),
    ReportStatus.ASSESSMENT: _l("Assessment"),
    ReportStatus.INVESTIGATION: _l("Investigation"),
    ReportStatus.CLOSED: _l("Closed"),
}
PRIORITY_LABELS: dict[str, LazyString] = {
    Priority.LOW: _l("Low"),
    Priority.NORMAL: _l("Normal"),
    Priority.HIGH: _l("High"),
    Priority.URGENT: _l("Urgent"),
}
OUTCOME_LABELS: dict[str, LazyString] = {
    ClosingOutcome.REFERRED: _l("Substantiated: referred to the competent authority"),
    ClosingOutcome.DEALT_WITH_INTERNALLY: _l("Substantiated: dealt with internally"),
    ClosingOutcome.NOT_SUBSTANTIATED: _l("Not substantiated"),
    ClosingOutcome.OUT_OF_SCOPE: _l("Outside the scope of this channel"),
    ClosingOutcome.NOT_ENOUGH_INFORMATION: _l("Not enough information to act on"),
}


def _label(labels: Mapping[str, LazyString], code: str | None) -> str:
    # A code this version does not know (a newer installation's backup) shows as itself.
    if code is None:
        return ""
    return str(labels.get(code, code))


def status_label(code: str | None) -> str:
    return _label(STATUS_LABELS, code)


def priority_label(code: str | None) -> str:
    return _label(PRIORITY_LABELS, code)


def outcome_label(code: str | None) -> str:
    return _label(OUTCOME_LABELS, code)


TEMPLATE_GLOBALS = {
    "status_label": status_label,
    "priority_label": priority_label,
    "outcome_label": outcome_label,
}
