"""Schema changes only through Alembic: head equals the models, every revision goes both
ways with data in it, one head. Runs on SQLite and, in CI, PostgreSQL."""

import itertools
from datetime import UTC, date, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from reporting_portal.storage.db import Base, make_engine
from reporting_portal.storage.migrate import alembic_config, downgrade_database, upgrade_database

pytestmark = pytest.mark.database


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def revisions(database_url):
    script = ScriptDirectory.from_config(alembic_config(database_url))
    return list(reversed([r.revision for r in script.walk_revisions()]))


def test_there_is_exactly_one_head(database_url):
    script = ScriptDirectory.from_config(alembic_config(database_url))
    assert len(script.get_heads()) == 1


def test_schema_at_head_equals_the_models(engine):
    upgrade_database(engine)
    with engine.connect() as connection:
        differences = compare_metadata(
            MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata
        )
    assert differences == []


def seed(connection, *, with_event=True):
    now = datetime.now(UTC).replace(tzinfo=None)
    connection.execute(text(
        "INSERT INTO staff_account (public_id, username, display_name, password_hash, "
        "must_change_password, is_active, created_at) "
        "VALUES ('p1', 'hana', 'Hana', 'h', false, true, :now)"), {"now": now})
    connection.execute(text(
        "INSERT INTO channel (public_id, slug, name, description, questionnaire, "
        "retention_days, notify_identity_disclosure, is_active, created_at) "
        "VALUES ('c1', 'bribery', 'Bribery', '', '[]', 1095, true, true, :now)"), {"now": now})
    if with_event:
        connection.execute(text(
            "INSERT INTO audit_event (occurred_at, actor_role, action, outcome) "
            "VALUES (:now, 'system', 'installation.initialised', 'success')"), {"now": now})
    channel_id = connection.execute(text("SELECT id FROM channel")).scalar()
    connection.execute(text(
        "INSERT INTO report (public_id, channel_id, status, priority, received_on, "
        "receipt_lookup, reporter_recipient, wrapped_reporter_identity) "
        "VALUES ('r1', :channel, 'received', 'normal', :day, :lookup, 'age1x', :wrapped)"),
        {"channel": channel_id, "day": date(2026, 1, 31), "lookup": b"\1" * 32,
         "wrapped": b"\2" * 40})
    connection.execute(text(
        "INSERT INTO installation (recovery_recipient, receipt_salt, created_on) "
        "VALUES ('age1example', :salt, :today)"), {"salt": b"\0" * 16, "today": date.today()})


def test_every_revision_upgrades_and_downgrades_with_data(engine, database_url):
    steps = revisions(database_url)
    assert steps, "no revisions"
    upgrade_database(engine, steps[0])
    with engine.begin() as connection:
        seed(connection)
    for previous, revision in itertools.pairwise(steps):
        upgrade_database(engine, revision)
        downgrade_database(engine, previous)
        upgrade_database(engine, revision)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT username FROM staff_account")).scalar() == "hana"
        # 0003 filled the deadlines of the existing report (31 Jan + 7 days; + 3 months).
        ack, feedback = connection.execute(
            text("SELECT acknowledgement_due, feedback_due FROM report")).one()
        assert str(ack)[:10] == "2026-02-07"
        assert str(feedback)[:10] == "2026-05-07"
    # The first revision's downgrade must work with rows in every table it made.
    downgrade_database(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade_database(engine)


def test_0007_seals_the_custody_texts_already_stored(engine, database_url):
    import io

    from crypto import decrypt, generate_identity

    steps = revisions(database_url)
    upgrade_database(engine, steps[steps.index("0007") - 1])
    recovery, hana = generate_identity(post_quantum=True), generate_identity(post_quantum=True)
    now = datetime.now(UTC).replace(tzinfo=None)
    with engine.begin() as connection:
        seed(connection, with_event=False)  # 0005 changed the event's columns
        connection.execute(text("UPDATE installation SET recovery_recipient = :key"),
                           {"key": str(recovery.recipient)})
        connection.execute(text("UPDATE staff_account SET age_recipient = :key"),
                           {"key": str(hana.recipient)})
        connection.execute(text(
            "INSERT INTO identity_access_request (public_id, report_id, requester_id, "
            "justification, status, requested_at, decision_reason) VALUES ('q1', "
            "(SELECT id FROM report), (SELECT id FROM staff_account), 'plain marker 31f0', "
            "'denied', :now, 'reason marker 31f1')"), {"now": now})
    upgrade_database(engine)
    with engine.connect() as connection:
        sealed, reason = connection.execute(text(
            "SELECT sealed_justification, sealed_decision_reason "
            "FROM identity_access_request")).one()
        columns = {c["name"] for c in inspect(connection).get_columns("identity_access_request")}
    assert "justification" not in columns
    assert b"marker" not in bytes(sealed) + bytes(reason)
    for reader in (hana, recovery):
        opened = io.BytesIO()
        decrypt(io.BytesIO(bytes(sealed)), opened, [reader])
        assert opened.getvalue() == b"plain marker 31f0"


def test_0011_turns_the_stored_outcome_sentences_into_codes_and_back(engine, database_url):
    steps = revisions(database_url)
    upgrade_database(engine, steps[steps.index("0011") - 1])
    with engine.begin() as connection:
        seed(connection, with_event=False)
        connection.execute(text(
            "INSERT INTO report (public_id, channel_id, status, priority, received_on, "
            "receipt_lookup, reporter_recipient, wrapped_reporter_identity) "
            "SELECT 'r2', channel_id, status, priority, received_on, :lookup, "
            "reporter_recipient, wrapped_reporter_identity FROM report"), {"lookup": b"\3" * 32})
        connection.execute(text(
            "UPDATE report SET status = 'closed', closing_outcome = CASE public_id "
            "WHEN 'r1' THEN 'Substantiated: referred to the competent authority' "
            "ELSE 'Referred to the prosecutor' END"))

    def outcomes():
        with engine.connect() as connection:
            return dict(connection.execute(text(
                "SELECT public_id, closing_outcome FROM report")).all())

    upgrade_database(engine, "0011")
    # The application's sentence becomes its code; a text it never offered stays.
    assert outcomes() == {"r1": "referred", "r2": "Referred to the prosecutor"}
    downgrade_database(engine, steps[steps.index("0011") - 1])
    assert outcomes() == {"r1": "Substantiated: referred to the competent authority",
                          "r2": "Referred to the prosecutor"}


def test_0012_makes_existing_channels_multilingual_and_back(engine, database_url):
    import json

    from reporting_portal.domain.questionnaire import parse_questionnaire

    old_form = [
        {"id": "what", "type": "long_text", "label": "What happened?", "help": "In your words.",
         "required": True, "choices": []},
        {"id": "kind", "type": "single_choice", "label": "Which kind?", "help": "",
         "required": False, "choices": ["Bribery", "Fraud"]},
    ]
    steps = revisions(database_url)
    upgrade_database(engine, steps[steps.index("0012") - 1])
    with engine.begin() as connection:
        seed(connection, with_event=False)  # 0005 changed the event's columns
        connection.execute(text("UPDATE channel SET questionnaire = :q, description = 'Tell us.'"),
                           {"q": json.dumps(old_form)})
    upgrade_database(engine, "0012")
    with engine.connect() as connection:
        languages, names, descriptions, stored = connection.execute(text(
            "SELECT languages, names, descriptions, questionnaire FROM channel")).one()
    loads = lambda value: json.loads(value) if isinstance(value, str) else value  # noqa: E731
    assert loads(languages) == ["en"]
    assert loads(names) == {"en": "Bribery"}
    assert loads(descriptions) == {"en": "Tell us."}
    questionnaire = loads(stored)
    assert questionnaire[0]["label"] == {"en": "What happened?"}
    assert questionnaire[1]["choices"][0] == {"code": "Bribery", "label": {"en": "Bribery"}}
    # The old answers named the choice by its text: that text is its code now.
    assert [c.code for c in parse_questionnaire(questionnaire)[1].choices] == ["Bribery", "Fraud"]
    downgrade_database(engine, steps[steps.index("0012") - 1])
    with engine.connect() as connection:
        assert loads(connection.execute(text("SELECT questionnaire FROM channel")).scalar()) == (
            old_form)
        columns = {c["name"] for c in inspect(connection).get_columns("channel")}
    assert "languages" not in columns


def test_0013_numbers_existing_cases_per_year_by_day_received_then_id(engine, database_url):
    steps = revisions(database_url)
    upgrade_database(engine, steps[steps.index("0013") - 1])
    with engine.begin() as connection:
        seed(connection, with_event=False)  # r1, received 31 Jan 2026
        for public_id, day, lookup in [("r2", date(2025, 12, 30), b"\3"),
                                       ("r3", date(2026, 1, 5), b"\4"),
                                       ("r4", date(2026, 1, 31), b"\5")]:
            connection.execute(text(
                "INSERT INTO report (public_id, channel_id, status, priority, received_on, "
                "receipt_lookup, reporter_recipient, wrapped_reporter_identity) "
                "SELECT :public_id, channel_id, status, priority, :day, :lookup, "
                "reporter_recipient, wrapped_reporter_identity FROM report WHERE public_id = 'r1'"),
                {"public_id": public_id, "day": day, "lookup": lookup * 32})
    upgrade_database(engine, "0013")
    with engine.connect() as connection:
        numbers = {public_id: (year, number) for public_id, year, number in connection.execute(
            text("SELECT public_id, case_year, case_number FROM report"))}
        counters = dict(connection.execute(
            text("SELECT year, last_number FROM case_number_counter")).all())
    # r1 and r4 came the same day: the older row (r1) gets the lower number.
    assert numbers == {"r2": (2025, 1), "r3": (2026, 1), "r1": (2026, 2), "r4": (2026, 3)}
    assert counters == {2025: 1, 2026: 3}
    downgrade_database(engine, steps[steps.index("0013") - 1])
    with engine.connect() as connection:
        columns = {c["name"] for c in inspect(connection).get_columns("report")}
        assert "case_number_counter" not in inspect(connection).get_table_names()
    assert "case_number" not in columns


def test_0015_lets_existing_channels_read_back_but_not_existing_reports(engine, database_url):
    steps = revisions(database_url)
    upgrade_database(engine, steps[steps.index("0015") - 1])
    with engine.begin() as connection:
        seed(connection, with_event=False)
    upgrade_database(engine, "0015")
    with engine.connect() as connection:
        # The channel's default is on; an old report was not sealed for its reporter.
        assert connection.execute(text("SELECT reporter_reads_back FROM channel")).scalar()
        assert not connection.execute(text("SELECT content_for_reporter FROM report")).scalar()
    downgrade_database(engine, steps[steps.index("0015") - 1])
    with engine.connect() as connection:
        columns = {c["name"] for c in inspect(connection).get_columns("report")}
    assert "content_for_reporter" not in columns
