"""Workflow guard-rails: closing past a legal deadline asks first; reopening; days left."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from reporting_portal.staff.casework.deadline_words import Tone, days_left
from reporting_portal.storage.models import AuditEvent, ObjectKind, Report, ReportObject, Role
from tests.helpers import csrf_token, hidden_fields, https_client, submission_token
from tests.helpers.staff import signed_in

pytestmark = pytest.mark.database

ACK_LAW = "art. 9(1)(b)"
FEEDBACK_LAW = "art. 9(1)(f)"


def post(client, path, form_path, **data):
    """Send a form of the page at ``form_path`` with its hidden fields, as a browser would."""
    return client.post(path, data={**hidden_fields(client, form_path), **data})


def close(client, path, **extra):
    return post(client, f"{path}/status", path, status="closed", outcome="not_substantiated",
                **extra)


def the_report(db) -> Report:
    db.expire_all()
    return db.scalar(select(Report))


# --- closing ------------------------------------------------------------------------------


def test_closing_a_case_never_acknowledged_asks_and_names_both_deadlines(
    client, case_with_file, sign_in, db, channel_with_handlers
):
    sign_in(channel_with_handlers["hana"])
    path = f"/staff/cases/{case_with_file}"
    asked = close(client, path)
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200
    assert "Close this case?" in page
    assert "The report was never acknowledged." in page
    assert f"{ACK_LAW}: acknowledge receipt within 7 days" in page
    assert f"{FEEDBACK_LAW}: give feedback within 3 months" in page
    assert 'name="close_anyway" value="y" required' in page
    assert the_report(db).status == "received"  # nothing changed yet

    # Sent back without the tick (a browser ignoring "required"): asked again.
    again = client.post(f"{path}/status", data=hidden_fields(client, path) | {
        "status": "closed", "outcome": "not_substantiated"})
    assert "Close this case?" in again.get_data(as_text=True)
    assert the_report(db).status == "received"

    # The confirmation page's own form, ticked, closes it.
    confirm = {**hidden_fields(client, path), "status": "closed",
               "outcome": "not_substantiated", "close_anyway": "y"}
    assert client.post(f"{path}/status", data=confirm).status_code == 302
    report = the_report(db)
    assert (report.status, report.closing_outcome) == ("closed", "not_substantiated")


def test_closing_after_acknowledgement_without_feedback_names_only_the_feedback_deadline(
    client, case_with_file, sign_in, db, channel_with_handlers
):
    sign_in(channel_with_handlers["hana"])
    path = f"/staff/cases/{case_with_file}"
    post(client, f"{path}/acknowledge", path, message="We have your report.")
    page = close(client, path).get_data(as_text=True)
    assert "The reporter was never given feedback." in page
    assert FEEDBACK_LAW in page
    assert ACK_LAW not in page
    assert the_report(db).status == "acknowledged"


@pytest.mark.parametrize("first_step", ["acknowledge", "move on"])
def test_closing_after_feedback_asks_nothing(client, case_with_file, sign_in, db,
                                             channel_with_handlers, first_step):
    sign_in(channel_with_handlers["hana"])
    path = f"/staff/cases/{case_with_file}"
    if first_step == "acknowledge":
        post(client, f"{path}/acknowledge", path, message="We have your report.")
    else:  # moving a case on acknowledges it without a message
        post(client, f"{path}/status", path, status="investigation")
    post(client, f"{path}/messages", path, reply="We looked into it; here is what we found.")
    assert close(client, path).status_code == 302
    assert the_report(db).status == "closed"


def test_a_reporters_message_is_not_feedback(client, case_with_file, sign_in, db, app,
                                             channel_with_handlers):
    code = client.receipt_code
    sign_in(channel_with_handlers["hana"])
    path = f"/staff/cases/{case_with_file}"
    post(client, f"{path}/acknowledge", path, message="We have your report.")
    reporter = https_client(app)
    reporter.post("/followup", data={"csrf_token": csrf_token(reporter, "/followup"),
                                     "code": code})
    sent = reporter.post("/followup/reply", data={
        "csrf_token": csrf_token(reporter, "/followup/mailbox"),
        "submission_token": submission_token(reporter, "/followup/mailbox"),
        "q_message": "Any news?"}, content_type="multipart/form-data")
    assert sent.status_code == 303
    assert FEEDBACK_LAW in close(client, path).get_data(as_text=True)


# --- reopening ----------------------------------------------------------------------------


def closed_case(client, path):
    post(client, f"{path}/acknowledge", path, message="We have your report.")
    post(client, f"{path}/status", path, status="investigation")
    assert close(client, path, close_anyway="y").status_code == 302


def test_reopening_needs_a_reason_and_returns_the_case_to_assessment(
    client, case_with_file, sign_in, db, channel_with_handlers
):
    sign_in(channel_with_handlers["hana"])
    path = f"/staff/cases/{case_with_file}"
    closed_case(client, path)
    closed = the_report(db)
    assert closed.purge_after is not None
    version = closed.version
    page = client.get(path).get_data(as_text=True)
    assert "Reopen the case" in page

    blank = post(client, f"{path}/reopen", path, reason="   ")
    assert blank.status_code == 400
    assert "Say why the case is reopened." in blank.get_data(as_text=True)
    too_long = post(client, f"{path}/reopen", path, reason="x" * 2001)
    assert too_long.status_code == 400
    assert "Field cannot be longer than 2000 characters." in too_long.get_data(as_text=True)
    assert "x" * 2001 in too_long.get_data(as_text=True)  # what was typed is kept
    assert the_report(db).status == "closed"

    reason = "REOPEN-REASON-9: the minutes of the meeting arrived."
    done = post(client, f"{path}/reopen", path, reason=reason)
    assert done.status_code == 302
    report = the_report(db)
    assert (report.status, report.closing_outcome) == ("assessment", None)
    assert (report.closed_on, report.purge_after) == (None, None)
    assert report.version == version + 1
    page = client.get(path).get_data(as_text=True)
    assert "Case reopened." in page
    assert reason in page  # the handlers read it, as an internal note
    assert "Reopen the case" not in page
    note = db.scalars(select(ReportObject).where(ReportObject.kind == ObjectKind.NOTE)).one()
    assert note.author is not None
    actions = list(db.scalars(select(AuditEvent.action).where(AuditEvent.outcome == "success")))
    assert "case.reopened" in actions


def test_a_case_closed_before_acknowledgement_reopens_as_received(
    client, case_with_file, sign_in, db, channel_with_handlers
):
    sign_in(channel_with_handlers["hana"])
    path = f"/staff/cases/{case_with_file}"
    assert close(client, path, close_anyway="y").status_code == 302
    post(client, f"{path}/reopen", path, reason="Closed by mistake.")
    assert the_report(db).status == "received"
    assert "Acknowledge receipt" in client.get(path).get_data(as_text=True)


def test_only_the_cases_handlers_may_reopen(app, client, case_with_file, sign_in, db,
                                            channel_with_handlers, make_staff):
    sign_in(channel_with_handlers["hana"])
    path = f"/staff/cases/{case_with_file}"
    closed_case(client, path)
    form = hidden_fields(client, path)
    outsider = signed_in(app, make_staff("zoe", Role.CASE_HANDLER), 1)
    auditor = signed_in(app, make_staff("aude", Role.AUDITOR), 1)
    # A handler not on the case hears the case does not exist; other roles are refused.
    for other, refusal in ((outsider, 404), (auditor, 403)):
        token = hidden_fields(other, "/staff/")["csrf_token"]
        response = other.post(f"{path}/reopen", data={**form, "csrf_token": token,
                                                      "reason": "Let me in."})
        assert response.status_code == refusal
    assert the_report(db).status == "closed"
    assert the_report(db).purge_after is not None


def test_only_a_closed_case_is_reopened(client, case_with_file, sign_in, db,
                                        channel_with_handlers):
    sign_in(channel_with_handlers["hana"])
    path = f"/staff/cases/{case_with_file}"
    refused = client.post(f"{path}/reopen", data={**hidden_fields(client, path),
                                                  "reason": "Why not."})
    assert refused.status_code == 400
    assert "Only a closed case can be reopened." in refused.get_data(as_text=True)
    assert the_report(db).status == "received"


# --- days left ----------------------------------------------------------------------------

TODAY = date(2026, 3, 10)


@pytest.mark.parametrize(("due", "words", "tone"), [
    (TODAY, "Due today", Tone.NEAR),
    (TODAY + timedelta(days=1), "1 day left", Tone.NEAR),
    (TODAY + timedelta(days=2), "2 days left", Tone.NEAR),
    (TODAY + timedelta(days=3), "3 days left", Tone.AHEAD),
    (TODAY - timedelta(days=1), "Overdue by 1 day", Tone.OVERDUE),
    (TODAY - timedelta(days=2), "Overdue by 2 days", Tone.OVERDUE),
])
def test_days_left_in_words(app, due, words, tone):
    with app.test_request_context("/?lang=en"):
        assert days_left(due, TODAY) == (words, tone)


@pytest.mark.parametrize(("shift", "words", "css"), [
    (0, "Due today", "deadline--near"),
    (1, "1 day left", "deadline--near"),
    (-2, "Overdue by 2 days", "deadline--overdue"),
])
def test_the_case_page_says_how_far_the_deadlines_are(client, case_with_file, sign_in, db,
                                                      channel_with_handlers, shift, words, css):
    today = datetime.now(UTC).date()
    report = db.scalar(select(Report))
    report.acknowledgement_due = today + timedelta(days=shift)
    report.feedback_due = today + timedelta(days=100)
    db.commit()
    sign_in(channel_with_handlers["hana"])
    page = client.get(f"/staff/cases/{case_with_file}?lang=en").get_data(as_text=True)
    assert f'<strong class="deadline {css}">{words}</strong>' in page
    assert "100 days left" in page
