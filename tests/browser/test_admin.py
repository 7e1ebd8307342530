"""An administrator opens the default channel to reporters by assigning a case handler."""

import pytest
from playwright.sync_api import expect

from reporting_portal.storage.models import Role
from tests.helpers.browser import fill_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.database]


def test_admin_assigns_a_handler_and_adds_a_question(
    live_server, page, make_staff, installed, screenshot
):
    admin = make_staff("ada", Role.ADMINISTRATOR)
    make_staff("hana", Role.CASE_HANDLER)
    fill_sign_in(page, live_server, "ada", admin.password, admin.code())
    page.get_by_role("navigation", name="Staff").get_by_role("link", name="Channels").click()
    expect(page.get_by_text("reporters cannot use it yet")).to_be_visible()
    screenshot("admin-channels")
    page.get_by_role("link", name="Report corruption").click()
    page.get_by_label("Hana").check()
    page.get_by_role("button", name="Save channel").click()
    expect(page.get_by_text("Channel saved.")).to_be_visible()
    page.get_by_label("Field id").fill("amount")
    page.locator("#texts-label-en").get_by_label("Question", exact=True).fill(
        "Roughly how much money was involved?")
    page.get_by_role("button", name="Add question").click()
    expect(page.get_by_text("Question added.")).to_be_visible()
    screenshot("admin-channel-edit")
    page.goto(f"{live_server}/report/corruption")
    expect(page.get_by_label("Roughly how much money was involved?")).to_be_visible()
