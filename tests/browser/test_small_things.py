"""Small things people notice (issue 15, item 9), as a person sees them in Chromium."""

import pytest
from playwright.sync_api import expect

from reporting_portal.storage.models import Role
from tests.helpers.browser import fill_sign_in
from tests.helpers.reporting import CASE_FILE

pytestmark = [pytest.mark.browser, pytest.mark.database]


def _console(page):
    messages = []
    page.on("console", lambda message: messages.append(f"{message.type}: {message.text}"))
    return messages


def test_pages_show_the_site_icon_and_no_console_warning(
    page, live_server, installed, make_staff, screenshot
):
    messages = _console(page)
    for path in ("/", "/report", "/followup", "/staff/sign-in"):
        page.goto(f"{live_server}{path}")
        page.wait_for_load_state("networkidle")
    aude = make_staff("aude", Role.AUDITOR)
    fill_sign_in(page, live_server, "aude", aude.password, aude.code())
    expect(page.get_by_role("navigation", name="Staff")).to_be_visible()
    page.wait_for_load_state("networkidle")

    # Chromium warns of every Permissions-Policy feature it does not know, and logs a
    # failed /favicon.ico as an error: neither may appear.
    assert [m for m in messages if m.startswith(("warning", "error"))] == []
    icon = page.locator("link[rel=icon]").get_attribute("href")
    assert icon is not None
    served = page.request.get(f"{live_server}{icon}")
    assert served.status == 200
    assert served.headers["content-type"].startswith("image/svg+xml")
    legacy = page.request.get(f"{live_server}/favicon.ico")
    assert legacy.status == 200
    assert legacy.body() == served.body()


def test_checking_a_file_that_is_no_tree_head_says_so(
    page, live_server, installed, make_staff, screenshot, tmp_path
):
    aude = make_staff("aude", Role.AUDITOR)
    fill_sign_in(page, live_server, "aude", aude.password, aude.code())
    page.get_by_role("navigation", name="Staff").get_by_role("link", name="Access log").click()
    page.get_by_role("link", name="Check a saved head").click()
    notes = tmp_path / "audit-notes.txt"
    notes.write_text("Things to ask the administrator on Monday.\n")
    page.get_by_label("Saved tree head").set_input_files(str(notes))
    page.get_by_role("button", name="Check").click()
    expect(page.get_by_role("alert")).to_have_text("This file is not a signed tree head.")
    screenshot("i15-small-check-head-not-a-head")


def test_a_refusal_reads_as_a_sentence(page, live_server, installed, make_staff, screenshot):
    admin = make_staff("ada", Role.ADMINISTRATOR)
    fill_sign_in(page, live_server, "ada", admin.password, admin.code())
    for _attempt in range(2):
        page.goto(f"{live_server}/staff/admin/labels")
        page.get_by_label("New label").fill("urgent")
        page.get_by_role("button", name="Add label").click()
    refusal = page.get_by_text("label exists already")
    expect(refusal).to_have_text("That label exists already")  # a capital, as a sentence
    screenshot("i15-small-label-refused")


def test_one_report_is_counted_in_the_singular(
    page, live_server, channel_with_handlers, submit_case, screenshot
):
    submit_case()
    hana = channel_with_handlers["hana"]
    fill_sign_in(page, live_server, "hana", hana.password, hana.code())
    page.goto(f"{live_server}/staff/cases/dashboard")
    expect(page.get_by_text("Figures over the 1 report you have access to.")).to_be_visible()
    screenshot("i15-small-dashboard-one-report")


def test_a_file_on_the_case_page_has_its_size_in_a_persons_units(
    page, live_server, channel_with_handlers, case_with_file, screenshot
):
    hana = channel_with_handlers["hana"]
    fill_sign_in(page, live_server, "hana", hana.password, hana.code())
    page.goto(f"{live_server}/staff/cases/{case_with_file}")
    expect(page.get_by_role("link", name="contract.pdf")).to_be_visible()
    # 28 bytes, as a person reads it: "28 B", not "28" nor "28 bytes".
    expect(page.locator("li", has_text="contract.pdf")).to_contain_text(f"({len(CASE_FILE)} B")
    screenshot("i15-small-case-file-size")
