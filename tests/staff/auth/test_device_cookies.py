"""No lock-out of staff by a third party (issue 11, item 12): device cookies.

OWASP, "Slow Down Online Guessing Attacks with Device Cookies": a browser where the
account signed in before keeps its own budget, so a flood of wrong passwords from
anywhere else cannot keep the real person out.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from reporting_portal.staff.auth.devices import device_nonce, new_device_cookie
from reporting_portal.storage.models import AuditEvent
from tests.helpers import csrf_token, https_client

pytestmark = pytest.mark.database

THROTTLED = "Too many failed attempts for this account"


def post_sign_in(client, username, password, code=""):
    return client.post("/staff/sign-in", data={
        "csrf_token": csrf_token(client, "/staff/sign-in"),
        "username": username, "password": password, "code": code})


def sign_out(client):
    client.post("/staff/sign-out", data={"csrf_token": csrf_token(client, "/staff/")})


def signed_in(client) -> bool:
    return client.get("/staff/").status_code == 200


@pytest.fixture
def real_browser(client, make_staff):
    """Hana's own browser: she signed in there yesterday and signed out."""
    member = make_staff("hana")
    assert post_sign_in(client, "hana", member.password, member.code()).status_code == 302
    sign_out(client)
    return client, member


def test_a_flood_of_wrong_passwords_does_not_stop_the_real_browser(app, real_browser, db):
    client, member = real_browser
    attacker = https_client(app)
    for _ in range(25):
        post_sign_in(attacker, "hana", "guessing at her password", "123456")
    # The attacker is locked out, even with the right password...
    locked = post_sign_in(attacker, "hana", member.password, member.code(1))
    assert THROTTLED in locked.get_data(as_text=True)
    assert not signed_in(attacker)
    # ...and Hana, in her own browser, signs in at once.
    assert post_sign_in(client, "hana", member.password, member.code(1)).status_code == 302
    assert signed_in(client)
    throttled = db.scalars(select(AuditEvent).where(
        AuditEvent.action == "staff.sign_in_throttled")).all()
    assert len(throttled) == 16  # every refused attempt stays an audit event


def test_a_device_whose_own_budget_is_spent_is_locked(real_browser):
    client, member = real_browser
    for _ in range(10):
        post_sign_in(client, "hana", "a wrong password typed", "123456")
    locked = post_sign_in(client, "hana", member.password, member.code(1))
    assert THROTTLED in locked.get_data(as_text=True)
    assert not signed_in(client)


def test_failures_from_the_device_leave_the_untrusted_budget_alone(app, real_browser):
    client, member = real_browser
    for _ in range(10):
        post_sign_in(client, "hana", "a wrong password typed", "123456")
    elsewhere = https_client(app)
    assert post_sign_in(elsewhere, "hana", member.password, member.code(1)).status_code == 302


def test_a_cookie_counts_only_for_the_name_it_was_issued_for(app, real_browser, make_staff):
    client, _member = real_browser
    omar = make_staff("omar")
    # Hana's browser holds a device cookie for "hana" only: for "omar" it is untrusted.
    for _ in range(10):
        post_sign_in(https_client(app), "omar", "guessing at omar", "123456")
    locked = post_sign_in(client, "omar", omar.password, omar.code())
    assert THROTTLED in locked.get_data(as_text=True)


def test_a_forged_or_altered_cookie_is_an_untrusted_device(app, real_browser):
    client, member = real_browser
    cookie = client.get_cookie("__Host-device").value
    nonce, tag = cookie.split(".")
    for _ in range(10):
        post_sign_in(https_client(app), "hana", "guessing at her password", "123456")
    forged = https_client(app)
    forged.set_cookie("__Host-device", f"{nonce}.{tag[:-2]}AA", domain="localhost")
    locked = post_sign_in(forged, "hana", member.password, member.code(1))
    assert THROTTLED in locked.get_data(as_text=True)


def test_the_device_cookie_is_host_only_secure_httponly_strict_and_renewed(client, make_staff):
    member = make_staff("hana")
    first = post_sign_in(client, "hana", member.password, member.code())
    header = next(h for h in first.headers.getlist("Set-Cookie")
                  if h.startswith("__Host-device="))
    attributes = {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}
    assert {"secure", "httponly", "path", "max-age"} <= attributes
    assert "samesite=strict" in header.lower()
    assert "domain" not in attributes
    assert int(re.search(r"Max-Age=(\d+)", header).group(1)) == 365 * 24 * 3600
    assert "hana" not in header.lower()  # the name is only inside the MAC
    sign_out(client)
    again = post_sign_in(client, "hana", member.password, member.code(1))
    renewed = next(h for h in again.headers.getlist("Set-Cookie")
                   if h.startswith("__Host-device="))
    assert renewed.split(";")[0] != header.split(";")[0]  # a new nonce at each sign-in


@given(st.text(max_size=120))
def test_any_cookie_text_is_refused_quietly_unless_issued(cookie):
    """The cookie is untrusted input: nothing in it raises, and only an issued one counts."""
    assert device_nonce("the secret key", cookie, "hana") is None


def test_an_issued_cookie_counts_for_its_name_only():
    cookie = new_device_cookie("the secret key", "hana")
    assert device_nonce("the secret key", cookie, "hana") is not None
    assert device_nonce("the secret key", cookie, "omar") is None
    assert device_nonce("another installation", cookie, "hana") is None
