"""Staff passkeys through the app with a software authenticator: what the server checks,
what a passkey unlocks, and what the access log says."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crypto.prf import unwrap_with_prf
from reporting_portal.storage.models import AuditEvent, StaffAccount, StaffPasskey
from tests.helpers import csrf_token, https_client
from tests.helpers.authenticator import (
    ORIGIN,
    SoftAuthenticator,
    add_passkey,
    passkey_page,
    passkey_sign_in,
)
from tests.helpers.reporting import CONTENT_MARKER
from tests.helpers.staff import signed_in

pytestmark = pytest.mark.database

FAILED = "Sign-in with the passkey failed."


@pytest.fixture
def settings(settings):
    return settings.replace(webauthn_rp_id="localhost", webauthn_origin=ORIGIN)


def actions(db) -> list[tuple[str, str]]:
    db.expire_all()
    return [(event.action, event.outcome)
            for event in db.scalars(select(AuditEvent).order_by(AuditEvent.id))
            if event.action.startswith("staff.passkey")]


def passkeys(db) -> list[StaffPasskey]:
    db.expire_all()
    return list(db.scalars(select(StaffPasskey).order_by(StaffPasskey.id)))


def account(db, username: str) -> StaffAccount:
    db.expire_all()
    found = db.scalar(select(StaffAccount).where(StaffAccount.username == username))
    assert found is not None
    return found


def test_a_prf_passkey_keeps_a_copy_of_the_key_that_only_its_output_opens(app, db, make_staff):
    hana = make_staff("hana")
    authenticator = SoftAuthenticator()
    response = add_passkey(signed_in(app, hana), authenticator, "Work laptop")
    assert response.status_code == 302
    [passkey] = passkeys(db)
    assert passkey.name == "Work laptop"
    assert passkey.credential_id == authenticator.credential_id
    assert passkey.wrapped_identity is not None
    assert passkey.prf_salt is not None
    opened = unwrap_with_prf(passkey.wrapped_identity, authenticator.prf_output(),
                             passkey.prf_salt, passkey.credential_id)
    assert opened.decode() == hana.identity
    assert hana.identity is not None
    assert hana.identity.encode() not in passkey.wrapped_identity
    assert actions(db) == [("staff.passkey_registered", "success"),
                           ("staff.passkey_used", "success"),
                           ("staff.passkey_key_copy_made", "success")]


def test_the_passkey_alone_signs_in_and_opens_the_case(app, db, client, submit_case,
                                                       channel_with_handlers):
    case = submit_case()
    authenticator = SoftAuthenticator()
    add_passkey(signed_in(app, channel_with_handlers["hana"]), authenticator)
    browser = https_client(app)
    response = passkey_sign_in(browser, authenticator)
    assert response.headers["Location"] == "/staff/sign-in/continue"
    assert browser.get("/staff/sign-in/continue").headers["Location"] == "/staff/"
    assert CONTENT_MARKER in browser.get(f"/staff/cases/{case}").get_data(as_text=True)
    assert passkeys(db)[0].sign_count == 2
    assert passkeys(db)[0].last_used_at is not None
    assert ("staff.sign_in", "success") in [
        (event.action, event.outcome) for event in db.scalars(select(AuditEvent))]


def test_without_prf_the_password_unlocks_the_key_after_the_passkey(app, db, submit_case,
                                                                   channel_with_handlers):
    case = submit_case()
    hana = channel_with_handlers["hana"]
    authenticator = SoftAuthenticator(prf=False)
    add_passkey(signed_in(app, hana), authenticator)
    assert passkeys(db)[0].wrapped_identity is None
    browser = https_client(app)
    passkey_sign_in(browser, authenticator)
    assert browser.get("/staff/sign-in/continue").headers["Location"] == (
        "/staff/sign-in/passkey/password")
    assert browser.get("/staff/").status_code in {302, 303}  # not signed in yet
    path = "/staff/sign-in/passkey/password"
    wrong = browser.post(path, data={"csrf_token": csrf_token(browser, path),
                                     "password": "not the password at all"})
    assert wrong.status_code == 400
    assert "That password is not right." in wrong.get_data(as_text=True)
    right = browser.post(path, data={"csrf_token": csrf_token(browser, path),
                                     "password": hana.password})
    assert right.headers["Location"] == "/staff/sign-in/continue"
    assert browser.get("/staff/sign-in/continue").headers["Location"] == "/staff/"
    assert CONTENT_MARKER in browser.get(f"/staff/cases/{case}").get_data(as_text=True)


def test_after_a_key_rotation_the_copy_is_dropped_and_made_again_with_the_password(
        app, db, make_staff, monkeypatch):
    from reporting_portal.staff.auth import key_views

    monkeypatch.setattr(key_views, "stale_page_grace", lambda _minutes: __import__(
        "datetime").timedelta(0))
    hana = make_staff("hana")
    authenticator = SoftAuthenticator()
    browser = signed_in(app, hana)
    add_passkey(browser, authenticator)
    rotate = browser.post("/staff/account/key", data={
        "csrf_token": csrf_token(browser, "/staff/account/key"), "password": hana.password})
    assert rotate.status_code == 302
    assert passkeys(db)[0].wrapped_identity is None
    page = browser.get("/staff/account/passkeys").get_data(as_text=True)
    assert "<td>No</td>" in page

    again = https_client(app)
    passkey_sign_in(again, authenticator)
    path = "/staff/sign-in/passkey/password"
    again.post(path, data={"csrf_token": csrf_token(again, path), "password": hana.password})
    [passkey] = passkeys(db)
    assert passkey.wrapped_identity is not None
    assert passkey.prf_salt is not None
    opened = unwrap_with_prf(passkey.wrapped_identity, authenticator.prf_output(),
                             passkey.prf_salt, passkey.credential_id).decode()
    assert opened != hana.identity  # the new key
    assert account(db, "hana").age_recipient is not None


@pytest.mark.parametrize("wrong", ["origin", "relying party", "user verification",
                                   "signature"])
def test_a_wrong_answer_is_refused_and_logged(app, db, make_staff, wrong):
    authenticator = SoftAuthenticator()
    add_passkey(signed_in(app, make_staff("hana")), authenticator)
    if wrong == "origin":
        authenticator.origin = "https://phish.example"
    elif wrong == "relying party":
        authenticator.rp_id = "phish.example"
    elif wrong == "user verification":
        authenticator.user_verified = False
    else:
        authenticator.key = SoftAuthenticator().key
    browser = https_client(app)
    response = passkey_sign_in(browser, authenticator)
    assert response.status_code == 400
    assert FAILED in response.get_data(as_text=True)
    assert actions(db)[-1] == ("staff.passkey_sign_in_failed", "failure")
    assert browser.get("/staff/").status_code in {302, 303}


def test_a_counter_that_went_back_is_refused_as_a_clone(app, db, make_staff):
    authenticator = SoftAuthenticator()
    add_passkey(signed_in(app, make_staff("hana")), authenticator)
    assert passkey_sign_in(https_client(app), authenticator).status_code == 302
    clone = SoftAuthenticator(key=authenticator.key, credential_id=authenticator.credential_id,
                              prf_secret=authenticator.prf_secret,
                              user_handle=authenticator.user_handle, sign_count=1)
    browser = https_client(app)
    response = passkey_sign_in(browser, clone)
    assert response.status_code == 400
    assert "its counter went back" in response.get_data(as_text=True)
    assert actions(db)[-1] == ("staff.passkey_counter_went_back", "denied")
    assert passkeys(db)[0].sign_count == 2
    assert browser.get("/staff/").status_code in {302, 303}


def test_an_assertion_is_spent_once(app, db, make_staff):
    authenticator = SoftAuthenticator()
    add_passkey(signed_in(app, make_staff("hana")), authenticator)
    browser = https_client(app)
    page = passkey_page(browser, "/staff/sign-in")
    answer = authenticator.assertion(page.options["sign-in"])
    first = browser.post("/staff/sign-in/passkey",
                         data={"csrf_token": page.csrf_token, "credential": answer})
    assert first.status_code == 302
    replay = https_client(app)
    token = passkey_page(replay, "/staff/sign-in").csrf_token
    again = replay.post("/staff/sign-in/passkey", data={"csrf_token": token, "credential": answer})
    assert again.status_code == 400


@pytest.mark.parametrize("credential", ["", "not json", "[]", '{"id": "x"}', "x" * 20000])
def test_garbage_is_refused_with_a_message(app, credential):
    browser = https_client(app)
    token = passkey_page(browser, "/staff/sign-in").csrf_token
    response = browser.post("/staff/sign-in/passkey",
                            data={"csrf_token": token, "credential": credential})
    assert response.status_code == 400
    assert FAILED in response.get_data(as_text=True)


def test_passkey_only_refuses_the_password_and_code(app, db, make_staff):
    hana = make_staff("hana")
    browser = signed_in(app, hana)
    only = "/staff/account/passkeys/only"
    no_passkey = browser.post(only, data={
        "csrf_token": csrf_token(browser, "/staff/account/passkeys"), "enabled": "on"})
    assert no_passkey.status_code == 302
    assert not account(db, "hana").passkey_only
    add_passkey(browser, SoftAuthenticator())
    browser.post(only, data={"csrf_token": csrf_token(browser, "/staff/account/passkeys"),
                             "enabled": "on"})
    assert account(db, "hana").passkey_only
    other = https_client(app)
    refused = other.post("/staff/sign-in", data={
        "csrf_token": csrf_token(other, "/staff/sign-in"), "username": "hana",
        "password": hana.password, "code": hana.code(1)})
    assert refused.status_code == 200
    assert "Sign-in failed." in refused.get_data(as_text=True)
    assert actions(db)[-1] == ("staff.passkey_only_enabled", "success")


def test_removing_the_last_passkey_removes_its_copy_and_passkey_only(app, db, make_staff):
    hana = make_staff("hana")
    browser = signed_in(app, hana)
    add_passkey(browser, SoftAuthenticator())
    browser.post("/staff/account/passkeys/only", data={
        "csrf_token": csrf_token(browser, "/staff/account/passkeys"), "enabled": "on"})
    [passkey] = passkeys(db)
    omar = signed_in(app, make_staff("omar"))
    not_theirs = omar.post(f"/staff/account/passkeys/{passkey.public_id}/remove",
                           data={"csrf_token": csrf_token(omar, "/staff/account/passkeys")})
    assert not_theirs.status_code == 302
    assert len(passkeys(db)) == 1
    browser.post(f"/staff/account/passkeys/{passkey.public_id}/remove",
                 data={"csrf_token": csrf_token(browser, "/staff/account/passkeys")})
    assert passkeys(db) == []
    assert not account(db, "hana").passkey_only
    assert actions(db)[-2:] == [("staff.passkey_removed", "success"),
                                ("staff.passkey_only_disabled", "success")]


def test_a_role_the_administrator_requires_passkeys_for_leads_to_registering_one(
        app, db, installed, make_staff):
    from reporting_portal.storage.models import Role

    admin = signed_in(app, make_staff("ada", Role.ADMINISTRATOR))
    hana = make_staff("hana", Role.CASE_HANDLER)
    saved = admin.post("/staff/admin/passkey-roles", data={
        "csrf_token": csrf_token(admin, "/staff/admin/accounts"), "roles": ["case_handler"]})
    assert saved.status_code == 302
    page = admin.get("/staff/admin/accounts").get_data(as_text=True)
    assert 'checked id="roles-1" name="roles" type="checkbox" value="case_handler"' in page
    db.expire_all()
    assert [(event.action, event.actor_id) for event in db.scalars(select(AuditEvent)) if
            event.action == "installation.passkey_roles_changed"] == [
        ("installation.passkey_roles_changed", account(db, "ada").public_id)]

    browser = https_client(app)
    browser.post("/staff/sign-in", data={
        "csrf_token": csrf_token(browser, "/staff/sign-in"), "username": "hana",
        "password": hana.password, "code": hana.code()})
    assert browser.get("/staff/sign-in/continue").headers["Location"] == (
        "/staff/sign-in/passkey/required")
    assert browser.get("/staff/").status_code in {302, 303}
    authenticator = SoftAuthenticator()
    response = add_passkey(browser, authenticator, path="/staff/sign-in/passkey/required")
    assert response.headers["Location"] == "/staff/sign-in/continue"
    assert browser.get("/staff/sign-in/continue").headers["Location"] == "/staff/"
    # From then on the password and code alone no longer sign in.
    other = https_client(app)
    refused = other.post("/staff/sign-in", data={
        "csrf_token": csrf_token(other, "/staff/sign-in"), "username": "hana",
        "password": hana.password, "code": hana.code(1)})
    assert "Sign-in failed." in refused.get_data(as_text=True)
    assert passkey_sign_in(https_client(app), authenticator).status_code == 302


def test_the_setting_off_keeps_the_password_as_the_only_unlock(app, db, settings, make_staff):
    app.extensions["settings"] = settings.replace(passkey_key_unlock=False)
    authenticator = SoftAuthenticator()
    add_passkey(signed_in(app, make_staff("hana")), authenticator)
    assert passkeys(db)[0].wrapped_identity is None
    browser = https_client(app)
    passkey_sign_in(browser, authenticator)
    assert browser.get("/staff/sign-in/continue").headers["Location"] == (
        "/staff/sign-in/passkey/password")


def test_without_javascript_the_sign_in_page_says_why_there_is_no_passkey_button(client):
    page = client.get("/staff/sign-in").get_data(as_text=True)
    assert "Signing in with a passkey needs JavaScript" in page
    assert 'data-passkey-button hidden' in page
    assert client.get("/staff/sign-in").headers["Permissions-Policy"].count(
        "publickey-credentials-get=(self)") == 1
