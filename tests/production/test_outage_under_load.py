"""PostgreSQL stops and starts again while reporters are sending reports to gunicorn:
each of them sees their report stored (with a receipt) or the calm 503 page, and the
database holds exactly the reports whose receipts were shown. On a throw-away cluster."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from reporting_portal.operations.fsck import find_problems
from reporting_portal.storage.models import Report
from reporting_portal.web.database import get_database
from reporting_portal.web.extensions import get_blob_store
from tests.helpers.live_server import (
    GUNICORN,
    PortalServer,
    Submission,
    WebBrowser,
    submit_report,
)

pytestmark = [pytest.mark.slow, pytest.mark.starts_first]

REPORTERS = 4
REPORTS_EACH = 8
OUTAGE_SECONDS = 3


@pytest.fixture
def database_url(cluster) -> str:
    return cluster.url


@pytest.fixture
def settings(settings):
    return settings.replace(environment="production", receipt_plain_attempts_per_minute=1000)


@pytest.fixture
def server(settings, channel_with_handlers, tmp_path: Path) -> Iterator[PortalServer]:
    if not GUNICORN.exists():
        pytest.skip(f"gunicorn is not installed at {GUNICORN}")
    started = PortalServer(settings, tmp_path / "gunicorn.log")
    try:
        yield started
    finally:
        started.stop()


def reporter(url: str, sent: list[Submission], stored: threading.Event) -> list[Submission]:
    """One reporter after another on this thread, each in a fresh browser."""
    mine = []
    for _ in range(REPORTS_EACH):
        # Reloading the receipt page while the database is back on its feet.
        submission = submit_report(WebBrowser(url), receipt_tries=60)
        mine.append(submission)
        sent.append(submission)
        if submission.receipt is not None:
            stored.set()
    return mine


def test_reports_sent_across_a_database_outage_are_stored_whole_or_refused(
        app, settings, cluster, server):
    sent: list[Submission] = []
    first_stored = threading.Event()
    with ThreadPoolExecutor(REPORTERS) as pool:
        futures = [pool.submit(reporter, server.url, sent, first_stored)
                   for _ in range(REPORTERS)]
        assert first_stored.wait(timeout=300)
        cluster.stop()  # in the middle of the load: connections are cut, commits fail
        before_restart = len(sent)
        time.sleep(OUTAGE_SECONDS)
        cluster.start()
        submissions = [s for future in futures for s in future.result()]

    assert len(submissions) == REPORTERS * REPORTS_EACH
    assert before_restart < len(submissions), "some reports must be sent after the outage"
    allowed = {200, 303, 409, 503}  # 409: sent again after "may have been saved"
    assert all(set(s.statuses) <= allowed for s in submissions), [s.statuses for s in submissions]
    assert not any(s.unexplained for s in submissions)  # every 503 was the calm page
    refused = [s for s in submissions if s.receipt is None]
    receipts = [s.receipt for s in submissions if s.receipt is not None]
    assert refused, "the outage must have refused some requests"
    assert receipts
    log = server.log()
    assert "Traceback" not in log
    assert "database unavailable [OperationalError]" in log

    engine = create_engine(settings.database_url)
    with engine.connect() as connection:
        stored = connection.scalar(select(func.count()).select_from(Report))
    engine.dispose()
    # No report without a receipt shown, and no receipt without its report.
    assert stored == len(receipts)
    assert all(WebBrowser(server.url).open_receipt(code) for code in receipts)
    # And every stored report is whole: no object lost its payload to the outage.
    with app.app_context():
        database = get_database(app)
        with database.session_factory() as db:
            findings = find_problems(db, get_blob_store(), today=date.today())
    assert findings.lost_payloads == ()
