"""Rate limits: budgets of attempts per fixed window, counted atomically in the database.

One counter row per (bucket, key, window). Spending is a single UPSERT that returns the
new count (``INSERT ... ON CONFLICT DO UPDATE SET count = count + 1 RETURNING count``)
on a connection of its own, committed at once: no lock is held across the Argon2id work
that follows, and N requests spending at the same moment get N distinct counts, so no
more than the limit ever pass (a count-then-insert would let them all through).

Spend *before* the expensive check, and refund when it succeeded: a budget then counts
failures, yet concurrent guesses cannot overshoot it. Call :meth:`RateLimits.spend` and
:meth:`RateLimits.refund` before the request's own session writes anything: on SQLite a
second connection cannot write while the request's transaction holds the write lock.

Keys are HMACs under the secret key of what they count (an account name typed, a device
nonce, a difficulty level), so the table never holds a name, an address or a code.

A window lets through at most ``limit`` attempts; across a window boundary a burst can
reach twice that, while the long-run rate stays ``limit`` per window.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from reporting_portal.storage.models import RateLimitCounter

# Windows that started longer ago than this are swept; every budget's window must be
# shorter. Short, so that a flood's rows (one per used challenge) do not pile up.
KEPT_FOR = timedelta(hours=2)
# One spend in this many also sweeps old windows: cheap, and no job to forget.
_SWEEP_ONE_IN = 200
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_MAX_BUCKET_LENGTH = 32


@dataclass(frozen=True)
class Budget:
    """``limit`` attempts per ``window`` for each key of ``bucket``."""

    bucket: str
    limit: int
    window: timedelta

    def __post_init__(self) -> None:
        if not 0 < len(self.bucket) <= _MAX_BUCKET_LENGTH:
            raise ValueError("a bucket name has 1 to 32 characters")
        if self.limit < 1 or not timedelta(0) < self.window < KEPT_FOR:
            raise ValueError("a budget needs a positive limit and a window under two hours")

    def window_start(self, moment: datetime) -> datetime:
        """The start of the fixed window that holds ``moment``."""
        return _EPOCH + self.window * ((moment - _EPOCH) // self.window)


class BudgetSpentError(Exception):
    """The budget of this key is spent for the current window."""

    def __init__(self, budget: Budget, retry_after: timedelta) -> None:
        super().__init__(budget.bucket)
        self.budget = budget
        self.retry_after = retry_after


@dataclass(frozen=True)
class Spent:
    """One attempt counted: what :meth:`RateLimits.refund` needs to give it back."""

    budget: Budget
    key: bytes
    window_start: datetime


class RateLimits:
    """The counters of one installation, on the application's engine."""

    def __init__(
        self,
        engine: Engine,
        secret_key: str,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.engine = engine
        self._hmac_key = hashlib.sha256(b"rp-rate-limit-key\0" + secret_key.encode()).digest()
        # Injectable so tests can let windows pass.
        self.clock = clock

    def key(self, bucket: str, *parts: str | bytes) -> bytes:
        """A keyed hash of what a bucket counts; parts are length-prefixed, never joined."""
        mac = hmac.new(self._hmac_key, digestmod=hashlib.sha256)
        for part in (bucket, *parts):
            data = part.encode() if isinstance(part, str) else part
            mac.update(len(data).to_bytes(4, "big") + data)
        return mac.digest()

    def spend(self, budget: Budget, key: bytes, *, window_of: datetime | None = None) -> Spent:
        """Count one attempt; raise :class:`BudgetSpentError` if it is over the limit.

        The refused attempt is counted too: it cannot matter within this window, and the
        next window starts from zero. ``window_of`` pins the window to a moment other than
        now (a one-off token counts in the window of its issue, whenever it is used).
        """
        now = self.clock()
        window_start = budget.window_start(window_of or now)
        counter = RateLimitCounter
        insert = postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert
        statement = (
            insert(counter)
            .values(bucket=budget.bucket, key=key, window_start=window_start, count=1)
            .on_conflict_do_update(
                index_elements=[counter.bucket, counter.key, counter.window_start],
                set_={"count": counter.count + 1},
            )
            .returning(counter.count)
        )
        with self.engine.begin() as connection:
            count = int(connection.execute(statement).scalar_one())
        if secrets.randbelow(_SWEEP_ONE_IN) == 0:
            self.sweep()
        if count > budget.limit:
            raise BudgetSpentError(budget, window_start + budget.window - now)
        return Spent(budget, key, window_start)

    def refund(self, spent: Spent) -> None:
        """Give back an attempt that succeeded, so budgets count failures only."""
        counter = RateLimitCounter
        with self.engine.begin() as connection:
            connection.execute(
                update(counter)
                .where(counter.bucket == spent.budget.bucket, counter.key == spent.key,
                       counter.window_start == spent.window_start, counter.count > 0)
                .values(count=counter.count - 1)
            )

    def is_spent(self, budget: Budget, key: bytes) -> bool:
        """Whether the budget is used up in the current window (a hint; spend decides)."""
        counter = RateLimitCounter
        with self.engine.connect() as connection:
            count = connection.execute(
                select(counter.count).where(
                    counter.bucket == budget.bucket, counter.key == key,
                    counter.window_start == budget.window_start(self.clock()))
            ).scalar()
        return int(count or 0) >= budget.limit

    def sweep(self) -> int:
        """Delete the counters of windows that ended long ago; returns how many."""
        with self.engine.begin() as connection:
            result = connection.execute(
                delete(RateLimitCounter)
                .where(RateLimitCounter.window_start < self.clock() - KEPT_FOR)
            )
        return int(result.rowcount or 0)


def minutes_to_wait(retry_after: timedelta) -> int:
    """Whole minutes, rounded up, until a spent budget's window ends (for messages)."""
    return max(1, -(-int(retry_after.total_seconds()) // 60))


def get_rate_limits() -> RateLimits:
    """The current application's counters (made by the factory)."""
    limits: RateLimits = current_app.extensions["rate_limits"]
    return limits
