"""Nothing a reporter or a client sends reaches a log line or the access log.

A whole case is worked through the app, with unique markers in everything people type
or upload, and with every request carrying a marked user agent and client addresses.
The access log may say who did what to which object, never what was said, who the
reporter is, their receipt code, or where anyone connected from (STYLE.md 10; DESIGN.md,
Access log and Threat model).
"""

from __future__ import annotations

import base64
import io
import logging
import re
import secrets
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import MetaData, Table, inspect, select

from config.logging import AllowListFormatter, configure_logging
from reporting_portal.storage.models import Report
from reporting_portal.web.database import get_database
from tests.helpers import HttpsClient, StaffMember, csrf_token, submission_token
from tests.helpers.custody import the_request
from tests.helpers.reporting import REPORT_FORM, open_mailbox, plaintext_form, receipt_code_from

pytestmark = pytest.mark.database

USER_AGENT = "MARKER-UA/9.9"
FORWARDED_FOR = "203.0.113.77"
REMOTE_ADDR = "198.51.100.23"
_TAG = secrets.token_hex(6)
ANSWER = f"ANSWER-{_TAG}"
FILE_NAME = f"FILENAME-{_TAG}"
FILE_CONTENT = f"FILECONTENT-{_TAG}"
NAME = f"NAME-{_TAG}"
CONTACT = f"CONTACT-{_TAG}"
REPORTER_REPLY = f"REPORTERREPLY-{_TAG}"
NOTE = f"NOTE-{_TAG}"
HANDLER_REPLY = f"HANDLERREPLY-{_TAG}"
JUSTIFICATION = f"We must hear the reporter as a witness; see JUSTIFY-{_TAG} for why."
REASON = f"Proportionate: REASON-{_TAG}."


class MarkedClient(HttpsClient):
    """A browser whose every request names a user agent and client addresses."""

    def open(self, *args: object, **kwargs: object) -> object:
        kwargs.setdefault("headers", {"User-Agent": USER_AGENT, "X-Forwarded-For": FORWARDED_FOR})
        kwargs.setdefault("environ_base", {"REMOTE_ADDR": REMOTE_ADDR})
        return super().open(*args, **kwargs)


def marked_browser(app: Flask) -> MarkedClient:
    app.test_client_class = MarkedClient
    browser = app.test_client()
    assert isinstance(browser, MarkedClient)
    return browser


def staff_browser(app: Flask, member: StaffMember) -> MarkedClient:
    browser = marked_browser(app)
    response = browser.post("/staff/sign-in", data={
        "csrf_token": csrf_token(browser, "/staff/sign-in"), "username": member.username,
        "password": member.password, "code": member.code()})
    assert response.status_code == 302
    assert browser.get("/staff/sign-in/continue").headers["Location"] == "/staff/"
    return browser


@pytest.fixture
def production_logging() -> Iterator[None]:
    """The logging the deployed app runs with (wsgi, gunicorn, CLI), put back afterwards.

    Set up before the test body, so pytest's capture handler, added to the root logger
    for the test's call, is not removed by the reconfiguration.
    """
    names = ("", "werkzeug", "gunicorn.access", "gunicorn.error", "sqlalchemy", "alembic")
    saved = [(logger, logger.level, logger.propagate, list(logger.handlers))
             for logger in map(logging.getLogger, names)]
    configure_logging("DEBUG")
    yield
    for logger, level, propagate, handlers in saved:
        logger.setLevel(level)
        logger.propagate = propagate
        logger.handlers[:] = handlers


def audit_cells(app: Flask) -> list[tuple[str, str, str]]:
    """Every value of every audit table, as text: bytes as Latin-1, hex and Base64 too."""
    engine = get_database(app).engine
    tables = [name for name in inspect(engine).get_table_names() if name.startswith("audit")]
    assert "audit_event" in tables
    cells = []
    with engine.connect() as connection:
        for name in tables:
            table = Table(name, MetaData(), autoload_with=connection)
            for row in connection.execute(select(table)):
                for column, value in row._mapping.items():
                    if isinstance(value, bytes | memoryview):
                        raw = bytes(value)
                        forms = [raw.decode("latin-1"), raw.hex(),
                                 base64.b64encode(raw).decode(),
                                 base64.urlsafe_b64encode(raw).decode()]
                    else:
                        forms = [str(value)]
                    cells.extend((name, str(column), form) for form in forms)
    return cells


def secrets_in(text: str, needles: list[str]) -> list[str]:
    lowered = text.lower()
    return [needle for needle in needles if needle.lower() in lowered]


def test_no_marker_address_agent_or_receipt_in_logs_or_audit_tables(
        app, db, channel_with_handlers, production_logging, caplog):
    caplog.set_level(logging.DEBUG)
    hana, cleo = channel_with_handlers["hana"], channel_with_handlers["cleo"]

    reporter = marked_browser(app)
    data = plaintext_form(reporter, q_what=f"The mayor took {ANSWER} for the bridge.",
                          identity_name=NAME, identity_contact=CONTACT,
                          q_evidence=[(io.BytesIO(FILE_CONTENT.encode()), f"{FILE_NAME}.pdf")])
    assert reporter.post(REPORT_FORM, data=data,
                         content_type="multipart/form-data").status_code == 303
    code = receipt_code_from(reporter.get("/report/receipt").get_data(as_text=True))
    reporter.delete_cookie("__Host-session", domain="localhost")
    assert open_mailbox(reporter, code).headers["Location"] == "/followup/mailbox"
    reply = reporter.post("/followup/reply", data={
        "csrf_token": csrf_token(reporter, "/followup/mailbox"),
        "submission_token": submission_token(reporter, "/followup/mailbox"),
        "q_message": REPORTER_REPLY,
    }, content_type="multipart/form-data")
    assert reply.status_code == 303

    handler = staff_browser(app, hana)
    case_path = f"/staff/cases/{db.scalar(select(Report.public_id))}"
    token = csrf_token(handler, "/staff/")
    page = handler.get(case_path).get_data(as_text=True)
    for marker in (ANSWER, FILE_NAME, REPORTER_REPLY):
        assert marker in page, "the markers must reach the case handler"
    link = re.search(r'href="(/staff/cases/[^"]+/files/[^"]+)"', page).group(1)
    assert handler.get(link.replace("&amp;", "&")).data == FILE_CONTENT.encode()
    for path, field, text in (("notes", "note", NOTE), ("messages", "reply", HANDLER_REPLY),
                              ("identity-requests", "justification", JUSTIFICATION)):
        response = handler.post(f"{case_path}/{path}", data={"csrf_token": token, field: text})
        assert response.status_code == 302
    custodian = staff_browser(app, cleo)
    decision = custodian.post(f"/staff/identity-requests/{the_request(db).public_id}", data={
        "csrf_token": csrf_token(custodian, "/staff/"), "decision": "approve",
        "reason": REASON})
    assert decision.status_code == 302
    shown = handler.get(f"{case_path}/identity").get_data(as_text=True)
    assert NAME in shown
    assert CONTACT in shown
    assert NOTE in handler.get(case_path).get_data(as_text=True)

    needles = [ANSWER, FILE_NAME, FILE_CONTENT, NAME, CONTACT, REPORTER_REPLY, NOTE,
               HANDLER_REPLY, f"JUSTIFY-{_TAG}", f"REASON-{_TAG}", code,
               code.replace(" ", ""), FORWARDED_FOR, REMOTE_ADDR, USER_AGENT, "MARKER-UA"]
    needles += [needle.encode().hex() for needle in needles]
    formatter = AllowListFormatter()
    leaks = [(record.name, found) for record in caplog.records
             for found in secrets_in(f"{record.getMessage()}\n{formatter.format(record)}",
                                     needles)]
    assert leaks == []
    cells = audit_cells(app)
    assert any(value == "identity.viewed" for _table, _column, value in cells)
    leaks = [(table, column, found) for table, column, value in cells
             for found in secrets_in(value, needles)]
    assert leaks == []

