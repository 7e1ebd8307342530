"""Deadline reminders: two days before a date and after it, once each, none once met, and
all of a handler's reminders of a window in one content-free mail."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from reporting_portal.domain.deadlines import feedback_due
from reporting_portal.domain.notice_mail import DEADLINE_SENTENCE
from reporting_portal.domain.notifications import notify_new_items
from reporting_portal.domain.outbox import window_of
from reporting_portal.domain.reminders import Stage, stage_on
from reporting_portal.storage.models import Channel, Report, ReportStatus
from reporting_portal.web.database import get_session
from tests.helpers.notices import give_addresses, use_settings
from tests.helpers.reporting import send_report
from tests.helpers.smtp import body_of

pytestmark = pytest.mark.database


def morning(day: date) -> datetime:
    return datetime.combine(day, time(9), tzinfo=UTC)


@pytest.fixture
def reported(client, db, mail_on, run_sender, channel_with_handlers) -> Report:
    """One report, its handlers (and the custodian) with addresses, the new-item mails
    already sent; returns the report."""
    give_addresses(db, ["hana", "omar", "cleo"])
    send_report(client)
    run_sender()
    mail_on.collector.messages.clear()
    report = db.scalar(select(Report))
    assert report.acknowledgement_due == report.received_on + timedelta(days=7)
    return report


def reminded_on(run_sender, collector, day: date) -> list[str]:
    """Who got a mail from the run on the morning of ``day``."""
    run_sender(morning(day))
    mails = collector.by_address()  # fails if anyone got two
    collector.messages.clear()
    return sorted(mails)


def test_a_stage_starts_two_days_before_the_date_and_the_day_after_it():
    due = date(2026, 12, 10)
    assert [stage_on(due, date(2026, 12, day)) for day in (7, 8, 10, 11)] == [
        None, Stage.SOON, Stage.SOON, Stage.PAST]


def test_two_days_before_and_after_the_acknowledgement_date_once_each(
    app, db, mail_on, run_sender, reported
):
    received, handlers = reported.received_on, ["hana@example.org", "omar@example.org"]
    days = [received + timedelta(days=n) for n in range(1, 12)]
    seen = {day: reminded_on(run_sender, mail_on.collector, day) for day in days}
    # Due on day 7: "soon" from day 5, "past" from day 8; the custodian has no grant.
    assert {(day - received).days: who for day, who in seen.items() if who} == {
        5: handlers, 8: handlers}


def test_a_reminder_says_only_that_a_date_needs_a_look(app, db, mail_on, run_sender, reported):
    due = reported.acknowledgement_due
    run_sender(morning(due - timedelta(days=2)))
    organisation = app.extensions["settings"].organisation_name
    channel = db.scalar(select(Channel))
    for mail in mail_on.collector.by_address().values():
        assert mail["Subject"] == f"{organisation}: a reminder"
        assert body_of(mail) == DEADLINE_SENTENCE + "\n"
    for _recipients, raw in mail_on.collector.messages:
        text = raw.decode("utf-8", "replace")
        for leak in (reported.public_id, channel.name, channel.slug, due.isoformat(),
                     due.strftime("%d %B"), due.strftime("%d/%m"), "acknowledg", "feedback"):
            assert leak not in text


def test_a_met_deadline_gets_no_reminder(app, db, mail_on, run_sender, reported):
    received = reported.received_on
    # What the handler's acknowledgement does (casework.services.acknowledge).
    reported.status = ReportStatus.ACKNOWLEDGED
    reported.acknowledged_on = received + timedelta(days=1)
    reported.feedback_due = feedback_due(received, reported.acknowledged_on)
    db.commit()
    for offset in (5, 8):
        assert reminded_on(run_sender, mail_on.collector, received + timedelta(days=offset)) == []
    # The feedback date still earns its reminder...
    assert reminded_on(run_sender, mail_on.collector,
                       reported.feedback_due - timedelta(days=2)) != []
    # ...until the case is closed.
    reported.status = ReportStatus.CLOSED
    db.commit()
    assert reminded_on(run_sender, mail_on.collector,
                       reported.feedback_due + timedelta(days=1)) == []


def test_reminders_are_recorded_so_later_runs_do_not_repeat_them(run_sender, reported):
    soon = morning(reported.acknowledgement_due - timedelta(days=1))
    assert run_sender(soon).reminders_queued == 1
    assert run_sender(soon).reminders_queued == 0
    assert run_sender(soon + timedelta(hours=5)).reminders_queued == 0


def test_all_reminders_of_a_window_are_one_mail_per_handler(
    client, db, mail_on, run_sender, reported
):
    send_report(client)
    run_sender()
    mail_on.collector.messages.clear()
    # Both reports' acknowledgements are past; the second's feedback date is moved near.
    second = db.scalars(select(Report).order_by(Report.id)).all()[1]
    second.feedback_due = reported.received_on + timedelta(days=9)
    db.commit()
    summary = run_sender(morning(reported.received_on + timedelta(days=8)))
    assert summary.reminders_queued == 3
    assert sorted(mail_on.collector.by_address()) == ["hana@example.org", "omar@example.org"]


def test_a_reminder_and_new_items_of_one_window_are_one_mail(
    app, client, db, mail_on, run_sender, reported
):
    use_settings(app, notification_window_minutes=60)
    moment = morning(reported.received_on + timedelta(days=3)).replace(minute=30)
    reported.acknowledgement_due = moment.date() + timedelta(days=2)
    db.commit()
    use_settings(app, smtp_host="")  # the intake view queues nothing at the real time
    send_report(client)
    use_settings(app, smtp_host="127.0.0.1")
    with app.test_request_context():  # what the intake view did, in that window
        session = get_session()
        notify_new_items(session, session.scalars(select(Report).order_by(Report.id.desc()))
                         .first(), now=moment)
        session.commit()
    run_sender(moment)  # queues the reminder in the same window; nothing is due yet
    assert mail_on.collector.messages == []
    run_sender(window_of(moment, 60).due)
    mails = mail_on.collector.by_address()
    assert sorted(mails) == ["hana@example.org", "omar@example.org"]
    for mail in mails.values():
        assert body_of(mail) == (
            f"You have 2 new items waiting in {app.extensions['settings'].organisation_name}. "
            f"Sign in to read them.\n\n{DEADLINE_SENTENCE}\n")
