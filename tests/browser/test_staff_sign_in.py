"""A staff member signs in with password and TOTP, sees the home page, and signs out."""

import re

import pyotp
import pytest
from playwright.sync_api import expect

from reporting_portal.domain.accounts import create_account
from reporting_portal.domain.actors import Actor
from reporting_portal.domain.passwords import get_passwords
from reporting_portal.storage.models import Role
from tests.helpers.browser import fill_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.database]

REFUSAL = "Sign-in failed. Check the account name, password and code."


def test_sign_in_with_password_and_totp_then_sign_out(live_server, page, make_staff,
                                                      screenshot):
    member = make_staff("hana", Role.CASE_HANDLER, Role.ADMINISTRATOR)
    page.goto(f"{live_server}/staff/sign-in")
    screenshot("staff-sign-in")
    fill_sign_in(page, live_server, "hana", member.password, member.code())
    expect(page.get_by_role("heading", name="Welcome, Hana")).to_be_visible()
    expect(page.get_by_text("Administrator, Case handler")).to_be_visible()
    screenshot("staff-home")
    page.get_by_role("navigation", name="Staff").get_by_role("link", name="Accounts").click()
    expect(page.get_by_role("heading", name="Staff accounts")).to_be_visible()
    screenshot("admin-accounts")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Staff sign-in")).to_be_visible()
    page.goto(f"{live_server}/staff/")
    expect(page).to_have_url(f"{live_server}/staff/sign-in")


def test_wrong_code_and_wrong_password_get_the_same_refusal(live_server, page, make_staff,
                                                            screenshot):
    member = make_staff("hana")
    fill_sign_in(page, live_server, "hana", member.password, "000000")
    expect(page.locator("#sign-in-error")).to_have_text(REFUSAL)
    screenshot("staff-sign-in-refused")
    wrong_code_page = page.locator("main").inner_text()
    fill_sign_in(page, live_server, "hana", "a wrong password entirely", member.code())
    expect(page.locator("#sign-in-error")).to_have_text(REFUSAL)
    assert page.locator("main").inner_text() == wrong_code_page
    # The password field is never sent back to the browser.
    expect(page.get_by_label("Password")).to_have_value("")


def test_first_sign_in_enrols_an_authenticator_and_sets_a_password(
    live_server, page, app, db, screenshot
):
    with app.app_context():
        created = create_account(db, get_passwords(), Actor(None, "system"),
                                 username="ines", display_name="Ines Auditor",
                                 roles=[Role.AUDITOR])
        db.commit()
    fill_sign_in(page, live_server, "ines", created.one_time_password, "")
    expect(page.get_by_role("heading", name="Set up two-factor sign-in")).to_be_visible()
    expect(page.locator("figure.qr svg")).to_be_visible()
    screenshot("staff-enrol-totp")
    shown = page.locator("code.secret").inner_text()
    assert re.fullmatch(r"([A-Z2-7]{4} ){7}[A-Z2-7]{4}", shown)  # groups of four, to copy
    secret = shown.replace(" ", "")
    page.get_by_label("Code shown by your authenticator app").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("heading", name="Choose your password")).to_be_visible()
    page.get_by_label("New password", exact=True).fill("short")
    page.get_by_label("New password, again").fill("short")
    page.get_by_role("button", name="Save password").click()
    expect(page.get_by_text("Use at least 12 characters.")).to_be_visible()
    screenshot("staff-choose-password-error")
    page.get_by_label("New password", exact=True).fill("lantern orchard velvet quarry")
    page.get_by_label("New password, again").fill("lantern orchard velvet quarry")
    page.get_by_role("button", name="Save password").click()
    expect(page.get_by_role("heading", name="Welcome, Ines Auditor")).to_be_visible()
