"""In Chromium: the staff header and home cards by role, at desktop and phone widths;
staff error pages that lead back to the staff home; an expired form that keeps the note."""

import pytest
from playwright.sync_api import expect

from reporting_portal.storage.models import Role
from tests.helpers.browser import fill_sign_in, sign_out

pytestmark = [pytest.mark.browser, pytest.mark.database]

PHONE = {"width": 390, "height": 844}


def header_links(page) -> list[str]:
    return [text.strip() for text in
            page.get_by_role("navigation", name="Staff").get_by_role("link").all_inner_texts()]


def test_each_role_finds_its_pages_in_the_header_and_on_home(
        page, live_server, installed, channel_with_handlers, receipt_code, make_staff,
        screenshot):
    hana = channel_with_handlers["hana"]
    fill_sign_in(page, live_server, "hana", hana.password, hana.code())
    expect(page.get_by_role("heading", name="Welcome, Hana")).to_be_visible()
    assert header_links(page) == ["Cases", "Dashboard", "Your account"]
    expect(page.locator("#count-new")).to_have_text("1 new case")
    expect(page.locator("#count-overdue")).to_have_text("0 overdue cases")
    screenshot("staff-home-handler")
    page.locator("#count-new").click()
    expect(page.get_by_role("heading", name="Your cases")).to_be_visible()
    expect(page.get_by_text("1 case", exact=True)).to_be_visible()
    current = page.get_by_role("navigation", name="Staff").locator('[aria-current="page"]')
    expect(current).to_have_text("Cases")
    page.get_by_role("navigation", name="Staff").get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    expect(current).to_have_text("Dashboard")
    sign_out(page)

    cleo = channel_with_handlers["cleo"]
    fill_sign_in(page, live_server, "cleo", cleo.password, cleo.code())
    assert header_links(page) == ["Identity requests", "Your account"]
    expect(page.locator("#count-identity-requests")).to_have_text("0 requests waiting")
    sign_out(page)

    everyone = make_staff("ana", Role.CASE_HANDLER, Role.IDENTITY_CUSTODIAN, Role.AUDITOR,
                          Role.ADMINISTRATOR)
    fill_sign_in(page, live_server, "ana", everyone.password, everyone.code())
    links = ["Cases", "Dashboard", "Identity requests", "Access log", "Accounts", "Channels",
             "Labels", "Authorities", "Your account"]
    assert header_links(page) == links
    assert [text.strip() for text in page.locator(".cards .card h2").all_inner_texts()] == links
    screenshot("staff-home-all-roles")
    # On a phone the header wraps: nothing runs off the side of the page.
    page.set_viewport_size(PHONE)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    boxes = [link.bounding_box() for link in
             page.get_by_role("navigation", name="Staff").get_by_role("link").all()]
    assert all(box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] for box in boxes)
    screenshot("staff-home-all-roles-phone")
    page.get_by_role("navigation", name="Staff").get_by_role("link", name="Your account").click()
    expect(page.get_by_role("heading", name="Your account")).to_be_visible()
    screenshot("staff-account-phone")


def test_staff_error_pages_lead_back_to_the_staff_home(page, live_server, make_staff,
                                                       screenshot):
    member = make_staff("pat", Role.AUDITOR)
    fill_sign_in(page, live_server, "pat", member.password, member.code())
    response = page.goto(f"{live_server}/staff/cases")
    assert response.status == 403
    expect(page.get_by_text("You do not have access to this page.")).to_be_visible()
    screenshot("staff-error-403")
    response = page.goto(f"{live_server}/staff/no-such-page")
    assert response.status == 404
    expect(page.get_by_role("navigation", name="Staff")).to_be_visible()
    screenshot("staff-error-404")
    page.get_by_role("link", name="Go to the staff home page").click()
    expect(page.get_by_role("heading", name="Welcome, Pat")).to_be_visible()

    # A reporter's missing page keeps the reporter's layout and start page.
    response = page.goto(f"{live_server}/report/no-such-channel")
    assert response.status == 404
    expect(page.get_by_role("link", name="Go to the start page")).to_be_visible()
    expect(page.get_by_role("link", name="Go to the staff home page")).to_have_count(0)
    expect(page.get_by_role("navigation", name="Staff")).to_have_count(0)
    screenshot("reporter-error-404")


def test_an_expired_form_keeps_the_note_and_asks_to_sign_in_again(
        page, live_server, channel_with_handlers, receipt_code, screenshot):
    hana = channel_with_handlers["hana"]
    fill_sign_in(page, live_server, "hana", hana.password, hana.code())
    page.get_by_role("navigation", name="Staff").get_by_role("link", name="Cases").click()
    page.locator("table.inbox a").first.click()
    note = "Called the ministry: the tender file is missing pages 4 to 9."
    page.get_by_label("Internal note (case handlers only)").fill(note)
    page.context.clear_cookies()  # the session ends while the note is typed
    page.get_by_role("button", name="Save internal note").click()
    expect(page.get_by_role("heading", name="This form has expired")).to_be_visible()
    expect(page.get_by_label("Internal note (case handlers only)")).to_have_value(note)
    screenshot("staff-expired-form")
    with page.context.expect_page() as new_tab:
        page.get_by_role("link", name="Sign in again in a new tab").click()
    sign_in_tab = new_tab.value
    fill_sign_in(sign_in_tab, live_server, "hana", hana.password, hana.code(1))
    expect(sign_in_tab.get_by_role("heading", name="Welcome, Hana")).to_be_visible()
    # The text is still in the first tab, to be copied into the form again.
    expect(page.get_by_label("Internal note (case handlers only)")).to_have_value(note)
