"""Reporting retaliation from the mailbox: a message of its own type that marks the case."""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from crypto import NoMatchError, encrypt, parse_recipient
from reporting_portal.storage.models import (
    AuditEvent,
    CaseChange,
    HeldAuditEvent,
    MessageType,
    ObjectKind,
    Priority,
)
from tests.helpers import csrf_token, submission_token
from tests.helpers.reporting import (
    blob_files,
    decrypt_object,
    objects_of,
    only_report,
    page_recipients,
    textarea_text,
)
from tests.helpers.staff import signed_in

pytestmark = pytest.mark.database

FORM = "/followup/mailbox/retaliation"
WHAT = "Two weeks after my report I was moved to the night shift in the warehouse."
WHO = "The deputy director of procurement"
EVIDENCE = b"%PDF-1.7 the transfer order"


def retaliation_form(client, **extra) -> dict:
    data = {"csrf_token": csrf_token(client, FORM),
            "submission_token": submission_token(client, FORM),
            "q_forms": ["contract", "harassment"],
            "q_what_happened": WHAT, "q_happened_on": "2026-11-20", "q_by_whom": WHO,
            "q_attachments": [(io.BytesIO(EVIDENCE), "transfer-order.pdf")]}
    data.update(extra)
    return data


def send(client, **extra):
    return client.post(FORM, data=retaliation_form(client, **extra),
                       content_type="multipart/form-data")


def handler_identity(channel_with_handlers) -> str:
    identity = channel_with_handlers["hana"].identity
    assert identity is not None
    return identity


def test_the_mailbox_links_to_the_form(client, in_mailbox):
    page = client.get("/followup/mailbox").get_data(as_text=True)
    assert f'href="{FORM}" id="report-retaliation"' in page
    form = client.get(FORM).get_data(as_text=True)
    assert 'id="q_what_happened"' in form
    assert 'type="date" name="q_happened_on"' in form


def test_a_report_without_javascript_is_an_encrypted_message_and_marks_the_case(
        client, db, in_mailbox, channel_with_handlers, settings):
    response = send(client)
    assert response.status_code == 303
    assert response.headers["Location"] == "/followup/mailbox?retaliation=1"

    report = only_report(db)
    assert report.retaliation_reports == 1
    assert report.retaliation_reported_on == datetime.now(UTC).date()
    assert report.priority == Priority.HIGH
    message = next(m for m in objects_of(db, report, ObjectKind.MESSAGE)
                   if m.message_type == MessageType.RETALIATION)
    assert message.from_reporter
    assert message.created_at is None
    document = json.loads(decrypt_object(settings, message, handler_identity(
        channel_with_handlers)))
    # The forms ticked are kept as codes, in the form's order (art. 19's list).
    assert document["answers"] == {"forms": ["harassment", "contract"], "what_happened": WHAT,
                                   "happened_on": "2026-11-20", "by_whom": WHO}
    assert document["files"][0]["name"] == "transfer-order.pdf"
    attached = [f for f in objects_of(db, report, ObjectKind.FILE) if f.parent_id == message.id]
    assert decrypt_object(settings, attached[0], handler_identity(channel_with_handlers)) \
        == EVIDENCE
    # Nothing of it in the clear: not in the blobs, not in the database's rows.
    for path in blob_files(settings):
        data = path.read_bytes()
        assert WHAT.encode() not in data
        assert EVIDENCE not in data
    assert WHAT.encode() not in message.header

    page = client.get("/followup/mailbox?retaliation=1").get_data(as_text=True)
    assert 'id="retaliation-sent"' in page
    assert "Coercion, intimidation, harassment or ostracism; A temporary contract" in page
    assert "Report of retaliation" in page
    assert WHAT in page
    assert WHO in page


def test_the_priority_raise_is_the_systems_dated_to_the_day_and_held(
        client, db, in_mailbox):
    before = db.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
    assert send(client).status_code == 303
    report = only_report(db)
    change = db.scalar(select(CaseChange).where(CaseChange.report_id == report.id,
                                                CaseChange.action == "case.priority_changed"))
    assert change.actor_id is None
    assert change.detail == {"old": "normal", "new": "high", "cause": "retaliation"}
    today = datetime.now(UTC).date()
    assert change.occurred_at.replace(tzinfo=UTC) == datetime.combine(today, time(0), UTC)
    held = {(e.action, e.actor_role) for e in db.scalars(select(HeldAuditEvent))
            if e.object_id == report.public_id}
    assert {("reporter.retaliation_reported", "reporter"),
            ("case.priority_changed", "system")} <= held
    # No event with an exact time joined the log for the act.
    new = db.scalars(select(AuditEvent).where(AuditEvent.id > (before or 0))).all()
    assert [e.action for e in new if e.object_id == report.public_id] == []


def test_an_urgent_case_stays_urgent_and_each_report_is_counted(client, db, in_mailbox):
    report = only_report(db)
    report.priority = Priority.URGENT
    db.commit()
    assert send(client).status_code == 303
    assert send(client, q_attachments=[]).status_code == 303
    db.expire_all()
    report = only_report(db)
    assert report.priority == Priority.URGENT
    assert report.retaliation_reports == 2
    assert db.scalar(select(CaseChange).where(CaseChange.report_id == report.id)) is None


@pytest.mark.parametrize(("fields", "said"), [
    ({"q_what_happened": "   "}, "Say what happened."),
    ({"q_happened_on": ""}, "Give the day as year-month-day"),
    ({"q_happened_on": "20/11/2026"}, "Give the day as year-month-day"),
    ({"q_happened_on": (date.today() + timedelta(days=5)).isoformat()},
     "The day cannot be in the future."),
    ({"q_happened_on": "1900-01-01"}, "it is too long ago"),
    ({"q_by_whom": "x" * 501}, "Who did it is too long"),
    ({"q_forms": ["dismissal", "exile"]}, "The form was not sent as expected"),
])
def test_bad_input_is_refused_with_nothing_stored_and_the_text_kept(
        client, db, in_mailbox, settings, fields, said):
    blobs_before = len(blob_files(settings))
    response = send(client, **fields)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert said in page
    if "q_what_happened" not in fields:
        assert textarea_text(page, "q_what_happened") == WHAT
    report = only_report(db)
    assert report.retaliation_reports == 0
    assert report.priority == Priority.NORMAL
    assert [m for m in objects_of(db, report, ObjectKind.MESSAGE) if m.message_type] == []
    assert len(blob_files(settings)) == blobs_before  # the file's blob went with the refusal


def test_the_browsers_encrypted_report_is_stored_as_sent(client, db, in_mailbox,
                                                         channel_with_handlers, settings):
    recipients = page_recipients(client, FORM)
    document = {"version": 1, "answers": {"what_happened": WHAT, "happened_on": "2026-11-20",
                                          "by_whom": ""}, "files": []}
    sealed = io.BytesIO()
    encrypt(io.BytesIO(json.dumps(document).encode()), sealed,
            [parse_recipient(r) for r in recipients])
    response = client.post(FORM, data={
        "csrf_token": csrf_token(client, FORM), "submission_token": submission_token(client, FORM),
        "mode": "encrypted", "content": (io.BytesIO(sealed.getvalue()), "content.age")},
        content_type="multipart/form-data")
    assert response.status_code == 303
    report = only_report(db)
    message = next(m for m in objects_of(db, report, ObjectKind.MESSAGE)
                   if m.message_type == MessageType.RETALIATION)
    assert json.loads(decrypt_object(settings, message, handler_identity(
        channel_with_handlers)))["answers"]["what_happened"] == WHAT
    assert report.retaliation_reports == 1
    assert report.priority == Priority.HIGH
    assert WHAT in client.get("/followup/mailbox").get_data(as_text=True)


def test_the_same_form_is_not_filed_twice(client, db, in_mailbox):
    data = retaliation_form(client)
    assert client.post(FORM, data=data, content_type="multipart/form-data").status_code == 303
    data["q_attachments"] = []
    again = client.post(FORM, data=data, content_type="multipart/form-data")
    assert again.status_code == 409
    assert only_report(db).retaliation_reports == 1


def test_the_form_needs_the_mailbox(client, installed):
    assert client.get(FORM).headers["Location"] == "/followup"
    refused = client.post(FORM)
    assert refused.status_code == 403
    assert 'id="session-ended"' in refused.get_data(as_text=True)


def test_a_case_handler_sees_the_mark_and_the_report_in_the_timeline(
        app, client, db, in_mailbox, channel_with_handlers):
    assert send(client).status_code == 303
    report = only_report(db)
    staff = signed_in(app, channel_with_handlers["hana"])
    inbox = staff.get("/staff/cases").get_data(as_text=True)
    assert re.search(r'class="retaliation-mark" data-retaliation>Retaliation reported<', inbox)
    page = staff.get(f"/staff/cases/{report.public_id}").get_data(as_text=True)
    assert 'id="retaliation-mark">Retaliation reported<' in page
    assert "What was done: Coercion, intimidation, harassment or ostracism" in page
    assert f"What happened: {WHAT}" in page
    assert f"By whom: {WHO}" in page
    assert "Priority raised to High: the reporter reported retaliation" in page
    assert "transfer-order.pdf" in page


def test_a_retaliation_report_is_not_for_another_reporter(client, db, in_mailbox, settings):
    from crypto.keys import generate_identity

    assert send(client).status_code == 303
    report = only_report(db)
    message = next(m for m in objects_of(db, report, ObjectKind.MESSAGE)
                   if m.message_type == MessageType.RETALIATION)
    with pytest.raises(NoMatchError):
        decrypt_object(settings, message, generate_identity().to_string())
