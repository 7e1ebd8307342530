"""A case's stage, priority and closing outcome, and who acted, in the reader's words.

They are stored as codes (storage.models.reports) and put into words only here, so a
case closed by a handler reading French reads as closed in Arabic to the reporter, and
a translation can change without a migration.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from reporting_portal.domain.protection import measure_label, state_label
from reporting_portal.storage.models import ClosingOutcome, Priority, ReportStatus, Role

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


# Who acted, in the access log: a staff role, or one of the actors without an account.
ACTOR_LABELS: dict[str, LazyString] = {
    Role.ADMINISTRATOR: _l("Administrator"),
    Role.CASE_HANDLER: _l("Case handler"),
    Role.IDENTITY_CUSTODIAN: _l("Identity custodian"),
    Role.AUDITOR: _l("Auditor"),
    "reporter": _l("A reporter"),
    "system": _l("The system"),
    "anonymous": _l("Not signed in"),
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


def actor_label(code: str | None) -> str:
    return _label(ACTOR_LABELS, code)


TEMPLATE_GLOBALS = {
    "actor_label": actor_label,
    "status_label": status_label,
    "priority_label": priority_label,
    "outcome_label": outcome_label,
    # The protection record's measures and their states (domain/protection.py).
    "measure_label": measure_label,
    "state_label": state_label,
}
