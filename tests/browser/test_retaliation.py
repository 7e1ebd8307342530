"""Retaliation, walked through (issue 17): the reporter reports it from the mailbox, with
JavaScript and without; the handler sees the mark, records two measures and shares one;
the reporter sees the shared one only; the dashboard counts them."""

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.helpers.browser import SCREENSHOTS, fill_report, fill_sign_in, take_receipt

pytestmark = [pytest.mark.browser, pytest.mark.database]

WHAT = "Since my report I am left out of every meeting and my contract was not renewed."
WHO = "The head of the procurement unit"
EVIDENCE = {"name": "non-renewal-letter.pdf", "mimeType": "application/pdf",
            "buffer": b"%PDF-1.7 NON-RENEWAL-LETTER"}


def record_measure(page, measure: str, state: str, responsible: str, *, share: bool) -> None:
    form = page.locator("#new-measure")
    if form.get_attribute("open") is None:
        form.locator("summary").click()
    form.get_by_label("Measure", exact=True).select_option(label=measure)
    form.get_by_label("State").select_option(label=state)
    form.get_by_label("Day").fill(datetime.now(UTC).date().isoformat())
    form.get_by_label("Person responsible").fill(responsible)
    if share:
        form.get_by_label("Show this measure to the reporter").check()
    form.get_by_role("button", name="Record the measure").click()
    expect(page.get_by_text("Measure recorded in the protection record.")).to_be_visible()


@pytest.mark.parametrize("javascript", [True, False], ids=["script", "no-script"])
def test_retaliation_is_reported_marked_protected_shared_and_counted(
    browser, page, live_server, channel_with_handlers, screenshot, javascript
):
    shown = "script" if javascript else "no-script"
    fill_report(page, live_server)
    page.get_by_role("button", name="Send report").click()
    code = take_receipt(page, screenshot, f"retaliation-receipt-{shown}")

    reporter = browser.new_context(java_script_enabled=javascript,
                                   viewport={"width": 1100, "height": 800}).new_page()
    reporter.goto(f"{live_server}/followup")
    reporter.get_by_label("Receipt code").fill(code)
    reporter.get_by_role("button", name="Open my mailbox").click()
    reporter.get_by_role("link", name="Report retaliation").click()
    expect(reporter.get_by_role("heading", name="Report retaliation")).to_be_visible()
    reporter.get_by_label("A temporary contract not made permanent or not renewed").check()
    reporter.get_by_label("What happened", exact=True).fill(WHAT)
    when = (datetime.now(UTC).date() - timedelta(days=10)).isoformat()
    reporter.get_by_label("When it happened").fill(when)
    reporter.get_by_label("By whom (optional)").fill(WHO)
    reporter.get_by_label("Add files (optional)").set_input_files([EVIDENCE])
    reporter.screenshot(path=str(SCREENSHOTS / f"retaliation-form-{shown}.png"), full_page=True)
    reporter.get_by_role("button", name="Send the report of retaliation").click()
    expect(reporter.locator("#retaliation-sent")).to_be_visible()
    expect(reporter.get_by_text(WHAT)).to_be_visible()
    reporter.screenshot(path=str(SCREENSHOTS / f"retaliation-sent-{shown}.png"), full_page=True)

    hana = channel_with_handlers["hana"]
    fill_sign_in(page, live_server, "hana", hana.password, hana.code())
    page.goto(f"{live_server}/staff/cases")
    expect(page.locator("table.inbox [data-retaliation]")).to_have_text("Retaliation reported")
    screenshot(f"retaliation-inbox-{shown}")
    page.locator("table.inbox a").first.click()
    expect(page.locator("#retaliation-mark")).to_be_visible()
    expect(page.locator("#case-status").locator("xpath=..")).to_contain_text("High")
    expect(page.locator("#timeline-entries")).to_contain_text(
        "What was done: A temporary contract not made permanent or not renewed")
    expect(page.locator("#timeline-entries")).to_contain_text(f"What happened: {WHAT}")
    expect(page.locator("#timeline-entries")).to_contain_text(
        "Priority raised to High: the reporter reported retaliation")
    expect(page.get_by_role("link", name=EVIDENCE["name"])).to_be_visible()

    record_measure(page, "Referral to legal aid", "Requested", "Legal aid desk, Ms Ilves",
                   share=True)
    record_measure(page, "Transfer", "Granted", "HR director", share=False)
    measures = page.locator("#protection-measures > li")
    expect(measures).to_have_count(2)
    expect(measures.nth(0)).to_contain_text("shown to the reporter")
    expect(measures.nth(1)).to_contain_text("not shown to the reporter")
    page.locator("#protection").screenshot(
        path=str(SCREENSHOTS / f"retaliation-protection-record-{shown}.png"))
    screenshot(f"retaliation-case-{shown}")

    page.goto(f"{live_server}/staff/cases/dashboard")
    expect(page.locator("#retaliation-count")).to_have_text("1")
    expect(page.locator("#open-measures-count")).to_have_text("2")
    screenshot(f"retaliation-dashboard-{shown}")

    reporter.goto(f"{live_server}/followup/mailbox")
    shared = reporter.locator("#shared-measures")
    expect(shared).to_contain_text("Referral to legal aid — Requested")
    expect(shared).not_to_contain_text("Transfer")
    expect(reporter.locator("body")).not_to_contain_text("Legal aid desk")
    expect(reporter.locator("body")).not_to_contain_text("HR director")
    reporter.screenshot(path=str(SCREENSHOTS / f"retaliation-mailbox-measures-{shown}.png"),
                        full_page=True)
    reporter.context.close()
