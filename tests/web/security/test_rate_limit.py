"""The rate-limit module (issue 11, item 11): atomic counters that cannot be overshot.

Runs on SQLite and, with ``--database=postgresql``, on PostgreSQL.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from reporting_portal.domain.passwords import get_passwords
from reporting_portal.staff.auth import services
from reporting_portal.staff.auth.services import SignInRefusedError, SignInThrottledError
from reporting_portal.storage.models import RateLimitCounter
from reporting_portal.web.database import get_database
from reporting_portal.web.extensions import get_settings
from reporting_portal.web.security.rate_limit import Budget, BudgetSpentError, RateLimits
from tests.helpers import csrf_token

pytestmark = pytest.mark.database

THREADS = 12


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 12, 0, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def limits(app, clock) -> RateLimits:
    return RateLimits(get_database(app).engine, "a secret key for the counters", clock=clock)


def all_at_once(count: int, action) -> list[object]:
    """Run ``action`` in ``count`` threads released together; their results or errors."""
    barrier = threading.Barrier(count)
    results: list[object] = []
    lock = threading.Lock()

    def run() -> None:
        barrier.wait()
        try:
            outcome: object = action()
        except Exception as error:  # the test inspects what each thread got
            outcome = error
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_concurrent_spends_never_get_more_than_the_limit_through(limits):
    budget = Budget("test-concurrency", 5, timedelta(minutes=1))
    key = limits.key(budget.bucket, "everyone")
    results = all_at_once(THREADS, lambda: limits.spend(budget, key))
    passed = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, BudgetSpentError)]
    assert len(passed) == 5
    assert len(refused) == THREADS - 5


def test_concurrent_wrong_passwords_get_no_more_derivations_than_the_budget(
    app, make_staff
):
    """The old count-then-insert let every concurrent guess through to Argon2id."""
    make_staff("hana")
    with app.app_context():
        passwords = get_passwords()
        settings = get_settings().replace(sign_in_max_failures=3)
    derivations = []

    class CountingPasswords:
        """The real service, counting its Argon2id verifications."""

        def verify(self, password_hash, password):
            derivations.append(1)
            return passwords.verify(password_hash, password)

        def __getattr__(self, name):
            return getattr(passwords, name)

    limits = app.extensions["rate_limits"]

    def guess() -> None:
        with app.app_context(), get_database(app).session_factory() as db:
            try:
                services.sign_in(db, CountingPasswords(), settings, limits, username="hana",
                                 password="a wrong guess at it", code="123456",
                                 device_cookie=None)
            finally:
                db.commit()

    results = all_at_once(THREADS, guess)
    assert sum(isinstance(r, SignInRefusedError) for r in results) == 3
    assert sum(isinstance(r, SignInThrottledError) for r in results) == THREADS - 3
    assert len(derivations) == 3


def test_a_budget_returns_with_the_next_window(limits, clock):
    budget = Budget("test-window", 2, timedelta(minutes=1))
    key = limits.key(budget.bucket, "x")
    limits.spend(budget, key)
    limits.spend(budget, key)
    with pytest.raises(BudgetSpentError) as refused:
        limits.spend(budget, key)
    assert refused.value.retry_after == timedelta(seconds=30)
    clock.now += timedelta(seconds=30)
    limits.spend(budget, key)


def test_a_refund_gives_one_attempt_back(limits):
    budget = Budget("test-refund", 1, timedelta(minutes=15))
    key = limits.key(budget.bucket, "x")
    limits.refund(limits.spend(budget, key))
    limits.spend(budget, key)
    with pytest.raises(BudgetSpentError):
        limits.spend(budget, key)


def test_keys_are_keyed_hashes_never_the_name(app, client, make_staff):
    make_staff("hana")
    client.post("/staff/sign-in", data={
        "csrf_token": csrf_token(client, "/staff/sign-in"),
        "username": "Hana", "password": "wrong one", "code": "123456"})
    with get_database(app).session_factory() as db:
        rows = db.scalars(select(RateLimitCounter)).all()
    assert [(r.bucket, r.count) for r in rows] == [("staff-sign-in-untrusted", 1)]
    assert b"hana" not in rows[0].key.lower()
    assert len(rows[0].key) == 32
    other = RateLimits(get_database(app).engine, "another installation's key")
    assert other.key("staff-sign-in-untrusted", "hana") != rows[0].key


def test_old_windows_are_swept(limits, clock, app):
    budget = Budget("test-sweep", 5, timedelta(minutes=1))
    limits.spend(budget, limits.key(budget.bucket, "old"))
    clock.now += timedelta(days=2)
    limits.spend(budget, limits.key(budget.bucket, "new"))
    assert limits.sweep() == 1
    with get_database(app).session_factory() as db:
        assert db.scalar(select(RateLimitCounter.count)) == 1


def test_a_budget_must_be_positive_and_shorter_than_what_is_kept():
    with pytest.raises(ValueError, match="positive limit"):
        Budget("x", 0, timedelta(minutes=1))
    with pytest.raises(ValueError, match="under two hours"):
        Budget("x", 1, timedelta(hours=3))
    with pytest.raises(ValueError, match="1 to 32"):
        Budget("x" * 33, 1, timedelta(minutes=1))
