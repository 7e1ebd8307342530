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
