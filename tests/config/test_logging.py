"""No client address, user agent, query string or request content reaches a log line."""

import io
import logging

import pytest

from config.logging import AllowListFormatter, configure_logging
from reporting_portal.web.security.access import public
from tests.helpers import csrf_token

pytestmark = pytest.mark.database

ADDRESS = "203.0.113.77"
AGENT = "Mozilla/5.0 (Marker-Agent-7f3a)"
QUERY_MARKER = "q-marker-91bd"
FORM_MARKER = "form-marker-55c1"


@pytest.fixture
def captured_lines():
    """The lines the production configuration writes, as an operator's log would hold them.

    ``configure_logging`` is what the command line and gunicorn call. Its handlers are
    kept as it installs them (formatter, levels, silenced request logs); only their stream
    is pointed at a buffer, so the test reads what that configuration really emits.
    """
    configure_logging("DEBUG")
    buffer = io.StringIO()
    handlers = [handler for handler in _all_handlers()
                if isinstance(handler, logging.StreamHandler)]
    assert handlers, "configure_logging installed no handler"
    for handler in handlers:
        handler.setStream(buffer)
    yield lambda: buffer.getvalue().splitlines()
    configure_logging("INFO")


def _all_handlers():
    loggers = [logging.getLogger(), *(logging.getLogger(name)
                                      for name in logging.root.manager.loggerDict)]
    return [handler for logger in loggers for handler in logger.handlers]


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


def test_configuration_routes_every_logger_through_the_allow_list(captured_lines):
    logging.getLogger("reporting_portal.anything").warning("user %s", "203.0.113.9 <b>")
    logging.getLogger("werkzeug").warning('203.0.113.9 - - "GET /?q=1 HTTP/1.1" 200')
    lines = captured_lines()
    assert len(lines) == 1
    assert lines[0].endswith("WARNING reporting_portal.anything: user [redacted]")
