"""The inbox's Next and Previous links in a browser: each page starts from the case at
the edge of the one left (casework/inbox.py), and the handler sees the same pages, in
order, with their numbers, as the page numbers alone would give."""

from datetime import date

import pytest
from playwright.sync_api import expect

from reporting_portal.staff.casework import inbox
from tests.helpers.browser import fill_sign_in
from tests.helpers.inbox import submit_reports

pytestmark = [pytest.mark.browser, pytest.mark.database]


def test_next_and_previous_walk_the_pages_in_order(
    app, page, live_server, installed, channel_with_handlers, screenshot, monkeypatch
):
    monkeypatch.setattr(inbox, "PAGE_SIZE", 2)  # five cases: three pages
    submit_reports(app, installed.channel_slug, 5)
    year = date.today().year
    hana = channel_with_handlers["hana"]
    fill_sign_in(page, live_server, "hana", hana.password, hana.code())
    page.goto(f"{live_server}/staff/cases")
    rows = page.locator("table.inbox tbody tr")
    pager = page.get_by_role("navigation", name="Pages")

    # Newest first: the same day for all, so the later case number comes first.
    expected = {1: ["0005", "0004"], 2: ["0003", "0002"], 3: ["0001"]}
    for number in (1, 2, 3):
        expect(pager).to_contain_text(f"Page {number} of 3")
        expect(rows).to_have_count(len(expected[number]))
        for position, case in enumerate(expected[number]):
            expect(rows.nth(position)).to_contain_text(f"{year}-{case}")
        if number == 2:
            screenshot("inbox-page-2-by-next")
        if number < 3:
            pager.get_by_role("link", name="Next").click()
    expect(pager.get_by_role("link", name="Next")).to_have_count(0)
    pager.get_by_role("link", name="Previous").click()
    expect(pager).to_contain_text("Page 2 of 3")
    expect(rows.nth(0)).to_contain_text(f"{year}-0003")
    expect(rows.nth(1)).to_contain_text(f"{year}-0002")
    pager.get_by_role("link", name="Previous").click()
    expect(pager).to_contain_text("Page 1 of 3")
    expect(rows.nth(0)).to_contain_text(f"{year}-0005")
    assert "before=" in page.url  # the Previous link named the page's first case
