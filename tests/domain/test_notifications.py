"""E-mail notices through the outbox: queued by the request, sent by ``send-notices``,
against a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, inspect, select

from reporting_portal.domain.notifications import notify_new_items
from reporting_portal.domain.outbox import window_of
from reporting_portal.storage.models import (
    CaseRead,
    Channel,
    NoticeOutbox,
    NoticeState,
    Report,
    ReportObject,
    StaffAccount,
)
from reporting_portal.web.database import get_session
from tests.helpers.client import csrf_token, submission_token
from tests.helpers.custody import JUSTIFICATION, ask
from tests.helpers.notices import ADDRESSES, give_addresses, outbox_rows, use_settings
from tests.helpers.reporting import (
    REPORT_FORM,
    open_mailbox,
    plaintext_form,
    receipt_code_from,
)
from tests.helpers.smtp import free_port
from tests.helpers.staff import signed_in

pytestmark = pytest.mark.database

MAILBOX = "/followup/mailbox"


def submit(client) -> str:
    """Submit a report through the real no-JavaScript form; return its receipt code."""
    response = client.post(REPORT_FORM, data=plaintext_form(client),
                           content_type="multipart/form-data")
    assert response.status_code == 303
    code = receipt_code_from(client.get("/report/receipt").get_data(as_text=True))
    client.delete_cookie("__Host-session", domain="localhost")
    return code


def reply(client, code: str, text: str = "One more thing.") -> None:
    """The reporter signs in with the receipt code and replies without JavaScript."""
    assert open_mailbox(client, code).headers["Location"] == MAILBOX
    response = client.post("/followup/reply", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(client, MAILBOX),
        "submission_token": submission_token(client, MAILBOX), "q_message": text})
    assert response.status_code == 303
    client.delete_cookie("__Host-session", domain="localhost")


def test_each_handler_with_an_address_gets_one_contentless_notice(
    app, client, db, mail_on, run_sender, channel_with_handlers
):
    give_addresses(db, ["hana", "omar", "cleo"])
    receipt_code = submit(client)
    assert mail_on.collector.messages == []  # the request only queued; the timer sends

    summary = run_sender()
    assert (summary.sent, summary.retrying, summary.failed) == (2, 0, 0)
    mails = mail_on.collector.by_address()
    # The custodian has no grant on the report: no notice.
    assert sorted(mails) == ["hana@example.org", "omar@example.org"]
    organisation = app.extensions["settings"].organisation_name
    for mail in mails.values():
        assert mail["Subject"] == f"{organisation}: new items"
        assert mail.get_content().strip() == (
            f"You have 1 new item waiting in {organisation}. Sign in to read them.")

    report = db.scalar(select(Report))
    channel = db.scalar(select(Channel))
    answers = plaintext_form(client)
    leaks = [report.public_id, channel.name, channel.slug, channel.public_id,
             receipt_code.replace(" ", ""), answers["q_what"], answers["q_where"], "/staff/cases",
             ADDRESSES["cleo"]]
    for recipients, raw in mail_on.collector.messages:
        text = raw.decode("utf-8", "replace")
        others = [address for address in ADDRESSES.values() if address not in recipients]
        for leak in [*leaks, *others]:
            assert leak not in text
    assert run_sender().sent == 0  # sent once, never again


def test_a_report_and_a_reply_in_one_window_make_one_mail_with_the_right_count(
    app, client, db, mail_on, run_sender, channel_with_handlers
):
    use_settings(app, notification_window_minutes=60)
    give_addresses(db, ["hana", "omar"])
    first = submit(client)
    submit(client)
    reply(client, first)
    window = window_of(datetime.now(UTC), 60)
    assert run_sender(window.due - timedelta(seconds=1)).sent == 0  # the window is open
    assert mail_on.collector.messages == []

    assert run_sender(window.due).sent == 2
    mails = mail_on.collector.by_address()  # fails on a second mail to anyone
    assert sorted(mails) == ["hana@example.org", "omar@example.org"]
    for mail in mails.values():
        assert "You have 2 new items waiting" in mail.get_content()
    assert [(row.window_start, row.state) for row in outbox_rows(db)] == [
        (window.start, NoticeState.SENT), (window.start, NoticeState.SENT)]


def test_the_count_is_of_cases_with_unread_reporter_activity_when_sent(
    client, db, mail_on, run_sender, channel_with_handlers
):
    give_addresses(db, ["hana", "omar"])
    submit(client)
    run_sender()
    mail_on.collector.messages.clear()
    first = db.scalar(select(Report))
    submit(client)
    # Hana reads the first report up to its newest object before the mail goes out.
    hana = db.scalar(select(StaffAccount).where(StaffAccount.username == "hana"))
    newest = db.scalar(select(func.max(ReportObject.id)).where(ReportObject.report_id == first.id))
    db.add(CaseRead(report_id=first.id, staff_id=hana.id, last_object_id=newest))
    db.commit()

    run_sender()
    bodies = {address: mail.get_content()
              for address, mail in mail_on.collector.by_address().items()}
    assert "You have 1 new item waiting" in bodies["hana@example.org"]
    assert "You have 2 new items waiting" in bodies["omar@example.org"]


def test_inactive_handlers_and_handlers_without_address_get_nothing(
    client, db, mail_on, run_sender, channel_with_handlers
):
    give_addresses(db, ["hana", "omar"])
    db.scalar(select(StaffAccount).where(StaffAccount.username == "hana")).email = None
    db.commit()
    submit(client)
    # Omar is deactivated after the news was queued: the address is looked up at sending.
    db.scalar(select(StaffAccount).where(StaffAccount.username == "omar")).is_active = False
    db.commit()

    summary = run_sender()
    assert (summary.sent, summary.dropped) == (0, 1)
    assert mail_on.collector.messages == []


def test_the_outbox_holds_no_address(client, db, mail_on, run_sender, channel_with_handlers):
    give_addresses(db, ["hana", "omar"])
    submit(client)
    columns = [column["name"] for column in inspect(db.get_bind()).get_columns("notice_outbox")]
    for row in outbox_rows(db):
        for column in columns:
            assert "@" not in str(getattr(row, column))


def test_without_smtp_host_nothing_is_queued_and_nothing_fails(
    app, client, db, mail_on, run_sender, channel_with_handlers
):
    use_settings(app, smtp_host="")
    give_addresses(db, ["hana", "omar"])
    submit(client)
    assert outbox_rows(db) == []


def test_a_rolled_back_request_leaves_no_row(
    app, client, db, mail_on, run_sender, channel_with_handlers
):
    give_addresses(db, ["hana"])
    submit(client)
    run_sender()
    mail_on.collector.messages.clear()
    rows_before = len(outbox_rows(db))
    with app.test_request_context():
        session = get_session()
        notify_new_items(session, session.scalars(select(Report)).one(),
                         now=datetime.now(UTC) + timedelta(hours=3))
        assert session.scalar(select(func.count()).select_from(NoticeOutbox)) == rows_before + 1
        session.rollback()  # as the app does when the view or the commit fails
    assert len(outbox_rows(db)) == rows_before
    assert run_sender(datetime.now(UTC) + timedelta(hours=4)).sent == 0
    assert mail_on.collector.messages == []


def test_a_request_that_fails_after_queueing_leaves_no_row(
    client, db, mail_on, channel_with_handlers, monkeypatch
):
    import reporting_portal.reporter.intake.views as intake_views

    give_addresses(db, ["hana"])

    def queue_then_fail(session, report):
        notify_new_items(session, report)
        raise RuntimeError("after the outbox row was written")

    monkeypatch.setattr(intake_views, "notify_new_items", queue_then_fail)
    response = client.post(REPORT_FORM, data=plaintext_form(client),
                           content_type="multipart/form-data")
    assert response.status_code == 500
    assert db.scalar(select(func.count()).select_from(Report)) == 0
    assert outbox_rows(db) == []


def test_an_unreachable_mail_server_is_logged_without_the_address_and_retried(
    app, client, db, mail_on, run_sender, channel_with_handlers, caplog
):
    use_settings(app, smtp_port=free_port())  # nobody listens there
    give_addresses(db, ["hana"])
    submit(client)
    with caplog.at_level(logging.WARNING):
        summary = run_sender()
    assert (summary.sent, summary.retrying) == (0, 1)
    messages = [r.getMessage() for r in caplog.records if "notification" in r.getMessage()]
    assert messages == [
        "notification e-mail server not reached: ConnectionRefusedError",
        "notification e-mail not sent: ConnectionRefusedError; next try in 5 minutes"]
    assert "hana@example.org" not in caplog.text
    [row] = outbox_rows(db)
    assert (row.state, row.attempts) == (NoticeState.PENDING, 1)


def test_custodians_hear_of_a_waiting_identity_request_and_nothing_else(
    app, client, db, mail_on, run_sender, channel_with_handlers
):
    client.post(REPORT_FORM, data=plaintext_form(client, identity_name="Ada"),
                content_type="multipart/form-data")
    give_addresses(db, ["hana", "cleo"])
    run_sender()
    mail_on.collector.messages.clear()
    case_id = db.scalar(select(Report.public_id))
    assert ask(signed_in(app, channel_with_handlers["hana"]), case_id).status_code == 302
    run_sender()
    mails = mail_on.collector.by_address()
    assert sorted(mails) == ["cleo@example.org"]
    text = mails["cleo@example.org"].get_content()
    assert "1 new item" in text
    for leak in (case_id, JUSTIFICATION[:30], "Hana", "identity", ADDRESSES["hana"]):
        assert leak not in text


def test_windows_are_fixed_on_the_clock():
    moment = datetime(2026, 12, 1, 10, 0, 1, tzinfo=UTC)
    hour = window_of(moment, 60)
    assert (hour.start, hour.due) == (moment.replace(second=0), moment.replace(hour=11, second=0))
    boundary = window_of(datetime(2026, 12, 1, 11, tzinfo=UTC), 60)
    assert boundary.start == datetime(2026, 12, 1, 11, tzinfo=UTC)  # a boundary opens one
    quarter = window_of(datetime(2026, 12, 1, 10, 59, 59, tzinfo=UTC), 15)
    assert (quarter.start.minute, quarter.due.hour, quarter.due.minute) == (45, 11, 0)
    # Without a window a row is due at once; news of the same minute shares it.
    at_once = window_of(moment, 0)
    assert (at_once.start, at_once.due) == (moment.replace(second=0), moment)


def test_a_report_of_retaliation_is_announced_without_a_word_of_it(
    app, client, db, mail_on, run_sender, channel_with_handlers
):
    give_addresses(db, ["hana", "omar"])
    code = submit(client)
    hana = signed_in(app, channel_with_handlers["hana"])
    report = db.scalar(select(Report))
    assert hana.get(f"/staff/cases/{report.public_id}").status_code == 200  # all read
    run_sender()
    mail_on.collector.messages.clear()

    assert open_mailbox(client, code).headers["Location"] == MAILBOX
    form = "/followup/mailbox/retaliation"
    response = client.post(form, content_type="multipart/form-data", data={
        "csrf_token": csrf_token(client, form), "submission_token": submission_token(client, form),
        "q_forms": ["dismissal"], "q_what_happened": "Dismissed the week after.",
        "q_happened_on": "2026-11-02", "q_by_whom": "The director"})
    assert response.status_code == 303
    assert run_sender().sent == 2
    mails = mail_on.collector.by_address()
    assert sorted(mails) == ["hana@example.org", "omar@example.org"]
    assert "You have 1 new item waiting" in mails["hana@example.org"].get_content()
    for _recipients, raw in mail_on.collector.messages:
        text = raw.decode("utf-8", "replace").lower()
        for leak in ("retaliation", "dismiss", "director", report.public_id.lower()):
            assert leak not in text
