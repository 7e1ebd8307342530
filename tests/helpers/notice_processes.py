"""What runs in the separate OS processes of the outbox's concurrency test: an app of
its own taking reports through the real form (started by multiprocessing's spawn, so
nothing is shared with the test process but the database)."""

from __future__ import annotations

from multiprocessing.synchronize import Barrier

from config.settings import Settings
from reporting_portal.app import create_app
from reporting_portal.web.database import get_database
from tests.helpers.client import https_client
from tests.helpers.reporting import send_report


def take_reports(settings: Settings, count: int, start: Barrier) -> None:
    """Build an app on ``settings``, wait for the other process, then take ``count``
    reports without JavaScript, each in its own request."""
    app = create_app(settings)
    client = https_client(app)
    start.wait(timeout=60)
    try:
        for _ in range(count):
            send_report(client)
    finally:
        get_database(app).engine.dispose()
