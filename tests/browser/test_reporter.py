"""A reporter's journey in Chromium: both submission paths, receipt, follow-up."""

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from reporting_portal.domain.messages import post_message
from reporting_portal.storage.blobstore import LocalBlobStore
from reporting_portal.storage.models import ObjectKind, Report, StaffAccount
from tests.helpers.browser import EVIDENCE, SCREENSHOTS, fill_report, take_receipt
from tests.helpers.reporting import content_of, decrypt_object, objects_of, only_report

pytestmark = [pytest.mark.browser, pytest.mark.database]

def test_submission_without_javascript_with_two_files(
    browser, live_server, channel_with_handlers, db, settings
):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server)
    expect(page.get_by_role("heading", name="Report corruption safely")).to_be_visible()
    page.screenshot(path=str(_shot("landing")), full_page=True)
    fill_report(page, live_server)
    page.screenshot(path=str(_shot("report-form-no-js")), full_page=True)
    page.get_by_role("button", name="Send report").click()
    expect(page.get_by_role("heading", name="Your report was received")).to_be_visible()
    page.screenshot(path=str(_shot("receipt")), full_page=True)
    page.get_by_label("I have written the code down").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    context.close()

    content = content_of(settings, db, channel_with_handlers["hana"].identity)
    assert content["answers"]["what"] == "PLAINTEXT-ANSWER: the tender was rigged."
    files = objects_of(db, only_report(db), ObjectKind.FILE)
    assert [decrypt_object(settings, f, channel_with_handlers["omar"].identity)
            for f in files] == [e["buffer"] for e in EVIDENCE]


def _shot(name):
    SCREENSHOTS.mkdir(exist_ok=True)
    return SCREENSHOTS / f"{name}.png"


def test_submission_with_javascript_uploads_only_age_ciphertext(
    page, live_server, channel_with_handlers, db, settings, screenshot, recorded_bodies
):
    fill_report(page, live_server)
    screenshot("report-form-js")
    page.get_by_role("button", name="Send report").click()
    take_receipt(page, screenshot, "receipt-js")

    bodies = [body for path, body in recorded_bodies.bodies if path == "/report/corruption"]
    assert len(bodies) == 1
    body = bodies[0]
    for plaintext in (b"PLAINTEXT-ANSWER", b"PLAINTEXT-EVIDENCE", b"contract-scan",
                      b"bank-transfer", b"Ministry of Works"):
        assert plaintext not in body
    boundary = body.split(b"\r\n", 1)[0]
    parts = [p for p in body.split(boundary) if b"Content-Disposition" in p]
    names = [re.search(rb'name="([^"]+)"', p).group(1) for p in parts]
    assert names[:3] == [b"csrf_token", b"submission_token", b"mode"]
    file_parts = [p for p in parts if b"filename=" in p]
    assert len(file_parts) == 3  # content and two files
    for part in file_parts:
        payload = part.split(b"\r\n\r\n", 1)[1]
        assert payload.startswith(b"age-encryption.org/v1\n")

    content = content_of(settings, db, channel_with_handlers["hana"].identity)
    assert content["answers"]["what"] == "PLAINTEXT-ANSWER: the tender was rigged."
    assert [f["name"] for f in content["files"]] == ["contract-scan.pdf", "bank-transfer.png"]
    files = objects_of(db, only_report(db), ObjectKind.FILE)
    assert [decrypt_object(settings, f, channel_with_handlers["hana"].identity)
            for f in files] == [e["buffer"] for e in EVIDENCE]


def test_followup_reads_and_answers_a_handler_message(
    app, page, live_server, channel_with_handlers, db, settings, screenshot
):
    fill_report(page, live_server)
    page.get_by_role("button", name="Send report").click()
    code = take_receipt(page, screenshot, "receipt-for-followup")

    hana = db.scalar(select(StaffAccount).where(StaffAccount.username == "hana"))
    report = db.scalar(select(Report))
    with app.app_context():
        post_message(db, LocalBlobStore(settings.blob_dir), report,
                     text="Thank you. Which department signed the contract?", author=hana)
        db.commit()

    page.goto(f"{live_server}/followup")
    digits = code.replace(" ", "")
    typo = digits[:10] + str((int(digits[10]) + 1) % 10) + digits[11:]
    page.get_by_label("Receipt code").fill(typo)
    page.get_by_role("button", name="Open my mailbox").click()
    expect(page.get_by_text("There is a typo in this code")).to_be_visible()
    screenshot("followup-typo")
    page.get_by_label("Receipt code").fill(code)
    page.get_by_role("button", name="Open my mailbox").click()
    expect(page.get_by_role("heading", name="Your mailbox")).to_be_visible()
    expect(page.get_by_text("Which department signed the contract?")).to_be_visible()
    expect(page.locator("#case-status")).to_contain_text("Received")
    screenshot("mailbox")
    page.get_by_label("Your message").fill("The procurement department, on 2 October.")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text("Your message was sent.")).to_be_visible()
    expect(page.get_by_text("The procurement department, on 2 October.")).to_be_visible()
    screenshot("mailbox-after-reply")
    db.expire_all()
    reply = objects_of(db, report, ObjectKind.MESSAGE)[-1]
    assert b"procurement department" in decrypt_object(
        settings, reply, channel_with_handlers["omar"].identity)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("close this browser window")).to_be_visible()


def test_oversize_file_is_refused_cleanly_without_javascript(
    app, browser, live_server, channel_with_handlers, db, settings
):
    app.extensions["settings"] = app.extensions["settings"].replace(
        submission_max_bytes=256 * 1024)
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    fill_report(page, live_server)
    page.locator("#q_evidence").set_input_files(
        [{"name": "huge.bin", "mimeType": "application/octet-stream",
          "buffer": b"\0" * (1024 * 1024)}])
    page.get_by_role("button", name="Send report").click()
    expect(page.get_by_text("Your report is larger than")).to_be_visible()
    page.screenshot(path=str(_shot("report-too-large")), full_page=True)
    context.close()
    assert db.scalars(select(Report)).all() == []
    assert [p for p in settings.blob_dir.rglob("*") if p.is_file()] == []
