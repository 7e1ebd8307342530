"""Case numbers: one per report, per year of receipt, never the same twice.

The concurrency test runs on SQLite and, with ``--database=postgresql``, PostgreSQL: each
database serialises the counter's UPDATE in its own way (domain/case_numbers.py).
"""

import os
import threading
import time
from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from reporting_portal.domain.case_numbers import allocate_case_number, parse_case_number
from reporting_portal.storage.db import make_engine
from reporting_portal.storage.migrate import upgrade_database
from reporting_portal.storage.models import Channel, Report

pytestmark = pytest.mark.database

SUBMISSIONS = 8


@pytest.mark.parametrize(("typed", "parsed"), [
    ("2026-0142", (2026, 142)), ("2026-142", (2026, 142)), (" 2026 142 ", (2026, 142)),
    ("2026/7", (2026, 7)), ("20260142", (2026, 142)),
    ("2026-0", None), ("2026", None), ("abcd-12", None), ("2026-12345678", None), ("", None),
])
def test_a_case_number_is_read_with_or_without_dash_and_zeros(typed, parsed):
    assert parse_case_number(typed) == parsed


def new_report(channel_id, received_on):
    return Report(channel_id=channel_id, received_on=received_on, receipt_lookup=os.urandom(32),
                  reporter_recipient="age1placeholder", wrapped_reporter_identity=b"wrapped")


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    upgrade_database(engine)
    with Session(engine) as db:
        db.add(Channel(slug="bribery", name="Bribery", description="", questionnaire=[]))
        db.commit()
    yield engine
    engine.dispose()


def channel_id(engine):
    with Session(engine) as db:
        return db.scalar(select(Channel.id))


def test_numbers_count_per_year_of_receipt(engine):
    channel = channel_id(engine)
    with Session(engine) as db:
        reports = [new_report(channel, day) for day in
                   (date(2025, 12, 31), date(2026, 1, 1), date(2026, 1, 1), date(2027, 3, 2))]
        for report in reports:
            allocate_case_number(db, report)
            db.add(report)
        db.commit()
        assert [r.case_reference for r in reports] == [
            "2025-0001", "2026-0001", "2026-0002", "2027-0001"]


def test_concurrent_submissions_never_get_the_same_number(engine):
    channel = channel_id(engine)
    start = threading.Barrier(SUBMISSIONS)
    numbers: list[int] = []
    failures: list[BaseException] = []

    def submit():
        try:
            with Session(engine) as db:
                report = new_report(channel, date(2026, 6, 1))
                start.wait()
                allocate_case_number(db, report)
                db.add(report)
                db.flush()
                time.sleep(0.05)  # hold the transaction open: the others must wait
                db.commit()
                numbers.append(report.case_number)
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=submit) for _ in range(SUBMISSIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sorted(numbers) == list(range(1, SUBMISSIONS + 1))


def test_a_rolled_back_submission_gives_its_number_back(engine):
    channel = channel_id(engine)
    with Session(engine) as db:
        allocate_case_number(db, new_report(channel, date(2026, 6, 1)))
        db.rollback()
    with Session(engine) as db:
        report = new_report(channel, date(2026, 6, 1))
        allocate_case_number(db, report)
        db.add(report)
        db.commit()
        assert report.case_reference == "2026-0001"
