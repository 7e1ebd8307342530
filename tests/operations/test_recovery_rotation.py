"""Rotating the recovery recipient on a populated instance: the new recovery key opens
everything, the old nothing, everyone else reads what they read before; an interrupted
rotation resumes; a wrong old identity changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from crypto import replace_recipient
from crypto.keys import HybridIdentity, parse_identity
from reporting_portal.domain.key_rotation import regrant_batch
from reporting_portal.operations import rotation
from reporting_portal.operations.rotation import (
    RecoveryRotationError,
    run_recovery_rotation,
    start_recovery_rotation,
)
from reporting_portal.storage.models import AuditEvent, Installation, KeyRotation, ReportObject
from reporting_portal.web.database import get_database
from tests.helpers.reporting import send_report
from tests.helpers.rotation import everything, opened_by, payloads, populate

# Each test populates an instance first (sign-ins, a report, a custody decision).
pytestmark = [pytest.mark.database, pytest.mark.slow]


@pytest.fixture
def populated(app, db, submit_case, channel_with_handlers) -> dict[str, str]:
    """A populated instance; returns each person's identity by name."""
    populate(app, db, submit_case, channel_with_handlers)
    return {name: member.identity for name, member in channel_with_handlers.items()}


def start(app, identity: str, delivered: list[str] | None = None, grace=timedelta(0)):
    with get_database(app).session_factory() as session:
        started = start_recovery_rotation(
            session, [parse_identity(identity)],
            (delivered if delivered is not None else []).append, grace=grace)
        session.commit()
    return started


def rotation_events(db) -> list[str]:
    db.expire_all()
    return [e.action for e in db.scalars(select(AuditEvent).where(
        AuditEvent.action.like("installation.recovery_rotation_%")).order_by(AuditEvent.id))]


def test_the_new_recovery_key_opens_everything_and_the_old_nothing(
        app, db, settings, installed, populated) -> None:
    readers = {name: opened_by(settings, db, identity) for name, identity in populated.items()}
    stored = payloads(settings, db)
    assert opened_by(settings, db, installed.recovery_identity) == everything(db)
    delivered: list[str] = []

    started = start(app, installed.recovery_identity, delivered)
    progress = list(run_recovery_rotation(get_database(app).session_factory, started,
                                          batch_size=2))

    [new_identity] = delivered
    assert isinstance(parse_identity(new_identity), HybridIdentity)
    assert opened_by(settings, db, new_identity) == everything(db)
    assert opened_by(settings, db, installed.recovery_identity) == set()
    for name, identity in populated.items():
        assert opened_by(settings, db, identity) == readers[name], name
    assert payloads(settings, db) == stored
    assert progress[-1].completed
    assert progress[-1].objects_regranted == sum(n.startswith("object:") for n in everything(db))
    assert progress[-1].texts_regranted == 2  # the justification and the custodian's reason
    assert rotation_events(db) == ["installation.recovery_rotation_started",
                                   "installation.recovery_rotation_completed"]
    installation = db.scalar(select(Installation))
    assert installation.recovery_recipient == str(parse_identity(new_identity).recipient)
    assert installation.recovery_confirmed_on is None  # the checklist asks again


def test_what_is_sealed_after_the_switch_goes_to_the_new_key_at_once(
        app, client, db, settings, installed, populated) -> None:
    delivered: list[str] = []
    start(app, installed.recovery_identity, delivered)  # no batch has run yet
    before = everything(db)

    send_report(client)

    new_objects = everything(db) - before
    assert new_objects
    assert new_objects <= opened_by(settings, db, delivered[0])
    assert not new_objects & opened_by(settings, db, installed.recovery_identity)


def test_an_interrupted_rotation_resumes_with_the_same_old_identity(
        app, db, settings, installed, populated, monkeypatch) -> None:
    readers = {name: opened_by(settings, db, identity) for name, identity in populated.items()}
    delivered: list[str] = []
    started = start(app, installed.recovery_identity, delivered)
    calls = []

    def killed_in_the_second_batch(*args, **kwargs):
        done = regrant_batch(*args, **kwargs)  # headers rewritten, not yet committed
        calls.append(done)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the operator's Ctrl-C
        return done

    monkeypatch.setattr(rotation, "regrant_batch", killed_in_the_second_batch)
    with pytest.raises(KeyboardInterrupt):
        list(run_recovery_rotation(get_database(app).session_factory, started, batch_size=2))
    monkeypatch.undo()

    # The first batch (two objects) committed; the second rolled back entirely.
    moved = opened_by(settings, db, delivered[0])
    assert len(moved) == 2
    assert opened_by(settings, db, installed.recovery_identity) == everything(db) - moved
    resumed = start(app, installed.recovery_identity, delivered)
    assert resumed.resumed
    assert resumed.rotation_id == started.rotation_id
    assert len(delivered) == 1  # no second new key
    list(run_recovery_rotation(get_database(app).session_factory, resumed, batch_size=2))

    assert opened_by(settings, db, delivered[0]) == everything(db)
    assert opened_by(settings, db, installed.recovery_identity) == set()
    for name, identity in populated.items():
        assert opened_by(settings, db, identity) == readers[name], name
    assert rotation_events(db) == ["installation.recovery_rotation_started",
                                   "installation.recovery_rotation_resumed",
                                   "installation.recovery_rotation_completed"]


def test_a_header_sealed_to_the_old_key_behind_the_cursor_is_caught_by_the_sweep(
        app, db, settings, installed, populated) -> None:
    delivered: list[str] = []
    started = start(app, installed.recovery_identity, delivered)
    batches = run_recovery_rotation(get_database(app).session_factory, started, batch_size=100)
    next(batches)  # every object is through the first pass
    # As a grant written by a transaction that read the header before the batch did.
    db.expire_all()
    first = db.scalar(select(ReportObject).order_by(ReportObject.id).limit(1))
    first.header = replace_recipient(first.header, parse_identity(delivered[0]),
                                     parse_identity(installed.recovery_identity).recipient)
    db.commit()

    list(batches)

    assert opened_by(settings, db, installed.recovery_identity) == set()
    assert opened_by(settings, db, delivered[0]) == everything(db)


def test_a_wrong_old_identity_is_refused_and_nothing_changes(
        app, db, settings, installed, populated) -> None:
    recipient = db.scalar(select(Installation.recovery_recipient))
    events = db.scalar(select(func.count()).select_from(AuditEvent))
    delivered: list[str] = []

    with pytest.raises(RecoveryRotationError, match="not the installation's recovery identity"):
        start(app, HybridIdentity.generate().to_string(), delivered)

    db.expire_all()
    assert delivered == []
    assert db.scalar(select(Installation.recovery_recipient)) == recipient
    assert db.scalar(select(func.count()).select_from(KeyRotation)) == 0
    assert db.scalar(select(func.count()).select_from(AuditEvent)) == events
    assert opened_by(settings, db, installed.recovery_identity) == everything(db)


def test_a_resume_needs_the_old_identity_not_the_new_one(
        app, db, settings, installed, populated) -> None:
    delivered: list[str] = []
    start(app, installed.recovery_identity, delivered)

    with pytest.raises(RecoveryRotationError, match="is in progress"):
        start(app, delivered[0])


def test_the_rotation_completes_only_after_pages_from_before_the_switch_timed_out(
        app, client, db, settings, installed, populated) -> None:
    delivered: list[str] = []
    started = start(app, installed.recovery_identity, delivered, grace=timedelta(minutes=16))
    factory = get_database(app).session_factory

    progress = list(run_recovery_rotation(factory, started))

    assert not progress[-1].completed
    assert progress[-1].waiting
    assert opened_by(settings, db, installed.recovery_identity) == set()
    # A page loaded before the switch sends its report, encrypted to the old key.
    rotation_row = db.scalar(select(KeyRotation))
    send_report(client)
    db.expire_all()
    late = db.scalar(select(ReportObject).order_by(ReportObject.id.desc()).limit(1))
    late.header = replace_recipient(late.header, parse_identity(delivered[0]),
                                    parse_identity(installed.recovery_identity).recipient)
    rotation_row.complete_after = datetime.now(UTC) - timedelta(seconds=1)  # time passes
    db.commit()

    progress = list(run_recovery_rotation(factory, started))

    assert progress[-1].completed
    assert opened_by(settings, db, installed.recovery_identity) == set()
    assert opened_by(settings, db, delivered[0]) == everything(db)
    assert rotation_events(db)[-1] == "installation.recovery_rotation_completed"
