"""A report whose COMMIT reached the database but whose reply was lost (the database
restarted at that instant): the report is stored, so its blobs must stay, the reporter
is told it may have been saved, and sending the form again shows the receipt instead
of a second report."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from reporting_portal.storage.models import Report
from reporting_portal.web.database import get_database
from tests.helpers.reporting import (
    REPORT_FORM,
    blob_files,
    content_of,
    plaintext_form,
    receipt_code_from,
)

pytestmark = pytest.mark.database


class LostReply:
    """Make the next COMMIT of a transaction that stores a report succeed in the
    database and then fail, as when the connection drops before the reply arrives."""

    def __init__(self, app) -> None:
        self.database = get_database(app)
        self.armed = False
        self.lost = 0

    def watch(self, db, _context) -> None:
        if any(isinstance(instance, Report) for instance in db.new):
            self.armed = True

    def install(self) -> Iterator[LostReply]:
        dialect = self.database.engine.dialect
        original = dialect.do_commit
        unavailable = dialect.loaded_dbapi.OperationalError

        def commit_then_lose_the_reply(dbapi_connection) -> None:
            original(dbapi_connection)
            if self.armed:
                self.armed = False
                self.lost += 1
                raise unavailable("server closed the connection unexpectedly")

        event.listen(self.database.session_factory, "after_flush", self.watch)
        dialect.do_commit = commit_then_lose_the_reply  # type: ignore[method-assign]
        try:
            yield self
        finally:
            dialect.do_commit = original  # type: ignore[method-assign]
            event.remove(self.database.session_factory, "after_flush", self.watch)


@pytest.fixture
def lost_reply(app) -> Iterator[LostReply]:
    yield from LostReply(app).install()


def test_a_report_whose_commit_reply_was_lost_keeps_its_blobs_and_its_receipt(
        client, db, settings, channel_with_handlers, lost_reply):
    form = plaintext_form(client)
    response = client.post(REPORT_FORM, data=form, content_type="multipart/form-data")
    assert lost_reply.lost == 1
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "could not confirm whether what you sent was saved" in page
    assert "Nothing you sent was saved" not in page

    # The report is stored and readable: its blobs were not deleted as uncommitted.
    assert db.scalar(select(func.count()).select_from(Report)) == 1
    assert blob_files(settings)
    content = content_of(settings, db, channel_with_handlers["hana"].identity)
    assert content["answers"]["what"].startswith("The mayor's office")

    # Sending the same form again, as the page says: no second report, and the receipt.
    again = client.post(REPORT_FORM, data=plaintext_form_again(form),
                        content_type="multipart/form-data")
    assert again.status_code == 409
    assert 'id="receipt-pending"' in again.get_data(as_text=True)
    receipt = client.get("/report/receipt")
    assert receipt.status_code == 200
    assert len(receipt_code_from(receipt.get_data(as_text=True)).replace(" ", "")) == 28
    assert db.scalar(select(func.count()).select_from(Report)) == 1


def test_a_connection_lost_before_the_commit_leaves_nothing(
        client, db, settings, channel_with_handlers, app):
    """The other side: the connection drops while the report's rows are being written,
    before COMMIT is sent. The blobs are deleted and the page says nothing was saved."""
    engine = get_database(app).engine

    def drop(_conn, _cursor, statement, parameters, _context, _many):
        if statement.lstrip().upper().startswith("INSERT INTO REPORT "):
            raise OperationalError(statement, parameters,
                                   Exception("server closed the connection unexpectedly"))
        return statement, parameters

    event.listen(engine, "before_cursor_execute", drop, retval=True)
    try:
        response = client.post(REPORT_FORM, data=plaintext_form(client),
                               content_type="multipart/form-data")
    finally:
        event.remove(engine, "before_cursor_execute", drop)
    assert response.status_code == 503
    assert "Nothing you sent was saved" in response.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(Report)) == 0
    assert blob_files(settings) == []


def plaintext_form_again(form: dict) -> dict:
    """The same form, as the browser sends it again: the same tokens and answers."""
    return dict(form)
