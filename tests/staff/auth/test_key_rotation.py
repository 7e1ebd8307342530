"""A staff member rotates their own key pair: afterwards the new key opens what the old
one did, the old opens nothing, nobody else's access changes; meanwhile the person reads
their cases with either key, page after page continues where it stopped."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from crypto.keywrap import unwrap_with_password
from reporting_portal.staff.auth import key_rotation, key_views
from reporting_portal.storage.models import AuditEvent, KeyRotation, StaffAccount
from tests.helpers import csrf_token
from tests.helpers.reporting import CONTENT_MARKER
from tests.helpers.rotation import everything, opened_by, payloads, populate, sign_in_again

pytestmark = pytest.mark.database

KEY_PAGE = "/staff/account/key"
CONTINUE = "/staff/account/key/continue"


@pytest.fixture(autouse=True)
def no_reporter_pages_open(monkeypatch) -> None:
    """No reporter has a page from before the rotation open: it completes at once."""
    monkeypatch.setattr(key_views, "stale_page_grace", lambda _minutes: timedelta(0))


@pytest.fixture
def case(app, db, submit_case, channel_with_handlers) -> str:
    return populate(app, db, submit_case, channel_with_handlers)


@pytest.fixture
def one_object_per_page(monkeypatch) -> None:
    """One header per page load, so a test sees the rotation half-way."""
    monkeypatch.setattr(key_rotation, "BATCH_SIZE", 1)
    monkeypatch.setattr(key_rotation, "BATCHES_PER_REQUEST", 1)


def start(browser, password):
    return browser.post(KEY_PAGE, data={"csrf_token": csrf_token(browser, KEY_PAGE),
                                        "password": password})


def keep_going(browser, limit=100) -> int:
    """Press "Continue" until the page offers it no more; return how many times."""
    for pressed in range(limit):
        if CONTINUE not in browser.get(KEY_PAGE).get_data(as_text=True):
            return pressed
        response = browser.post(CONTINUE, data={"csrf_token": csrf_token(browser, KEY_PAGE)})
        assert response.status_code == 302
    raise AssertionError("the rotation did not finish")


def account_identity(db, username, password) -> str:
    db.expire_all()
    account = db.scalar(select(StaffAccount).where(StaffAccount.username == username))
    return unwrap_with_password(account.wrapped_identity, password).decode("ascii")


def rotation_events(db) -> list[tuple[str, str | None]]:
    db.expire_all()
    return [(e.action, e.actor_id) for e in db.scalars(select(AuditEvent).where(
        AuditEvent.action.like("staff.key_rotation_%")).order_by(AuditEvent.id))]


@pytest.mark.slow
def test_the_new_key_opens_what_the_old_did_and_the_old_opens_nothing(
        app, db, settings, installed, channel_with_handlers, case) -> None:
    hana = channel_with_handlers["hana"]
    readers = {name: opened_by(settings, db, member.identity)
               for name, member in channel_with_handlers.items()}
    recovery = opened_by(settings, db, installed.recovery_identity)
    stored = payloads(settings, db)
    browser = sign_in_again(app, db, hana)

    response = start(browser, hana.password)

    assert response.status_code == 302
    assert "Your new key opens everything your old key opened" in browser.get(
        KEY_PAGE).get_data(as_text=True)
    new_identity = account_identity(db, "hana", hana.password)
    assert new_identity != hana.identity
    assert opened_by(settings, db, new_identity) == readers["hana"]
    assert opened_by(settings, db, hana.identity) == set()
    for name in ("omar", "cleo"):
        assert opened_by(settings, db, channel_with_handlers[name].identity) == readers[name]
    assert opened_by(settings, db, installed.recovery_identity) == recovery == everything(db)
    assert payloads(settings, db) == stored
    assert rotation_events(db) == [("staff.key_rotation_started", hana.public_id),
                                   ("staff.key_rotation_completed", hana.public_id)]
    [rotation] = db.scalars(select(KeyRotation)).all()
    assert rotation.old_wrapped_identity is None  # the old key is gone from the server
    assert CONTENT_MARKER in browser.get(f"/staff/cases/{case}").get_data(as_text=True)


@pytest.mark.slow
def test_half_way_the_person_reads_with_either_key_and_continues_where_it_stopped(
        app, db, settings, channel_with_handlers, case, one_object_per_page) -> None:
    hana = channel_with_handlers["hana"]
    before = opened_by(settings, db, hana.identity)
    browser = sign_in_again(app, db, hana)

    start(browser, hana.password)

    page = browser.get(KEY_PAGE).get_data(as_text=True)
    assert 'id="rotation-progress"' in page
    assert "re-granted." in page
    new_identity = account_identity(db, "hana", hana.password)
    assert opened_by(settings, db, hana.identity)  # not all moved yet
    assert opened_by(settings, db, new_identity)  # but some
    assert CONTENT_MARKER in browser.get(f"/staff/cases/{case}").get_data(as_text=True)

    pressed = keep_going(browser)

    assert pressed >= 2
    assert opened_by(settings, db, new_identity) == before
    assert opened_by(settings, db, hana.identity) == set()
    assert CONTENT_MARKER in browser.get(f"/staff/cases/{case}").get_data(as_text=True)


@pytest.mark.slow
def test_other_sessions_end_and_a_new_sign_in_carries_on_with_both_keys(
        app, db, settings, channel_with_handlers, case, one_object_per_page) -> None:
    hana = channel_with_handlers["hana"]
    before = opened_by(settings, db, hana.identity)
    other = sign_in_again(app, db, hana)
    browser = sign_in_again(app, db, hana)
    start(browser, hana.password)

    assert other.get(f"/staff/cases/{case}").status_code == 302  # to the sign-in page

    again = sign_in_again(app, db, hana)
    assert CONTENT_MARKER in again.get(f"/staff/cases/{case}").get_data(as_text=True)
    keep_going(again)
    assert opened_by(settings, db, account_identity(db, "hana", hana.password)) == before
    assert opened_by(settings, db, hana.identity) == set()


@pytest.mark.slow
def test_a_password_change_half_way_keeps_the_old_key_usable(
        app, db, settings, channel_with_handlers, case, one_object_per_page) -> None:
    hana = channel_with_handlers["hana"]
    before = opened_by(settings, db, hana.identity)
    browser = sign_in_again(app, db, hana)
    start(browser, hana.password)
    new_password = "a brand new long passphrase, quite unguessable"
    changed = browser.post("/staff/account/password", data={
        "csrf_token": csrf_token(browser, "/staff/account/password"),
        "current_password": hana.password, "new_password": new_password,
        "confirm_password": new_password})
    assert changed.status_code == 302

    hana.password = new_password
    again = sign_in_again(app, db, hana)
    keep_going(again)

    assert opened_by(settings, db, account_identity(db, "hana", new_password)) == before


def test_a_wrong_password_changes_nothing_and_guessing_is_throttled(
        app, db, settings, channel_with_handlers) -> None:
    hana = channel_with_handlers["hana"]
    browser = sign_in_again(app, db, hana)

    wrong = start(browser, "not the password at all")

    assert wrong.status_code == 400
    assert "That password is not right." in wrong.get_data(as_text=True)
    assert account_identity(db, "hana", hana.password) == hana.identity
    assert db.scalars(select(KeyRotation)).all() == []
    for _ in range(settings.password_check_max_failures - 1):
        start(browser, "another guess")
    refused = start(browser, hana.password)
    assert refused.status_code == 429
    assert "Too many wrong passwords" in refused.get_data(as_text=True)
    assert account_identity(db, "hana", hana.password) == hana.identity
    assert rotation_events(db) == []


def test_the_forms_need_their_csrf_token(app, db, channel_with_handlers) -> None:
    hana = channel_with_handlers["hana"]
    browser = sign_in_again(app, db, hana)

    assert browser.post(KEY_PAGE, data={"password": hana.password}).status_code == 400
    assert browser.post(CONTINUE, data={}).status_code == 400
    assert db.scalars(select(KeyRotation)).all() == []


@pytest.mark.slow
def test_the_rotation_waits_for_reporters_pages_from_before_it(
        app, db, settings, channel_with_handlers, case, monkeypatch) -> None:
    monkeypatch.setattr(key_views, "stale_page_grace", lambda _minutes: timedelta(minutes=16))
    hana = channel_with_handlers["hana"]
    before = opened_by(settings, db, hana.identity)
    browser = sign_in_again(app, db, hana)

    start(browser, hana.password)

    page = browser.get(KEY_PAGE).get_data(as_text=True)
    assert "can still arrive for your old key until" in page
    assert opened_by(settings, db, hana.identity) == set()
    assert opened_by(settings, db, account_identity(db, "hana", hana.password)) == before
    [rotation] = db.scalars(select(KeyRotation)).all()
    assert rotation.completed_at is None
    assert rotation.old_wrapped_identity is not None  # kept for what may still arrive
    assert rotation_events(db) == [("staff.key_rotation_started", hana.public_id)]
