"""An auditor's visit in Chromium: filter the log, prove an event, keep a head, check it,
export."""

import zipfile

import pytest
from playwright.sync_api import expect

from reporting_portal.storage.models import Role
from tests.helpers.browser import fill_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.database]


def test_auditor_filters_proves_keeps_and_checks_a_head_and_exports(
    page, live_server, installed, make_staff, screenshot, tmp_path
):
    aude = make_staff("aude", Role.AUDITOR)
    fill_sign_in(page, live_server, "aude", aude.password, aude.code())
    page.get_by_role("navigation", name="Staff").get_by_role("link", name="Access log").click()
    expect(page.get_by_role("heading", name="Access log")).to_be_visible()
    expect(page.locator("#events")).to_contain_text("staff.sign_in")
    screenshot("audit-log")

    page.get_by_label("Action").select_option("account.created")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("#events tbody tr")
    expect(rows.first).to_contain_text("account.created")
    for text in rows.all_inner_texts():
        assert "account.created" in text

    rows.first.get_by_role("link", name="Proof").click()
    expect(page.locator("#proof-status")).to_contain_text("Verified: this event is entry")
    screenshot("audit-proof")

    page.get_by_role("link", name="Access log").first.click()
    with page.expect_download() as head_download:
        page.get_by_role("link", name="Download signed head").click()
    saved = tmp_path / "head.txt"
    head_download.value.save_as(saved)
    assert saved.read_text().startswith("reporting-portal.test/audit\n")

    page.get_by_role("link", name="Check a saved head").click()
    page.get_by_label("Saved tree head").set_input_files(str(saved))
    page.get_by_role("button", name="Check").click()
    expect(page.locator("#head-result")).to_contain_text("Consistent: the log has only grown")
    screenshot("audit-head-checked")

    page.get_by_role("link", name="Access log").first.click()
    with page.expect_download() as export_download:
        page.get_by_role("link", name="Export these events").click()
    exported = tmp_path / "export.zip"
    export_download.value.save_as(exported)
    with zipfile.ZipFile(exported) as archive:
        assert "head.txt" in archive.namelist()
        assert b"staff.sign_in" in archive.read("events.json")
