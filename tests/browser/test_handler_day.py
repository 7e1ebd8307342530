"""A case handler's whole day in one browser (issue 15): sign in, see the new cases on
the home page, find one by its number, triage three at once, reply with a file, close a
case with an outcome and reopen it. The reporter then downloads the reply's file."""

from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from reporting_portal.storage.models import Label, Report
from tests.helpers.browser import fill_report, fill_sign_in, sign_out, take_receipt
from tests.helpers.inbox import submit_reports

pytestmark = [pytest.mark.browser, pytest.mark.database]

MINUTES = {"name": "minutes.pdf", "mimeType": "application/pdf",
           "buffer": b"%PDF-1.7 MINUTES-OF-THE-TENDER-BOARD"}


def test_a_handlers_day_from_sign_in_to_a_reopened_case(
    app, browser, page, live_server, installed, channel_with_handlers, db, screenshot
):
    db.add(Label(name="procurement"))
    db.commit()
    # Overnight: three reports from the service, and one from a reporter in a browser.
    submit_reports(app, installed.channel_slug, 3)
    fill_report(page, live_server)
    page.get_by_role("button", name="Send report").click()
    code = take_receipt(page, screenshot, "day-receipt")
    year = date.today().year
    fourth = f"{year}-0004"

    hana = channel_with_handlers["hana"]
    fill_sign_in(page, live_server, "hana", hana.password, hana.code())
    expect(page.locator("#count-new")).to_have_text("4 new cases")
    screenshot("day-home")

    # The reporter's case, found by the number a colleague read out on the phone.
    page.get_by_role("navigation", name="Staff").get_by_role("link", name="Cases").click()
    page.get_by_label("Case number or reference").fill(f"{year}-4")
    page.get_by_role("button", name="Apply", exact=True).click()
    expect(page.locator("table.inbox tbody tr")).to_have_count(1)

    # The three others, triaged at once.
    page.get_by_label("Case number or reference").fill("")
    page.get_by_role("button", name="Apply", exact=True).click()
    for number in (1, 2, 3):
        page.get_by_label(f"Select case {year}-{number:04d}").check()
    page.get_by_label("For the ticked cases").select_option(label="+ procurement")
    page.get_by_role("button", name="Apply to ticked cases").click()
    expect(page.get_by_text(
        f"Changed 3 cases: {year}-0001, {year}-0002, {year}-0003.")).to_be_visible()
    screenshot("day-inbox-bulk")

    # The reporter's case: acknowledged, then a reply with a file.
    page.get_by_role("link", name=fourth).click()
    page.get_by_role("button", name="Acknowledge receipt").click()
    page.get_by_label("Message to the reporter").fill("Here are the minutes you asked for.")
    page.get_by_label("Attach files (optional)").set_input_files([MINUTES])
    page.get_by_role("button", name="Send to reporter").click()
    expect(page.get_by_text("Message sent.")).to_be_visible()

    # Closed with an outcome (feedback was given), then reopened with a reason.
    page.get_by_label("Move to").select_option("closed")
    page.get_by_label("Outcome (when closing)").select_option("Not substantiated")
    page.get_by_role("button", name="Change stage").click()
    expect(page.locator("#case-status")).to_contain_text("Closed — Not substantiated")
    page.get_by_label("Why is the case reopened?").fill("New minutes came in.")
    page.get_by_role("button", name="Reopen the case").click()
    expect(page.get_by_text("Case reopened. The reason is kept as an internal note.")
           ).to_be_visible()
    expect(page.locator("#case-status")).not_to_contain_text("Closed")
    screenshot("day-case")
    sign_out(page)

    db.expire_all()
    labelled = [r for r in db.scalars(select(Report)) if r.labels]
    assert len(labelled) == 3
    assert all(r.case_reference != fourth for r in labelled)

    # The reporter comes back with the receipt code and downloads the reply's file.
    reporter = browser.new_context().new_page()
    reporter.goto(f"{live_server}/followup")
    reporter.get_by_label("Receipt code").fill(code)
    reporter.get_by_role("button", name="Open my mailbox").click()
    expect(reporter.get_by_text("Here are the minutes you asked for.")).to_be_visible()
    with reporter.expect_download() as download:
        reporter.get_by_role("link", name="minutes.pdf").click()
    assert download.value.path().read_bytes() == MINUTES["buffer"]
    reporter.context.close()
