"""A report costs one derivation, and holds no write lock while it runs (issue 16).

The receipt Argon2id takes a tenth of a second or more. On SQLite the first write of a
transaction takes the database's single write lock until commit: were the report's
request to write before deriving, every other reporter, sign-in and rate-limit spend
would queue behind each derivation, and submissions could not use more than one core.
So the derivation comes before the request's first write; these tests write from
another connection while it runs, as a concurrent request would.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import OperationalError

import reporting_portal.reporter.intake.services as intake_services
from reporting_portal.storage.models import RateLimitCounter, Report
from reporting_portal.web.database import get_database
from tests.helpers import hidden_fields

pytestmark = pytest.mark.database

FORM = "/report/corruption"


def another_request_writes(engine) -> None:
    """What a concurrent request does: write a row and commit, waiting at most 200 ms."""
    with engine.connect() as other:
        if engine.dialect.name == "sqlite":
            other.exec_driver_sql("PRAGMA busy_timeout = 200")
            # The writers' queue in front of SQLite (storage/sqlite_writes.py) waits as
            # long as the engine's busy timeout, 30 s, unless told otherwise.
            other.connection.dbapi_connection.wait_s = 0.2
        other.execute(insert(RateLimitCounter).values(
            bucket="probe", key=datetime.now(UTC).isoformat().encode(),
            window_start=datetime.now(UTC), count=1))
        other.commit()


@pytest.fixture
def probed_derivations(app, monkeypatch) -> list[str]:
    """Each submission's derivation, run while another connection writes; records
    whether that write got through."""
    engine = get_database(app).engine
    real = intake_services.derive_receipt_secrets
    outcomes: list[str] = []

    def derive_while_another_writes(*args, **kwargs):
        try:
            another_request_writes(engine)
        except OperationalError:
            outcomes.append("blocked")
        else:
            outcomes.append("written")
        return real(*args, **kwargs)

    monkeypatch.setattr(intake_services, "derive_receipt_secrets", derive_while_another_writes)
    return outcomes


def report_fields(client) -> dict[str, object]:
    return {**hidden_fields(client, FORM), "q_what": "Cash for permits.", "q_when": "2026-11-02",
            "q_where": "Permit office", "q_kind": ["Bribery"], "q_how_known": "I found documents",
            "identity_name": "A. Reporter"}


def test_another_request_writes_while_a_report_with_a_file_is_derived(
        client, db, channel_with_handlers, probed_derivations):
    # A file and an identity: the blob writes, the identity and the exclusions all come
    # after the derivation, in the request's one transaction.
    response = client.post(FORM, data={**report_fields(client),
                                       "q_evidence": [(io.BytesIO(b"%PDF-1.7 minutes"),
                                                       "minutes.pdf")]},
                           content_type="multipart/form-data")
    assert response.status_code == 303
    assert probed_derivations == ["written"]
    assert len(db.scalars(select(Report)).all()) == 1


def test_the_probe_notices_a_write_lock(app, db, installed):
    """The probe is not blind: while a transaction has written on SQLite, it is refused."""
    engine = get_database(app).engine
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL has no database-wide write lock to notice")
    db.execute(insert(RateLimitCounter).values(
        bucket="holder", key=b"holder", window_start=datetime.now(UTC), count=1))
    with pytest.raises(OperationalError, match="locked"):
        another_request_writes(engine)
    db.rollback()
    another_request_writes(engine)
