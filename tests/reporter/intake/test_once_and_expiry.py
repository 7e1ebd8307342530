"""Nothing a reporter types is lost, and nothing is sent twice (issue 11, item 7)."""

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from reporting_portal.reporter.intake.submission_tokens import (
    MAX_KEPT,
    SubmissionReplayedError,
    consume_submission_token,
    issue_submission_token,
)
from reporting_portal.storage.models import ObjectKind, Report, ReportObject, StoredSession
from tests.helpers import BASE_URL, csrf_token, https_client, submission_token
from tests.helpers.reporting import REPORT_FORM, blob_files, report_form_data, textarea_text

MAILBOX = "/followup/mailbox"
REPLY = "/followup/reply"
TYPED = "The invoice was signed by the deputy, not the mayor.\nI can send a copy."


def test_a_token_is_good_once_and_only_the_latest_are_kept():
    session: dict = {}
    tokens = [issue_submission_token(session) for _ in range(MAX_KEPT + 1)]
    assert len(session["submission_tokens"]) == MAX_KEPT
    with pytest.raises(SubmissionReplayedError):
        consume_submission_token(session, tokens[0])  # the oldest was let go
    consume_submission_token(session, tokens[-1])
    with pytest.raises(SubmissionReplayedError):
        consume_submission_token(session, tokens[-1])
    for missing in (None, "", "not-a-token"):
        with pytest.raises(SubmissionReplayedError):
            consume_submission_token(session, missing)
    consume_submission_token(session, tokens[1])  # the others still work


def reports(db) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(Report))


def messages(db) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(ReportObject).where(
        ReportObject.kind == ObjectKind.MESSAGE))


@pytest.mark.database
def test_sending_the_same_report_form_again_is_refused(client, db, settings,
                                                       channel_with_handlers):
    data = report_form_data(client)
    evidence = b"%PDF-1.7 the ledger"
    first = client.post(REPORT_FORM, data={**data, "q_evidence": (io.BytesIO(evidence), "a.pdf")},
                        content_type="multipart/form-data")
    assert first.status_code == 303
    blobs = blob_files(settings)
    # Back, then Send again: the very same form, token and all.
    again = client.post(REPORT_FORM, data={**data, "q_evidence": (io.BytesIO(evidence), "a.pdf")},
                        content_type="multipart/form-data")
    assert again.status_code == 409
    assert "This report was already sent, so it was not sent again." in again.get_data(
        as_text=True)
    assert reports(db) == 1
    assert blob_files(settings) == blobs


@pytest.mark.database
def test_a_report_form_without_its_token_is_refused(client, db, settings, channel_with_handlers):
    data = report_form_data(client)
    del data["submission_token"]
    response = client.post(REPORT_FORM, data=data, content_type="multipart/form-data")
    assert response.status_code == 409
    assert reports(db) == 0


@pytest.mark.database
def test_a_form_refused_for_a_missing_answer_can_be_corrected_and_sent(
    client, db, channel_with_handlers
):
    data = report_form_data(client, q_what=" ")
    assert client.post(REPORT_FORM, data=data,
                       content_type="multipart/form-data").status_code == 400
    data["q_what"] = "Now with an answer."
    assert client.post(REPORT_FORM, data=data,
                       content_type="multipart/form-data").status_code == 303
    assert reports(db) == 1


@pytest.mark.database
def test_sending_the_same_reply_again_is_refused(client, db, in_mailbox):
    data = {"csrf_token": csrf_token(client, MAILBOX),
            "submission_token": submission_token(client, MAILBOX), "q_message": TYPED}
    assert client.post(REPLY, data=data, content_type="multipart/form-data").status_code == 303
    again = client.post(REPLY, data=data, content_type="multipart/form-data")
    assert again.status_code == 409
    assert "This message was already sent, so it was not sent again." in again.get_data(
        as_text=True)
    assert messages(db) == 1


@pytest.mark.database
def test_forms_ask_the_browser_not_to_keep_what_was_typed(client, in_mailbox, app):
    for path in (MAILBOX, REPORT_FORM):
        page = client.get(path).get_data(as_text=True)
        form = re.search(r'<form[^>]*id="report-form"[^>]*>', page).group(0)
        assert 'autocomplete="off"' in form, path
        assert client.get(path).headers["Cache-Control"] == "no-store"


@pytest.fixture
def session_ends(app):
    """Let the reporter's idle time run out (15 minutes by default)."""

    def end() -> None:
        later = datetime.now(UTC) + timedelta(minutes=16)
        app.session_interface.clock = lambda: later

    return end


def typed_reply(client, **extra):
    return {"csrf_token": csrf_token(client, MAILBOX),
            "submission_token": submission_token(client, MAILBOX),
            "q_message": TYPED, **extra}


SAME_SITE = {"Origin": BASE_URL, "Sec-Fetch-Site": "same-origin"}


@pytest.mark.database
def test_a_reply_after_the_session_ended_comes_back_in_the_sign_in_form(
    client, db, settings, in_mailbox, session_ends
):
    data = typed_reply(client, q_attachments=(io.BytesIO(b"scan"), "scan.pdf"))
    blobs = blob_files(settings)
    session_ends()
    response = client.post(REPLY, data=data, content_type="multipart/form-data",
                           headers=SAME_SITE)
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "Follow up on your report" in page
    assert "Your session ended after 15 minutes without activity, so your message was not " \
           "sent." in page
    assert "Files you chose were not kept: add them again." in page
    carried = textarea_text(page, "carried_message")
    assert carried == TYPED
    assert messages(db) == 0
    assert blob_files(settings) == blobs
    # Nothing of it is in any stored session either (it travels in the page only).
    for sealed in db.scalars(select(StoredSession.sealed_data)):
        assert b"deputy" not in sealed

    # The reporter signs in again; the text is back in the reply box, not yet sent.
    app_clock_reset(client)
    signed_in = client.post("/followup", data={
        "csrf_token": csrf_token(client, "/followup"), "code": in_mailbox,
        "carried_message": carried})
    assert signed_in.status_code == 200
    mailbox = signed_in.get_data(as_text=True)
    assert "Your mailbox" in mailbox
    box = textarea_text(mailbox, "q_message")
    assert box == TYPED
    assert messages(db) == 0
    # And Send, with the tokens of that very page, delivers it, once.
    tokens = dict(re.findall(r'name="(csrf_token|submission_token)" value="([^"]+)"',
                             mailbox.split('id="report-form"')[1]))
    sent = client.post(REPLY, data={**tokens, "q_message": box},
                       content_type="multipart/form-data")
    assert sent.status_code == 303
    assert messages(db) == 1


def app_clock_reset(client):
    client.application.session_interface.clock = lambda: datetime.now(UTC)


@pytest.mark.database
def test_another_site_cannot_put_words_in_the_reply_box(client, db, in_mailbox, session_ends):
    data = typed_reply(client)
    session_ends()
    response = client.post(REPLY, data=data, content_type="multipart/form-data",
                           headers={"Origin": "https://elsewhere.example",
                                    "Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "deputy" not in page
    assert 'name="carried_message"' not in page
    assert messages(db) == 0


@pytest.mark.database
def test_an_encrypted_reply_after_the_session_ended_says_the_text_is_still_there(
    client, db, in_mailbox, session_ends
):
    data = {"csrf_token": csrf_token(client, MAILBOX),
            "submission_token": submission_token(client, MAILBOX), "mode": "encrypted",
            "content": (io.BytesIO(b"age-encryption.org/v1\n..."), "content.age")}
    session_ends()
    response = client.post(REPLY, data=data, content_type="multipart/form-data",
                           headers=SAME_SITE)
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    # The script shows this sentence (data-error-message) and keeps the text in its box.
    assert re.search(r'data-error-message data-session-ended>[^<]*copy it, reload the page',
                     page)
    assert "Files you chose" not in page  # none were chosen
    assert messages(db) == 0


@pytest.mark.database
def test_signing_in_with_a_wrong_code_keeps_the_text(client, in_mailbox, session_ends):
    response = client.post("/followup", data={
        "csrf_token": csrf_token(client, "/followup"), "code": "1234",
        "carried_message": TYPED})
    page = response.get_data(as_text=True)
    assert "This code does not open a report" in page
    assert textarea_text(page, "carried_message") == TYPED


@pytest.mark.database
def test_a_double_click_sends_one_report_and_points_to_its_receipt(
    app, client, db, settings, channel_with_handlers, monkeypatch
):
    """Two requests with the same form at the same moment, each having loaded the session
    before the other changed it: exactly one report, and the other answer leads to it."""
    import threading
    import time

    from reporting_portal.reporter.intake import views

    data = report_form_data(client)
    cookie = client.get_cookie("__Host-session", domain="localhost").value
    real_submit = views.submit_report
    both_loaded = threading.Barrier(2, timeout=10)

    def slow_submit(*args, **kwargs):
        both_loaded.wait()  # both have read the session and checked the token
        result = real_submit(*args, **kwargs)
        time.sleep(0.3)  # and both are inside the window at once
        return result

    monkeypatch.setattr(views, "submit_report", slow_submit)
    answers: list = []

    def click() -> None:
        twin = https_client(app)
        twin.set_cookie("__Host-session", cookie, domain="localhost", secure=True)
        response = twin.post(REPORT_FORM, data=dict(data), content_type="multipart/form-data")
        answers.append((response.status_code, response.get_data(as_text=True), twin))

    clicks = [threading.Thread(target=click) for _ in range(2)]
    for thread in clicks:
        thread.start()
    for thread in clicks:
        thread.join(timeout=30)
    assert sorted(status for status, _, _ in answers) == [303, 409]
    assert reports(db) == 1
    [(_, refused_page, twin)] = [a for a in answers if a[0] == 409]
    assert 'id="receipt-pending"' in refused_page
    receipt = twin.get("/report/receipt").get_data(as_text=True)
    assert re.search(r'id="receipt-code"', receipt)


@pytest.mark.database
def test_a_report_sent_after_its_session_ended_comes_back_with_its_answers(
    app, client, db, settings, channel_with_handlers
):
    data = report_form_data(client, q_what="It started in March.\nThe invoices are fake.",
                            identity_name="Ana",
                            q_evidence=(io.BytesIO(b"%PDF-1.7 ledger"), "ledger.pdf"))
    later = datetime.now(UTC) + timedelta(hours=3)  # the page stayed open over lunch
    app.session_interface.clock = lambda: later
    response = client.post(REPORT_FORM, data=data, content_type="multipart/form-data",
                           headers=SAME_SITE)
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "its session ended, so nothing was sent" in page
    assert "add any files again" in page
    assert textarea_text(page, "q_what") == "It started in March.\nThe invoices are fake."
    assert 'value="Ana"' in page
    assert reports(db) == 0
    assert blob_files(settings) == []
    # The page's new tokens work: the reporter presses Send again.
    tokens = dict(re.findall(r'name="(csrf_token|submission_token)" (?:type="hidden" )?'
                             r'value="([^"]+)"', page))
    assert set(tokens) == {"csrf_token", "submission_token"}
    again = client.post(REPORT_FORM, data={**data, **tokens, "q_evidence": (
        io.BytesIO(b"%PDF-1.7 ledger"), "ledger.pdf")}, content_type="multipart/form-data")
    assert again.status_code == 303
    assert reports(db) == 1


@pytest.mark.database
def test_another_site_cannot_fill_in_a_report_form(client, db, channel_with_handlers):
    response = client.post(REPORT_FORM, data={"csrf_token": "x", "q_what": "PLANTED"},
                           content_type="multipart/form-data",
                           headers={"Origin": "https://elsewhere.example"})
    assert response.status_code == 403
    assert "PLANTED" not in response.get_data(as_text=True)
    assert reports(db) == 0


@pytest.fixture
def small_files(app):
    app.extensions["settings"] = app.extensions["settings"].replace(
        submission_max_bytes=64 * 1024)


@pytest.mark.database
@pytest.mark.parametrize("refusal", ["too large", "nobody could read it"])
def test_a_refused_report_shows_its_answers_again(
    client, db, settings, channel_with_handlers, small_files, refusal
):
    extra = ({"q_evidence": (io.BytesIO(b"x" * 100_000), "big.bin")} if refusal == "too large"
             else {"exclude": [channel_with_handlers["hana"].public_id,
                               channel_with_handlers["omar"].public_id]})
    data = report_form_data(client, q_what="The tender was rigged in March.", **extra)
    response = client.post(REPORT_FORM, data=data, content_type="multipart/form-data")
    assert response.status_code in {400, 413}
    page = response.get_data(as_text=True)
    assert textarea_text(page, "q_what") == "The tender was rigged in March."
    assert "field__error" not in page  # no field was wrong
    assert reports(db) == 0
    assert blob_files(settings) == []


@pytest.mark.database
def test_a_reply_refused_as_too_large_stays_in_the_reply_box(
    client, db, settings, in_mailbox, small_files
):
    data = typed_reply(client, q_attachments=(io.BytesIO(b"x" * 100_000), "big.bin"))
    response = client.post(REPLY, data=data, content_type="multipart/form-data")
    assert response.status_code == 413
    assert textarea_text(response.get_data(as_text=True), "q_message") == TYPED
    assert messages(db) == 0


@pytest.mark.database
def test_a_server_error_after_the_token_is_taken_leaves_the_form_sendable(
        client, db, channel_with_handlers, monkeypatch):
    import reporting_portal.reporter.intake.views as intake_views

    data = report_form_data(client)

    def broken(*_args, **_kwargs):
        raise RuntimeError("the mail queue is down")

    monkeypatch.setattr(intake_views, "notify_new_items", broken)
    failed = client.post(REPORT_FORM, data=data, content_type="multipart/form-data")
    assert failed.status_code == 500
    assert reports(db) == 0
    # No receipt for a report that was never stored...
    assert client.get("/report/receipt").status_code == 302
    # ...and the same page can be sent again once the fault is gone.
    monkeypatch.undo()
    again = client.post(REPORT_FORM, data=data, content_type="multipart/form-data")
    assert again.status_code == 303
    assert reports(db) == 1
