"""The tamper-evident log: appended at commit, verified from the events, tampering named.

Tampering is done as an attacker with the database owner's rights would: drop the
append-only triggers, then edit, delete, reorder or insert rows directly in SQL.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from crypto.checkpoint import Checkpoint, generate_signer_key, sign_checkpoint
from crypto.merkle import CompactRange, verify_inclusion
from reporting_portal.audit.events import SYSTEM, AuditAction, ObjectType, record_event
from reporting_portal.audit.log import event_leaf_hash
from reporting_portal.audit.proofs import (
    HeadCheckError,
    check_saved_head,
    inclusion_proof_for,
    latest_head,
    verifier_key,
)
from reporting_portal.audit.verify import verify_log
from reporting_portal.cli import main
from reporting_portal.storage.models import AuditEvent, AuditTreeHead
from reporting_portal.web.database import get_database

pytestmark = pytest.mark.database

TABLES = ("audit_event", "audit_tree_node", "audit_tree_head")


@pytest.fixture
def cli_env(monkeypatch, settings):
    monkeypatch.setenv("REPORTING_PORTAL_INSTANCE_DIR", str(settings.instance_dir))
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.delenv("REPORTING_PORTAL_CONFIG", raising=False)


def cli(*args):
    return CliRunner().invoke(main, ["audit", *args], catch_exceptions=False)


@pytest.fixture
def logged(app, installed):
    """An installation whose log holds 20 events, each appended by its own transaction."""
    factory = get_database(app).session_factory
    for number in range(20):
        with factory() as db:
            record_event(db, AuditAction.CASE_READ, actor=None, actor_role=SYSTEM,
                         object_type=ObjectType.REPORT, object_id=f"case-{number}")
            db.commit()
    return factory


def raw(app, *statements, **params):
    """Run SQL as the database owner, with the append-only triggers out of the way."""
    engine = get_database(app).engine
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            for table in TABLES:
                connection.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        else:
            for table in TABLES:
                for verb in ("update", "delete"):
                    connection.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")
        for statement in statements:
            connection.execute(text(statement), params)


def events(factory):
    with factory() as db:
        return list(db.scalars(select(AuditEvent).order_by(AuditEvent.leaf_index)))


def test_events_get_gapless_positions_and_every_commit_a_signed_head(logged, cli_env):
    logged_events = events(logged)
    assert [e.leaf_index for e in logged_events] == list(range(len(logged_events)))
    with logged() as db:
        head = latest_head(db)
        assert head.tree_size == len(logged_events)
        assert db.scalar(select(AuditTreeHead).where(AuditTreeHead.tree_size == 5)) is not None
    result = cli("verify")
    assert result.exit_code == 0, result.output
    assert f"Intact: {len(logged_events)} entries" in result.output


def test_a_rolled_back_action_leaves_no_event_and_no_gap(logged):
    before = len(events(logged))
    with logged() as db:
        record_event(db, AuditAction.CASE_CLOSED, actor=None, actor_role=SYSTEM)
        db.rollback()
        db.commit()
    with logged() as db:
        record_event(db, AuditAction.CASE_READ, actor=None, actor_role=SYSTEM)
        db.commit()
    after = events(logged)
    assert [e.action for e in after[before:]] == ["case.read"]
    assert after[-1].leaf_index == before


def test_the_database_refuses_to_change_or_delete_audit_rows(app, logged):
    engine = get_database(app).engine
    for statement in ("UPDATE audit_event SET outcome = 'success'",
                      "DELETE FROM audit_event",
                      "DELETE FROM audit_tree_head",
                      "UPDATE audit_tree_node SET hash = hash"):
        with pytest.raises(DatabaseError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    assert [e.outcome for e in events(logged)].count("success") == len(events(logged))


@pytest.mark.parametrize(("tampering", "statements", "named"), [
    ("edit an event", [
        "UPDATE audit_event SET actor_role = 'auditor' WHERE leaf_index = 7"], 7),
    ("delete an event", ["DELETE FROM audit_event WHERE leaf_index = 7"], 7),
    ("reorder two events", [
        "UPDATE audit_event SET leaf_index = -1 WHERE leaf_index = 7",
        "UPDATE audit_event SET leaf_index = 7 WHERE leaf_index = 8",
        "UPDATE audit_event SET leaf_index = 8 WHERE leaf_index = -1"], 7),
    ("delete the newest events", ["DELETE FROM audit_event WHERE leaf_index >= 18"], 18),
    ("alter a stored subtree", [
        'UPDATE audit_tree_node SET hash = (SELECT leaf_hash FROM audit_event '
        'WHERE leaf_index = 0) WHERE level = 1 AND "index" = 3'], 6),
])
def test_verify_names_the_first_altered_entry(app, logged, cli_env, tampering, statements,
                                              named):
    raw(app, *statements)
    result = cli("verify")
    assert result.exit_code == 1, tampering
    assert f"first bad entry {named}:" in result.output


def test_an_edit_with_its_hash_recomputed_is_caught_by_the_signed_heads(app, logged, cli_env):
    [entry] = [e for e in events(logged) if e.leaf_index == 12]
    entry.outcome = "denied"  # an access that happened, made to look refused
    raw(app, "UPDATE audit_event SET outcome = 'denied', leaf_hash = :digest "
             "WHERE leaf_index = 12", digest=event_leaf_hash(entry))
    result = cli("verify")
    assert result.exit_code == 1
    assert "first bad entry 12: entry 12 was altered" in result.output


def test_an_inserted_event_is_caught(app, logged, cli_env):
    last = events(logged)[-1]
    forged = AuditEvent(leaf_index=last.leaf_index + 1, occurred_at=last.occurred_at,
                        actor_id=None, actor_role="system", action="case.read",
                        object_type="report", object_id="forged", outcome="success")
    raw(app, "INSERT INTO audit_event (leaf_index, leaf_hash, occurred_at, actor_role, action, "
             "object_type, object_id, outcome) VALUES (:index, :digest, :at, 'system', "
             "'case.read', 'report', 'forged', 'success')",
        index=forged.leaf_index, digest=event_leaf_hash(forged),
        at=last.occurred_at.replace(tzinfo=None))
    result = cli("verify")
    assert result.exit_code == 1
    assert f"first bad entry {forged.leaf_index}:" in result.output


def rewrite_and_resign(app, settings, factory):
    """What someone holding the database AND the signing key could do: a log consistent
    in itself, with entry 3 changed, every hash recomputed and the newest head re-signed."""
    signer_key = settings.audit_key_file.read_text().strip()
    raw(app, "UPDATE audit_event SET action = 'case.exported' WHERE leaf_index = 3",
        "DELETE FROM audit_tree_node", "DELETE FROM audit_tree_head")
    compact, statements = CompactRange(), []
    for entry in events(factory):
        digest = event_leaf_hash(entry)
        statements.append(("UPDATE audit_event SET leaf_hash = :h WHERE leaf_index = :i",
                           {"h": digest, "i": entry.leaf_index}))
        statements.extend(('INSERT INTO audit_tree_node (level, "index", hash) '
                           "VALUES (:l, :i, :h)", {"l": level, "i": index, "h": node})
                          for level, index, node in compact.append(digest))
    origin = signer_key.split("+")[2]
    note = sign_checkpoint(Checkpoint(origin, compact.size, compact.root()), signer_key)
    statements.append(("INSERT INTO audit_tree_head (tree_size, root_hash, signed_at, "
                       "checkpoint) VALUES (:s, :r, CURRENT_TIMESTAMP, :c)",
                       {"s": compact.size, "r": compact.root(), "c": note}))
    engine = get_database(app).engine
    with engine.begin() as connection:
        for statement, params in statements:
            connection.execute(text(statement), params)


def test_a_rewritten_and_resigned_log_is_caught_only_with_a_saved_head(
        app, settings, logged, cli_env, tmp_path):
    saved = tmp_path / "head.txt"
    assert cli("head", "-o", str(saved)).exit_code == 0
    rewrite_and_resign(app, settings, logged)
    alone = cli("verify")
    assert alone.exit_code == 0, alone.output  # consistent in itself: this alone cannot tell
    with_head = cli("verify", "--head", str(saved))
    assert with_head.exit_code == 1
    assert "the log was rewritten and re-signed" in with_head.output
    assert "first bad entry" not in with_head.output  # the head cannot say which one
    with logged() as db, pytest.raises(HeadCheckError, match="log was rewritten"):
        check_saved_head(db, saved.read_text())


def test_a_saved_head_of_an_honest_log_checks_out_after_growth(app, logged, cli_env, tmp_path):
    saved = tmp_path / "head.txt"
    cli("head", "-o", str(saved))
    with logged() as db:
        record_event(db, AuditAction.CASE_READ, actor=None, actor_role=SYSTEM)
        db.commit()
    result = cli("verify", "--head", str(saved))
    assert result.exit_code == 0, result.output
    with logged() as db:
        check = check_saved_head(db, saved.read_text())
    assert f"only grew since the saved head of size {check.saved.size}" in result.output
    # Since the head was saved: its download (itself an event) and the read above.
    assert check.current_size == check.saved.size + 2


def test_a_head_signed_by_another_key_is_refused(logged):
    with logged() as db:
        genuine = latest_head(db)
    # The same name and tree, signed by a key that is not the log's.
    forged = sign_checkpoint(Checkpoint("reporting-portal.test/audit", genuine.tree_size,
                                        genuine.root_hash),
                             generate_signer_key("reporting-portal.test/audit"))
    with logged() as db, pytest.raises(HeadCheckError, match="not a tree head signed"):
        check_saved_head(db, forged)


@pytest.mark.parametrize("upload", ["", "my notes about the audit\n", "a\n\nb\n"])
def test_a_file_that_is_no_tree_head_is_called_so(logged, upload):
    with logged() as db, pytest.raises(HeadCheckError) as refused:
        check_saved_head(db, upload)
    assert refused.value.reason == "not_a_head"
    assert str(refused.value) == "This file is not a signed tree head."


def test_verify_with_a_foreign_head_refuses_the_head_and_names_no_entry(
        logged, cli_env, tmp_path):
    with logged() as db:
        genuine = latest_head(db)
    foreign = tmp_path / "head.txt"
    foreign.write_text(sign_checkpoint(
        Checkpoint("reporting-portal.test/audit", genuine.tree_size, genuine.root_hash),
        generate_signer_key("reporting-portal.test/audit")))
    result = cli("verify", "--head", str(foreign))
    assert result.exit_code == 1
    assert result.output.startswith("SAVED HEAD REFUSED: the saved head does not check out")
    assert "no altered entry" in result.output
    assert "first bad entry" not in result.output
    assert "NOT INTACT" not in result.output


def test_verify_with_a_foreign_head_still_names_an_altered_entry(app, logged, cli_env,
                                                                 tmp_path):
    foreign = tmp_path / "head.txt"
    foreign.write_text("not a head at all\n")
    raw(app, "DELETE FROM audit_event WHERE leaf_index = 7")
    result = cli("verify", "--head", str(foreign))
    assert result.exit_code == 1
    assert "NOT INTACT: first bad entry 7:" in result.output
    assert "also: the saved head does not check out" in result.output


def test_every_event_has_an_inclusion_proof_under_the_latest_head(logged):
    with logged() as db:
        head = latest_head(db)
        for index in range(head.tree_size):
            proof = inclusion_proof_for(db, index)
            verify_inclusion(event_leaf_hash(proof.event), index, head.tree_size,
                             proof.hashes, head.root_hash)
            assert len(proof.hashes) <= head.tree_size.bit_length()
            document = proof.as_document()
            assert document["checkpoint"] == head.checkpoint


def test_concurrent_commits_get_distinct_gapless_positions(app, logged):
    """Many workers appending at once: one position each, none skipped, log intact."""
    before = len(events(logged))

    def append(number):
        with logged() as db:
            record_event(db, AuditAction.CASE_READ, actor=None, actor_role=SYSTEM,
                         object_type=ObjectType.REPORT, object_id=f"parallel-{number}")
            db.commit()

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(append, range(40)))
    after = events(logged)
    assert [e.leaf_index for e in after] == list(range(before + 40))
    with logged() as db:
        assert verify_log(db, verifier_key(db)).intact
        assert latest_head(db).tree_size == before + 40
