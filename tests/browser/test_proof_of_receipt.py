"""A reporter's proof of receipt in Chromium (issue 17, part 1): downloaded from the
mailbox after the day's release and checked with ``python -m crypto verify-proof``; then
checked on ``/verify`` without JavaScript, which answers with a consistency proof."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from reporting_portal.audit.events import SYSTEM, AuditAction, record_event
from reporting_portal.cli.audit import release_held
from reporting_portal.web.database import get_database
from tests.helpers.browser import SCREENSHOTS, fill_report, take_receipt
from tests.helpers.proofs import run_crypto, tampered, write_proof

pytestmark = [pytest.mark.browser, pytest.mark.database]


def _sign_in(page, base, code):
    page.goto(f"{base}/followup")
    page.get_by_label("Receipt code").fill(code)
    page.get_by_role("button", name="Open my mailbox").click()
    expect(page.get_by_role("heading", name="Your mailbox")).to_be_visible()


def _release(app):
    """What `reporting-portal audit release --include-today` runs."""
    with app.app_context():
        assert release_held(include_today=True) >= 1


def _published_key(page, base):
    """The verifier key as a stranger reads it off the landing page."""
    page.goto(base)
    return page.locator("#verifier-key").inner_text().strip()


def _download_proof(page, tmp_path):
    with page.expect_download() as download:
        page.get_by_role("link", name="Download proof of receipt").click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    return saved


def test_the_reporter_downloads_a_proof_the_command_accepts_and_a_changed_one_fails(
        page, live_server, app, channel_with_handlers, screenshot, tmp_path):
    fill_report(page, live_server)
    page.get_by_role("button", name="Send report").click()
    code = take_receipt(page, lambda name: None, "unused")
    _sign_in(page, live_server, code)
    expect(page.locator("#proof-pending")).to_contain_text("It will be ready after")
    expect(page.get_by_role("link", name="Download proof of receipt")).to_have_count(0)
    page.locator("#proof-of-receipt").screenshot(
        path=str(SCREENSHOTS / "proof-mailbox-pending.png"))

    _release(app)
    page.reload()
    expect(page.get_by_role("link", name="Download proof of receipt")).to_be_visible()
    screenshot("proof-mailbox-ready")
    saved = _download_proof(page, tmp_path)
    assert saved.name.startswith("proof-of-receipt-")
    assert saved.suffix == ".json"
    key = _published_key(page, live_server)
    screenshot("proof-landing-key")

    accepted = run_crypto("verify-proof", saved, "--key", key)
    assert accepted.returncode == 0, accepted.stderr
    assert "Proof of receipt: VALID" in accepted.stdout
    assert "action:    report.submitted" in accepted.stdout
    assert "channel:   corruption" in accepted.stdout
    assert "objects:   3" in accepted.stdout  # the content and the two files
    document = json.loads(saved.read_text())
    for change, changed in tampered(document).items():
        refused = run_crypto("verify-proof", write_proof(tmp_path / f"{change}.json", changed),
                             "--key", key)
        assert refused.returncode == 1, (change, refused.stdout)
        assert "proof of receipt REJECTED" in refused.stderr, change


def test_anyone_checks_the_proof_on_verify_without_javascript_and_gets_the_consistency(
        browser, live_server, app, channel_with_handlers, tmp_path):
    reporter = browser.new_context(java_script_enabled=False,
                                   viewport={"width": 1100, "height": 800})
    page = reporter.new_page()
    fill_report(page, live_server)
    page.get_by_role("button", name="Send report").click()
    code = take_receipt(page, lambda name: None, "unused")
    _sign_in(page, live_server, code)
    _release(app)
    page.reload()
    saved = _download_proof(page, tmp_path)
    reporter.close()

    # The log grows afterwards: staff work, and another day's release.
    with get_database(app).session_factory() as db:
        for _ in range(6):
            record_event(db, AuditAction.ACCOUNT_LIST_VIEWED, actor=None, actor_role=SYSTEM)
            db.commit()
    signed_size = int(json.loads(saved.read_text())["checkpoint"].split("\n")[1])

    stranger = browser.new_context(java_script_enabled=False,
                                   viewport={"width": 1100, "height": 800})
    page = stranger.new_page()
    page.goto(live_server)
    page.get_by_role("link", name="Check a proof of receipt").click()
    expect(page.get_by_role("heading", name="Check a proof of receipt")).to_be_visible()
    page.get_by_label("Proof of receipt").set_input_files(str(saved))
    page.get_by_role("button", name="Check").click()
    expect(page.locator("#proof-result")).to_contain_text(
        "Valid: this organisation's access log holds this receipt.")
    expect(page.locator("#still-in-log")).to_contain_text(
        f"the head of {signed_size} entries the proof was made under is consistent with "
        f"today's head of {signed_size + 6} entries")
    page.get_by_text("The log's answer").click()
    expect(page.locator("#consistency-proof li").first).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "proof-verify-valid.png"), full_page=True)

    changed = write_proof(tmp_path / "changed.json",
                          tampered(json.loads(saved.read_text()))["inclusion"])
    page.get_by_label("Proof of receipt").set_input_files(str(changed))
    page.get_by_role("button", name="Check").click()
    expect(page.locator("#proof-result")).to_contain_text(
        "Not valid. The event in this proof is not in the signed log")
    page.screenshot(path=str(SCREENSHOTS / "proof-verify-changed.png"), full_page=True)
    page.goto(f"{live_server}/verify?lang=ar")  # right to left, in the reader's language
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    page.screenshot(path=str(SCREENSHOTS / "proof-verify-ar.png"), full_page=True)
    stranger.close()
