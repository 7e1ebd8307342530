"""No lock-out of reporters by a flood (issue 11, item 12): two lanes, a proof of work.

The receipt sign-in page carries a single-use challenge; its script finds a nonce so that
SHA-256(challenge || nonce) has the page's leading zero bits. Solutions spend a budget
per difficulty level; sign-ins without a solution (no JavaScript) spend a plain budget of
their own. The solver here is plain hashlib, as an attacker's would be.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from crypto.receipt import format_receipt_code, generate_receipt_code
from reporting_portal.reporter.followup import services as followup_services
from reporting_portal.storage.models import RateLimitCounter
from reporting_portal.web.database import get_database
from tests.helpers import csrf_token, https_client

pytestmark = pytest.mark.database

SIGN_IN = "/followup"
NOT_A_REPORT = "This code does not open a report."
EXPIRED = "The page&#39;s check had expired."
BUSY = "Too many people are signing in right now."


@pytest.fixture
def budgets(app):
    """Small budgets, so tests fill them quickly."""
    def set_budgets(**values: int) -> None:
        app.extensions["settings"] = app.extensions["settings"].replace(**values)

    set_budgets(receipt_plain_attempts_per_minute=3, receipt_pow_attempts_per_minute=2,
                receipt_pow_top_attempts_per_minute=2, receipt_pow_levels=3,
                receipt_pow_first_bits=8)
    return set_budgets


@pytest.fixture
def derivations(monkeypatch) -> list[int]:
    """Counts the receipt Argon2id derivations."""
    counted: list[int] = []
    real = followup_services.derive_receipt_secrets

    def counting(*args, **kwargs):
        counted.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(followup_services, "derive_receipt_secrets", counting)
    return counted


def page_challenge(page: str) -> tuple[bytes, int, int]:
    found = re.search(r'data-pow-challenge="([0-9a-f]+)" data-pow-level="(\d+)"\s+'
                      r'data-pow-bits="(\d+)"', page)
    assert found, "no proof-of-work challenge on the page"
    return bytes.fromhex(found.group(1)), int(found.group(2)), int(found.group(3))


def solves(challenge: bytes, nonce: int, bits: int) -> bool:
    digest = hashlib.sha256(challenge + nonce.to_bytes(8, "big")).digest()
    return int.from_bytes(digest, "big") >> (256 - bits) == 0


def solve(challenge: bytes, bits: int) -> int:
    return next(nonce for nonce in itertools.count() if solves(challenge, nonce, bits))


def not_a_solution(challenge: bytes, bits: int) -> int:
    return next(nonce for nonce in itertools.count() if not solves(challenge, nonce, bits))


def sign_in_with_script(client, code: str, *, page: str | None = None, nonce=None,
                        level=None):
    """What the page's script does: solve the page's challenge, then post."""
    page = page if page is not None else client.get(SIGN_IN).get_data(as_text=True)
    challenge, page_level, bits = page_challenge(page)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    return client.post(SIGN_IN, data={
        "csrf_token": token, "code": code,
        "pow_level": str(page_level if level is None else level),
        "pow_nonce": str(solve(challenge, bits) if nonce is None else nonce)})


def sign_in_without_script(client, code: str):
    return client.post(SIGN_IN, data={"csrf_token": csrf_token(client, SIGN_IN), "code": code})


def random_code() -> str:
    return format_receipt_code(generate_receipt_code())


def test_a_flood_through_the_plain_lane_does_not_stop_a_reporter_with_javascript(
    app, receipt_code, budgets
):
    flood = https_client(app)
    answers = [sign_in_without_script(flood, random_code()) for _ in range(6)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429, 429]
    assert BUSY in answers[-1].get_data(as_text=True)
    reporter = https_client(app)
    opened = sign_in_with_script(reporter, receipt_code)
    assert opened.headers["Location"] == "/followup/mailbox"
    assert "Your mailbox" in reporter.get("/followup/mailbox").get_data(as_text=True)


def test_a_bad_solution_is_refused_before_any_argon2id(client, receipt_code, budgets,
                                                       derivations, db):
    page = client.get(SIGN_IN).get_data(as_text=True)
    challenge, _level, bits = page_challenge(page)
    refused = sign_in_with_script(client, receipt_code, page=page,
                                  nonce=not_a_solution(challenge, bits))
    assert refused.status_code == 400
    assert EXPIRED in refused.get_data(as_text=True)
    assert derivations == []
    assert db.scalars(select(RateLimitCounter)).all() == []  # no budget spent either


def test_a_reused_solution_is_refused_before_any_argon2id(client, receipt_code, budgets,
                                                          derivations):
    page = client.get(SIGN_IN).get_data(as_text=True)
    challenge, level, bits = page_challenge(page)
    nonce = solve(challenge, bits)
    first = sign_in_with_script(client, random_code(), page=page, nonce=nonce)
    assert NOT_A_REPORT in first.get_data(as_text=True)
    assert derivations == [1]
    # The same solution again, even with the right code, is refused without a derivation.
    again = sign_in_with_script(client, receipt_code, page=page, nonce=nonce, level=level)
    assert again.status_code == 400
    assert derivations == [1]
    # The page it got back has a fresh challenge, which works.
    assert page_challenge(again.get_data(as_text=True))[0] != challenge
    opened = sign_in_with_script(client, receipt_code, page=again.get_data(as_text=True))
    assert opened.headers["Location"] == "/followup/mailbox"


def test_a_solution_for_another_session_is_refused(app, receipt_code, budgets, derivations):
    attacker, victim = https_client(app), https_client(app)
    victim_page = victim.get(SIGN_IN).get_data(as_text=True)
    challenge, _level, bits = page_challenge(victim_page)
    attacker_page = attacker.get(SIGN_IN).get_data(as_text=True)
    own_challenge = page_challenge(attacker_page)[0]
    # At 8 bits one victim's solution in 256 also solves the attacker's own challenge;
    # take the first that does not, so the test measures the binding, not the odds.
    stolen_nonce = next(nonce for nonce in itertools.count()
                        if solves(challenge, nonce, bits)
                        and not solves(own_challenge, nonce, bits))
    stolen = sign_in_with_script(attacker, receipt_code, page=attacker_page,
                                 nonce=stolen_nonce)
    assert stolen.status_code == 400
    assert derivations == []


def test_when_a_level_is_full_the_page_moves_up_and_still_signs_in(
    app, client, receipt_code, budgets
):
    flood = https_client(app)
    for _ in range(2):  # the flood pays two solutions to fill level 0
        assert NOT_A_REPORT in sign_in_with_script(flood, random_code()).get_data(as_text=True)
    # A page opened before the level filled sends its level-0 solution and is moved up.
    stale = sign_in_with_script(client, receipt_code, level=0)
    assert stale.status_code == 429
    moved = stale.get_data(as_text=True)
    assert page_challenge(moved)[1:] == (1, 10)
    assert "data-pow-resend" in moved
    assert sign_in_with_script(client, receipt_code, page=moved).headers["Location"] == (
        "/followup/mailbox")
    # A page opened now starts at the first level still open.
    assert page_challenge(https_client(app).get(SIGN_IN).get_data(as_text=True))[1] == 1


def test_when_every_level_is_full_the_reporter_is_told_to_wait(app, client, receipt_code,
                                                               budgets):
    budgets(receipt_pow_levels=1)
    flood = https_client(app)
    for _ in range(2):
        sign_in_with_script(flood, random_code())
    busy = sign_in_with_script(client, receipt_code)
    assert busy.status_code == 429
    assert BUSY in busy.get_data(as_text=True)
    assert "data-pow-resend" not in busy.get_data(as_text=True)


def test_a_typo_is_answered_before_any_budget_is_spent(client, receipt_code, budgets,
                                                       derivations, db):
    budgets(receipt_plain_attempts_per_minute=1)
    digits = list(receipt_code.replace(" ", ""))
    digits[3] = str((int(digits[3]) + 1) % 10)
    typo = "".join(digits)
    for _ in range(3):
        for answer in (sign_in_without_script(client, typo), sign_in_with_script(client, typo)):
            assert answer.status_code == 200
            assert "There is a typo in this code" in answer.get_data(as_text=True)
    assert derivations == []
    assert db.scalars(select(RateLimitCounter)).all() == []


def test_wrong_codes_cost_one_derivation_on_either_lane_and_get_one_answer(
    client, receipt_code, budgets, derivations
):
    answers = [sign_in_without_script(client, random_code()),
               sign_in_with_script(client, random_code())]
    assert derivations == [1, 1]
    assert {NOT_A_REPORT in a.get_data(as_text=True) for a in answers} == {True}


def test_a_solution_sent_twice_at_once_opens_one_attempt(app, receipt_code, budgets,
                                                         derivations):
    """Both requests load the session before either saves it: the counter decides."""
    from concurrent.futures import ThreadPoolExecutor

    first = https_client(app)
    page = first.get(SIGN_IN).get_data(as_text=True)
    cookie = first.get_cookie("__Host-session").value
    challenge, level, bits = page_challenge(page)
    nonce = solve(challenge, bits)

    def send(_index: int) -> int:
        twin = https_client(app)
        twin.set_cookie("__Host-session", cookie, domain="localhost")
        return sign_in_with_script(twin, random_code(), page=page, nonce=nonce,
                                   level=level).status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = sorted(pool.map(send, range(4)))
    assert derivations == [1]
    assert statuses.count(400) >= 3


def test_a_challenge_older_than_half_an_hour_is_refused(app, client, receipt_code, budgets,
                                                        derivations):
    page = client.get(SIGN_IN).get_data(as_text=True)
    app.extensions["rate_limits"].clock.now += timedelta(minutes=31)
    late = sign_in_with_script(client, receipt_code, page=page)
    assert late.status_code == 400
    assert derivations == []
    # The renewed page works.
    assert sign_in_with_script(client, receipt_code, page=late.get_data(as_text=True)).headers[
        "Location"] == "/followup/mailbox"


def test_no_write_lock_is_held_while_the_code_is_derived(app, client, receipt_code, budgets,
                                                         monkeypatch):
    """The budget is spent in a transaction of its own, committed before the Argon2id:
    another writer gets through during the derivation (on SQLite the old DELETE-then-count
    held the database's write lock across it)."""
    engine = get_database(app).engine
    real = followup_services.derive_receipt_secrets
    probes: list[int] = []

    def derive_while_another_writes(*args, **kwargs):
        with engine.connect() as other:
            if engine.dialect.name == "sqlite":
                other.exec_driver_sql("PRAGMA busy_timeout = 200")
            other.execute(insert(RateLimitCounter).values(
                bucket="probe", key=bytes(32), window_start=datetime.now(UTC), count=1))
            other.commit()
        probes.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(followup_services, "derive_receipt_secrets", derive_while_another_writes)
    assert sign_in_without_script(client, receipt_code).headers["Location"] == (
        "/followup/mailbox")
    assert probes == [1]
