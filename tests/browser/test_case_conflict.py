"""Two case handlers on one case in two browsers: the second one's stale change is
refused, and their page says what the first one changed."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from reporting_portal.storage.models import Report
from tests.helpers.browser import SCREENSHOTS, fill_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.database]


def test_the_second_handler_sees_what_changed_and_nothing_of_theirs_is_saved(
    browser, page, live_server, channel_with_handlers, case_with_file, db, screenshot
):
    hana, omar = channel_with_handlers["hana"], channel_with_handlers["omar"]
    case_url = f"{live_server}/staff/cases/{case_with_file}"
    fill_sign_in(page, live_server, "hana", hana.password, hana.code())
    page.goto(case_url)
    omars_context = browser.new_context(viewport={"width": 1100, "height": 800})
    try:
        omars_page = omars_context.new_page()
        fill_sign_in(omars_page, live_server, "omar", omar.password, omar.code(1))
        omars_page.goto(case_url)  # both now look at the case as received, priority normal

        page.get_by_label("Priority").select_option(label="High")
        page.get_by_role("button", name="Set priority").click()
        expect(page.get_by_text("Priority changed.")).to_be_visible()

        omars_page.get_by_label("Move to").select_option(label="Assessment")
        omars_page.get_by_role("button", name="Change stage").click()
        expect(omars_page.get_by_text(
            "While you were editing, this case changed: priority is now 'High' (was "
            "'Normal'). Your change was not saved. Check and submit it again.")).to_be_visible()
        expect(omars_page.locator("#case-status")).to_have_text("Received")
        SCREENSHOTS.mkdir(exist_ok=True)
        omars_page.screenshot(path=str(SCREENSHOTS / "case-conflict.png"), full_page=True)

        # Submitted again from the page that explained it, the change goes through.
        omars_page.get_by_label("Move to").select_option(label="Assessment")
        omars_page.get_by_role("button", name="Change stage").click()
        expect(omars_page.get_by_text("Status changed.")).to_be_visible()
    finally:
        omars_context.close()
    db.expire_all()
    report = db.scalar(select(Report))
    assert (report.status, report.priority) == ("assessment", "high")
