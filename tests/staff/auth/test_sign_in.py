"""Staff sign-in as a person experiences it: password, second factor, refusals, throttle."""

import re

import pyotp
import pytest
from sqlalchemy import select

from crypto.errors import KeyWrapError
from crypto.keys import parse_identity
from crypto.keywrap import unwrap_with_password
from reporting_portal.audit.events import SYSTEM
from reporting_portal.domain.accounts import create_account
from reporting_portal.domain.actors import Actor
from reporting_portal.domain.passwords import get_passwords
from reporting_portal.storage.models import AuditEvent, Role, StaffAccount
from tests.helpers import STRONG_PASSWORD, csrf_token, https_client

pytestmark = pytest.mark.database

REFUSAL = "Sign-in failed. Check the account name, password and code."


def post_sign_in(client, username, password, code=""):
    return client.post(
        "/staff/sign-in",
        data={
            "csrf_token": csrf_token(client, "/staff/sign-in"),
            "username": username,
            "password": password,
            "code": code,
        },
    )


def refusal_text(response):
    match = re.search(r'id="sign-in-error">([^<]+)<', response.get_data(as_text=True))
    return match.group(1) if match else None


def events(db, action):
    return db.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()


def test_signed_in_staff_member_sees_home_page(client, make_staff, sign_in):
    member = make_staff("hana", Role.CASE_HANDLER)
    sign_in(member)
    page = client.get("/staff/").get_data(as_text=True)
    assert "Welcome, Hana" in page
    assert "Case handler" in page


def test_wrong_password_wrong_code_and_unknown_account_get_the_same_refusal(
    client, make_staff
):
    member = make_staff("hana")
    wrong_password = post_sign_in(client, "hana", "not the password at all", member.code())
    wrong_code = post_sign_in(client, "hana", member.password, "000000")
    missing_code = post_sign_in(client, "hana", member.password, "")
    unknown = post_sign_in(client, "nobody", member.password, member.code())
    answers = {refusal_text(r) for r in (wrong_password, wrong_code, missing_code, unknown)}
    assert answers == {REFUSAL}
    assert {r.status_code for r in (wrong_password, wrong_code, missing_code, unknown)} == {200}
    assert client.get("/staff/").status_code == 302  # still signed out


def test_a_totp_code_is_accepted_once(client, make_staff):
    member = make_staff("hana")
    code = member.code()
    assert post_sign_in(client, "hana", member.password, code).status_code == 302
    client.post("/staff/sign-out", data={"csrf_token": csrf_token(client, "/staff/")})
    replay = post_sign_in(client, "hana", member.password, code)
    assert refusal_text(replay) == REFUSAL


def test_throttle_engages_after_ten_failures_even_for_the_right_password(
    client, make_staff, db
):
    member = make_staff("hana")
    for _ in range(10):
        assert refusal_text(post_sign_in(client, "hana", "wrong password here", "123456"))
    throttled = post_sign_in(client, "hana", member.password, member.code())
    assert "Too many failed attempts" in throttled.get_data(as_text=True)
    assert client.get("/staff/").status_code == 302
    assert len(events(db, "staff.sign_in_throttled")) == 1
    assert len(events(db, "staff.sign_in_failed")) == 10


def test_throttle_treats_unknown_account_names_the_same(client):
    for _ in range(10):
        post_sign_in(client, "ghost", "wrong password here", "123456")
    throttled = post_sign_in(client, "ghost", "wrong password here", "123456")
    assert "Too many failed attempts" in throttled.get_data(as_text=True)


def test_failures_for_one_account_do_not_lock_another(client, make_staff):
    make_staff("hana")
    other = make_staff("omar")
    for _ in range(10):
        post_sign_in(client, "hana", "wrong password here", "123456")
    assert post_sign_in(client, "omar", other.password, other.code()).status_code == 302


def test_first_sign_in_enrols_totp_then_replaces_one_time_password(app, client, db):
    with app.app_context():
        created = create_account(
            db, get_passwords(), Actor(account=None, role=SYSTEM),
            username="ines", display_name="Ines", roles=[Role.AUDITOR],
        )
        db.commit()
    response = post_sign_in(client, "ines", created.one_time_password)
    assert response.status_code == 302
    assert client.get("/staff/sign-in/continue").headers["Location"] == (
        "/staff/sign-in/two-factor"
    )
    assert client.get("/staff/").status_code == 302  # not signed in yet

    enrol_page = client.get("/staff/sign-in/two-factor").get_data(as_text=True)
    assert "<svg" in enrol_page
    shown = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', enrol_page).group(1)
    assert re.fullmatch(r"([A-Z2-7]{4} ){7}[A-Z2-7]{4}", shown)
    secret = shown.replace(" ", "")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', enrol_page).group(1)
    wrong = client.post("/staff/sign-in/two-factor", data={"csrf_token": token, "code": "1"})
    assert "That code is not right" in wrong.get_data(as_text=True)
    right = client.post(
        "/staff/sign-in/two-factor",
        data={"csrf_token": token, "code": pyotp.TOTP(secret).now()},
    )
    assert right.headers["Location"] == "/staff/sign-in/continue"
    assert client.get("/staff/sign-in/continue").headers["Location"] == (
        "/staff/sign-in/new-password"
    )

    token = csrf_token(client, "/staff/sign-in/new-password")
    weak = client.post(
        "/staff/sign-in/new-password",
        data={"csrf_token": token, "new_password": "password1234",
              "confirm_password": "password1234"},
    )
    assert "common passwords" in weak.get_data(as_text=True) or (
        "too easy to guess" in weak.get_data(as_text=True)
    )
    short = client.post(
        "/staff/sign-in/new-password",
        data={"csrf_token": token, "new_password": "short", "confirm_password": "short"},
    )
    assert "Use at least 12 characters." in short.get_data(as_text=True)
    chosen = client.post(
        "/staff/sign-in/new-password",
        data={"csrf_token": token, "new_password": STRONG_PASSWORD,
              "confirm_password": STRONG_PASSWORD},
    )
    assert chosen.headers["Location"] == "/staff/sign-in/continue"
    assert client.get("/staff/sign-in/continue").headers["Location"] == "/staff/"
    assert "Welcome, Ines" in client.get("/staff/").get_data(as_text=True)

    db.expire_all()
    account = db.scalar(select(StaffAccount).where(StaffAccount.username == "ines"))
    assert not account.must_change_password
    assert account.totp_enrolled_at is not None
    # The one-time password no longer works.
    client.post("/staff/sign-out", data={"csrf_token": csrf_token(client, "/staff/")})
    again = post_sign_in(client, "ines", created.one_time_password, pyotp.TOTP(secret).now())
    assert refusal_text(again) == REFUSAL
    assert [e.action for e in events(db, "staff.totp_enrolled")] == ["staff.totp_enrolled"]
    assert len(events(db, "staff.password_changed")) == 1
    assert len(events(db, "staff.sign_in")) == 1


def test_sign_out_is_post_only_and_ends_the_session(client, make_staff, sign_in, db):
    member = make_staff("hana")
    sign_in(member)
    assert client.get("/staff/sign-out").status_code == 405
    assert client.get("/staff/").status_code == 200
    response = client.post("/staff/sign-out", data={"csrf_token": csrf_token(client, "/staff/")})
    assert response.status_code == 302
    assert '"cache"' in response.headers["Clear-Site-Data"]
    # The session cookie goes with its row; the device cookie stays, with this browser's
    # own sign-in budget (OWASP device cookies), so "cookies" is not cleared wholesale.
    assert any(cookie.startswith("__Host-session=;")
               for cookie in response.headers.getlist("Set-Cookie"))
    assert client.get_cookie("__Host-device") is not None
    assert client.get("/staff/").status_code == 302
    assert len(events(db, "staff.sign_out")) == 1


def test_sign_out_without_csrf_token_is_refused(client, make_staff, sign_in):
    sign_in(make_staff("hana"))
    response = client.post("/staff/sign-out", data={})
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    assert client.get("/staff/").status_code == 200  # still signed in


def test_password_change_signs_out_other_sessions(app, client, make_staff, sign_in):
    member = make_staff("hana")
    sign_in(member)
    other_browser = https_client(app)
    other_browser.post(
        "/staff/sign-in",
        data={"csrf_token": csrf_token(other_browser, "/staff/sign-in"),
              "username": "hana", "password": member.password, "code": member.code(1)},
    )
    other_browser.get("/staff/sign-in/continue")
    assert other_browser.get("/staff/").status_code == 200

    new_password = "a different long passphrase for her"
    response = client.post(
        "/staff/account/password",
        data={"csrf_token": csrf_token(client, "/staff/account/password"),
              "current_password": member.password, "new_password": new_password,
              "confirm_password": new_password},
    )
    assert response.headers["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200
    assert other_browser.get("/staff/").status_code == 302


def test_wrong_current_password_changes_nothing(client, make_staff, sign_in):
    member = make_staff("hana")
    sign_in(member)
    response = client.post(
        "/staff/account/password",
        data={"csrf_token": csrf_token(client, "/staff/account/password"),
              "current_password": "not it at all", "new_password": "another long phrase here",
              "confirm_password": "another long phrase here"},
    )
    assert "The current password is not right." in response.get_data(as_text=True)


def test_inactive_account_cannot_sign_in(client, make_staff, db):
    member = make_staff("hana")
    account = db.scalar(select(StaffAccount).where(StaffAccount.username == "hana"))
    account.is_active = False
    db.commit()
    assert refusal_text(post_sign_in(client, "hana", member.password, member.code())) == REFUSAL


def test_first_password_creates_the_age_identity_and_a_change_rewraps_it(
    client, make_staff, sign_in, db
):
    member = make_staff("hana", with_keys=False)
    account = db.scalar(select(StaffAccount).where(StaffAccount.username == "hana"))
    assert account.wrapped_identity is None  # the factory skips the first-password step
    sign_in(member)
    token = csrf_token(client, "/staff/account/password")
    first = "quiet meadow lantern sixteen"
    client.post("/staff/account/password", data={
        "csrf_token": token, "current_password": member.password,
        "new_password": first, "confirm_password": first})
    db.expire_all()
    account = db.scalar(select(StaffAccount).where(StaffAccount.username == "hana"))
    identity = parse_identity(unwrap_with_password(account.wrapped_identity, first).decode())
    assert account.age_recipient.startswith("age1pq1")
    assert str(identity.recipient) == account.age_recipient

    second = "another calm river of stones"
    client.post("/staff/account/password", data={
        "csrf_token": csrf_token(client, "/staff/account/password"),
        "current_password": first, "new_password": second, "confirm_password": second})
    db.expire_all()
    account = db.scalar(select(StaffAccount).where(StaffAccount.username == "hana"))
    rewrapped = parse_identity(unwrap_with_password(account.wrapped_identity, second).decode())
    assert str(rewrapped.recipient) == str(identity.recipient)
    with pytest.raises(KeyWrapError):
        unwrap_with_password(account.wrapped_identity, first)
