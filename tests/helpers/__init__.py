"""Helpers shared by the tests: signing in, CSRF tokens, HTTPS test clients."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import pyotp
from flask import Flask
from flask.testing import FlaskClient

# Test clients speak HTTPS so that Secure, __Host- cookies behave as in production.
BASE_URL = "https://localhost"
STRONG_PASSWORD = "correct horse battery staple harbour"


@dataclass
class StaffMember:
    """A staff account made for a test, with everything needed to sign in as it."""

    username: str
    password: str
    totp_secret: str
    public_id: str
    identity: str | None = None  # the age identity's secret string, for decrypting in tests

    def code(self, offset_steps: int = 0) -> str:
        return str(pyotp.TOTP(self.totp_secret).at(int(time.time()) + 30 * offset_steps))


class HttpsClient(FlaskClient):
    """A test client that speaks HTTPS unless told otherwise, as production does."""

    def open(self, *args: object, **kwargs: object) -> object:  # type: ignore[override]
        kwargs.setdefault("base_url", BASE_URL)
        return super().open(*args, **kwargs)  # type: ignore[arg-type]


def https_client(app: Flask) -> FlaskClient:
    app.test_client_class = HttpsClient
    return app.test_client()


def csrf_token(client: FlaskClient, path: str) -> str:
    """The CSRF token of the form at ``path``, as a browser would get it."""
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def hidden_fields(client: FlaskClient, path: str) -> dict[str, str]:
    """Every hidden input of the page at ``path`` (CSRF and one-time tokens), as a browser
    would send them back."""
    page = client.get(path).get_data(as_text=True)
    fields = {}
    for tag in re.findall(r"<input[^>]*>", page):
        if 'type="hidden"' not in tag:
            continue
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name is not None:
            fields[name.group(1)] = value.group(1) if value is not None else ""
    return fields


def first_sign_in(client: FlaskClient, username: str, one_time_password: str,
                  new_password: str) -> str:
    """A new staff member's first sign-in: one-time password, authenticator, own password.

    Returns the TOTP secret they enrolled.
    """
    client.post("/staff/sign-in", data={
        "csrf_token": csrf_token(client, "/staff/sign-in"), "username": username,
        "password": one_time_password, "code": ""})
    enrol = client.get("/staff/sign-in/two-factor").get_data(as_text=True)
    match = re.search(r'<code class="secret">([A-Z2-7]+)</code>', enrol)
    assert match, "no authenticator secret on the enrolment page"
    secret = match.group(1)
    client.post("/staff/sign-in/two-factor", data={
        "csrf_token": csrf_token(client, "/staff/sign-in/two-factor"),
        "code": pyotp.TOTP(secret).now()})
    done = client.post("/staff/sign-in/new-password", data={
        "csrf_token": csrf_token(client, "/staff/sign-in/new-password"),
        "new_password": new_password, "confirm_password": new_password})
    assert done.status_code == 302, done.get_data(as_text=True)
    assert client.get("/staff/sign-in/continue").headers["Location"] == "/staff/"
    return secret


def release_held_events_now(app: Flask) -> int:
    """Release every held reporter event into the access log, today's included, as
    `reporting-portal audit release --include-today` does; returns how many."""
    from datetime import UTC, datetime, timedelta

    from reporting_portal.audit.held import release_held_events
    from reporting_portal.db import get_database

    with get_database(app).session_factory() as db:
        released = release_held_events(db, before=datetime.now(UTC).date() + timedelta(days=1))
        db.commit()
    return released


def submission_token(client: FlaskClient, path: str) -> str:
    """The one-time submission token of the report or reply form at ``path``."""
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'<input[^>]*name="submission_token"[^>]*value="([^"]+)"', page)
    assert match, f"no submission token on {path}"
    return match.group(1)


class StoppedClock:
    """A clock that moves only when a test moves it (``clock.now += timedelta(...)``)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now
