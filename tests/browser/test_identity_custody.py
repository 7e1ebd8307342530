"""Identity kept apart, in Chromium: a reporter's identity reaches a case handler only
through a custodian's approval, and the reporter is told."""

import pytest
from playwright.sync_api import expect

from tests.helpers.browser import fill_report, fill_sign_in, sign_out, take_receipt

pytestmark = [pytest.mark.browser, pytest.mark.database]

NAME = "Ada Whistle-4471"
CONTACT = "ada.w@example.org, evenings only"


def test_identity_reaches_the_handler_only_after_a_custodian_approves(
    browser, page, live_server, channel_with_handlers, screenshot
):
    hana, cleo = channel_with_handlers["hana"], channel_with_handlers["cleo"]

    # The reporter, with JavaScript: the identity is encrypted in the browser.
    fill_report(page, live_server)
    page.get_by_text("Optional: tell us who you are").click()
    page.get_by_label("Your name").fill(NAME)
    page.get_by_label("How to reach you").fill(CONTACT)
    page.get_by_role("button", name="Send report").click()
    code = take_receipt(page, screenshot, "identity-receipt")

    # The handler reads the report, not the identity, and asks for it.
    fill_sign_in(page, live_server, "hana", hana.password, hana.code())
    page.get_by_role("navigation", name="Staff").get_by_role("link", name="Cases").click()
    page.locator("table.inbox a").first.click()
    case_url = page.url
    panel = page.locator("#identity-panel")
    expect(panel).to_contain_text("The reporter gave their identity")
    assert NAME not in page.content()
    panel.get_by_text("Ask for the identity").click()
    page.get_by_label("Why do you need to know who reported?").fill(
        "The prosecutor needs the reporter as a witness to the handover of the money.")
    page.get_by_role("button", name="Send the request").click()
    expect(page.get_by_text("Request sent. An identity custodian will decide it.")).to_be_visible()
    expect(panel).to_contain_text("waiting for an identity custodian")
    screenshot("identity-requested")
    sign_out(page)

    # The custodian sees why, never what was reported, and approves with a reason.
    fill_sign_in(page, live_server, "cleo", cleo.password, cleo.code())
    page.get_by_role("navigation", name="Staff").get_by_role("link",
                                                             name="Identity requests").click()
    expect(page.get_by_role("heading", name="Identity requests")).to_be_visible()
    expect(page.locator("#pending-requests")).to_contain_text("witness to the handover")
    screenshot("identity-requests")
    page.get_by_role("link", name="Decide").click()
    assert "the tender was rigged" not in page.content()
    page.get_by_label("Approve: the case handler may see the identity").check()
    page.get_by_label("Reason").fill("A witness statement is needed; proportionate.")
    screenshot("identity-decide")
    page.get_by_role("button", name="Record decision").click()
    expect(page.get_by_text("Approved. The case handler can now see the identity.")).to_be_visible()
    expect(page.locator("#decided-requests")).to_contain_text("Approved")
    sign_out(page)

    # The handler now sees the identity, on request, in the case view.
    fill_sign_in(page, live_server, "hana", hana.password, hana.code(1))
    page.goto(case_url)
    page.get_by_role("link", name="Show the identity").click()
    expect(page.locator("#reporter-identity")).to_contain_text(NAME)
    expect(page.locator("#reporter-identity")).to_contain_text(CONTACT)
    screenshot("identity-shown")
    sign_out(page)

    # The reporter is told, at /followup, that and when their identity was disclosed.
    reporter = browser.new_context(java_script_enabled=False).new_page()
    reporter.goto(f"{live_server}/followup")
    reporter.get_by_label("Receipt code").fill(code)
    reporter.get_by_role("button", name="Open my mailbox").click()
    notice = reporter.locator("#identity-disclosed")
    expect(notice).to_contain_text("an identity custodian allowed a case handler to see")
    expect(notice).to_contain_text("20")  # the day, as an ISO date
    reporter.screenshot(path="tests/.screenshots/identity-disclosed-mailbox.png", full_page=True)
    reporter.context.close()
