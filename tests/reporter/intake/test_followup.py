"""The reporter's mailbox: receipt sign-in, status, messages both ways, throttling."""

import re

import pytest
from sqlalchemy import select

from crypto import NoMatchError
from reporting_portal.domain.messages import post_message
from reporting_portal.storage.models import ObjectKind, Report, ReportStatus, StaffAccount
from tests.helpers import csrf_token, submission_token
from tests.helpers.reporting import (
    REPORT_FORM,
    decrypt_object,
    objects_of,
    only_report,
    open_mailbox,
    receipt_code_from,
    report_form_data,
)

pytestmark = pytest.mark.database


@pytest.fixture
def submitted(client, channel_with_handlers):
    client.post(REPORT_FORM, data=report_form_data(client), content_type="multipart/form-data")
    code = receipt_code_from(client.get("/report/receipt").get_data(as_text=True))
    client.delete_cookie("__Host-session", domain="localhost")  # a later visit
    return code


def test_receipt_opens_the_mailbox_with_status_and_dates(client, submitted, db):
    response = open_mailbox(client, submitted)
    assert response.headers["Location"] == "/followup/mailbox"
    page = client.get("/followup/mailbox").get_data(as_text=True)
    assert "Your mailbox" in page
    assert re.search(r'id="case-status">Status: <strong>Received</strong>', page)
    report = only_report(db)
    assert "Acknowledgement expected by" in page
    assert (report.received_on.replace(day=report.received_on.day)).isoformat() in page


@pytest.mark.parametrize("shape", ["dashes", "no-separators", "full-width"])
def test_code_is_accepted_with_any_separators(client, submitted, shape):
    digits = submitted.replace(" ", "")
    typed = {
        "dashes": "-".join(digits[i:i + 4] for i in range(0, 28, 4)),
        "no-separators": digits,
        "full-width": "".join(chr(ord(d) - ord("0") + 0xFF10) for d in digits),
    }[shape]
    assert open_mailbox(client, typed).headers["Location"] == "/followup/mailbox"


def test_a_typo_is_caught_by_the_check_digit(client, submitted):
    digits = list(submitted.replace(" ", ""))
    digits[5] = str((int(digits[5]) + 1) % 10)
    page = open_mailbox(client, "".join(digits)).get_data(as_text=True)
    assert "There is a typo in this code" in page


def test_wrong_and_unknown_codes_get_the_same_answer(client, submitted, db):
    from crypto.receipt import format_receipt_code, generate_receipt_code

    unknown = open_mailbox(client, format_receipt_code(generate_receipt_code()))
    garbage = open_mailbox(client, "1234")
    texts = {re.search(r'id="receipt-error"[^>]*>([^<]+)<', r.get_data(as_text=True)).group(1)
             for r in (unknown, garbage)}
    assert texts == {"This code does not open a report. Check it and try again."}
    assert client.get("/followup/mailbox").headers["Location"] == "/followup"


def test_mailbox_needs_a_receipt_sign_in(client, installed):
    assert client.get("/followup/mailbox").headers["Location"] == "/followup"
    # A reply without a mailbox is answered with the sign-in form, never sent anywhere.
    refused = client.post("/followup/reply")
    assert refused.status_code == 403
    assert 'id="session-ended"' in refused.get_data(as_text=True)


def test_handler_message_is_read_and_answered(app, client, submitted, db, settings,
                                             channel_with_handlers):
    from reporting_portal.storage.blobstore import open_blob_store

    hana = db.scalar(select(StaffAccount).where(StaffAccount.username == "hana"))
    report = only_report(db)
    with app.app_context():
        post_message(db, open_blob_store(settings), report,
                     text="Thank you. Do you know the invoice number?", author=hana)
        db.commit()
    open_mailbox(client, submitted)
    page = client.get("/followup/mailbox").get_data(as_text=True)
    assert "Do you know the invoice number?" in page

    import io

    response = client.post("/followup/reply", data={
        "csrf_token": csrf_token(client, "/followup/mailbox"),
        "submission_token": submission_token(client, "/followup/mailbox"),
        "q_message": "It is 4711-B, paid on 2 October.",
        "q_attachments": [(io.BytesIO(b"scan of invoice"), "invoice-4711.pdf")],
    }, content_type="multipart/form-data")
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your message was sent." in page
    assert "It is 4711-B" in page
    assert "invoice-4711.pdf" in page

    db.expire_all()
    messages = objects_of(db, report, ObjectKind.MESSAGE)
    reply = messages[-1]
    assert b"4711-B" in decrypt_object(settings, reply, channel_with_handlers["hana"].identity)
    attachment = objects_of(db, report, ObjectKind.FILE)[-1]
    assert attachment.parent_id == reply.id
    assert decrypt_object(settings, attachment, channel_with_handlers["omar"].identity) == (
        b"scan of invoice")
    with pytest.raises(NoMatchError):
        decrypt_object(settings, reply, channel_with_handlers["cleo"].identity)


def test_status_in_plain_words_with_closing_outcome(client, submitted, db):
    report = db.scalar(select(Report))
    report.status = ReportStatus.CLOSED
    report.closing_outcome = "Referred to the prosecutor"
    db.commit()
    open_mailbox(client, submitted)
    page = client.get("/followup/mailbox").get_data(as_text=True)
    assert "<strong>Closed</strong> — Referred to the prosecutor" in page


def test_sign_out_ends_the_mailbox_session_and_advises_closing(client, submitted):
    open_mailbox(client, submitted)
    response = client.post("/followup/sign-out",
                           data={"csrf_token": csrf_token(client, "/followup/mailbox")})
    assert "close this browser window" in response.get_data(as_text=True)
    assert client.get("/followup/mailbox").headers["Location"] == "/followup"


def test_global_budget_throttles_receipt_sign_ins_without_javascript(app, client, submitted):
    app.extensions["settings"] = app.extensions["settings"].replace(
        receipt_plain_attempts_per_minute=2)
    from crypto.receipt import format_receipt_code, generate_receipt_code

    for _ in range(2):
        open_mailbox(client, format_receipt_code(generate_receipt_code()))
    busy = open_mailbox(client, submitted)
    assert busy.status_code == 429
    assert "Too many people are signing in" in busy.get_data(as_text=True)


def test_reporter_session_expires_after_15_idle_minutes(app, client, submitted):
    from datetime import timedelta

    from tests.helpers import StoppedClock

    clock = StoppedClock()
    app.session_interface.clock = clock
    open_mailbox(client, submitted)
    clock.now += timedelta(minutes=14)
    assert client.get("/followup/mailbox").status_code == 200
    clock.now += timedelta(minutes=16)
    assert client.get("/followup/mailbox").headers["Location"] == "/followup"
