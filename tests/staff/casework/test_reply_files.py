"""A handler's message with files for the reporter (issue 15, item 5): who can read the
files, how the reporter downloads them without JavaScript, and what a refusal leaves."""

import re

import pytest
from sqlalchemy import select

from crypto import NoMatchError
from reporting_portal.storage.models import AuditEvent, HeldAuditEvent, ObjectKind, Report
from tests.helpers import csrf_token, hidden_fields, https_client
from tests.helpers.reporting import (
    MULTIPART,
    REPORT_FORM,
    blob_files,
    decrypt_object,
    multipart_body,
    objects_of,
    open_mailbox,
    plaintext_form,
    receipt_code_from,
    textarea_text,
)

pytestmark = pytest.mark.database

MINUTES = b"%PDF-1.4 minutes of the tender committee, 3 October\n" * 40
PHOTO = bytes(range(256)) * 300  # binary, and more than one 64 KiB chunk


def _report_excluding(client, db, excluded_public_id: str) -> tuple[str, str]:
    """A report that excludes one handler; its reference and receipt code."""
    data = plaintext_form(client, exclude=[excluded_public_id])
    sent = client.post(REPORT_FORM, data=data, content_type="multipart/form-data")
    assert sent.status_code == 303
    code = receipt_code_from(client.get("/report/receipt").get_data(as_text=True))
    client.delete_cookie("__Host-session", domain="localhost")
    return db.scalar(select(Report.public_id)), code


def _send_reply(client, reference: str, text: str, files: list[tuple[str, bytes]]):
    path = f"/staff/cases/{reference}"
    parts = [("csrf_token", csrf_token(client, path)), ("reply", text)]
    parts += [("attachments", file) for file in files]
    return client.post(f"{path}/messages", data=multipart_body(parts), content_type=MULTIPART)


@pytest.fixture
def replied(app, client, db, sign_in, channel_with_handlers):
    """Hana replies with two files on a case whose reporter excluded Omar."""
    reference, code = _report_excluding(client, db, channel_with_handlers["omar"].public_id)
    sign_in(channel_with_handlers["hana"])
    response = _send_reply(client, reference, "The minutes and the photo you asked about.",
                           [("minutes.pdf", MINUTES), ("photo 2.jpg", PHOTO)])
    assert response.status_code == 302
    return reference, code


def test_reply_files_are_for_reporter_handlers_and_recovery_never_an_excluded_handler(
    replied, client, db, settings, installed, channel_with_handlers
):
    reference, _code = replied
    page = client.get(f"/staff/cases/{reference}").get_data(as_text=True)
    assert "Message sent. The reporter sees it in their mailbox." in page
    assert "minutes.pdf" in page  # the handler sees the files in the case's timeline
    report = db.scalar(select(Report).where(Report.public_id == reference))
    files = [f for f in objects_of(db, report, ObjectKind.FILE) if not f.from_reporter]
    assert len(files) == 2
    assert all(f.parent.kind == ObjectKind.MESSAGE for f in files)
    hana, omar = channel_with_handlers["hana"], channel_with_handlers["omar"]
    for stored, expected in zip(files, (MINUTES, PHOTO), strict=True):
        assert decrypt_object(settings, stored, hana.identity) == expected
        assert decrypt_object(settings, stored, installed.recovery_identity) == expected
        with pytest.raises(NoMatchError):
            decrypt_object(settings, stored, omar.identity)
    # Ciphertext only in the blob store: no plaintext of either file anywhere in it.
    for blob in blob_files(settings):
        content = blob.read_bytes()
        assert MINUTES[:40] not in content
        assert PHOTO[:4096] not in content


def test_reporter_downloads_the_files_without_javascript(replied, app, db):
    _reference, code = replied
    reporter = https_client(app)
    open_mailbox(reporter, code)
    mailbox = reporter.get("/followup/mailbox").get_data(as_text=True)
    assert "The minutes and the photo you asked about." in mailbox
    assert "The case handler attached 2 files:" in mailbox
    links = re.findall(r'href="(/followup/mailbox/files/[^"]+)"', mailbox)
    assert len(links) == 2
    assert not any("minutes" in link or "photo" in link for link in links)  # ids only
    first = reporter.get(links[0])
    assert first.data == MINUTES  # read whole before the next request, as a browser does
    second = reporter.get(links[1])
    assert second.data == PHOTO
    assert first.headers["Content-Disposition"] == 'attachment; filename="minutes.pdf"'
    assert second.headers["Content-Disposition"] == 'attachment; filename="photo_2.jpg"'
    assert first.headers["Content-Type"] == "application/octet-stream"
    assert "sandbox" in first.headers["Content-Security-Policy"]
    # Each download is a reporter event: held for the day's release, never logged at once.
    held = db.scalars(select(HeldAuditEvent.action)).all()
    assert held.count("case.file_downloaded") == 2
    assert "case.file_downloaded" not in db.scalars(
        select(AuditEvent.action).where(AuditEvent.actor_role == "reporter")).all()
    # Another browser, without the receipt code, gets nothing.
    stranger = https_client(app)
    assert stranger.get(links[0]).status_code in (302, 403, 404)


def test_the_reporter_still_opens_the_files_after_a_handler_leaves_the_case(
    app, client, db, sign_in, channel_with_handlers, case_with_file
):
    sign_in(channel_with_handlers["hana"])
    path = f"/staff/cases/{case_with_file}"
    sent = _send_reply(client, case_with_file, "A file.", [("note.txt", b"NOTE")])
    assert sent.status_code == 302
    omar = channel_with_handlers["omar"]
    removed = client.post(f"{path}/handlers/{omar.public_id}/remove",
                          data=hidden_fields(client, path))
    assert removed.status_code == 302
    reporter = https_client(app)
    open_mailbox(reporter, client.receipt_code)
    [link] = re.findall(r'href="(/followup/mailbox/files/[^"]+)"',
                        reporter.get("/followup/mailbox").get_data(as_text=True))
    assert reporter.get(link).data == b"NOTE"


def test_reporter_cannot_download_through_the_mailbox_what_they_sent(app, client, db,
                                                                     case_with_file):
    reporter = https_client(app)
    open_mailbox(reporter, client.receipt_code)
    report = db.scalar(select(Report))
    [own_file] = objects_of(db, report, ObjectKind.FILE)
    assert reporter.get(f"/followup/mailbox/files/{own_file.public_id}").status_code == 404


def test_a_refused_reply_keeps_no_file(replied, client, db, settings, app):
    reference, _code = replied
    report = db.scalar(select(Report).where(Report.public_id == reference))
    before_objects = len(objects_of(db, report, ObjectKind.FILE))
    before_blobs = len(blob_files(settings))
    too_many = [(f"f{index}.txt", b"x") for index in range(settings.submission_max_files + 1)]
    refused = _send_reply(client, reference, "Too many files.", too_many)
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "too large. Nothing was sent." in page
    assert textarea_text(page, "reply") == "Too many files."  # typed text kept
    db.expire_all()
    assert len(objects_of(db, report, ObjectKind.FILE)) == before_objects
    assert len(blob_files(settings)) == before_blobs
    stale = _send_reply(client, reference, "x", [("a.txt", b"a")])
    assert stale.status_code == 302  # a fresh token works; the page is not stuck


def test_a_large_reply_file_never_goes_through_werkzeugs_spooling_parser(
    client, db, sign_in, channel_with_handlers, case_with_file, settings, monkeypatch
):
    """Werkzeug spools file parts over 500 KiB to temporary files: plaintext on disk.
    The message form is read from the stream instead, so that parser must never run."""
    import werkzeug.formparser
    import werkzeug.wrappers.request

    def refuse(*_args, **_kwargs):
        raise AssertionError("a reply file went through Werkzeug's form parser")

    for module in (werkzeug.formparser, werkzeug.wrappers.request):
        monkeypatch.setattr(module, "default_stream_factory", refuse)
    sign_in(channel_with_handlers["hana"])
    big = b"LARGE-REPLY-FILE\n" * (2 * 1024 * 1024 // 17)
    sent = _send_reply(client, case_with_file, "A large file.", [("scan.bin", big)])
    assert sent.status_code == 302
    report = db.scalar(select(Report))
    [stored] = [f for f in objects_of(db, report, ObjectKind.FILE) if not f.from_reporter]
    assert decrypt_object(settings, stored, channel_with_handlers["hana"].identity) == big
