"""Migration 0016: the case history starts from the access log's triage events."""

from datetime import UTC, date, datetime

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from reporting_portal.storage.db import make_engine
from reporting_portal.storage.migrate import alembic_config, downgrade_database, upgrade_database

pytestmark = pytest.mark.database


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def before_0016(database_url):
    script = ScriptDirectory.from_config(alembic_config(database_url))
    return script.get_revision("0016").down_revision


def test_0016_copies_successful_triage_events_without_values(engine, database_url):
    upgrade_database(engine, before_0016(database_url))
    now = datetime(2026, 11, 30, 14, 5, tzinfo=UTC).replace(tzinfo=None)
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO channel (public_id, slug, name, description, questionnaire, "
            "retention_days, notify_identity_disclosure, is_active, created_at, languages, "
            "names, descriptions) VALUES ('c1', 'bribery', 'Bribery', '', '[]', 1095, true, "
            "true, :now, '[\"en\"]', '{}', '{}')"), {"now": now})
        connection.execute(text(
            "INSERT INTO report (public_id, channel_id, status, priority, received_on, "
            "receipt_lookup, reporter_recipient, wrapped_reporter_identity) VALUES ('r1', "
            "(SELECT id FROM channel), 'investigation', 'high', :day, :lookup, 'age1x', "
            ":wrapped)"), {"day": date(2026, 11, 30), "lookup": b"\1" * 32, "wrapped": b"\2"})
        for leaf, (action, outcome) in enumerate([
            ("case.status_changed", "success"), ("case.priority_changed", "failure"),
            ("case.read", "success"), ("case.priority_changed", "success"),
        ]):
            connection.execute(text(
                "INSERT INTO audit_event (leaf_index, leaf_hash, occurred_at, actor_id, "
                "actor_role, action, object_type, object_id, outcome) VALUES (:leaf, :hash, "
                ":now, 'p1', 'case_handler', :action, 'report', 'r1', :outcome)"),
                {"leaf": leaf, "hash": bytes([leaf]) * 32, "now": now, "action": action,
                 "outcome": outcome})
    upgrade_database(engine, "0016")
    with engine.connect() as connection:
        copied = connection.execute(text(
            "SELECT action, actor_id, detail FROM case_change ORDER BY id")).all()
    # Refused changes and reads changed nothing: only the two real changes, with no values.
    assert [(action, actor) for action, actor, _detail in copied] == [
        ("case.status_changed", "p1"), ("case.priority_changed", "p1")]
    assert all(detail in ("{}", {}) for _action, _actor, detail in copied)
    downgrade_database(engine, before_0016(database_url))
    assert "case_change" not in inspect(engine).get_table_names()
    assert "created_at" not in {c["name"] for c in inspect(engine).get_columns("report_object")}
