"""What a reporter sends and what the portal stores of it: forms, bodies, decryption."""

from __future__ import annotations

import io
import json
import re

from sqlalchemy import select

from crypto import decrypt_parts
from crypto.keys import parse_identity
from reporting_portal.storage.blobstore import open_blob_store
from reporting_portal.storage.models import ObjectKind, Report, ReportObject
from tests.helpers.client import csrf_token, submission_token
from tests.helpers.s3 import stored_in_bucket


def decrypt_object(settings, obj: ReportObject, identity: str) -> bytes:
    store = open_blob_store(settings)
    out = io.BytesIO()
    with store.open(obj.blob_name) as payload:
        decrypt_parts(obj.header, payload, out, [parse_identity(identity)])
    return out.getvalue()


def only_report(db) -> Report:
    reports = db.scalars(select(Report)).all()
    assert len(reports) == 1
    return reports[0]


def objects_of(db, report: Report, kind: ObjectKind) -> list[ReportObject]:
    return list(db.scalars(select(ReportObject).where(
        ReportObject.report_id == report.id, ReportObject.kind == kind
    ).order_by(ReportObject.id)))


def content_of(settings, db, identity: str) -> dict:
    report = only_report(db)
    [content] = objects_of(db, report, ObjectKind.CONTENT)
    return json.loads(decrypt_object(settings, content, identity))


RECEIPT_CODE_LIST = re.compile(r'<ol[^>]*id="receipt-code"[^>]*>(.*?)</ol>', re.DOTALL)
RECEIPT_CODE_GROUP = re.compile(r'<li class="receipt-code__group">(\d{4})</li>')


def receipt_code_from(page: str) -> str:
    """The receipt code a page shows, group by group, as ``"1234 5678 ..."``."""
    match = RECEIPT_CODE_LIST.search(page)
    assert match, "no receipt code on the page"
    groups = RECEIPT_CODE_GROUP.findall(match.group(1))
    assert len(groups) == 7, "the receipt code is not seven groups of four"
    return " ".join(groups)


def blob_files(settings) -> list:
    """Everything the blob store holds, committed or not (files, or an S3 bucket's blobs)."""
    if settings.blob_store == "s3":
        return stored_in_bucket(settings)
    return [p for p in settings.blob_dir.rglob("*") if p.is_file()]


REPORT_FORM = "/report/corruption"
BOUNDARY = "----reporting-portal-test-boundary"


def report_form_data(client, **extra) -> dict:
    """A complete answer to the default channel's form, with the page's tokens, as the
    test client posts it (``content_type="multipart/form-data"``)."""
    data = {
        "csrf_token": csrf_token(client, REPORT_FORM),
        "submission_token": submission_token(client, REPORT_FORM),
        "q_what": "The mayor's office took a bribe for the bridge contract.",
        "q_when": "2026-10-02",
        "q_where": "City hall",
        "q_kind": ["Bribery"],
        "q_how_known": "I found documents",
    }
    data.update(extra)
    return data


def multipart_body(parts: list[tuple[str, str | tuple[str, bytes]]],
                   *, closed: bool = True) -> bytes:
    """A multipart/form-data body with :data:`BOUNDARY`, built by hand so that tests can
    send exactly the bytes they mean: ``(name, text)`` or ``(name, (filename, bytes))``."""
    body = b""
    for name, value in parts:
        body += f"--{BOUNDARY}\r\n".encode()
        if isinstance(value, tuple):
            filename, data = value
            body += (f'Content-Disposition: form-data; name="{name}"; filename="{filename}"'
                     "\r\nContent-Type: application/octet-stream\r\n\r\n").encode() + data
        else:
            body += f'Content-Disposition: form-data; name="{name}"\r\n\r\n{value}'.encode()
        body += b"\r\n"
    if closed:
        body += f"--{BOUNDARY}--\r\n".encode()
    return body


MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


def plaintext_form(client, **extra) -> dict:
    """:func:`report_form_data` with two kinds of wrongdoing ticked."""
    return report_form_data(
        client, **{"q_kind": ["Bribery", "Procurement irregularities"], **extra})


def page_recipients(client, path: str = REPORT_FORM) -> list[str]:
    """The keys the report form's script encrypts content and files to, read from the
    page as the browser reads them (nobody excluded): the handlers, the reporter's own
    key when the channel lets reporters read back, and the recovery key."""
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'<script type="application/json" id="report-recipients"[^>]*>(.*?)'
                      r'</script>', page, re.S)
    assert match, f"no recipients on {path}"
    data = json.loads(match.group(1))
    return [h["recipient"] for h in data["handlers"]] + [data["recovery"]]


def open_mailbox(client, code: str):
    """Sign in to the reporter's mailbox with ``code`` through the form without JavaScript."""
    return client.post("/followup", data={"csrf_token": csrf_token(client, "/followup"),
                                          "code": code})


def send_report(client) -> str:
    """Send a report without JavaScript and return its receipt code; the client then
    forgets its session, as a browser closed after writing the code down."""
    response = client.post(REPORT_FORM, data=report_form_data(client),
                           content_type="multipart/form-data")
    assert response.status_code == 303
    code = receipt_code_from(client.get("/report/receipt").get_data(as_text=True))
    client.delete_cookie("__Host-session", domain="localhost")
    return code


def textarea_text(page: str, name: str) -> str | None:
    """What a browser shows in the textarea ``name`` of ``page`` (HTML drops one line
    break right after the start tag), or ``None`` when there is no such textarea."""
    import html

    match = re.search(rf'<textarea[^>]*name="{re.escape(name)}"[^>]*>([^<]*)</textarea>', page)
    if match is None:
        return None
    text = html.unescape(match.group(1))
    return text.removeprefix("\r\n") if text.startswith("\r\n") else text.removeprefix("\n")


# What the case fixtures of tests/conftest.py submit, for the tests to look for.
CONTENT_MARKER = "bribe for the bridge contract"  # in report_form_data's answer to "What?"
REPORTER_NAME = "Ada Whistle-4471"
REPORTER_CONTACT = "ada.w@example.org"
CASE_FILE_NAME = "contract.pdf"
CASE_FILE = b"%PDF-1.7 the signed contract"
