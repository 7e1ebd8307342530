"""Evidence without what betrays the reporter (issue 18), in Chromium.

With JavaScript the form lists what each file reveals and removes it before encrypting;
the handler downloads files that no longer carry it. Without JavaScript the form warns,
the files arrive as they were, and the handler's cleaned copy is without the metadata.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.helpers import metadata_samples as samples
from tests.helpers.browser import SCREENSHOTS, fill_report, fill_sign_in, take_receipt

pytestmark = [pytest.mark.browser, pytest.mark.database]

PHOTO = samples.jpeg_with_gps()
MINUTES = samples.docx_with_author()
SCREEN = samples.png_with_text()


def as_upload(sample: samples.Sample, mime_type: str) -> dict:
    return {"name": sample.name, "mimeType": mime_type, "buffer": sample.data}


UPLOADS = [as_upload(PHOTO, "image/jpeg"), as_upload(
    MINUTES, "application/vnd.openxmlformats-officedocument.wordprocessingml.document")]


def readable(data: bytes) -> bytes:
    """A file's bytes, an Office file's parts unpacked (they are deflated in the ZIP)."""
    if not data.startswith(b"PK"):
        return data
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return b"".join(archive.read(info) for info in archive.infolist())


def assert_clean(data: bytes, sample: samples.Sample) -> None:
    text = readable(data)
    for secret in sample.secrets:
        assert secret not in text, secret
    for kept in sample.content:
        assert kept in text, kept


def download(page, link) -> bytes:
    with page.expect_download() as info:
        link.click()
    return info.value.path().read_bytes()


def open_the_case(page, live_server, hana):
    fill_sign_in(page, live_server, "hana", hana.password, hana.code())
    page.goto(f"{live_server}/staff/cases")
    page.locator("table.inbox a").first.click()
    expect(page.get_by_role("heading", name="Files")).to_be_visible()


def test_with_javascript_the_files_arrive_without_their_metadata(
        page, live_server, channel_with_handlers, screenshot):
    fill_report(page, live_server)
    page.locator("#q_evidence").set_input_files([*UPLOADS, as_upload(SCREEN, "image/png")])
    panel = page.locator(".file-metadata")
    expect(panel).to_contain_text(
        "photo.jpg reveals a GPS position, the camera, an author's name, the software used, "
        "when it was made or edited, comments, and other metadata. This will be removed")
    expect(panel).to_contain_text("minutes.docx reveals an author's name, an organisation")
    expect(panel).to_contain_text("tracked changes and who made them")
    # The reporter keeps one file as it is: that choice is theirs.
    page.get_by_label("Keep the hidden details of screen.png (send it as it is)").check()
    screenshot("clean-files-form-with-javascript")
    page.get_by_role("button", name="Send report").click()
    take_receipt(page, screenshot, "clean-files-receipt")

    open_the_case(page, live_server, channel_with_handlers["hana"])
    screenshot("clean-files-case-javascript")
    photo = download(page, page.get_by_role("link", name="photo.jpg", exact=True))
    assert_clean(photo, PHOTO)
    picture = Image.open(io.BytesIO(photo))
    assert not picture.getexif()
    assert picture.tobytes() == Image.open(io.BytesIO(PHOTO.data)).tobytes()
    assert_clean(download(page, page.get_by_role("link", name="minutes.docx", exact=True)),
                 MINUTES)
    kept = download(page, page.get_by_role("link", name="screen.png", exact=True))
    assert kept == SCREEN.data


def test_without_javascript_the_form_warns_and_the_handler_takes_a_cleaned_copy(
        browser, page, live_server, channel_with_handlers, screenshot):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1100,
                                                                        "height": 800})
    reporter = context.new_page()
    fill_report(reporter, live_server)
    warning = reporter.locator("[data-metadata-warning]")
    expect(warning).to_contain_text("Photos and documents can reveal who made them and where")
    expect(warning).to_contain_text("Without JavaScript it cannot")
    reporter.locator("#q_evidence").set_input_files(
        [*UPLOADS, {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"just words"}])
    reporter.screenshot(path=str(SCREENSHOTS / "clean-files-form-no-js.png"), full_page=True)
    reporter.get_by_role("button", name="Send report").click()
    expect(reporter.get_by_role("heading", name="Your report was received")).to_be_visible()
    context.close()

    open_the_case(page, live_server, channel_with_handlers["hana"])
    screenshot("clean-files-case-no-js")
    files = page.locator("ul.file-list li")
    original = download(page, files.filter(has_text="photo.jpg").get_by_role(
        "link", name="photo.jpg", exact=True))
    assert original == PHOTO.data  # the evidence as the reporter sent it, GPS and all
    cleaned = download(page, files.filter(has_text="photo.jpg").get_by_role(
        "link", name="cleaned copy"))
    assert_clean(cleaned, PHOTO)
    assert Image.open(io.BytesIO(cleaned)).tobytes() == Image.open(
        io.BytesIO(PHOTO.data)).tobytes()
    assert_clean(download(page, files.filter(has_text="minutes.docx").get_by_role(
        "link", name="cleaned copy")), MINUTES)

    files.filter(has_text="notes.txt").get_by_role("link", name="cleaned copy").click()
    expect(page.get_by_role("heading", name="This file could not be cleaned")).to_be_visible()
    expect(page.get_by_text("Nothing was removed from this one.")).to_be_visible()
    screenshot("clean-files-cannot-clean")
