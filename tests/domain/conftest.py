"""Fixtures for the notice tests: an SMTP server, and one run of the sender as the timer
would start it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from flask import Flask

from reporting_portal.domain.notice_runs import RunSummary, send_due_notices
from reporting_portal.web.database import get_database
from tests.helpers.notices import use_settings
from tests.helpers.smtp import SmtpServer, smtp_server


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def mail_on(app: Flask, smtp: SmtpServer) -> SmtpServer:
    """The app mails through the test's SMTP server (window 0: due at once)."""
    use_settings(app, smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_starttls=False)
    return smtp


@pytest.fixture
def run_sender(app: Flask) -> Callable[..., RunSummary]:
    """One run of ``send-notices`` at ``now`` (default: the real time)."""

    def run(now: datetime | None = None) -> RunSummary:
        return send_due_notices(get_database(app).session_factory, app.extensions["settings"],
                                now=now or datetime.now(UTC))

    return run
