"""The receipt sign-in page's proof of work, in Chromium (issue 11, item 12).

The page's script solves the challenge and signs in; when the level's budget fills while
the page is open, the server moves it up a level and the script resends by itself.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from reporting_portal.reporter.followup.services import level_budget, plain_budget
from tests.helpers.browser import SCREENSHOTS

pytestmark = [pytest.mark.browser, pytest.mark.database]


def pow_posts(recorded_bodies) -> list[bytes]:
    return [body for path, body in recorded_bodies.bodies if path == "/followup"]


def test_the_page_solves_its_proof_of_work_and_signs_in(
    page, live_server, receipt_code, recorded_bodies, screenshot
):
    page.goto(f"{live_server}/followup")
    page.get_by_label("Receipt code").fill(receipt_code)
    screenshot("receipt-sign-in-js")
    page.get_by_role("button", name="Open my mailbox").click()
    expect(page.get_by_role("heading", name="Your mailbox")).to_be_visible()
    [body] = pow_posts(recorded_bodies)
    assert re.search(rb"pow_nonce=\d+", body)  # solved: not the plain lane
    assert b"pow_level=0" in body


def test_the_page_moves_up_a_level_by_itself_when_its_level_fills(
    app, page, live_server, receipt_code, recorded_bodies, screenshot
):
    settings = app.extensions["settings"] = app.extensions["settings"].replace(
        receipt_pow_attempts_per_minute=1)
    page.goto(f"{live_server}/followup")
    expect(page.locator("form[data-pow-level='0']")).to_have_count(1)
    # A flood fills level 0 while the reporter types.
    limits = app.extensions["rate_limits"]
    budget = level_budget(settings, 0)
    limits.spend(budget, limits.key(budget.bucket, "everyone"))
    page.get_by_label("Receipt code").fill(receipt_code)
    page.get_by_role("button", name="Open my mailbox").click()
    expect(page.get_by_role("heading", name="Your mailbox")).to_be_visible()
    screenshot("receipt-sign-in-moved-up")
    levels = [b"pow_level=0" in body for body in pow_posts(recorded_bodies)]
    assert levels == [True, False]  # refused at level 0, then sent again at level 1


def test_without_javascript_the_plain_lane_signs_in(
    browser, live_server, receipt_code, recorded_bodies
):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server}/followup")
    page.get_by_label("Receipt code").fill(receipt_code)
    page.get_by_role("button", name="Open my mailbox").click()
    expect(page.get_by_role("heading", name="Your mailbox")).to_be_visible()
    [body] = pow_posts(recorded_bodies)
    assert b"pow_nonce=&" in body
    context.close()


def test_without_javascript_a_full_lane_says_so_and_points_to_the_other(
    app, browser, live_server, receipt_code
):
    settings = app.extensions["settings"]
    limits = app.extensions["rate_limits"]
    budget = plain_budget(settings)
    for _ in range(settings.receipt_plain_attempts_per_minute):
        limits.spend(budget, limits.key(budget.bucket, "everyone"))
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server}/followup")
    page.get_by_label("Receipt code").fill(receipt_code)
    page.get_by_role("button", name="Open my mailbox").click()
    expect(page.get_by_role("alert")).to_contain_text("it has a separate way in")
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "receipt-plain-lane-busy.png"), full_page=True)
    context.close()
