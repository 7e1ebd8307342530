"""Reporter-controlled text never runs as script in a case handler's browser."""

import pytest
from playwright.sync_api import expect

from tests.helpers.browser import fill_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.database]

PAYLOADS = [
    "<script>alert('xss-1')</script>",
    "<img src=x onerror=alert('xss-2')>",
    "\"><svg onload=alert('xss-3')>",
    "javascript:alert('xss-4')",
    "<iframe srcdoc=\"<script>alert('xss-5')</script>\"></iframe>",
    "{{7*7}} ${alert('xss-6')}",
    "<a href=\"javascript:alert('xss-7')\">click</a>",
    "</textarea><script>alert('xss-8')</script>",
]


def test_payloads_in_every_reporter_field_and_file_name_stay_text(
    browser, page, live_server, channel_with_handlers, screenshot
):
    reporter = browser.new_context(java_script_enabled=False).new_page()
    reporter.goto(f"{live_server}/report/corruption")
    payload = " ".join(PAYLOADS)
    reporter.get_by_label("What happened?").fill(payload)
    reporter.get_by_label("Where did it happen?").fill(PAYLOADS[1][:400])
    reporter.get_by_label("Who was involved, and in which role?").fill(payload)
    reporter.locator("#q_evidence").set_input_files([
        {"name": f"{p[:60]}.pdf", "mimeType": "text/html", "buffer": p.encode()}
        for p in PAYLOADS[:3]
    ])
    reporter.get_by_role("button", name="Send report").click()
    expect(reporter.get_by_role("heading", name="Your report was received")).to_be_visible()
    reporter.context.close()

    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    console_errors = []
    page.on("pageerror", lambda error: console_errors.append(str(error)))
    hana = channel_with_handlers["hana"]
    fill_sign_in(page, live_server, "hana", hana.password, hana.code())
    page.goto(f"{live_server}/staff/cases")
    page.locator("table.inbox a").first.click()
    expect(page.get_by_text("<script>alert('xss-1')</script>", exact=False).first).to_be_visible()
    # Every image, frame and script the page asked for has loaded or failed by now, so an
    # injected handler (onerror, onload) would already have run and opened its dialog.
    page.wait_for_load_state("networkidle")
    page.wait_for_function("document.readyState === 'complete'")
    screenshot("case-xss")
    assert dialogs == []
    assert page.locator("main script").count() == 0
    assert page.locator("main img, main iframe, main svg").count() == 0
    assert console_errors == []
