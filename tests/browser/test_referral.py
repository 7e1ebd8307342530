"""Referral with redaction, in Chromium without JavaScript: an administrator adds an
authority, a case handler marks what to hide, previews, refers and downloads the package;
the authority's identity opens it without the hidden spans; the reporter is told."""

import io

import pytest
from playwright.sync_api import expect

from crypto.keys import X25519Identity
from crypto.referral import open_package, verify_zip
from reporting_portal.storage.models import Role
from tests.helpers.browser import SCREENSHOTS, fill_sign_in, sign_out
from tests.helpers.referral import HIDDEN_SPANS, MARKED_WHAT
from tests.helpers.reporting import CASE_FILE, CASE_FILE_NAME

pytestmark = [pytest.mark.browser, pytest.mark.database]

PROSECUTOR = "Regional Prosecutor"


def test_a_handler_refers_a_redacted_case_after_its_preview(
    browser, page, live_server, make_staff, channel_with_handlers, case_with_file, client,
    screenshot,
):
    receiver = X25519Identity.generate()
    admin = make_staff("ada", Role.ADMINISTRATOR)
    fill_sign_in(page, live_server, "ada", admin.password, admin.code())
    page.get_by_role("navigation", name="Staff").get_by_role("link", name="Authorities").click()
    page.get_by_role("link", name="New authority").click()
    page.get_by_label("Name").fill(PROSECUTOR)
    page.get_by_label("Age recipient").fill("age1-not-a-key")
    page.get_by_role("button", name="Save authority").click()
    expect(page.get_by_text("That is not an age recipient")).to_be_visible()
    screenshot("referral-authority-refused")
    page.get_by_label("Age recipient").fill(str(receiver.recipient))
    page.get_by_label("Contact note").fill("Intake desk, 3rd floor; by secure courier")
    page.get_by_role("button", name="Save authority").click()
    expect(page.get_by_text("Authority saved.")).to_be_visible()
    expect(page.locator("table")).to_contain_text(PROSECUTOR)
    screenshot("referral-authorities")
    sign_out(page)

    hana = channel_with_handlers["hana"]
    handler = browser.new_context(java_script_enabled=False, viewport={"width": 1100,
                                                                       "height": 800})
    tab = handler.new_page()
    fill_sign_in(tab, live_server, "hana", hana.password, hana.code())
    tab.goto(f"{live_server}/staff/cases/{case_with_file}")
    tab.get_by_role("link", name="Refer to another authority").click()
    expect(tab.get_by_role("heading", name="Refer case")).to_be_visible()
    tab.screenshot(path=str(SCREENSHOTS / "referral-form.png"), full_page=True)
    tab.get_by_label("Refer to").select_option(label=PROSECUTOR)
    tab.get_by_label("What happened?").fill(MARKED_WHAT)
    tab.get_by_label(f"report, file 1: {CASE_FILE_NAME}").check()
    tab.get_by_role("button", name="Preview").click()

    preview = tab.locator("#preview")
    expect(preview).to_contain_text(f"Preview: what {PROSECUTOR} will receive")
    expect(preview).to_contain_text("The [REDACTED] took a bribe for the [REDACTED] contract.")
    expect(preview).to_contain_text("2 spans are redacted.")
    expect(preview).to_contain_text("Bribery")  # a choice goes as it is, and shows so
    expect(preview).to_contain_text(CASE_FILE_NAME)
    for span in HIDDEN_SPANS:
        expect(preview).not_to_contain_text(span)
    tab.screenshot(path=str(SCREENSHOTS / "referral-preview.png"), full_page=True)

    tab.get_by_role("button", name="Refer the case").click()
    expect(tab.get_by_text("Case referred.")).to_be_visible()
    expect(tab.locator("dl")).to_contain_text("Sent redacted")
    tab.screenshot(path=str(SCREENSHOTS / "referral-sent.png"), full_page=True)
    with tab.expect_download() as download:
        tab.get_by_role("button", name="Download the package").click()
    sealed = download.value.path().read_bytes()
    handler.close()

    opened = open_package(io.BytesIO(sealed), [receiver])
    for span in HIDDEN_SPANS:
        assert span.encode() not in sealed
        assert span.encode() not in opened
    received = verify_zip(opened)
    assert received.receiver == PROSECUTOR
    assert CASE_FILE in received.contents.values()

    # The reporter's mailbox says the case went on, without naming the authority.
    reporter = browser.new_context(java_script_enabled=False).new_page()
    reporter.goto(f"{live_server}/followup")
    reporter.get_by_label("Receipt code").fill(client.receipt_code)
    reporter.get_by_role("button", name="Open my mailbox").click()
    expect(reporter.get_by_text("Your case was referred to another authority")).to_be_visible()
    assert PROSECUTOR not in reporter.content()
    reporter.screenshot(path=str(SCREENSHOTS / "referral-mailbox.png"), full_page=True)
    reporter.context.close()
