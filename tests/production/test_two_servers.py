"""Two gunicorn servers on one PostgreSQL database, as two app hosts behind a balancer:
concurrent reports and concurrent triage of one case, and afterwards nothing is lost.

The database is made fresh on the shared server (127.0.0.1:5432) and dropped after.
"""

from __future__ import annotations

import subprocess
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select

from reporting_portal.storage.models import AuditEvent, Report
from tests.helpers.live_server import (
    GUNICORN,
    PortalServer,
    WebBrowser,
    settings_environment,
    submit_report,
)

pytestmark = [pytest.mark.slow, pytest.mark.starts_first]

REPORTS = 40
REPORTING_THREADS = 8
TRIAGE_ROUNDS = 12
NOT_SAVED = "Your change was not saved. Check and submit it again."


@pytest.fixture
def database_url(fresh_database: str) -> str:
    return fresh_database


@pytest.fixture
def settings(settings):
    # Every receipt is opened again at the end, faster than the real budget allows.
    return settings.replace(environment="production", receipt_plain_attempts_per_minute=1000)


@pytest.fixture
def servers(settings, channel_with_handlers, tmp_path: Path) -> Iterator[list[PortalServer]]:
    if not GUNICORN.exists():
        pytest.skip(f"gunicorn is not installed at {GUNICORN}")
    started: list[PortalServer] = []
    try:
        for number in (1, 2):
            started.append(PortalServer(settings, tmp_path / f"gunicorn-{number}.log"))
        yield started
    finally:
        for server in started:
            server.stop()


def triage(browser: WebBrowser, path: str, priorities: tuple[str, str],
           barrier: threading.Barrier) -> Counter[str]:
    """Rounds of: load the case, wait for the other handler, change the priority."""
    outcomes: Counter[str] = Counter()
    for round_number in range(TRIAGE_ROUNDS):
        _page, fields = browser.form_fields(path)
        barrier.wait(timeout=120)
        sent = browser.post(f"{path}/priority",
                            data={**fields, "priority": priorities[round_number % 2]})
        if sent.status_code == 302:
            outcomes["applied"] += 1
        elif sent.status_code == 409 and NOT_SAVED in sent.text:
            outcomes["refused"] += 1
        else:
            outcomes[f"unexpected {sent.status_code}"] += 1
        barrier.wait(timeout=120)
    return outcomes


def test_two_servers_lose_no_report_and_no_triage_change(app, db, settings, servers,
                                                        channel_with_handlers):
    first, second = servers
    setup = submit_report(WebBrowser(first.url))
    assert setup.receipt is not None
    case_id = db.scalar(select(Report.public_id))
    path = f"/staff/cases/{case_id}"
    hana, omar = WebBrowser(first.url), WebBrowser(second.url)
    for browser, member in ((hana, channel_with_handlers["hana"]),
                            (omar, channel_with_handlers["omar"])):
        browser.sign_in(member.username, member.password, member.code())

    barrier = threading.Barrier(2)
    with ThreadPoolExecutor(REPORTING_THREADS + 2) as pool:
        triaged = [pool.submit(triage, hana, path, ("high", "low"), barrier),
                   pool.submit(triage, omar, path, ("urgent", "normal"), barrier)]
        submitted = [pool.submit(submit_report, WebBrowser(servers[n % 2].url))
                     for n in range(REPORTS)]
        submissions = [future.result() for future in submitted]
        outcomes = sum((future.result() for future in triaged), Counter())

    assert all(s.statuses == [200, 303, 200] for s in submissions), \
        Counter(tuple(s.statuses) for s in submissions)
    receipts = [s.receipt for s in submissions if s.receipt is not None]
    assert len(set(receipts)) == REPORTS
    # Both handlers loaded the case before either sent a change: each round exactly one
    # change applies, and the other is refused with the message.
    assert outcomes == {"applied": TRIAGE_ROUNDS, "refused": TRIAGE_ROUNDS}

    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Report)) == REPORTS + 1
    assert db.scalar(select(Report.version).where(Report.public_id == case_id)) == \
        1 + TRIAGE_ROUNDS
    assert all(WebBrowser(servers[n % 2].url).open_receipt(code)
               for n, code in enumerate([setup.receipt, *receipts]))

    def events(outcome: str) -> int:
        return db.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "case.priority_changed", AuditEvent.outcome == outcome)) or 0

    assert (events("success"), events("failure")) == (TRIAGE_ROUNDS, TRIAGE_ROUNDS)
    verified = subprocess.run(
        [str(GUNICORN.parent / "reporting-portal"), "audit", "verify"],
        env=settings_environment(settings), capture_output=True, text=True, timeout=300,
        check=False)
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.startswith("Intact:")
    for server in servers:
        assert "Traceback" not in server.log()
