"""Identity custody in tests: a handler asks to see who reported, and the request it made."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from reporting_portal.storage.models import IdentityAccessRequest
from tests.helpers.client import csrf_token

JUSTIFICATION = ("We must interview the reporter as a witness before the prosecutor's "
                 "deadline; the documents alone do not identify the official.")
REASON = "Needed for the witness interview; proportionate."


def ask(browser: FlaskClient, case_id: str, justification: str = JUSTIFICATION) -> TestResponse:
    """Ask, as the handler signed in to ``browser``, to see the reporter of ``case_id``."""
    return browser.post(f"/staff/cases/{case_id}/identity-requests", data={
        "csrf_token": csrf_token(browser, f"/staff/cases/{case_id}"),
        "justification": justification})


def the_request(db: Session) -> IdentityAccessRequest:
    """The one identity access request there is, as the database holds it now."""
    db.expire_all()
    [request] = db.scalars(select(IdentityAccessRequest)).all()
    return request
