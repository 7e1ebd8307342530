"""Issue 15, items 11 to 13 on the server: "What I sent", the receipt file, session time."""

import io
import re

import pytest
from sqlalchemy import select

from crypto import NoMatchError
from crypto.receipt import format_receipt_code
from reporting_portal.reporter.intake.services import Submission, submit_report
from reporting_portal.reporter.intake.views import receipt_params
from reporting_portal.storage.models import Channel, HeldAuditEvent, ObjectKind, Report, Role
from reporting_portal.web.extensions import get_blob_store
from tests.helpers import csrf_token, hidden_fields, https_client
from tests.helpers.reporting import (
    REPORT_FORM,
    content_of,
    decrypt_object,
    objects_of,
    only_report,
    open_mailbox,
    plaintext_form,
    receipt_code_from,
)

pytestmark = pytest.mark.database

EVIDENCE = b"%PDF-1.7 invoice 4711"


def _send(client, *, reads_back=True, db=None):
    if not reads_back:
        db.scalar(select(Channel).where(Channel.slug == "corruption")).reporter_reads_back = False
        db.commit()
    data = plaintext_form(client, q_evidence=[(io.BytesIO(EVIDENCE), "invoice.pdf",
                                               "application/pdf")])
    assert client.post(REPORT_FORM, data=data,
                       content_type="multipart/form-data").status_code == 303
    receipt = client.get("/report/receipt").get_data(as_text=True)
    code = receipt_code_from(receipt)
    client.delete_cookie("__Host-session", domain="localhost")
    assert open_mailbox(client, code).status_code == 302
    return receipt


def _held(db, action):
    return db.scalars(select(HeldAuditEvent).where(HeldAuditEvent.action == action)).all()


def test_the_reporter_reads_back_answers_in_the_page_language_and_downloads_files(
    client, db, channel_with_handlers
):
    receipt = _send(client)
    assert "Anyone who has your receipt code can read what you sent." in receipt
    assert 'id="what-i-sent"' in client.get("/followup/mailbox").get_data(as_text=True)
    page = client.get("/followup/sent?lang=fr").get_data(as_text=True)
    assert "Que s\u2019est-il passé\u00a0?" in page
    assert "The mayor&#39;s office took a bribe" in page
    file_id = re.search(r'href="/followup/sent/files/([^"]+)"', page).group(1)
    assert len(_held(db, "reporter.report_read")) == 1
    download = client.get(f"/followup/sent/files/{file_id}")
    assert download.status_code == 200
    assert download.data == EVIDENCE
    assert download.headers["Content-Disposition"] == 'attachment; filename="invoice.pdf"'
    assert download.headers["Cache-Control"] == "no-store"
    assert len(_held(db, "reporter.file_downloaded")) == 1
    assert client.get("/followup/sent/files/not-a-file").status_code == 404


def test_a_channel_that_turned_it_off_seals_nothing_for_the_reporter(
    client, db, settings, channel_with_handlers
):
    receipt = _send(client, reads_back=False, db=db)
    assert "cannot read your report back" in receipt
    page = client.get("/followup/sent").get_data(as_text=True)
    assert "does not let anyone read a report back" in page
    assert "The mayor" not in page
    report = only_report(db)
    assert report.content_for_reporter is False
    [content] = objects_of(db, report, ObjectKind.CONTENT)
    assert content_of(settings, db, channel_with_handlers["hana"].identity)  # handlers read it
    with client.session_transaction() as session:
        reporter_identity = session["reporter_identity"]
    with pytest.raises(NoMatchError):
        decrypt_object(settings, content, reporter_identity)
    assert _held(db, "reporter.report_read") == []


def test_reports_from_before_cannot_be_shown(app, client, db, channel_with_handlers):
    with app.app_context():  # as reports were stored before issue 15: no reporter key
        channel = db.scalar(select(Channel).where(Channel.slug == "corruption"))
        _report, code = submit_report(
            db, get_blob_store(), channel=channel, receipt_params=receipt_params(),
            submission=Submission(excluded_ids=set(), files=[], answers={"what": "Bribes."}))
        db.commit()
    assert open_mailbox(client, format_receipt_code(code)).status_code == 302
    page = client.get("/followup/sent").get_data(as_text=True)
    assert "sent before reports could be read back" in page


def test_the_page_needs_a_signed_in_reporter(client, channel_with_handlers):
    assert client.get("/followup/sent").status_code in {302, 403}
    assert client.get("/followup/sent/files/x").status_code in {302, 403}


def test_the_receipt_code_downloads_as_a_text_file_from_the_session_only(
    client, channel_with_handlers
):
    client.post(REPORT_FORM, data=plaintext_form(client), content_type="multipart/form-data")
    page = client.get("/report/receipt").get_data(as_text=True)
    code = receipt_code_from(page)
    assert "Do not take a screenshot" in page
    assert code.replace(" ", "") not in re.sub(r'id="receipt-code"[^<]*<', "", page)
    assert client.get("/report/receipt/code.txt").status_code == 405
    token = csrf_token(client, "/report/receipt")
    assert client.post("/report/receipt/code.txt").status_code == 400  # no CSRF token
    saved = client.post("/report/receipt/code.txt", data={"csrf_token": token})
    assert saved.status_code == 200
    assert saved.headers["Content-Disposition"] == 'attachment; filename="receipt-code.txt"'
    assert saved.headers["Cache-Control"] == "no-store"
    assert saved.mimetype == "text/plain"
    assert code in saved.get_data(as_text=True)
    client.post("/report/receipt", data={"csrf_token": token, "written_down": "yes"})
    assert client.post("/report/receipt/code.txt",
                       data={"csrf_token": token}).status_code == 404


def test_pages_say_how_long_the_session_lasts(client, settings, in_mailbox):
    page = client.get("/followup/mailbox").get_data(as_text=True)
    assert (f"signed out after {settings.reporter_idle_minutes} minutes without opening a "
            "page") in page
    seconds = int(re.search(r'data-seconds-left="(\d+)"', page).group(1))
    assert 0 < seconds <= settings.reporter_idle_minutes * 60
    assert "reporter-page.bundle.js" in page


def test_the_channel_editor_turns_read_back_off(client, db, make_staff, sign_in, installed):
    sign_in(make_staff("ada", Role.ADMINISTRATOR))
    channel = db.scalar(select(Channel).where(Channel.slug == "corruption"))
    assert channel.reporter_reads_back is True
    path = f"/staff/admin/channels/{channel.public_id}"
    assert "Reporters can read back what they sent" in client.get(path).get_data(as_text=True)
    response = client.post(path, data={
        "csrf_token": csrf_token(client, path), "place_en": "1", "retention_days": "1095",
        "is_active": "y", "name_en": "Report corruption", "slug": "corruption"})
    assert response.status_code == 302
    db.expire_all()
    assert db.scalar(select(Channel.reporter_reads_back)
                     .where(Channel.slug == "corruption")) is False
    assert db.scalars(select(Report)).all() == []


def test_taking_a_handler_off_the_case_keeps_what_the_reporter_sent_readable(
    app, client, db, settings, channel_with_handlers
):
    _send(client)
    with client.session_transaction() as session:
        reporter_identity = session["reporter_identity"]
    hana, omar = channel_with_handlers["hana"], channel_with_handlers["omar"]
    staff = https_client(app)
    staff.post("/staff/sign-in", data={
        "csrf_token": csrf_token(staff, "/staff/sign-in"), "username": hana.username,
        "password": hana.password, "code": hana.code(1)})
    staff.get("/staff/sign-in/continue")
    path = f"/staff/cases/{only_report(db).public_id}"
    staff.post(f"{path}/handlers/{omar.public_id}/remove", data=hidden_fields(staff, path))
    db.expire_all()
    report = only_report(db)
    [content] = objects_of(db, report, ObjectKind.CONTENT)
    with pytest.raises(NoMatchError):
        decrypt_object(settings, content, omar.identity)  # the headers were rewritten
    assert b"took a bribe" in decrypt_object(settings, content, reporter_identity)
    [evidence] = objects_of(db, report, ObjectKind.FILE)
    assert decrypt_object(settings, evidence, reporter_identity) == EVIDENCE


def test_the_report_form_says_how_long_its_session_lasts_and_the_sign_in_page_does_not(
    client, channel_with_handlers
):
    form = client.get(REPORT_FORM).get_data(as_text=True)
    assert "this page's session ends after 120 minutes" in form.replace("&#39;", "'")
    assert 'id="session-time"' not in client.get("/followup").get_data(as_text=True)
