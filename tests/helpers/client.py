"""The test client as a browser: HTTPS, and the hidden fields a page's forms carry."""

from __future__ import annotations

import html
import re

from flask import Flask
from flask.testing import FlaskClient

# Test clients speak HTTPS so that Secure, __Host- cookies behave as in production.
BASE_URL = "https://localhost"


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
            fields[name.group(1)] = html.unescape(value.group(1)) if value is not None else ""
    return fields


def submission_token(client: FlaskClient, path: str) -> str:
    """The one-time submission token of the report or reply form at ``path``."""
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'<input[^>]*name="submission_token"[^>]*value="([^"]+)"', page)
    assert match, f"no submission token on {path}"
    return match.group(1)
