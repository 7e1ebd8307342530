"""Legal deadlines of EU Directive 2019/1937 for a report.

Acknowledgement within 7 days of receipt (art. 9(1)(b), 11(2)(b)); feedback within
3 months of the acknowledgement, or of the end of the 7-day period if none was sent
(art. 9(1)(f), 11(2)(d)).
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

ACKNOWLEDGEMENT_DAYS = 7
FEEDBACK_MONTHS = 3


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day if it has fewer days."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def acknowledgement_due(received_on: date) -> date:
    return received_on + timedelta(days=ACKNOWLEDGEMENT_DAYS)


def feedback_due(received_on: date, acknowledged_on: date | None) -> date:
    start = acknowledged_on or acknowledgement_due(received_on)
    return add_months(start, FEEDBACK_MONTHS)
