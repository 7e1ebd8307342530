"""The inbox in a browser: find a case by its number, tick three, set their priority and
a label at once; the inbox stays usable on a 390 px phone screen."""

from datetime import date

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from reporting_portal.storage.models import Label, Report
from tests.helpers.browser import fill_sign_in
from tests.helpers.inbox import submit_reports

pytestmark = [pytest.mark.browser, pytest.mark.database]


def test_search_by_number_then_triage_three_cases_in_bulk(
    app, page, live_server, installed, channel_with_handlers, db, screenshot
):
    db.add(Label(name="urgent"))
    db.commit()
    cases = submit_reports(app, installed.channel_slug, 4)
    year = date.today().year
    hana = channel_with_handlers["hana"]
    fill_sign_in(page, live_server, "hana", hana.password, hana.code())
    page.goto(f"{live_server}/staff/cases")

    page.get_by_label("Case number or reference").fill(f"{year}-3")
    page.get_by_role("button", name="Apply", exact=True).click()
    expect(page.get_by_text("1 case", exact=True)).to_be_visible()
    expect(page.locator("table.inbox tbody tr")).to_have_count(1)
    expect(page.locator("table.inbox")).to_contain_text(f"{year}-0003")
    screenshot("inbox-search")
    page.get_by_role("link", name=f"{year}-0003").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Case {year}-0003")
    expect(page.get_by_role("heading", level=1)).to_contain_text(cases[2][:8])
    screenshot("case-number")
    page.go_back()

    page.get_by_label("Case number or reference").fill("")
    page.get_by_role("button", name="Apply", exact=True).click()
    for number in (1, 2, 4):
        page.get_by_label(f"Select case {year}-{number:04d}").check()
    page.get_by_label("For the ticked cases").select_option(label="High")
    page.get_by_role("button", name="Apply to ticked cases").click()
    expect(page.get_by_text(
        f"Changed 3 cases: {year}-0001, {year}-0002, {year}-0004.")).to_be_visible()
    for number in (1, 2, 4):
        page.get_by_label(f"Select case {year}-{number:04d}").check()
    page.get_by_label("For the ticked cases").select_option(label="+ urgent")
    page.get_by_role("button", name="Apply to ticked cases").click()
    expect(page.get_by_text("Changed 3 cases:", exact=False)).to_be_visible()
    screenshot("inbox-bulk")

    db.expire_all()
    by_id = {r.public_id: r for r in db.scalars(select(Report))}
    assert [by_id[c].priority for c in cases] == ["high", "high", "normal", "high"]
    assert [[label.name for label in by_id[c].labels] for c in cases] == [
        ["urgent"], ["urgent"], [], ["urgent"]]

    # A phone: the filters wrap, the table scrolls inside its box, the page does not.
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot("inbox-390px")
    page.get_by_label(f"Select case {year}-0003").check()
    page.get_by_label("For the ticked cases").select_option(label="Low")
    page.get_by_role("button", name="Apply to ticked cases").click()
    expect(page.get_by_text(f"Changed 1 case: {year}-0003.")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
