"""Browser fixtures: the app served on a local port, and Debian's chromium via Playwright.

Playwright's own browser download does not work offline; the system chromium does. In CI
(CI=true) a missing chromium fails the run instead of skipping.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server

from tests.helpers.browser import SCREENSHOTS

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
]


class QuietRequestHandler(WSGIRequestHandler):
    """No request log: it would name the client's address, as production never does."""

    def log_request(self, *args: object, **kwargs: object) -> None:
        return None


@pytest.fixture
def live_server(app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is required in CI (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    new_page = context.new_page()
    yield new_page
    context.close()


@pytest.fixture
def screenshot(page):
    """Save a full-page screenshot under tests/.screenshots (git-ignored) to look at."""
    SCREENSHOTS.mkdir(exist_ok=True)

    def take(name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


class BodyRecorder:
    """WSGI middleware keeping a copy of every POST body the server receives."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app
        self.bodies: list[tuple[str, bytes]] = []

    def __call__(self, environ, start_response):
        if environ["REQUEST_METHOD"] == "POST":
            import io

            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length)
            self.bodies.append((environ["PATH_INFO"], body))
            environ["wsgi.input"] = io.BytesIO(body)
        return self.wsgi_app(environ, start_response)


@pytest.fixture
def recorded_bodies(app) -> BodyRecorder:
    recorder = BodyRecorder(app.wsgi_app)
    app.wsgi_app = recorder
    return recorder
