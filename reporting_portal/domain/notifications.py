"""E-mail to staff: "you have N new items", and nothing else.

Case handlers hear of unread reporter activity on their cases; identity custodians of
identity requests waiting for a decision.

A handler's mailbox is far less protected than this portal (other people's servers,
phones, forwarding rules), so a notice names no report, channel, reporter or content
and carries no link parameter: only how many of the handler's cases have reporter
activity they have not read yet. The count is computed inside the request's transaction;
the mail is queued only after that transaction committed (a rolled-back report must not
announce itself) and is sent by one daemon thread per application, so a slow or broken
mail server never holds up a reporter's request.

Wiring: ``init_notifications(app)`` in the factory; ``notify_new_items(db, report)``
where a report or a reporter's message is stored; ``notify_custodians(db)`` where a
handler asks for an identity; ``send_pending_notifications()`` right after the request's
commit succeeded.
"""

from __future__ import annotations

import queue
import smtplib
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import Flask, current_app, g
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from config.settings import Settings
from reporting_portal.storage.models import (
    AccessGrant,
    CaseRead,
    IdentityAccessRequest,
    IdentityRequestStatus,
    ObjectKind,
    Report,
    ReportObject,
    Role,
    StaffAccount,
    StaffRole,
)
from reporting_portal.web.extensions import get_settings

SMTP_TIMEOUT_SECONDS = 10
_EXTENSION = "notifier"
_PENDING = "pending_notifications"
# What a reporter sends that a handler has to read; files hang off content or messages.
_UNREAD_KINDS = (ObjectKind.CONTENT, ObjectKind.MESSAGE)


@dataclass(frozen=True, slots=True)
class Notice:
    """One mail to write: the address and the handler's number of unread cases."""

    to: str
    new_items: int


@dataclass(frozen=True, slots=True)
class _Batch:
    # The settings as they were when the request committed, so a worker never needs an
    # application context (and tests may swap settings between requests).
    settings: Settings
    notices: tuple[Notice, ...]


def next_window_start(now: float, window_minutes: int) -> float:
    """The next boundary of the fixed windows (on the clock, not after the event)."""
    window = window_minutes * 60
    return (now // window + 1) * window


class Notifier:
    """A queue of batches and the one daemon thread, started on first use, that sends them.

    With a window (``notification_window_minutes``), notices are held until the next
    boundary and released together, the newest count per address: the mail then says
    only that something happened in the window before it, never the minute a reporter
    acted. Held notices live in memory; a worker that exits loses them (the items stay
    unread in the portal, which is where they are read anyway).
    """

    def __init__(self, app: Flask, clock: Callable[[], float] = time.time) -> None:
        self._logger = app.logger
        self._clock = clock
        self._queue: queue.Queue[_Batch | None] = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._held: dict[str, Notice] = {}
        self._held_settings: Settings | None = None
        self._releaser: threading.Thread | None = None
        self._wake = threading.Event()

    def enqueue(self, settings: Settings, notices: tuple[Notice, ...]) -> None:
        if not notices:
            return
        if settings.notification_window_minutes > 0:
            self._hold(settings, notices)
            return
        self._ensure_worker()
        self._queue.put(_Batch(settings, notices))

    def _hold(self, settings: Settings, notices: tuple[Notice, ...]) -> None:
        with self._lock:
            for notice in notices:
                self._held[notice.to] = notice
            self._held_settings = settings
            if self._releaser is None or not self._releaser.is_alive():
                self._wake.clear()
                self._releaser = threading.Thread(
                    target=self._release_at_boundaries, name="reporting-portal-notice-window",
                    daemon=True)
                self._releaser.start()

    def _release_at_boundaries(self) -> None:
        while True:
            with self._lock:
                settings = self._held_settings
            if settings is None:
                return
            delay = next_window_start(self._clock(), settings.notification_window_minutes) \
                - self._clock()
            stopping = self._wake.wait(max(delay, 0))
            self.release_held()
            if stopping:
                return

    def release_held(self) -> None:
        """Queue every held notice now (at a window boundary, or when stopping)."""
        with self._lock:
            held, settings = tuple(self._held.values()), self._held_settings
            self._held.clear()
        if held and settings is not None:
            self._ensure_worker()
            self._queue.put(_Batch(settings, held))

    def wait(self, timeout: float) -> bool:
        """Block until every queued batch was handled; False if ``timeout`` ran out first."""
        deadline = time.monotonic() + timeout
        with self._queue.all_tasks_done:
            while self._queue.unfinished_tasks:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._queue.all_tasks_done.wait(remaining)
        return True

    def stop(self, timeout: float) -> None:
        """Send what is held and queued, then end the threads (tests; orderly shutdown)."""
        with self._lock:
            releaser = self._releaser
        if releaser is not None and releaser.is_alive():
            self._wake.set()
            releaser.join(timeout)
        self.release_held()
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout)

    def _ensure_worker(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._work, name="reporting-portal-notifier", daemon=True
                )
                self._thread.start()

    def _work(self) -> None:
        while True:
            batch = self._queue.get()
            try:
                if batch is None:
                    return
                self._send(batch)
            finally:
                self._queue.task_done()

    def _send(self, batch: _Batch) -> None:
        # Only the exception's type name is logged: its text, like the logger's arguments,
        # could quote an address, and addresses never reach a log.
        try:
            with _connect(batch.settings) as smtp:
                for notice in batch.notices:
                    try:
                        smtp.send_message(_message(batch.settings, notice))
                    # ValueError: an address or header the e-mail library refuses to write.
                    except (smtplib.SMTPException, ValueError) as error:
                        self._logger.warning(
                            "notification e-mail refused: %s", type(error).__name__
                        )
        except (OSError, smtplib.SMTPException) as error:
            self._logger.warning("notification e-mail not sent: %s", type(error).__name__)


def _connect(settings: Settings) -> smtplib.SMTP:
    smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_SECONDS)
    try:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password)
    except BaseException:
        smtp.close()
        raise
    return smtp


def notice_text(organisation_name: str, new_items: int) -> str:
    """The whole body of a notice. English only for now: it is written off any request."""
    items = "1 new item" if new_items == 1 else f"{new_items} new items"
    return f"You have {items} waiting in {organisation_name}. Sign in to read them.\n"


def _message(settings: Settings, notice: Notice) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = notice.to
    message["Subject"] = f"{settings.organisation_name}: new items"
    message["Date"] = formatdate(usegmt=True)
    # The sender's domain, not this host's name, so the Message-ID says nothing of the server.
    message["Message-ID"] = make_msgid(domain=settings.smtp_from.rpartition("@")[2] or None)
    message.set_content(notice_text(settings.organisation_name, notice.new_items))
    return message


def init_notifications(app: Flask) -> None:
    """Give the application its notifier (the worker thread starts with the first mail)."""
    app.extensions[_EXTENSION] = Notifier(app)


def _notifier(app: Flask) -> Notifier:
    notifier: Notifier = app.extensions[_EXTENSION]
    return notifier


def unread_counts(db: Session, staff_ids: list[int]) -> dict[int, int]:
    """Per handler: granted reports whose newest reporter content or message is unread.

    A report without a ``case_read`` row for the handler counts as unread.
    """
    if not staff_ids:
        return {}
    newest = (
        select(
            ReportObject.report_id.label("report_id"),
            func.max(ReportObject.id).label("newest_id"),
        )
        .where(ReportObject.from_reporter.is_(True), ReportObject.kind.in_(_UNREAD_KINDS))
        .group_by(ReportObject.report_id)
        .subquery()
    )
    rows = db.execute(
        select(AccessGrant.staff_id, func.count())
        .join(newest, newest.c.report_id == AccessGrant.report_id)
        .outerjoin(
            CaseRead,
            and_(
                CaseRead.report_id == AccessGrant.report_id,
                CaseRead.staff_id == AccessGrant.staff_id,
            ),
        )
        .where(
            AccessGrant.staff_id.in_(staff_ids),
            or_(CaseRead.last_object_id.is_(None), CaseRead.last_object_id < newest.c.newest_id),
        )
        .group_by(AccessGrant.staff_id)
    )
    return {staff_id: count for staff_id, count in rows}


def notify_new_items(db: Session, report: Report) -> None:
    """Note a notice for each active case handler of ``report`` who has an e-mail address.

    Call it after storing a report or a reporter's message, inside the request. Nothing
    is sent until :func:`send_pending_notifications` runs after the commit.
    """
    if not get_settings().smtp_host:
        return
    db.flush()  # the new report or message must be counted, and the report needs its id
    recipients = db.execute(
        select(StaffAccount.id, StaffAccount.email)
        .join(AccessGrant, AccessGrant.staff_id == StaffAccount.id)
        .join(StaffRole, StaffRole.staff_id == StaffAccount.id)
        .where(
            AccessGrant.report_id == report.id,
            StaffAccount.is_active.is_(True),
            StaffAccount.email.is_not(None),
            StaffAccount.email != "",
            StaffRole.role == Role.CASE_HANDLER,
        )
    ).all()
    counts = unread_counts(db, [staff_id for staff_id, _email in recipients])
    pending: dict[str, int] = g.setdefault(_PENDING, {})
    for staff_id, email in recipients:
        if email and counts.get(staff_id, 0) > 0:
            # Keyed by address: a later call in the same request has the fresher count.
            pending[email] = counts[staff_id]


def notify_custodians(db: Session) -> None:
    """Note a notice for each active identity custodian with an address: the number of
    identity requests waiting (no case, no handler, no reason in the mail)."""
    if not get_settings().smtp_host:
        return
    db.flush()  # the new request must be counted
    waiting = db.scalar(select(func.count()).select_from(IdentityAccessRequest).where(
        IdentityAccessRequest.status == IdentityRequestStatus.PENDING)) or 0
    if not waiting:
        return
    addresses = db.scalars(
        select(StaffAccount.email).join(StaffRole, StaffRole.staff_id == StaffAccount.id)
        .where(StaffRole.role == Role.IDENTITY_CUSTODIAN, StaffAccount.is_active.is_(True),
               StaffAccount.email.is_not(None), StaffAccount.email != "")
    )
    pending: dict[str, int] = g.setdefault(_PENDING, {})
    for address in addresses:
        if address:
            pending[address] = waiting


def send_pending_notifications() -> None:
    """Queue this request's notices. Call only after the request's commit succeeded."""
    pending: dict[str, int] | None = g.pop(_PENDING, None)
    settings = get_settings()
    if not pending or not settings.smtp_host:
        return
    notices = tuple(Notice(to=address, new_items=count) for address, count in pending.items())
    _notifier(current_app).enqueue(settings, notices)


def wait_for_notifications(app: Flask, timeout: float) -> bool:
    """Block until every queued notice was handled (tests); False on timeout."""
    return _notifier(app).wait(timeout)


def stop_notifications(app: Flask, timeout: float = 10) -> None:
    """Send what is queued and end the worker thread."""
    _notifier(app).stop(timeout)
