"""One run of ``reporting-portal send-notices``: the timer job that sends what is due.

A systemd timer runs it every 5 minutes, on one host or several at once. Each run:

1. marks as failed the rows a stopped run left in ``sending`` over an hour ago;
2. queues the deadline reminders earned today (:mod:`reporting_portal.domain.reminders`);
3. claims due rows in batches and commits each claim before talking to SMTP
   (:func:`reporting_portal.domain.outbox.claim_due`), looks up each recipient's
   address (a deactivated account, or one without an address, gets nothing), counts
   the news afresh (nothing left unread: no mail), sends one content-free mail per row
   and marks it;
4. deletes rows finished more than a week ago.

Never twice: a mail is sent only from a row this run claimed, and a claimed row is never
claimed again. A refusal, or a server that cannot be reached, puts the row back with
back-off (nothing was delivered); a connection lost while the message went out, or a run
that stopped between sending and marking, leaves the mail's fate unknown, and such a row
is marked failed, never resent. Logs carry counts and exception type names only, never
an address.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from config.settings import Settings
from reporting_portal.domain import notice_mail
from reporting_portal.domain.notice_counts import (
    is_custodian,
    unread_counts,
    waiting_identity_requests,
)
from reporting_portal.domain.notice_mail import Delivery, NoticeContent
from reporting_portal.domain.outbox import (
    ClaimedNotice,
    claim_due,
    fail_stale_claims,
    mark_dropped,
    mark_failed,
    mark_refused,
    mark_sent,
    sweep_finished,
)
from reporting_portal.domain.reminders import queue_deadline_reminders
from reporting_portal.storage.models import StaffAccount

BATCH_SIZE = 100
_logger = logging.getLogger(__name__)


@dataclass
class RunSummary:
    """What one run did, for the command's output and for tests."""

    sent: int = 0
    retrying: int = 0
    failed: int = 0
    dropped: int = 0
    # Rows found in ``sending`` from a run that stopped: failed, never resent.
    abandoned: int = 0
    reminders_queued: int = 0
    swept: int = 0


def send_due_notices(session_factory: sessionmaker[Session], settings: Settings, *,
                     now: datetime | None = None, batch_size: int = BATCH_SIZE) -> RunSummary:
    """Run once (see the module's docstring). ``now`` is for tests: every time this run
    compares or writes is this one."""
    now = now or datetime.now(UTC)
    summary = RunSummary()
    with session_factory() as db:
        summary.abandoned = fail_stale_claims(db, now)
        if summary.abandoned:
            _logger.warning("%d notification e-mail(s) were left claimed by a run that "
                            "stopped: marked failed, not resent", summary.abandoned)
        summary.reminders_queued = queue_deadline_reminders(
            db, now=now, window_minutes=settings.notification_window_minutes)
        db.commit()
    while True:
        with session_factory() as db:
            claimed = claim_due(db, now, batch_size)
            reached = _send_batch(db, settings, claimed, now, summary)
        # A server that cannot be reached now will not be in a moment: the next run tries.
        if len(claimed) < batch_size or not reached:
            break
    with session_factory() as db:
        summary.swept = sweep_finished(db, now)
    return summary


def _address(db: Session, staff_id: int) -> str | None:
    account = db.execute(select(StaffAccount.email, StaffAccount.is_active)
                         .where(StaffAccount.id == staff_id)).one_or_none()
    if account is None or not account.is_active or not account.email:
        return None
    email: str = account.email
    return email


def _content(db: Session, notice: ClaimedNotice) -> NoticeContent:
    """What the mail says, counted now (the row's counts may be a racing request's)."""
    unread = unread_counts(db, [notice.staff_id]).get(notice.staff_id, 0) \
        if notice.unread_cases else 0
    waiting = waiting_identity_requests(db) \
        if notice.waiting_identity_requests and is_custodian(db, notice.staff_id) else 0
    return NoticeContent(new_items=unread + waiting,
                         deadline_reminder=notice.deadline_reminders > 0)


def _send_batch(db: Session, settings: Settings, claimed: list[ClaimedNotice], now: datetime,
                summary: RunSummary) -> bool:
    """Send and mark ``claimed``; returns False if the server could not be reached."""
    smtp: smtplib.SMTP | None = None
    try:
        for position, notice in enumerate(claimed):
            address = _address(db, notice.staff_id)
            if address is None:
                mark_dropped(db, notice.id, now)
                summary.dropped += 1
                continue
            if smtp is None:
                try:
                    smtp = notice_mail.connect(settings)
                except (OSError, smtplib.SMTPException) as error:
                    _logger.warning("notification e-mail server not reached: %s",
                                    type(error).__name__)
                    # Nothing of this batch was delivered from here on: all of it waits.
                    for waiting in claimed[position:]:
                        _refused(db, waiting, now, summary, type(error).__name__)
                    return False
            if _send_one(db, smtp, settings, notice, address, now, summary):
                continue
            notice_mail.close(smtp)
            smtp = None
    finally:
        if smtp is not None:
            notice_mail.close(smtp)
    return True


def _send_one(db: Session, smtp: smtplib.SMTP, settings: Settings, notice: ClaimedNotice,
              address: str, now: datetime, summary: RunSummary) -> bool:
    """Send and mark one row; returns whether the connection is still usable."""
    content = _content(db, notice)
    if not content.new_items and not content.deadline_reminder:
        mark_dropped(db, notice.id, now)  # read or decided in the meantime: nothing to say
        summary.dropped += 1
        return True
    try:
        message = notice_mail.notice_message(settings, address, content)
    except ValueError as error:
        mark_failed(db, notice.id, now)
        summary.failed += 1
        _logger.warning("notification e-mail cannot be written: %s", type(error).__name__)
        return True
    result = notice_mail.deliver(smtp, message)
    if result.outcome == Delivery.SENT:
        mark_sent(db, notice.id, now)
        summary.sent += 1
    elif result.outcome == Delivery.REFUSED:
        _refused(db, notice, now, summary, result.reason)
    else:
        mark_failed(db, notice.id, now)
        summary.failed += 1
        _logger.warning(
            "notification e-mail cannot be written: %s" if result.outcome == Delivery.UNWRITABLE
            else "notification e-mail may or may not have been sent (%s): not resent",
            result.reason)
    return result.connection_usable


def _refused(db: Session, notice: ClaimedNotice, now: datetime, summary: RunSummary,
             reason: str) -> None:
    delay = mark_refused(db, notice, now)
    if delay is None:
        summary.failed += 1
        _logger.warning("notification e-mail given up after %d attempts: %s",
                        notice.attempts, reason)
        return
    summary.retrying += 1
    _logger.warning("notification e-mail not sent: %s; next try in %d minutes", reason,
                    int(delay.total_seconds() // 60))
