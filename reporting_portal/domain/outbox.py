"""The notice outbox: news queued in the caller's transaction, claimed and marked by the
sender (:mod:`reporting_portal.domain.notice_runs`).

Queueing is one ``INSERT ... ON CONFLICT (staff_id, window_start) DO UPDATE`` per kind of
news, in the transaction of the request (or job) that made the news, so a rolled-back
report never announces itself, and any number of workers and hosts queue into the same
one row per recipient and window.

Windows are fixed on the clock (``notification_window_minutes``, by default the full
hours): a row is due when its window ends, so the mail's time tells its provider only
that something happened in the window before it, never the minute a reporter acted. With
a window of 0 a row is due at once; news of the same minute still shares one row.

Claiming takes due rows so that two runs at once, on one host or two, never take the
same row: PostgreSQL locks them with ``FOR UPDATE SKIP LOCKED``; SQLite has one writer at
a time, and a row is taken by a conditional ``UPDATE ... WHERE state = 'pending'`` whose
row count says who won. The claim is committed before anyone talks to SMTP.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.orm import Session

from reporting_portal.storage.models import NoticeOutbox, NoticeState

# Rows are re-timed after a refusal: 5 minutes, doubling, at most 6 hours apart.
FIRST_RETRY_DELAY = timedelta(minutes=5)
LONGEST_RETRY_DELAY = timedelta(hours=6)
# Eight tries span about ten hours: a mail server down for a night still gets the mail.
MAX_ATTEMPTS = 8
# A claim this old was left by a run that stopped between claim and mark.
STALE_CLAIM_AGE = timedelta(hours=1)
# Finished rows are kept this long for an operator's questions, then deleted: they say
# in which windows someone had news, which is nobody's business for longer.
KEPT_FOR = timedelta(days=7)

_logger = logging.getLogger(__name__)
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_MERGE_WITHOUT_WINDOW = timedelta(minutes=1)
# News whose window was already claimed (a sender's clock ahead of this host's) moves
# to the next window; two more are plenty for any sane clock skew.
_WINDOWS_TRIED = 3
_FINISHED = (NoticeState.SENT, NoticeState.FAILED, NoticeState.DROPPED)


class NewsKind(StrEnum):
    """The kinds of news, named as their outbox columns."""

    UNREAD_CASES = "unread_cases"
    WAITING_IDENTITY_REQUESTS = "waiting_identity_requests"
    DEADLINE_REMINDERS = "deadline_reminders"


# Counts of unread cases or waiting requests are states: the newest replaces the older.
# Reminders are events: they add up.
_ADDS_UP = frozenset({NewsKind.DEADLINE_REMINDERS})


@dataclass(frozen=True, slots=True)
class Window:
    """The window that holds a moment: its start (the row's key) and when it is due."""

    start: datetime
    due: datetime

    def following(self, window_minutes: int) -> Window:
        if window_minutes == 0:
            return Window(self.start + _MERGE_WITHOUT_WINDOW, self.due)
        length = timedelta(minutes=window_minutes)
        return Window(self.start + length, self.due + length)


def window_of(moment: datetime, window_minutes: int) -> Window:
    """The fixed window (on the clock, not after the event) that holds ``moment``."""
    length = timedelta(minutes=window_minutes) if window_minutes else _MERGE_WITHOUT_WINDOW
    start = _EPOCH + length * ((moment - _EPOCH) // length)
    return Window(start, start + length if window_minutes else moment)


@dataclass(frozen=True, slots=True)
class ClaimedNotice:
    """A row taken by one run, with what its mail may say."""

    id: int
    staff_id: int
    unread_cases: int
    waiting_identity_requests: int
    deadline_reminders: int
    attempts: int


def queue_news(db: Session, kind: NewsKind, counts: Mapping[int, int], *,
               window_minutes: int, now: datetime) -> None:
    """Upsert ``counts`` (staff account id -> count) into each recipient's row for the
    window of ``now``, in the caller's transaction. Zero counts queue nothing."""
    waiting = {staff_id: count for staff_id, count in counts.items() if count > 0}
    window = window_of(now, window_minutes)
    for _ in range(_WINDOWS_TRIED):
        if not waiting:
            return
        queued = _upsert(db, kind, waiting, window)
        waiting = {staff_id: n for staff_id, n in waiting.items() if staff_id not in queued}
        window = window.following(window_minutes)
    if waiting:
        # A lost notice is better than a lost report: the request goes on.
        _logger.warning("%d notice(s) not queued: the next windows were already claimed "
                        "(is a host's clock wrong?)", len(waiting))


def _upsert(db: Session, kind: NewsKind, counts: Mapping[int, int], window: Window) -> set[int]:
    insert = postgresql.insert if db.get_bind().dialect.name == "postgresql" else sqlite.insert
    empty = {str(other): 0 for other in NewsKind}
    # Sorted by account, so two requests lock the same rows in the same order (no deadlock).
    rows = [{**empty, kind.value: count, "staff_id": staff_id, "window_start": window.start,
             "state": NoticeState.PENDING.value, "attempts": 0,
             "next_attempt_at": window.due}
            for staff_id, count in sorted(counts.items())]
    values = insert(NoticeOutbox).values(rows)
    column = NoticeOutbox.__table__.c[kind.value]
    fresh = values.excluded[kind.value]
    statement = values.on_conflict_do_update(
        index_elements=[NoticeOutbox.staff_id, NoticeOutbox.window_start],
        set_={kind.value: column + fresh if kind in _ADDS_UP else fresh},
        # A row already claimed is not touched: its mail may be on its way.
        where=NoticeOutbox.state == NoticeState.PENDING,
    ).returning(NoticeOutbox.staff_id)
    return set(db.execute(statement).scalars())


def claim_due(db: Session, now: datetime, limit: int) -> list[ClaimedNotice]:
    """Take up to ``limit`` due rows for this run and commit the claim.

    Each claim counts as an attempt. What is claimed here is sent at most once: a run
    that stops before marking leaves the row in ``sending``, and no run resends it.
    """
    due = (select(NoticeOutbox.id)
           .where(NoticeOutbox.state == NoticeState.PENDING, NoticeOutbox.next_attempt_at <= now)
           .order_by(NoticeOutbox.next_attempt_at, NoticeOutbox.id)
           .limit(limit))
    claim = update(NoticeOutbox).values(
        state=NoticeState.SENDING, attempts=NoticeOutbox.attempts + 1, claimed_at=now)
    if db.get_bind().dialect.name == "postgresql":
        taken = list(db.scalars(due.with_for_update(skip_locked=True)))
        if taken:
            db.execute(claim.where(NoticeOutbox.id.in_(taken)))
    else:
        # The SELECT runs outside a transaction (pysqlite begins one at the first write),
        # so each UPDATE waits its turn for the write lock on a fresh snapshot.
        taken = [
            notice_id for notice_id in list(db.scalars(due))
            if _rowcount(db.execute(claim.where(
                NoticeOutbox.id == notice_id, NoticeOutbox.state == NoticeState.PENDING))) == 1
        ]
    claimed = [
        ClaimedNotice(row.id, row.staff_id, row.unread_cases, row.waiting_identity_requests,
                      row.deadline_reminders, row.attempts)
        for row in db.execute(
            select(NoticeOutbox.id, NoticeOutbox.staff_id, NoticeOutbox.unread_cases,
                   NoticeOutbox.waiting_identity_requests, NoticeOutbox.deadline_reminders,
                   NoticeOutbox.attempts)
            .where(NoticeOutbox.id.in_(taken)).order_by(NoticeOutbox.id))
    ] if taken else []
    db.commit()
    return claimed


def _rowcount(result: Result[Any]) -> int:
    # An UPDATE or DELETE gives a cursor result, which has the row count.
    return cast(CursorResult[Any], result).rowcount


def _finish(db: Session, notice_id: int, state: NoticeState, now: datetime) -> None:
    db.execute(update(NoticeOutbox)
               .where(NoticeOutbox.id == notice_id, NoticeOutbox.state == NoticeState.SENDING)
               .values(state=state, finished_at=now))
    db.commit()


def mark_sent(db: Session, notice_id: int, now: datetime) -> None:
    """The server accepted the mail."""
    _finish(db, notice_id, NoticeState.SENT, now)


def mark_failed(db: Session, notice_id: int, now: datetime) -> None:
    """Given up: the mail may or may not have left, or can never be written."""
    _finish(db, notice_id, NoticeState.FAILED, now)


def mark_dropped(db: Session, notice_id: int, now: datetime) -> None:
    """Nobody to send to: the account was deactivated or has no address any more."""
    _finish(db, notice_id, NoticeState.DROPPED, now)


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th refused try: 5 min, doubling, capped."""
    delay: timedelta = FIRST_RETRY_DELAY * 2 ** max(attempts - 1, 0)
    return min(delay, LONGEST_RETRY_DELAY)


def mark_refused(db: Session, notice: ClaimedNotice, now: datetime) -> timedelta | None:
    """The server refused, or could not be reached: nothing was delivered. Put the row
    back for a later run, or give it up after :data:`MAX_ATTEMPTS`. Returns the delay,
    or None when given up."""
    if notice.attempts >= MAX_ATTEMPTS:
        mark_failed(db, notice.id, now)
        return None
    delay = retry_delay(notice.attempts)
    db.execute(update(NoticeOutbox)
               .where(NoticeOutbox.id == notice.id, NoticeOutbox.state == NoticeState.SENDING)
               .values(state=NoticeState.PENDING, next_attempt_at=now + delay,
                       claimed_at=None))
    db.commit()
    return delay


def fail_stale_claims(db: Session, now: datetime) -> int:
    """Mark as failed the rows claimed over an hour ago and never marked (a run stopped
    between claim and mark). They are never resent: the mail may have left. Commits."""
    result = db.execute(update(NoticeOutbox)
                        .where(NoticeOutbox.state == NoticeState.SENDING,
                               NoticeOutbox.claimed_at < now - STALE_CLAIM_AGE)
                        .values(state=NoticeState.FAILED, finished_at=now))
    db.commit()
    return _rowcount(result)


def sweep_finished(db: Session, now: datetime) -> int:
    """Delete rows finished more than :data:`KEPT_FOR` ago. Commits."""
    result = db.execute(delete(NoticeOutbox)
                        .where(NoticeOutbox.state.in_(_FINISHED),
                               NoticeOutbox.finished_at < now - KEPT_FOR))
    db.commit()
    return _rowcount(result)
