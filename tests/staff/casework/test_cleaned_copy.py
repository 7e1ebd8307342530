"""The handler's cleaned copy of a case file (issue 18): made in memory, without the
metadata, logged like a download; a file that cannot be cleaned says why."""

from __future__ import annotations

import io
import os
import re
import secrets
import tempfile
import time
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from reporting_portal.storage.models import AuditEvent, Report
from tests.helpers import metadata_samples as samples
from tests.helpers.reporting import REPORT_FORM, plaintext_form

pytestmark = pytest.mark.database


@pytest.fixture
def submit_files(client, db, channel_with_handlers):
    """Send a report without JavaScript with these (name, bytes) files; its case id."""

    def submit(*files: tuple[str, bytes]) -> str:
        form = plaintext_form(client, q_evidence=[(io.BytesIO(data), name)
                                                  for name, data in files])
        response = client.post(REPORT_FORM, data=form, content_type="multipart/form-data")
        assert response.status_code == 303
        client.delete_cookie("__Host-session", domain="localhost")
        return db.scalar(select(Report.public_id))

    return submit


def cleaned_links(page: str) -> dict[str, str]:
    found = re.findall(r'download>([^<]+)</a> <small>[^<]*</small> · '
                       r'<a href="([^"]+/cleaned)" data-cleaned-copy>', page)
    return dict(found)


def test_the_cleaned_copy_carries_none_of_the_metadata_and_all_the_picture(
        client, sign_in, channel_with_handlers, submit_files, db):
    photo, minutes = samples.jpeg_with_gps(), samples.docx_with_author()
    case = submit_files((photo.name, photo.data), (minutes.name, minutes.data))
    sign_in(channel_with_handlers["hana"])
    links = cleaned_links(client.get(f"/staff/cases/{case}").get_data(as_text=True))
    assert set(links) == {photo.name, minutes.name}

    response = client.get(links[photo.name])
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == 'attachment; filename="cleaned-photo.jpg"'
    for secret in photo.secrets:
        assert secret not in response.data
    picture = Image.open(io.BytesIO(response.data))
    assert not picture.getexif()
    assert picture.tobytes() == Image.open(io.BytesIO(photo.data)).tobytes()

    document = client.get(links[minutes.name]).data
    for secret in minutes.secrets:
        assert secret not in document

    events = list(db.execute(select(AuditEvent.action, AuditEvent.outcome)))
    assert events.count(("case.cleaned_file_downloaded", "success")) == 2
    original = client.get(links[photo.name].removesuffix("/cleaned"))
    assert original.data == photo.data  # the evidence itself is untouched


def test_a_file_that_cannot_be_cleaned_says_so_and_offers_the_original(
        client, sign_in, channel_with_handlers, submit_files, db):
    case = submit_files(("notes.txt", b"Plain words, no format to clean"))
    sign_in(channel_with_handlers["hana"])
    links = cleaned_links(client.get(f"/staff/cases/{case}").get_data(as_text=True))
    response = client.get(links["notes.txt"])
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "This file could not be cleaned" in page
    assert "Nothing was removed from this one." in page
    assert "Download the original: notes.txt" in page
    assert ("case.cleaned_file_downloaded", "failure") in list(
        db.execute(select(AuditEvent.action, AuditEvent.outcome)))


def test_a_file_over_the_bound_is_not_offered_and_refused_if_asked(
        client, sign_in, channel_with_handlers, submit_files, monkeypatch):
    photo = samples.jpeg_with_gps()
    case = submit_files((photo.name, photo.data))
    sign_in(channel_with_handlers["hana"])
    page = client.get(f"/staff/cases/{case}").get_data(as_text=True)
    link = cleaned_links(page)[photo.name]
    from reporting_portal.staff.casework import cleaned_copy, cleaned_views

    monkeypatch.setattr(cleaned_copy, "MAX_CLEANABLE_BYTES", len(photo.data) - 1)
    monkeypatch.setattr(cleaned_views, "MAX_CLEANABLE_BYTES", len(photo.data) - 1)
    page = client.get(f"/staff/cases/{case}").get_data(as_text=True)
    assert "too large to clean here" in page
    assert "data-cleaned-copy" not in page
    refused = client.get(link)
    assert refused.status_code == 422
    assert "the most the portal cleans in memory" in refused.get_data(as_text=True)


def _temporary_files_holding(needle: bytes, since: float) -> list[Path]:
    found = []
    for directory, _subdirs, names in os.walk(tempfile.gettempdir()):
        for name in names:
            path = Path(directory) / name
            try:
                if path.stat().st_mtime >= since and needle in path.read_bytes():
                    found.append(path)
            except OSError:
                continue  # vanished or unreadable: not ours
    return found


def test_the_cleaned_copy_is_made_in_memory_only(client, sign_in, channel_with_handlers,
                                                 submit_files):
    """pikepdf (qpdf) and zipfile work on the bytes in memory: no temporary file holds
    the plaintext while a PDF and a document are cleaned."""
    # A marker as long as the page's text, so the PDF's offsets stay right.
    needle = f"MARKER-{secrets.token_hex(9)}".encode()
    assert len(needle) == len(samples.PAGE_TEXT)
    pdf_data = samples.pdf_with_info_and_xmp().data.replace(samples.PAGE_TEXT, needle)
    minutes = samples.docx_with_author()
    case = submit_files(("invoice.pdf", pdf_data), (minutes.name, minutes.data))
    started = time.time() - 1
    sign_in(channel_with_handlers["hana"])
    links = cleaned_links(client.get(f"/staff/cases/{case}").get_data(as_text=True))
    assert needle in client.get(links["invoice.pdf"]).data
    assert client.get(links[minutes.name]).status_code == 200
    assert _temporary_files_holding(needle, started) == []
