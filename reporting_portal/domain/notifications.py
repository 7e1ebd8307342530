"""E-mail to staff: "you have N new items", and nothing else, through a database outbox.

Case handlers hear of unread reporter activity on their cases (and of deadlines, see
:mod:`reporting_portal.domain.reminders`); identity custodians of identity requests
waiting for a decision.

A handler's mailbox is far less protected than this portal (other people's servers,
phones, forwarding rules), so a notice names no report, channel, reporter or content
and carries no link parameter: only how many of the handler's cases have reporter
activity they have not read yet (:mod:`reporting_portal.domain.notice_mail`).

Queueing: ``notify_new_items(db, report)`` where a report or a reporter's message is
stored, ``notify_custodians(db)`` where a handler asks for an identity. Each upserts one
outbox row per recipient and window in the request's own transaction
(:mod:`reporting_portal.domain.outbox`): a rolled-back report never announces itself,
and no request waits for a mail server. The row holds the account id, never the
address, which is looked up when the mail goes out.

Sending: ``reporting-portal send-notices``, run by a systemd timer every 5 minutes on
one host or several, sends the rows whose window has ended
(:mod:`reporting_portal.domain.notice_runs`): one mail per recipient and window, retried
with back-off when refused, never sent twice. Windows are fixed on the clock
(``notification_window_minutes``, default 60), so a mail's time does not tell its
provider when a reporter acted.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from reporting_portal.domain.notice_counts import (
    reachable,
    unread_counts,
    waiting_identity_requests,
)
from reporting_portal.domain.outbox import NewsKind, queue_news
from reporting_portal.storage.models import AccessGrant, Report, Role, StaffAccount, StaffRole
from reporting_portal.web.extensions import get_settings


def notify_new_items(db: Session, report: Report, *, now: datetime | None = None) -> None:
    """Queue a notice for each reachable case handler of ``report`` with unread reporter
    activity. Call it after storing a report or a reporter's message, inside the request:
    it joins the request's transaction."""
    settings = get_settings()
    if not settings.smtp_host:
        return
    db.flush()  # the new report or message must be counted, and the report needs its id
    handlers = list(db.scalars(
        select(StaffAccount.id).join(AccessGrant, AccessGrant.staff_id == StaffAccount.id)
        .join(StaffRole, reachable(Role.CASE_HANDLER))
        .where(AccessGrant.report_id == report.id)
    ))
    queue_news(db, NewsKind.UNREAD_CASES, unread_counts(db, handlers),
               window_minutes=settings.notification_window_minutes,
               now=now or datetime.now(UTC))


def notify_custodians(db: Session, *, now: datetime | None = None) -> None:
    """Queue a notice for each reachable identity custodian that identity requests wait
    (the mail gives their number: no case, no handler, no reason)."""
    settings = get_settings()
    if not settings.smtp_host:
        return
    db.flush()  # the new request must be counted
    waiting = waiting_identity_requests(db)
    custodians = db.scalars(
        select(StaffAccount.id).join(StaffRole, reachable(Role.IDENTITY_CUSTODIAN)))
    queue_news(db, NewsKind.WAITING_IDENTITY_REQUESTS, dict.fromkeys(custodians, waiting),
               window_minutes=settings.notification_window_minutes,
               now=now or datetime.now(UTC))
