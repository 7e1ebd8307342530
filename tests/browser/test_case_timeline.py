"""The case page's timeline in Chromium: one list in order, times in the staff zone,
what each change did, and the filter links (plain links: they work without JavaScript)."""

import re

import pytest
from playwright.sync_api import expect

from reporting_portal.storage.models import Label
from tests.helpers.browser import fill_report, fill_sign_in, take_receipt

pytestmark = [pytest.mark.browser, pytest.mark.database]


@pytest.fixture
def settings(settings):
    return settings.replace(staff_time_zone="Asia/Kathmandu")


def entries(page):
    return page.locator("#timeline-entries > li")


def test_handler_reads_the_case_history_in_one_list(
    browser, page, live_server, channel_with_handlers, db, screenshot
):
    db.add(Label(name="procurement"))
    db.commit()
    fill_report(page, live_server)
    page.get_by_role("button", name="Send report").click()
    code = take_receipt(page, screenshot, "receipt-before-timeline")

    hana = channel_with_handlers["hana"]
    fill_sign_in(page, live_server, "hana", hana.password, hana.code())
    page.goto(f"{live_server}/staff/cases")
    page.locator("table.inbox a").first.click()
    case_url = page.url
    page.get_by_role("button", name="Acknowledge receipt").click()
    page.get_by_label("Move to").select_option("assessment")
    page.get_by_role("button", name="Change stage").click()
    page.get_by_label("Priority").select_option("high")
    page.get_by_role("button", name="Set priority").click()
    page.get_by_label("procurement").check()
    page.get_by_role("button", name="Save labels").click()
    page.get_by_label("Internal note (case handlers only)").fill("Compare with the 2025 tender.")
    page.get_by_role("button", name="Save internal note").click()
    page.get_by_label("Message to the reporter").fill("Which office signed it?")
    page.get_by_role("button", name="Send to reporter").click()
    expect(page.get_by_text("Message sent.")).to_be_visible()

    reporter = browser.new_context(java_script_enabled=False).new_page()
    reporter.goto(f"{live_server}/followup")
    reporter.get_by_label("Receipt code").fill(code)
    reporter.get_by_role("button", name="Open my mailbox").click()
    reporter.get_by_label("Your message").fill("The regional office did.")
    reporter.get_by_role("button", name="Send").click()
    expect(reporter.get_by_text("Your message was sent.")).to_be_visible()
    reporter.context.close()

    page.goto(case_url)
    expect(page.get_by_text("Times are in the Asia/Kathmandu time zone.")).to_be_visible()
    expect(entries(page)).to_have_count(9)
    texts = [t.strip() for t in page.locator("#timeline-entries .message__text").all_inner_texts()]
    assert texts[2].startswith("Thank you for your report.")  # the acknowledgement sent
    assert texts[:2] + texts[3:] == [
        "Report received",
        "Stage: Received → Acknowledged",
        "Stage: Acknowledged → Assessment",
        "Priority: High",
        "Labels: +procurement",
        "Compare with the 2025 tender.",
        "Which office signed it?",
        "The regional office did.",
    ]
    metas = page.locator("#timeline-entries .message__meta").all_inner_texts()
    # Staff items carry a clock time; the reporter's (receipt, message) a day only.
    assert re.search(r"\d{1,2}:\d\d", metas[1])
    assert not re.search(r"\d{1,2}:\d\d", metas[0])
    reporter_meta = page.locator(".message--reporter-message .message__meta").inner_text()
    assert not re.search(r"\d{1,2}:\d\d", reporter_meta)
    page.locator("#timeline").scroll_into_view_if_needed()
    screenshot("case-timeline")

    page.get_by_role("link", name="Notes only").click()
    expect(entries(page)).to_have_count(1)
    expect(entries(page)).to_contain_text("Compare with the 2025 tender.")
    expect(page.get_by_role("link", name="Notes only")).to_have_attribute("aria-current", "page")
    page.get_by_role("link", name="Messages only").click()
    expect(entries(page)).to_have_count(3)
    expect(page.locator(".message--note")).to_have_count(0)
    screenshot("case-timeline-messages")
    page.get_by_role("link", name="All", exact=True).click()
    expect(entries(page)).to_have_count(9)

    page.goto(f"{case_url}?lang=ar")
    screenshot("case-timeline-ar")
