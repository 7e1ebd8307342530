"""Server-side sessions: timeouts, rotation, and nothing readable in the table."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from reporting_portal.storage.models import StoredSession
from tests.helpers import StoppedClock

pytestmark = pytest.mark.database


@pytest.fixture
def clock(app):
    fake = StoppedClock()
    app.session_interface.clock = fake
    return fake


def test_idle_timeout_ends_a_staff_session(client, make_staff, sign_in, clock):
    sign_in(make_staff("hana"))
    clock.now += timedelta(minutes=29)
    assert client.get("/staff/").status_code == 200
    clock.now += timedelta(minutes=29)  # active 29 minutes ago: still within the idle limit
    assert client.get("/staff/").status_code == 200
    clock.now += timedelta(minutes=31)
    assert client.get("/staff/").status_code == 302


def test_absolute_timeout_ends_even_an_active_session(client, make_staff, sign_in, clock):
    sign_in(make_staff("hana"))
    for _ in range(12 * 3):
        clock.now += timedelta(minutes=20)
        response = client.get("/staff/")
    assert response.status_code == 302


def test_sign_in_issues_a_new_session_token(client, make_staff, sign_in):
    client.get("/staff/sign-in")
    before = client.get_cookie("__Host-session").value
    sign_in(make_staff("hana"))
    after = client.get_cookie("__Host-session").value
    assert before != after


def test_session_table_holds_nothing_readable(client, make_staff, sign_in, db):
    member = make_staff("hana")
    sign_in(member)
    rows = db.scalars(select(StoredSession)).all()
    assert rows
    token = client.get_cookie("__Host-session").value.encode()
    for row in rows:
        assert member.public_id.encode() not in row.sealed_data
        assert b"staff_stage" not in row.sealed_data
        assert token not in row.token_hash
        assert row.expires_at.minute == 0
        assert row.expires_at.second == 0


def test_forged_or_garbled_cookie_is_ignored(client, make_staff, sign_in):
    sign_in(make_staff("hana"))
    value = client.get_cookie("__Host-session").value
    garbled = value[:-2] + ("AA" if value[-2:] != "AA" else "BB")
    client.set_cookie("__Host-session", garbled, domain="localhost", secure=True)
    assert client.get("/staff/").status_code == 302
    client.set_cookie("__Host-session", "x" * 3000, domain="localhost", secure=True)
    assert client.get("/staff/").status_code == 302
