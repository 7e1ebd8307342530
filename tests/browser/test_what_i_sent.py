"""What the reporter sees after sending, in Chromium (issue 15, items 11 to 13):
"What I sent" on both paths, the receipt page's file and print view, the session notice.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from reporting_portal.storage.models import Channel
from tests.helpers.browser import EVIDENCE, SCREENSHOTS, fill_report, take_receipt

pytestmark = [pytest.mark.browser, pytest.mark.database]


def _sign_in(page, base, code):
    page.goto(f"{base}/followup")
    page.get_by_label("Receipt code").fill(code)
    page.get_by_role("button", name="Open my mailbox").click()
    expect(page.get_by_role("heading", name="Your mailbox")).to_be_visible()


def _read_back(page, screenshot, name):
    page.get_by_role("link", name="What I sent").click()
    expect(page.get_by_role("heading", name="What I sent")).to_be_visible()
    answers = page.locator("#sent-answers")
    expect(answers).to_contain_text("What happened?")
    expect(answers).to_contain_text("PLAINTEXT-ANSWER: the tender was rigged.")
    expect(answers).to_contain_text("Ministry of Works")
    screenshot(name)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="bank-transfer.png").click()
    download = download_info.value
    assert download.suggested_filename == "bank-transfer.png"
    with open(download.path(), "rb") as saved:
        assert saved.read() == EVIDENCE[1]["buffer"]


def test_with_javascript_the_reporter_reads_back_answers_and_files(
    page, live_server, channel_with_handlers, screenshot
):
    fill_report(page, live_server)
    page.get_by_role("button", name="Send report").click()
    expect(page.locator("#reads-back")).to_have_text(
        "Anyone who has your receipt code can read what you sent.")
    code = take_receipt(page, screenshot, "receipt-issue15-js")
    _sign_in(page, live_server, code)
    _read_back(page, screenshot, "what-i-sent-js")
    page.goto(f"{live_server}/followup/sent?lang=ar")  # labels in the page's language
    expect(page.locator("#sent-answers")).to_contain_text("ماذا حدث؟")
    screenshot("what-i-sent-ar")


def test_without_javascript_the_reporter_reads_back_too(
    browser, live_server, channel_with_handlers
):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    fill_report(page, live_server)
    page.get_by_role("button", name="Send report").click()
    code = take_receipt(page, lambda name: None, "unused")
    _sign_in(page, live_server, code)
    page.get_by_role("link", name="What I sent").click()
    expect(page.locator("#sent-files")).to_contain_text("contract-scan.pdf")
    page.screenshot(path=str(SCREENSHOTS / "what-i-sent-no-js.png"),
                    full_page=True)
    context.close()


def test_a_channel_that_turned_it_off_says_so_on_the_receipt_and_shows_nothing(
    page, live_server, channel_with_handlers, db, screenshot
):
    channel = db.scalar(select(Channel).where(Channel.slug == "corruption"))
    channel.reporter_reads_back = False
    db.commit()
    fill_report(page, live_server)
    page.get_by_role("button", name="Send report").click()
    expect(page.locator("#reads-back")).to_have_text(
        "Anyone who has your receipt code can read our messages to you, but cannot read "
        "your report back.")
    code = take_receipt(page, screenshot, "receipt-issue15-off")
    _sign_in(page, live_server, code)
    page.get_by_role("link", name="What I sent").click()
    expect(page.locator("#sent-unavailable")).to_contain_text("does not let anyone read")
    expect(page.locator("#sent-answers")).to_have_count(0)
    screenshot("what-i-sent-turned-off")


def test_receipt_page_saves_a_text_file_and_prints_only_the_code_without_javascript(
    browser, live_server, channel_with_handlers
):
    context = browser.new_context(java_script_enabled=False, accept_downloads=True)
    page = context.new_page()
    fill_report(page, live_server)
    page.get_by_role("button", name="Send report").click()
    expect(page.get_by_role("heading", name="Your report was received")).to_be_visible()
    code = page.locator("#receipt-code").inner_text().strip()
    expect(page.locator("#screenshot-warning")).to_contain_text("Do not take a screenshot")
    expect(page.locator("#print-receipt")).to_be_hidden()  # needs a script: words instead
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Save as a text file").click()
    download = download_info.value
    assert download.suggested_filename == "receipt-code.txt"
    with open(download.path(), encoding="utf-8") as saved:
        text = saved.read()
    assert code in text
    assert code.replace(" ", "") not in page.url
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.get_by_label("I have written the code down")).to_be_hidden()
    expect(page.locator("#receipt-code")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "receipt-print.png"),
                    full_page=True)
    context.close()


def test_with_javascript_the_receipt_offers_print_and_the_session_end_is_announced(
    page, live_server, channel_with_handlers, settings, screenshot
):
    page.clock.install()
    fill_report(page, live_server)
    page.get_by_role("button", name="Send report").click()
    expect(page.get_by_role("button", name="Print")).to_be_visible()
    expect(page.locator("#session-time")).to_contain_text(
        f"after {settings.reporter_idle_minutes} minutes")
    notice = page.locator("#session-expiry")
    expect(notice).to_have_attribute("aria-live", "polite")
    expect(notice).to_have_text("")
    page.clock.run_for((settings.reporter_idle_minutes - 1) * 60 * 1000 - 5000)
    expect(notice).to_have_text("")
    page.clock.run_for(10_000)
    expect(notice).to_have_text(re.compile("Your session ends in about one minute"))
    screenshot("session-ending-notice")


def test_a_report_sent_again_after_its_session_ended_can_still_be_read_back(
    app, page, live_server, channel_with_handlers, screenshot
):
    # The renewed form carries a new reporter key; the page must encrypt to that one.
    fill_report(page, live_server)
    later = datetime.now(UTC) + timedelta(hours=3)
    app.session_interface.clock = lambda: later
    page.get_by_role("button", name="Send report").click()
    expect(page.get_by_text("its session ended, so nothing was sent")).to_be_visible()
    page.locator("#q_evidence").set_input_files(EVIDENCE)
    page.get_by_role("button", name="Send report").click()
    code = take_receipt(page, screenshot, "receipt-after-session-ended")
    _sign_in(page, live_server, code)
    _read_back(page, screenshot, "what-i-sent-after-session-ended")
