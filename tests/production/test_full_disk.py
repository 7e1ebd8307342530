"""A full disk while a report, a message or a note is written: a clear page, nothing
half-written, and what was stored before stays readable. On a 4 MiB tmpfs as blob_dir."""

from __future__ import annotations

import errno
import html
import os
from pathlib import Path

import pytest
from sqlalchemy import func, select

from reporting_portal.storage.models import ObjectKind, Report, ReportObject
from tests.helpers import csrf_token, hidden_fields, submission_token
from tests.helpers.reporting import (
    MULTIPART,
    REPORT_FORM,
    multipart_body,
    open_mailbox,
    report_form_data,
    send_report,
)
from tests.helpers.staff import signed_in

pytestmark = pytest.mark.slow

REPORTER_MESSAGE = "Your report could not be saved. Nothing was stored. Please try again later."
STAFF_MESSAGE = ("What you sent could not be saved: the server's storage is full. Nothing was "
                 "stored. Tell your administrator, and try again later.")


@pytest.fixture
def settings(settings, small_disk):
    return settings.replace(blob_dir=small_disk)


def files_under(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file()}


def count(db, model) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model)) or 0


def fill(folder: Path) -> Path:
    """Fill the disk to the last byte with one file."""
    filler = folder / "filler"
    with filler.open("wb", buffering=0) as handle:
        while True:
            try:
                handle.write(b"\0" * 4096)
            except OSError as error:
                if error.errno != errno.ENOSPC:
                    raise
                return filler


def page_text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def test_a_report_that_does_not_fit_is_refused_and_the_earlier_one_still_opens(
        client, db, settings, channel_with_handlers):
    code = send_report(client)
    stored = files_under(settings.blob_dir)
    assert stored  # the first report's encrypted content is on the small disk

    too_big = os.urandom(6 * 1024 * 1024)  # random: encryption cannot shrink it either
    fields = report_form_data(client)
    parts = [(name, value) for name, values in fields.items()
             for value in (values if isinstance(values, list) else [values])]
    # Built by hand: the test client would spool a large file to a temporary file of its own.
    body = multipart_body([*parts, ("q_evidence", ("ledger.xlsx", too_big))])
    response = client.post(REPORT_FORM, data=body, content_type=MULTIPART)

    assert response.status_code == 507
    assert REPORTER_MESSAGE in page_text(response)
    assert "Traceback" not in page_text(response)
    assert files_under(settings.blob_dir) == stored  # no partial file, no orphan blob
    assert count(db, Report) == 1
    client.delete_cookie("__Host-session", domain="localhost")
    assert open_mailbox(client, code).headers["Location"] == "/followup/mailbox"
    assert client.get("/followup/mailbox").status_code == 200


def test_a_message_or_note_on_a_full_disk_is_refused_clearly(
        app, client, db, settings, channel_with_handlers, case_with_file):
    code = client.receipt_code
    hana = signed_in(app, channel_with_handlers["hana"])
    path = f"/staff/cases/{case_with_file}"
    note_form = hidden_fields(hana, path)
    open_mailbox(client, code)
    reply_form = {"csrf_token": csrf_token(client, "/followup/mailbox"),
                  "submission_token": submission_token(client, "/followup/mailbox")}
    objects = count(db, ReportObject)
    filler = fill(settings.blob_dir)
    stored = files_under(settings.blob_dir)

    note = hana.post(f"{path}/notes", data={**note_form, "note": "Call the auditor."})
    assert note.status_code == 507
    assert STAFF_MESSAGE in page_text(note)
    reply = client.post("/followup/reply", data={**reply_form, "q_message": "One more thing."},
                        content_type="multipart/form-data")
    assert reply.status_code == 507
    assert REPORTER_MESSAGE in page_text(reply)
    assert files_under(settings.blob_dir) == stored
    assert count(db, ReportObject) == objects

    filler.unlink()  # the operator frees space: the same note now goes through
    assert hana.post(f"{path}/notes", data={**hidden_fields(hana, path),
                                            "note": "Call the auditor."}).status_code == 302
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(ReportObject).where(
        ReportObject.kind == ObjectKind.NOTE)) == 1
