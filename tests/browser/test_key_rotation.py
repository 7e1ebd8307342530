"""A case handler rotates their own key in Chromium: the password again, a progress bar
that moves page by page, and the case still readable half-way and after."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from reporting_portal.staff.auth import key_rotation, key_views
from tests.helpers.browser import fill_sign_in
from tests.helpers.reporting import CONTENT_MARKER
from tests.helpers.rotation import forget_last_code, populate

pytestmark = [pytest.mark.browser, pytest.mark.database, pytest.mark.slow]


def test_a_handler_rotates_their_key_and_reads_the_case_throughout(
    app, db, page, live_server, submit_case, channel_with_handlers, screenshot, monkeypatch
):
    case = populate(app, db, submit_case, channel_with_handlers)
    # One header per page, so the page is seen half-way.
    monkeypatch.setattr(key_rotation, "BATCH_SIZE", 1)
    monkeypatch.setattr(key_rotation, "BATCHES_PER_REQUEST", 1)
    monkeypatch.setattr(key_views, "stale_page_grace", lambda _minutes: timedelta(0))
    hana = channel_with_handlers["hana"]
    forget_last_code(db, hana)

    fill_sign_in(page, live_server, "hana", hana.password, hana.code())
    page.get_by_role("navigation", name="Staff").get_by_role("link", name="Your account").click()
    page.get_by_role("link", name="Your key").click()
    expect(page.get_by_role("heading", name="Your key")).to_be_visible()
    screenshot("key-rotation-start")
    page.get_by_label("Your password").fill("not my password")
    page.get_by_role("button", name="Make a new key").click()
    expect(page.get_by_text("That password is not right.")).to_be_visible()
    page.get_by_label("Your password").fill(hana.password)
    page.get_by_role("button", name="Make a new key").click()

    progress = page.locator("#rotation-progress")
    expect(progress).to_be_visible()
    expect(page.locator("#rotation-status")).to_contain_text("re-granted")
    assert 0 < int(progress.get_attribute("value")) < int(progress.get_attribute("max"))
    screenshot("key-rotation-progress")

    page.goto(f"{live_server}/staff/cases/{case}")
    expect(page.get_by_text(CONTENT_MARKER)).to_be_visible()
    page.goto(f"{live_server}/staff/account/key")
    for _ in range(50):
        if not page.get_by_role("button", name="Continue").is_visible():
            break
        page.get_by_role("button", name="Continue").click()
    expect(page.get_by_text("Your new key opens everything your old key opened")).to_be_visible()
    expect(page.get_by_role("button", name="Make a new key")).to_be_visible()
    screenshot("key-rotation-done")

    page.goto(f"{live_server}/staff/cases/{case}")
    expect(page.get_by_text(CONTENT_MARKER)).to_be_visible()
