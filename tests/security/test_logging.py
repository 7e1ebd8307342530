"""No client address, user agent, query string or request content reaches a log line."""

import logging

import pytest

from config.logging import AllowListFormatter, configure_logging
from reporting_portal.security.access import public
from tests.helpers import csrf_token

pytestmark = pytest.mark.database

ADDRESS = "203.0.113.77"
AGENT = "Mozilla/5.0 (Marker-Agent-7f3a)"
QUERY_MARKER = "q-marker-91bd"
FORM_MARKER = "form-marker-55c1"


@pytest.fixture
def captured_lines(app):
    configure_logging("DEBUG")
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    handler = Keep()
    logging.getLogger().addHandler(handler)
    app.logger.addHandler(handler)
    yield lambda: [AllowListFormatter().format(r) for r in records]
    logging.getLogger().removeHandler(handler)
    app.logger.removeHandler(handler)


def test_scenarios_leave_no_client_data_in_logs(app, client, make_staff, captured_lines):
    environ = {"REMOTE_ADDR": ADDRESS, "HTTP_X_FORWARDED_FOR": ADDRESS}
    headers = {"User-Agent": AGENT}
    member = make_staff("hana")

    @public
    def explode():
        raise RuntimeError(f"failure while handling {FORM_MARKER} from {ADDRESS}")

    app.add_url_rule("/explode", "explode", explode)
    client.get(f"/?{QUERY_MARKER}=1", headers=headers, environ_base=environ)
    client.get(f"/no-such-page?{QUERY_MARKER}=1", headers=headers, environ_base=environ)
    client.get("/explode", headers=headers, environ_base=environ)
    client.post(
        "/staff/sign-in",
        data={"csrf_token": csrf_token(client, "/staff/sign-in"), "username": FORM_MARKER,
              "password": FORM_MARKER, "code": "123456"},
        headers=headers, environ_base=environ,
    )
    client.post("/staff/sign-in", data={"username": member.username}, headers=headers,
                environ_base=environ)  # no CSRF token
    lines = captured_lines()
    assert any("RuntimeError" in line for line in lines), "the error must still be logged"
    for line in lines:
        for marker in (ADDRESS, AGENT, "Marker-Agent", QUERY_MARKER, FORM_MARKER):
            assert marker not in line


def test_formatter_redacts_unsafe_arguments_and_newlines():
    record = logging.LogRecord("x", logging.INFO, __file__, 1,
                               "user %s from %s\nforged", ("ok_name", "203.0.113.9 <b>"), None)
    line = AllowListFormatter().format(record)
    assert "ok_name" in line
    assert "203.0.113.9 <b>" not in line
    assert "\n" not in line
