"""Reporter events are held back and join the log once a day in random order.

In a walk through the old log, events #60 to #64, caused by a reporter and stored at
midnight, sat between staff events timed 16:13:28 and 16:13:43: their place dated them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from reporting_portal.audit.events import REPORTER, SYSTEM, AuditAction, record_event
from reporting_portal.audit.held import release_held_events
from reporting_portal.audit.proofs import verifier_key
from reporting_portal.audit.verify import verify_log
from reporting_portal.storage.models import AuditEvent, HeldAuditEvent, Report
from reporting_portal.web.database import get_database
from tests.helpers import hidden_fields, release_held_events_now

pytestmark = pytest.mark.database

TODAY = datetime.now(UTC).date()


def log_actions(app):
    with get_database(app).session_factory() as db:
        return [(e.action, e.actor_role) for e in db.scalars(
            select(AuditEvent).order_by(AuditEvent.leaf_index))]


def staff_event(app, action=AuditAction.ACCOUNT_LIST_VIEWED):
    with get_database(app).session_factory() as db:
        record_event(db, action, actor=None, actor_role=SYSTEM)
        db.commit()


def submit(client):
    form = "/report/corruption"
    response = client.post(form, data={
        **hidden_fields(client, form), "q_what": "The clerk took cash for permits.",
        "q_when": "2026-11-02", "q_where": "Permit office", "q_kind": ["Bribery"],
        "q_how_known": "I found documents"}, content_type="multipart/form-data")
    assert response.status_code == 303, response.get_data(as_text=True)
    client.delete_cookie("__Host-session", domain="localhost")


def test_a_reporters_event_does_not_land_between_staff_events(app, client, db,
                                                             channel_with_handlers):
    staff_event(app)
    submit(client)
    staff_event(app)
    actions = log_actions(app)
    assert ("report.submitted", REPORTER) not in actions
    [held] = db.scalars(select(HeldAuditEvent)).all()
    assert (held.action, held.actor_role, held.occurred_on) == ("report.submitted", REPORTER,
                                                                 TODAY)
    assert held.object_id == db.scalar(select(Report.public_id))

    assert release_held_events_now(app) == 1
    actions = log_actions(app)
    # After both staff events, and then only once.
    assert actions[-1] == ("report.submitted", REPORTER)
    assert actions.count(("report.submitted", REPORTER)) == 1
    assert db.scalars(select(HeldAuditEvent)).all() == []
    with get_database(app).session_factory() as session:
        entry = session.scalar(select(AuditEvent).where(AuditEvent.action == "report.submitted"))
        assert entry.occurred_at == datetime.combine(TODAY, datetime.min.time(), UTC)
        assert entry.actor_id is None
        assert verify_log(session, verifier_key(session), None).first_problem is None


def test_a_release_appends_in_random_order(app, db, installed):
    ids = [f"case-{n:02d}" for n in range(40)]
    with get_database(app).session_factory() as session:
        for object_id in ids:
            record_event(session, AuditAction.REPORTER_MAILBOX_READ, actor=None,
                         actor_role=REPORTER, object_type="report", object_id=object_id)
        session.commit()
    release_held_events_now(app)
    with get_database(app).session_factory() as session:
        released = list(session.scalars(select(AuditEvent.object_id).where(
            AuditEvent.action == "reporter.mailbox_read").order_by(AuditEvent.leaf_index)))
    assert sorted(released) == ids
    assert released != ids  # in the order they happened: 1 chance in 40! by accident


def test_the_daily_release_takes_earlier_days_and_leaves_today(app, db, installed):
    yesterday = TODAY - timedelta(days=1)
    for day, object_id in ((yesterday, "yesterday"), (TODAY, "today")):
        db.add(HeldAuditEvent(id=object_id.encode().ljust(16, b"."), occurred_on=day,
                              actor_role=REPORTER, action="reporter.mailbox_read",
                              object_type="report", object_id=object_id, outcome="success"))
    db.commit()
    assert release_held_events(db, before=TODAY) == 1
    db.commit()
    assert [h.object_id for h in db.scalars(select(HeldAuditEvent))] == ["today"]
    db.expire_all()
    [entry] = db.scalars(select(AuditEvent).where(AuditEvent.object_id == "yesterday")).all()
    assert entry.occurred_at.date() == yesterday


def test_a_rolled_back_act_leaves_no_held_event(app, db, installed):
    with get_database(app).session_factory() as session:
        record_event(session, AuditAction.REPORTER_SIGN_IN_FAILED, actor=None,
                     actor_role=REPORTER)
        session.rollback()
    assert db.scalars(select(HeldAuditEvent)).all() == []


def test_held_events_cannot_be_changed(app, db, installed):
    db.add(HeldAuditEvent(id=b"x" * 16, occurred_on=date(2026, 11, 30), actor_role=REPORTER,
                          action="reporter.mailbox_read", outcome="success"))
    db.commit()
    with pytest.raises(DatabaseError, match="never changed"):
        db.execute(text("UPDATE audit_held_event SET occurred_on = :day"),
                   {"day": date(2026, 11, 1)})
    db.rollback()


def test_the_case_timeline_shows_a_held_submission(app, client, channel_with_handlers,
                                                   sign_in, db):
    submit(client)
    sign_in(channel_with_handlers["hana"])
    page = client.get(f"/staff/cases/{db.scalar(select(Report.public_id))}")
    assert "Report received" in page.get_data(as_text=True)


def test_the_release_command(app, settings, installed, monkeypatch):
    from reporting_portal.cli import main

    with get_database(app).session_factory() as session:
        record_event(session, AuditAction.REPORTER_MAILBOX_READ, actor=None,
                     actor_role=REPORTER)
        session.commit()
    monkeypatch.setenv("REPORTING_PORTAL_INSTANCE_DIR", str(settings.instance_dir))
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    runner = CliRunner()
    daily = runner.invoke(main, ["audit", "release"], catch_exceptions=False)
    assert "Released 0 held reporter event(s)" in daily.output  # today's wait for tomorrow
    now = runner.invoke(main, ["audit", "release", "--include-today"], catch_exceptions=False)
    assert "Released 1 held reporter event(s)" in now.output
    actions = log_actions(app)
    assert actions[-2:] == [("reporter.mailbox_read", REPORTER),
                            ("audit.held_events_released", SYSTEM)]
