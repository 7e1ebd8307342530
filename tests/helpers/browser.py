"""Steps of the browser tests in Playwright: a report filled in, a receipt taken, a staff
member signed in and out; and where screenshots go."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect

SCREENSHOTS = Path(__file__).resolve().parents[1] / ".screenshots"  # git-ignored

EVIDENCE = [
    {"name": "contract-scan.pdf", "mimeType": "application/pdf",
     "buffer": b"%PDF-1.7 PLAINTEXT-EVIDENCE-ONE"},
    {"name": "bank-transfer.png", "mimeType": "image/png",
     "buffer": b"\x89PNG PLAINTEXT-EVIDENCE-TWO" * 1000},
]


def fill_report(page, base):
    """Fill in the default channel's report form, with :data:`EVIDENCE` attached."""
    page.goto(f"{base}/report")
    page.get_by_role("link", name="Report corruption").click()
    page.get_by_label("What happened?").fill("PLAINTEXT-ANSWER: the tender was rigged.")
    page.get_by_label("Where did it happen?").fill("Ministry of Works")
    page.get_by_label("Bribery").check()
    page.get_by_label("I found documents").check()
    page.locator("#q_evidence").set_input_files(EVIDENCE)


def take_receipt(page, screenshot, name):
    """Read the receipt code off the page, confirm it was written down; returns the code."""
    expect(page.get_by_role("heading", name="Your report was received")).to_be_visible()
    screenshot(name)
    code = page.locator("#receipt-code").inner_text()
    assert re.fullmatch(r"(\d{4} ){6}\d{4}", code.strip())
    page.get_by_label("I have written the code down").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    return code.strip()


def fill_sign_in(page, base, username, password, code):
    """Sign in through the staff sign-in form."""
    page.goto(f"{base}/staff/sign-in")
    page.get_by_label("Account name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_label("Code from your authenticator app").fill(code)
    page.get_by_role("button", name="Sign in", exact=True).click()


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Staff sign-in")).to_be_visible()
