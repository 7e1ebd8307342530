"""A case handler's day in Chromium, on a report submitted earlier in the same test."""

import pytest
from playwright.sync_api import expect

from reporting_portal.storage.models import Label, Role
from tests.helpers.browser import EVIDENCE, fill_report, fill_sign_in, sign_out, take_receipt

pytestmark = [pytest.mark.browser, pytest.mark.database]


def test_handler_walks_a_case_from_receipt_to_closing(
    browser, page, live_server, channel_with_handlers, make_staff, db, screenshot
):
    db.add(Label(name="procurement"))
    db.commit()
    fill_report(page, live_server)
    page.get_by_role("button", name="Send report").click()
    code = take_receipt(page, screenshot, "receipt-before-casework")

    hana = channel_with_handlers["hana"]
    zoe = make_staff("zoe", Role.CASE_HANDLER)
    xavier = make_staff("xavier", Role.CASE_HANDLER)
    fill_sign_in(page, live_server, "hana", hana.password, hana.code())
    page.get_by_role("navigation", name="Staff").get_by_role("link", name="Cases").click()
    expect(page.get_by_role("heading", name="Your cases")).to_be_visible()
    screenshot("inbox")
    page.locator("table.inbox a").first.click()
    expect(page.get_by_text("PLAINTEXT-ANSWER: the tender was rigged.")).to_be_visible()
    screenshot("case")
    case_url = page.url

    page.get_by_role("button", name="Acknowledge receipt").click()
    expect(page.get_by_text("Acknowledged. The reporter sees your message.")).to_be_visible()
    page.get_by_label("procurement").check()
    page.get_by_role("button", name="Save labels").click()
    expect(page.get_by_text("Labels saved.")).to_be_visible()
    page.get_by_label("Add a case handler").select_option(label="Zoe")
    page.get_by_role("button", name="Add to case").click()
    expect(page.get_by_text("Case handler added.")).to_be_visible()
    page.get_by_label("Internal note (case handlers only)").fill("NOTE-FOR-HANDLERS-ONLY")
    page.get_by_role("button", name="Save internal note").click()
    page.get_by_label("Message to the reporter").fill("Can you tell us the tender number?")
    page.get_by_role("button", name="Send to reporter").click()
    expect(page.get_by_text("Message sent.")).to_be_visible()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="contract-scan.pdf").click()
    assert download_info.value.path().read_bytes() == EVIDENCE[0]["buffer"]
    screenshot("case-after-work")
    sign_out(page)

    # The second handler can open the case now; a third still cannot.
    fill_sign_in(page, live_server, "zoe", zoe.password, zoe.code())
    page.goto(case_url)
    expect(page.get_by_text("PLAINTEXT-ANSWER: the tender was rigged.")).to_be_visible()
    expect(page.get_by_text("NOTE-FOR-HANDLERS-ONLY")).to_be_visible()
    sign_out(page)
    fill_sign_in(page, live_server, "xavier", xavier.password, xavier.code())
    response = page.goto(case_url)
    assert response.status == 404
    expect(page.get_by_text("There is nothing at this address.")).to_be_visible()
    page.goto(f"{live_server}/staff/")
    sign_out(page)

    # The reporter sees the reply, not the note.
    reporter = browser.new_context(java_script_enabled=False).new_page()
    reporter.goto(f"{live_server}/followup")
    reporter.get_by_label("Receipt code").fill(code)
    reporter.get_by_role("button", name="Open my mailbox").click()
    expect(reporter.get_by_text("Can you tell us the tender number?")).to_be_visible()
    expect(reporter.locator("#case-status")).to_contain_text("Acknowledged")
    assert "NOTE-FOR-HANDLERS-ONLY" not in reporter.content()
    reporter.context.close()

    fill_sign_in(page, live_server, "hana", hana.password, hana.code(1))
    page.goto(case_url)
    page.get_by_label("Move to").select_option("closed")
    page.get_by_label("Outcome (when closing)").select_option("Not substantiated")
    page.get_by_role("button", name="Change stage").click()
    expect(page.locator("#case-status")).to_contain_text("Closed — Not substantiated")
    screenshot("case-closed")
