"""The case page's deadlines, as days left in words, with a tone for their colour.

The colour is only a second signal: each deadline says in words how far away it is
(WCAG 2.2, 1.4.1 Use of Color), so a handler who does not see the colour loses nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from flask_babel import gettext as _
from flask_babel import ngettext

from reporting_portal.domain.reminders import REMINDER_LEAD
from reporting_portal.storage.models import Report, ReportStatus


class Tone(StrEnum):
    OVERDUE = "overdue"
    NEAR = "near"  # today, or within the reminders' lead (domain/reminders.py)
    AHEAD = "ahead"
    MET = "met"


@dataclass(frozen=True)
class DeadlineLine:
    """One row of the panel: what is due, on which day, and how far away in words."""

    name: str
    day: date
    words: str
    tone: Tone


def days_left(due_on: date, today: date) -> tuple[str, Tone]:
    """How far ``due_on`` is from ``today``: "Due today", "3 days left", "Overdue by 2 days"."""
    days = (due_on - today).days
    if days < 0:
        return ngettext("Overdue by %(num)d day", "Overdue by %(num)d days", -days), Tone.OVERDUE
    if days == 0:
        return _("Due today"), Tone.NEAR
    words = ngettext("%(num)d day left", "%(num)d days left", days)
    return words, Tone.NEAR if days <= REMINDER_LEAD.days else Tone.AHEAD


def case_deadlines(report: Report, today: date) -> list[DeadlineLine]:
    """The acknowledgement (until given) and the feedback (until the case is closed)."""
    lines = []
    if report.acknowledged_on is not None:
        lines.append(DeadlineLine(_("Acknowledged"), report.acknowledged_on,
                                  _("Done"), Tone.MET))
    elif report.acknowledgement_due is not None and report.status != ReportStatus.CLOSED:
        words, tone = days_left(report.acknowledgement_due, today)
        lines.append(DeadlineLine(_("Acknowledge by"), report.acknowledgement_due, words, tone))
    if report.feedback_due is not None and report.status != ReportStatus.CLOSED:
        words, tone = days_left(report.feedback_due, today)
        lines.append(DeadlineLine(_("Feedback by"), report.feedback_due, words, tone))
    return lines
