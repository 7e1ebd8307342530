"""A handler attaches files to a message; the reporter downloads them, with JavaScript and
without (issue 15, item 5)."""

import pytest
from playwright.sync_api import expect

from tests.helpers.browser import SCREENSHOTS, fill_report, fill_sign_in, sign_out, take_receipt

pytestmark = [pytest.mark.browser, pytest.mark.database]

REPLY_FILES = [
    {"name": "meeting-minutes.pdf", "mimeType": "application/pdf",
     "buffer": b"%PDF-1.7 MINUTES-FOR-THE-REPORTER"},
    {"name": "tender list.csv", "mimeType": "text/csv",
     "buffer": b"tender,amount\nT-2026-17,1200000\n" * 3000},  # several 64 KiB chunks
]


def _download(page, name: str) -> bytes:
    with page.expect_download() as download_info:
        page.get_by_role("link", name=name).click()
    return download_info.value.path().read_bytes()


@pytest.mark.parametrize("javascript", [True, False], ids=["script", "no-script"])
def test_handler_attaches_files_and_the_reporter_downloads_them(
    browser, page, live_server, channel_with_handlers, screenshot, javascript
):
    fill_report(page, live_server)
    page.get_by_role("button", name="Send report").click()
    code = take_receipt(page, screenshot, f"reply-files-receipt-{javascript}")

    hana = channel_with_handlers["hana"]
    fill_sign_in(page, live_server, "hana", hana.password, hana.code())
    page.goto(f"{live_server}/staff/cases")
    page.locator("table.inbox a").first.click()
    page.get_by_label("Message to the reporter").fill("Here are the minutes and the list.")
    page.get_by_label("Attach files (optional)").set_input_files(REPLY_FILES)
    screenshot("reply-files-case-form")
    page.get_by_role("button", name="Send to reporter").click()
    expect(page.get_by_text("Message sent.")).to_be_visible()
    # The handler finds the files in the case's timeline, and can download them too.
    assert _download(page, "meeting-minutes.pdf") == REPLY_FILES[0]["buffer"]
    screenshot("reply-files-case-after")
    sign_out(page)

    reporter = browser.new_context(java_script_enabled=javascript,
                                   viewport={"width": 1100, "height": 800}).new_page()
    reporter.goto(f"{live_server}/followup")
    reporter.get_by_label("Receipt code").fill(code)
    reporter.get_by_role("button", name="Open my mailbox").click()
    expect(reporter.get_by_text("Here are the minutes and the list.")).to_be_visible()
    expect(reporter.get_by_text("The case handler attached 2 files:")).to_be_visible()
    shown = "script" if javascript else "no-script"
    reporter.screenshot(path=str(SCREENSHOTS / f"reply-files-mailbox-{shown}.png"),
                        full_page=True)
    assert _download(reporter, "meeting-minutes.pdf") == REPLY_FILES[0]["buffer"]
    assert _download(reporter, "tender list.csv") == REPLY_FILES[1]["buffer"]
    reporter.context.close()
