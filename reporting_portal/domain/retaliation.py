"""A reporter's report of retaliation, and what it does to the case.

It is a message of its own type (``MessageType.RETALIATION``) from the reporter's mailbox:
what happened, when and by whom, with files, encrypted like every message (on the server
or in the browser). The server knows it is one from the form it came through, and marks
the case (EU Directive 2019/1937 art. 19: retaliation is forbidden, so its report must
reach the handlers at once): the inbox and the case page show it, and the priority is
raised to high. Both zones need the words: the mailbox shows the reporter what they
sent, the case page shows the handlers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from reporting_portal.audit.events import SYSTEM, AuditAction, ObjectType, record_event
from reporting_portal.storage.models import CaseChange, Priority, Report

# The fields of the form, as the browser's script names them (``q_<field>``) and as the
# encrypted document keeps them under "answers".
WHAT_HAPPENED, HAPPENED_ON, BY_WHOM, FORMS = "what_happened", "happened_on", "by_whom", "forms"
RETALIATION_FIELDS = [FORMS, WHAT_HAPPENED, HAPPENED_ON, BY_WHOM, "attachments"]

# The forms of retaliation art. 19 of EU Directive 2019/1937 names, for the reporter to
# tick (codes in the document, words only for display); threats and attempts count too.
RETALIATION_FORMS: dict[str, LazyString] = {
    "dismissal": _l("Suspension, dismissal or lay-off"),
    "demotion": _l("Demotion or a promotion withheld"),
    "transfer": _l("Duties transferred, a changed place of work, reduced pay or changed "
                   "hours"),
    "training": _l("Training withheld"),
    "assessment": _l("A negative performance assessment or a bad reference"),
    "discipline": _l("A disciplinary measure, reprimand or penalty"),
    "harassment": _l("Coercion, intimidation, harassment or ostracism"),
    "discrimination": _l("Discrimination or unfair treatment"),
    "contract": _l("A temporary contract not made permanent or not renewed"),
    "reputation": _l("Harm to your reputation, in particular on social media, or "
                     "financial loss"),
    "blacklisting": _l("Blacklisting in your sector or industry"),
    "business": _l("A contract for goods or services ended early, or a licence or permit "
                   "cancelled"),
    "medical": _l("A psychiatric or medical referral"),
    "threat": _l("A threat or an attempt of any of these"),
}
BY_WHOM_MAX_CHARS = 500
# Retaliation can follow a report by years (a career blocked); a date before this is a typo.
EARLIEST_DAY = date(1950, 1, 1)
_DAY_PATTERN = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

# Retaliation threatens a person, not only a case: raised to high whatever it was below
# that, rather than one step, since one step up from low is only "normal", which a
# handler would not notice. Urgent stays urgent; the handler may raise high to urgent.
RAISED_PRIORITY = Priority.HIGH
_PRIORITY_ORDER = [Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.URGENT]


class RetaliationFormError(ValueError):
    """The form cannot be filed as it is; the message is for the reporter."""


@dataclass(frozen=True)
class RetaliationReport:
    """What a reporter says about retaliation, as typed (bounded, not yet encrypted)."""

    what_happened: str
    happened_on: date
    by_whom: str
    forms: tuple[str, ...] = ()  # codes of RETALIATION_FORMS, in the form's order

    def answers(self) -> dict[str, str | list[str]]:
        """The message document's "answers", as the browser's script would write them."""
        return {FORMS: list(self.forms), WHAT_HAPPENED: self.what_happened,
                HAPPENED_ON: self.happened_on.isoformat(), BY_WHOM: self.by_whom}


def parse_day(text: str, today: date) -> date:
    """A day typed as YYYY-MM-DD (what a date field sends), not after ``today``.

    ``today`` is the server's day in UTC; a reporter ahead of UTC may be a day later."""
    typed = text.strip()
    # Only what a date field sends: fromisoformat alone also takes "20260331" and week
    # dates ("2026-W14-2"), which no reporter means.
    if not _DAY_PATTERN.fullmatch(typed):
        raise RetaliationFormError(_l("Give the day as year-month-day, for example "
                                      "2026-03-31."))
    try:
        day = date.fromisoformat(typed)
    except ValueError:
        raise RetaliationFormError(_l("Give the day as year-month-day, for example "
                                      "2026-03-31.")) from None
    if day > today + timedelta(days=1):
        raise RetaliationFormError(_l("The day cannot be in the future."))
    if day < EARLIEST_DAY:
        raise RetaliationFormError(_l("Check the year of the day: it is too long ago."))
    return day


def parse_retaliation(fields: Mapping[str, str], ticked: Sequence[str], *, max_chars: int,
                      today: date) -> RetaliationReport:
    """The server path's form fields (``q_<field>``) and the forms of retaliation ticked,
    checked; raises RetaliationFormError."""
    if any(code not in RETALIATION_FORMS for code in ticked):
        raise RetaliationFormError(_l("The form was not sent as expected. Reload it."))
    forms = tuple(code for code in RETALIATION_FORMS if code in set(ticked))
    what = fields.get(f"q_{WHAT_HAPPENED}", "")
    by_whom = fields.get(f"q_{BY_WHOM}", "").strip()
    if not what.strip():
        raise RetaliationFormError(_l("Say what happened."))
    if len(what) > max_chars:
        raise RetaliationFormError(_l("What happened is too long: at most %(count)d "
                                      "characters.", count=max_chars))
    if len(by_whom) > BY_WHOM_MAX_CHARS:
        raise RetaliationFormError(_l("Who did it is too long: at most %(count)d "
                                      "characters.", count=BY_WHOM_MAX_CHARS))
    day = parse_day(fields.get(f"q_{HAPPENED_ON}", ""), today)
    return RetaliationReport(what_happened=what, happened_on=day, by_whom=by_whom, forms=forms)


@dataclass(frozen=True)
class RetaliationWords:
    """A decrypted retaliation report, for display: strings as stored, never trusted."""

    what_happened: str
    happened_on: str
    by_whom: str
    forms: tuple[str, ...] = ()  # in words, in the reader's language

    @property
    def happened_day(self) -> date | None:
        """The day, when it is one (the browser's path could send anything)."""
        try:
            return date.fromisoformat(self.happened_on)
        except ValueError:
            return None


def retaliation_words(document: dict[str, Any]) -> RetaliationWords:
    """What a retaliation message's document says (either path wrote it)."""
    answers = document.get("answers", {})
    if not isinstance(answers, dict):
        answers = {}
    ticked = answers.get(FORMS, [])
    forms = tuple(str(RETALIATION_FORMS[code]) for code in RETALIATION_FORMS
                  if isinstance(ticked, list) and code in ticked)
    return RetaliationWords(what_happened=str(answers.get(WHAT_HAPPENED, "")),
                            happened_on=str(answers.get(HAPPENED_ON, "")),
                            by_whom=str(answers.get(BY_WHOM, "")), forms=forms)


def mark_retaliation(db: Session, report: Report) -> None:
    """Mark the case and raise its priority to high, as the system, in the caller's
    transaction (with the message that reports it).

    The raise is a triage change like a handler's: a row of the case's history and an
    event naming the system. Both are dated to the day, and the event is held for the
    day's release with the reporter's own: an exact time would say when the reporter
    acted (audit/held.py). The case's version goes up, so a handler's form shown before
    is refused rather than setting the old priority back (casework/versions.py).
    """
    today = datetime.now(UTC).date()
    report.retaliation_reports = (report.retaliation_reports or 0) + 1
    report.retaliation_reported_on = today
    # In SQL, so a handler's change committing meanwhile is not overwritten.
    report.version = Report.version + 1
    if _PRIORITY_ORDER.index(Priority(report.priority)) >= _PRIORITY_ORDER.index(
            RAISED_PRIORITY):
        return
    db.add(CaseChange(report_id=report.id, action=str(AuditAction.CASE_PRIORITY_CHANGED),
                      actor_id=None, occurred_at=datetime.combine(today, time(0), UTC),
                      detail={"old": report.priority, "new": str(RAISED_PRIORITY),
                              "cause": "retaliation"}))
    report.priority = RAISED_PRIORITY
    record_event(db, AuditAction.CASE_PRIORITY_CHANGED, actor=None, actor_role=SYSTEM,
                 object_type=ObjectType.REPORT, object_id=report.public_id,
                 held_with_reporter=True)
