"""Staff passkeys in Chromium, with its virtual authenticator (CDP WebAuthn domain).

A case handler registers a passkey with PRF from their account page, signs out, signs in
with the passkey alone and reads a case's content without typing a password. A copy of
the credential used on a look-alike page for another relying party is refused, and so is
a cloned authenticator whose counter went back.

WebAuthn needs a secure context and a domain as relying-party id (never an IP address):
the app is served on 127.0.0.1 and opened as http://localhost, with the origin in the
settings; the look-alike page is http://phish.localhost, which Chromium also resolves to
the loopback address.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from werkzeug.serving import WSGIRequestHandler, make_server

from reporting_portal.storage.models import AuditEvent, StaffAccount, StaffPasskey
from tests.helpers.browser import fill_sign_in, sign_out
from tests.helpers.postgres_cluster import free_port
from tests.helpers.reporting import CONTENT_MARKER
from tests.helpers.rotation import forget_last_code

pytestmark = [pytest.mark.browser, pytest.mark.database, pytest.mark.slow]

UNLOCKS = "It also unlocks your key"


class QuietRequestHandler(WSGIRequestHandler):
    """No request log: it would name the client's address, as production never does."""

    def log_request(self, *args: object, **kwargs: object) -> None:
        return None


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def settings(settings, port):
    return settings.replace(webauthn_rp_id="localhost", webauthn_origin=f"http://localhost:{port}")


@pytest.fixture
def portal(app, port) -> Iterator[str]:
    server = make_server("127.0.0.1", port, app, threaded=True,
                         request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{port}"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


def webauthn(page):
    """The page's CDP session with the WebAuthn domain on (no browser dialogs)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    return cdp


def add_authenticator(cdp, *, prf: bool = True) -> str:
    """A platform authenticator that verifies the user (as a fingerprint would) at once."""
    added = cdp.send("WebAuthn.addVirtualAuthenticator", {"options": {
        "protocol": "ctap2", "ctap2Version": "ctap2_1", "transport": "internal",
        "hasResidentKey": True, "hasUserVerification": True, "isUserVerified": True,
        "hasPrf": prf, "automaticPresenceSimulation": True,
    }})
    authenticator: str = added["authenticatorId"]
    return authenticator


def register_passkey(page, portal, member, name, screenshot=None) -> None:
    fill_sign_in(page, portal, member.username, member.password, member.code())
    page.get_by_role("navigation", name="Staff").get_by_role("link", name="Your account").click()
    page.get_by_role("link", name="Your passkeys").click()
    expect(page.get_by_role("heading", name="Your passkeys")).to_be_visible()
    if screenshot:
        screenshot("passkeys-none-yet")
    page.get_by_label("A name for this passkey").fill(name)
    page.get_by_role("button", name="Add a passkey").click()


def events(db, action: str) -> list[AuditEvent]:
    db.expire_all()
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def the_passkey(db) -> StaffPasskey:
    db.expire_all()
    passkey: StaffPasskey = db.scalar(select(StaffPasskey))
    return passkey


def sign_in_with_passkey(page, base) -> None:
    page.goto(f"{base}/staff/sign-in")
    page.get_by_role("button", name="Sign in with a passkey").click()


def test_a_prf_passkey_signs_in_alone_and_opens_the_case_without_a_password(
        portal, db, page, submit_case, channel_with_handlers, screenshot):
    case = submit_case()
    hana = channel_with_handlers["hana"]
    add_authenticator(webauthn(page))

    register_passkey(page, portal, hana, "Work laptop", screenshot)
    expect(page.get_by_text(UNLOCKS)).to_be_visible()
    row = page.locator("#passkey-list tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Work laptop")
    expect(row.locator("td").nth(2)).to_have_text("Yes")
    screenshot("passkeys-registered")
    passkey = the_passkey(db)
    assert passkey.wrapped_identity is not None
    assert len(events(db, "staff.passkey_registered")) == 1
    assert len(events(db, "staff.passkey_key_copy_made")) == 1
    sign_out(page)

    sign_in_with_passkey(page, portal)
    expect(page.get_by_role("heading", name="Welcome, Hana")).to_be_visible()
    page.goto(f"{portal}/staff/cases/{case}")
    expect(page.get_by_text(CONTENT_MARKER)).to_be_visible()
    screenshot("passkey-case-opened")
    assert page.get_by_label("Your password").count() == 0
    assert [event.outcome for event in events(db, "staff.passkey_used")] == ["success"] * 2

    # Passkey only: the password and a right code no longer sign in.
    page.goto(f"{portal}/staff/account/passkeys")
    page.get_by_role("button", name="Sign in with a passkey only").click()
    expect(page.get_by_text("From now on you sign in with a passkey only.")).to_be_visible()
    sign_out(page)
    forget_last_code(db, hana)
    fill_sign_in(page, portal, hana.username, hana.password, hana.code())
    expect(page.get_by_role("heading", name="Staff sign-in")).to_be_visible()
    expect(page.locator("#sign-in-error")).to_be_visible()

    # Removing the passkey removes its copy of the key, and passkey-only with it.
    sign_in_with_passkey(page, portal)
    expect(page.get_by_role("heading", name="Welcome, Hana")).to_be_visible()
    page.goto(f"{portal}/staff/account/passkeys")
    page.get_by_role("button", name="Remove Work laptop").click()
    expect(page.get_by_text("Passkey removed, with its copy of your key.")).to_be_visible()
    expect(page.get_by_text("You have no passkey yet.")).to_be_visible()
    screenshot("passkey-removed")
    db.expire_all()
    assert db.scalar(select(StaffPasskey)) is None
    account = db.scalar(select(StaffAccount).where(StaffAccount.username == "hana"))
    assert account is not None
    assert not account.passkey_only


def test_a_copy_of_the_passkey_on_a_look_alike_page_is_refused(
        portal, db, page, channel_with_handlers, screenshot):
    hana = channel_with_handlers["hana"]
    cdp = webauthn(page)
    authenticator = add_authenticator(cdp)
    register_passkey(page, portal, hana, "Work laptop")
    expect(page.get_by_text(UNLOCKS)).to_be_visible()
    sign_out(page)
    # The same key, made to sign for the look-alike's relying party.
    [credential] = cdp.send("WebAuthn.getCredentials",
                            {"authenticatorId": authenticator})["credentials"]
    cdp.send("WebAuthn.clearCredentials", {"authenticatorId": authenticator})
    cdp.send("WebAuthn.addCredential", {"authenticatorId": authenticator, "credential": {
        **credential, "rpId": "phish.localhost"}})
    look_alike = portal.replace("//localhost", "//phish.localhost")

    def for_the_look_alike(route) -> None:
        # The look-alike relays the real page, asking for its own relying party. (Only the
        # browser resolves *.localhost; Playwright's fetch goes to the address itself.)
        relayed = route.fetch(url=route.request.url.replace("phish.localhost", "127.0.0.1"),
                              headers={**route.request.headers, "host": look_alike[7:]})
        route.fulfill(response=relayed, body=relayed.text().replace(
            '"rpId": "localhost"', '"rpId": "phish.localhost"'))

    page.route(f"{look_alike}/staff/sign-in", for_the_look_alike)
    sign_in_with_passkey(page, look_alike)
    expect(page.get_by_text("Sign-in with the passkey failed.")).to_be_visible()
    screenshot("passkey-wrong-relying-party")
    failures = events(db, "staff.passkey_sign_in_failed")
    assert [(event.outcome, event.object_id) for event in failures] == [
        ("failure", the_passkey(db).public_id)]
    assert len(events(db, "staff.passkey_used")) == 1  # the registration's, no more


def test_a_cloned_authenticator_whose_counter_went_back_is_refused(
        portal, db, page, channel_with_handlers, screenshot):
    hana = channel_with_handlers["hana"]
    cdp = webauthn(page)
    original = add_authenticator(cdp)
    register_passkey(page, portal, hana, "Work laptop")
    expect(page.get_by_text(UNLOCKS)).to_be_visible()
    sign_out(page)
    sign_in_with_passkey(page, portal)
    expect(page.get_by_role("heading", name="Welcome, Hana")).to_be_visible()
    sign_out(page)
    stored = the_passkey(db).sign_count
    assert stored >= 2  # the registration's assertion, then the sign-in

    [credential] = cdp.send("WebAuthn.getCredentials",
                            {"authenticatorId": original})["credentials"]
    cdp.send("WebAuthn.removeVirtualAuthenticator", {"authenticatorId": original})
    clone = add_authenticator(cdp)
    cdp.send("WebAuthn.addCredential", {"authenticatorId": clone, "credential": {
        **credential, "signCount": 0}})
    sign_in_with_passkey(page, portal)
    expect(page.get_by_text("its counter went back")).to_be_visible()
    screenshot("passkey-cloned-counter")
    refusals = events(db, "staff.passkey_counter_went_back")
    assert [(event.outcome, event.actor_id) for event in refusals] == [
        ("denied", db.scalar(select(StaffAccount.public_id)
                             .where(StaffAccount.username == "hana")))]
    assert the_passkey(db).sign_count == stored
    page.goto(f"{portal}/staff/")
    expect(page.get_by_role("heading", name="Staff sign-in")).to_be_visible()


def test_a_role_that_requires_passkeys_leads_its_member_to_register_one(
        portal, db, page, make_staff, installed, screenshot):
    from reporting_portal.storage.models import Role

    ada = make_staff("ada", Role.ADMINISTRATOR)
    hana = make_staff("hana", Role.CASE_HANDLER)
    fill_sign_in(page, portal, ada.username, ada.password, ada.code())
    page.get_by_role("navigation", name="Staff").get_by_role("link", name="Accounts").click()
    roles = page.get_by_role("group", name="Roles that must sign in with a passkey")
    roles.get_by_label("Case handler").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved: the roles ticked must sign in with a passkey.")).to_be_visible()
    expect(roles.get_by_label("Case handler")).to_be_checked()
    screenshot("passkey-roles-admin")
    sign_out(page)

    add_authenticator(webauthn(page))
    fill_sign_in(page, portal, hana.username, hana.password, hana.code())
    expect(page.get_by_role("heading", name="Add a passkey")).to_be_visible()
    expect(page.get_by_text("Your role requires a passkey to sign in.")).to_be_visible()
    screenshot("passkey-required-at-sign-in")
    page.get_by_label("A name for this passkey").fill("Phone")
    page.get_by_role("button", name="Add a passkey").click()
    # Signed in only now (the new session token drops the page's notice).
    expect(page.get_by_role("heading", name="Welcome, Hana")).to_be_visible()
    assert the_passkey(db).name == "Phone"
    assert the_passkey(db).wrapped_identity is not None
