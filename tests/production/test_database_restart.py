"""The database restarts under a running app: a calm 503 page meanwhile, then service
again by itself, with nothing lost. On a throw-away cluster (tests/helpers/postgres_cluster)."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from reporting_portal.storage.models import Report
from tests.helpers.reporting import REPORT_FORM, open_mailbox, send_report
from tests.helpers.staff import signed_in

pytestmark = pytest.mark.slow

UNAVAILABLE = ("The service is unavailable for a moment. Nothing you sent was saved. "
               "Please try again in a few minutes.")


@pytest.fixture
def database_url(cluster) -> str:
    return cluster.url


def assert_unavailable_page(response) -> None:
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "60"
    assert UNAVAILABLE in page
    assert "Traceback" not in page
    assert "psycopg" not in page


def test_the_app_rides_out_a_database_restart(app, client, db, cluster, channel_with_handlers,
                                              caplog):
    code = send_report(client)  # a receipt handed out before the outage
    hana = signed_in(app, channel_with_handlers["hana"])
    assert hana.get("/staff/cases").status_code == 200
    db.close()

    cluster.stop()
    with caplog.at_level(logging.INFO):
        for response in (client.get(REPORT_FORM), client.get("/followup"),
                         hana.get("/staff/cases")):
            assert_unavailable_page(response)
    logged = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert logged, "the outage must be visible to the operator"
    # Only the exception's type: its text could quote SQL and the values bound to it.
    assert {record.getMessage() for record in logged} <= {
        "database unavailable [OperationalError]"}
    assert all(record.exc_info is None for record in logged)

    cluster.start()
    # No manual step: the pool notices its dead connections and opens new ones.
    assert client.get(REPORT_FORM).status_code == 200
    assert hana.get("/staff/cases").status_code == 200  # her session outlived the restart
    assert open_mailbox(client, code).headers["Location"] == "/followup/mailbox"
    client.delete_cookie("__Host-session", domain="localhost")
    send_report(client)
    assert db.scalar(select(func.count()).select_from(Report)) == 2
