"""The outbox's promises: retried with back-off when refused, never sent twice, a claimed
row never touched again, a crash's row never resent, old rows swept."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select, text

from reporting_portal.domain.notice_runs import send_due_notices
from reporting_portal.domain.outbox import (
    KEPT_FOR,
    MAX_ATTEMPTS,
    NewsKind,
    claim_due,
    queue_news,
    retry_delay,
    window_of,
)
from reporting_portal.storage.models import NoticeState, StaffAccount
from reporting_portal.web.database import get_database
from tests.helpers.notices import give_addresses, outbox_rows, use_settings
from tests.helpers.reporting import send_report
from tests.helpers.smtp import free_port

pytestmark = pytest.mark.database


@pytest.fixture
def hana_has_news(client, db, mail_on, channel_with_handlers) -> datetime:
    """Hana (with an address) has one unread report; returns when her row is due."""
    give_addresses(db, ["hana"])
    send_report(client)
    [row] = outbox_rows(db)
    return row.next_attempt_at


def hana_id(db) -> int:
    return db.scalar(select(StaffAccount.id).where(StaffAccount.username == "hana"))


def test_the_back_off_doubles_and_is_capped():
    assert [retry_delay(n) for n in (1, 2, 3)] == [
        timedelta(minutes=5), timedelta(minutes=10), timedelta(minutes=20)]
    assert retry_delay(20) == timedelta(hours=6)


def test_a_451_is_retried_after_the_back_off_and_sent_exactly_once(
    db, mail_on, run_sender, hana_has_news
):
    mail_on.collector.refusals.append("451 4.3.0 Try again later")
    due = hana_has_news
    first = run_sender(due)
    assert (first.retrying, mail_on.collector.messages) == (1, [])
    assert run_sender(due + timedelta(minutes=4, seconds=59)).sent == 0  # still waiting
    assert run_sender(due + timedelta(minutes=5)).sent == 1
    assert run_sender(due + timedelta(hours=7)).sent == 0
    assert list(mail_on.collector.by_address()) == ["hana@example.org"]
    [row] = outbox_rows(db)
    assert (row.state, row.attempts) == (NoticeState.SENT, 2)


def test_after_the_last_attempt_the_mail_is_given_up_and_logged_without_address(
    db, mail_on, run_sender, hana_has_news, caplog
):
    mail_on.collector.refusals.extend(["550 5.7.1 Not today"] * MAX_ATTEMPTS)
    moment = hana_has_news
    with caplog.at_level(logging.WARNING):
        for attempt in range(1, MAX_ATTEMPTS + 1):
            summary = run_sender(moment)
            moment += retry_delay(attempt)
    assert (summary.failed, summary.retrying) == (1, 0)
    assert f"notification e-mail given up after {MAX_ATTEMPTS} attempts: reply-550" in [
        r.getMessage() for r in caplog.records]
    assert "hana@example.org" not in caplog.text
    assert run_sender(moment + timedelta(days=1)).sent == 0
    assert mail_on.collector.messages == []
    assert outbox_rows(db)[0].state == NoticeState.FAILED


def test_a_connection_lost_while_the_message_went_out_is_never_resent(
    db, mail_on, run_sender, hana_has_news, caplog
):
    mail_on.collector.hang_ups = 1
    with caplog.at_level(logging.WARNING):
        assert run_sender(hana_has_news).failed == 1
    assert ("notification e-mail may or may not have been sent (SMTPServerDisconnected): "
            "not resent") in [r.getMessage() for r in caplog.records]
    assert run_sender(hana_has_news + timedelta(hours=2)).sent == 0
    assert mail_on.collector.messages == []


def test_a_run_that_stopped_after_its_claim_is_never_resent(
    app, db, mail_on, run_sender, hana_has_news, caplog
):
    due = hana_has_news
    with get_database(app).session_factory() as session:
        [claimed] = claim_due(session, due, 10)  # ...and the process dies before sending
    assert run_sender(due + timedelta(minutes=5)).sent == 0  # another run leaves it alone
    assert outbox_rows(db)[0].state == NoticeState.SENDING
    with caplog.at_level(logging.WARNING):
        summary = run_sender(due + timedelta(minutes=61))
    assert (summary.abandoned, summary.sent) == (1, 0)
    assert outbox_rows(db)[0].state == NoticeState.FAILED
    assert "left claimed by a run that stopped" in caplog.text
    assert run_sender(due + timedelta(days=1)).sent == 0
    assert mail_on.collector.messages == []
    assert claimed.staff_id == hana_id(db)


def test_two_claims_of_the_same_moment_never_take_the_same_row(app, db, hana_has_news):
    factory = get_database(app).session_factory
    with factory() as first, factory() as second:
        assert len(claim_due(first, hana_has_news, 10)) == 1
        assert claim_due(second, hana_has_news, 10) == []


def test_a_row_taken_between_another_claims_select_and_update_is_taken_once(
    app, db, hana_has_news
):
    factory = get_database(app).session_factory
    meanwhile: list[list] = []

    def claim_in_between(_connection, _cursor, statement, *_args):
        # Right after the first claim found its candidates, a second run claims too.
        if statement.lstrip().startswith("SELECT notice_outbox.id") and not meanwhile:
            meanwhile.append([])
            with factory() as other:
                meanwhile[0] = claim_due(other, hana_has_news, 10)

    with factory() as first:
        engine = first.get_bind()
        event.listen(engine, "after_cursor_execute", claim_in_between)
        try:
            late = claim_due(first, hana_has_news, 10)
        finally:
            event.remove(engine, "after_cursor_execute", claim_in_between)
    # SQLite: the second run won, the first's conditional UPDATE found the row taken.
    # PostgreSQL: the first run's SELECT had locked it, the second skipped it.
    assert sorted([len(late), len(meanwhile[0])]) == [0, 1]


def test_news_for_a_window_already_claimed_goes_to_the_next_window(app, db, hana_has_news):
    use_settings(app, notification_window_minutes=60)
    moment = hana_has_news + timedelta(days=1)
    window = window_of(moment, 60)
    factory = get_database(app).session_factory
    with factory() as session:
        queue_news(session, NewsKind.UNREAD_CASES, {hana_id(db): 1}, window_minutes=60,
                   now=moment)
        session.commit()
        # A sender whose clock runs an hour ahead has claimed the window already.
        assert len(claim_due(session, window.due + timedelta(hours=1), 10)) == 2
        queue_news(session, NewsKind.UNREAD_CASES, {hana_id(db): 2}, window_minutes=60,
                   now=moment)
        session.commit()
    later = outbox_rows(db)[-1]
    assert (later.window_start, later.next_attempt_at, later.unread_cases) == (
        window.start + timedelta(hours=1), window.due + timedelta(hours=1), 2)
    assert later.state == NoticeState.PENDING


def test_news_of_one_window_shares_one_row(app, db, hana_has_news):
    moment = datetime(2026, 12, 1, 10, 30, tzinfo=UTC)
    window = window_of(moment, 60)
    factory = get_database(app).session_factory
    for minutes, kind in ((1, NewsKind.UNREAD_CASES), (20, NewsKind.DEADLINE_REMINDERS),
                          (40, NewsKind.DEADLINE_REMINDERS), (50, NewsKind.UNREAD_CASES)):
        with factory() as session:
            queue_news(session, kind, {hana_id(db): minutes}, window_minutes=60,
                       now=moment.replace(minute=minutes))
            session.commit()
    [row] = [r for r in outbox_rows(db) if r.window_start == window.start]
    # Counts are replaced by the newest; reminders add up.
    assert (row.unread_cases, row.deadline_reminders) == (50, 60)


def test_a_row_locked_by_an_unfinished_request_is_skipped_not_waited_for(
    app, db, backend, hana_has_news
):
    if backend != "postgresql":
        pytest.skip("SQLite has one writer at a time: nothing to skip")
    factory = get_database(app).session_factory
    with factory() as request, factory() as sender:
        request.execute(text("SELECT id FROM notice_outbox FOR UPDATE"))
        assert claim_due(sender, hana_has_news, 10) == []
        request.rollback()
        assert len(claim_due(sender, hana_has_news, 10)) == 1


def test_finished_rows_are_swept_after_a_week(db, run_sender, hana_has_news):
    assert run_sender(hana_has_news).sent == 1
    [sent] = outbox_rows(db)
    assert run_sender(hana_has_news + KEPT_FOR - timedelta(minutes=1)).swept == 0
    assert run_sender(hana_has_news + KEPT_FOR + timedelta(seconds=1)).swept == 1
    # What is left is the week-old report's deadline reminder, queued by these runs.
    assert sent.id not in [row.id for row in outbox_rows(db)]


def test_an_unreachable_server_ends_the_run_instead_of_being_tried_for_each_batch(
    app, client, db, mail_on, hana_has_news
):
    give_addresses(db, ["omar"])
    send_report(client)  # now Hana and Omar have news
    use_settings(app, smtp_port=free_port())  # nobody listens there
    summary = send_due_notices(get_database(app).session_factory, app.extensions["settings"],
                               now=datetime.now(UTC), batch_size=1)
    assert (summary.retrying, summary.sent) == (1, 0)
    assert sorted((row.state, row.attempts) for row in outbox_rows(db)) == [
        (NoticeState.PENDING, 0), (NoticeState.PENDING, 1)]
