"""Workflow guard-rails in Chromium: days left in words, a close past a legal deadline
confirmed on its own page, and the closed case reopened with a reason."""

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from reporting_portal.storage.models import Report
from tests.helpers.browser import SCREENSHOTS, fill_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.database]


def test_closing_an_unacknowledged_case_is_confirmed_and_the_case_reopened(
    page, live_server, channel_with_handlers, case_with_file, db, screenshot
):
    hana = channel_with_handlers["hana"]
    fill_sign_in(page, live_server, "hana", hana.password, hana.code())
    page.goto(f"{live_server}/staff/cases/{case_with_file}")
    deadlines = page.locator("#deadlines")
    # Received today: acknowledgement in 7 days, said in words and not by colour alone.
    expect(deadlines.get_by_text("7 days left", exact=True)).to_be_visible()
    expect(deadlines.locator(".deadline--ahead").first).to_have_text("7 days left")
    screenshot("case-deadlines")

    page.get_by_label("Move to").select_option("closed")
    page.get_by_label("Outcome (when closing)").select_option("Not substantiated")
    page.get_by_role("button", name="Change stage").click()
    expect(page.get_by_role("heading", name="Close this case?")).to_be_visible()
    duties = page.locator("#unmet-duties")
    expect(duties).to_contain_text("The report was never acknowledged.")
    expect(duties).to_contain_text("art. 9(1)(b): acknowledge receipt within 7 days")
    expect(duties).to_contain_text("art. 9(1)(f): give feedback within 3 months")
    screenshot("case-close-confirm")
    # Unticked, the browser does not send the form; nothing is closed.
    page.get_by_role("button", name="Close the case").click()
    expect(page.get_by_role("heading", name="Close this case?")).to_be_visible()
    db.expire_all()
    assert db.scalar(select(Report.status)) == "received"

    page.get_by_label("Close the case anyway").check()
    page.get_by_role("button", name="Close the case").click()
    expect(page.locator("#case-status")).to_contain_text("Closed — Not substantiated")
    expect(page.locator("#deadlines")).to_contain_text("The case is closed: no deadline runs.")
    screenshot("case-closed-reopen")

    page.get_by_role("button", name="Reopen the case").click()  # no reason: refused
    expect(page.get_by_label("Why is the case reopened?")).to_be_focused()
    page.get_by_label("Why is the case reopened?").fill("The reporter sent new minutes.")
    page.get_by_role("button", name="Reopen the case").click()
    expect(page.get_by_text("Case reopened. The reason is kept as an internal note.")
           ).to_be_visible()
    expect(page.locator("#case-status")).to_have_text("Received")
    expect(page.get_by_text("The reporter sent new minutes.")).to_be_visible()
    expect(page.get_by_role("button", name="Acknowledge receipt")).to_be_visible()
    screenshot("case-reopened")
    db.expire_all()
    report = db.scalar(select(Report))
    assert (report.closed_on, report.purge_after) == (None, None)

    # Time passes: one date gone by, one due today; each still said in words.
    today = datetime.now(UTC).date()
    report.acknowledgement_due, report.feedback_due = today - timedelta(days=2), today
    db.commit()
    page.reload()
    expect(deadlines.locator(".deadline--overdue")).to_have_text("Overdue by 2 days")
    expect(deadlines.locator(".deadline--near")).to_have_text("Due today")
    deadlines.screenshot(path=str(SCREENSHOTS / "case-deadlines-overdue.png"))
