"""The portal under gunicorn for a test, and a plain HTTP client as a reporter's or a
handler's browser (no JavaScript: the forms as they are sent without the page's script).

gunicorn runs the worktree's own code (``sys.executable``'s venv) with the test's
settings passed as ``REPORTING_PORTAL_*`` variables, so the in-process app that set the
installation up and the servers share one database, blob folder and signing key.
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
import time
import urllib.request
from html import unescape
from pathlib import Path
from typing import Any

import requests

from config.settings import Settings
from tests.helpers.postgres_cluster import free_port
from tests.helpers.reporting import REPORT_FORM, receipt_code_from

PROJECT_DIR = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"
UNAVAILABLE = ("The service is unavailable for a moment. Nothing you sent was saved. "
               "Please try again in a few minutes.")
# The page after a POST whose COMMIT may have reached the database (web/errors.py).
MAY_BE_SAVED = "could not confirm whether what you sent was saved"
REQUEST_SECONDS = 120  # a bound on any one request, far above what one takes
ANSWERS = [
    ("q_what", "The mayor's office took a bribe for the bridge contract."),
    ("q_when", "2026-10-02"),
    ("q_where", "City hall"),
    ("q_kind", "Bribery"),
    ("q_how_known", "I found documents"),
]


def settings_environment(settings: Settings) -> dict[str, str]:
    """This process's environment with every setting of ``settings`` as a variable."""
    environment = {name: value for name, value in os.environ.items()
                   if not name.startswith("REPORTING_PORTAL_") and name != "DATABASE_URL"}
    for field in dataclasses.fields(settings):
        value = getattr(settings, field.name)
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        environment[f"REPORTING_PORTAL_{field.name.upper()}"] = text
    return environment


class PortalServer:
    """One gunicorn master (one worker, four threads) on a free loopback port."""

    def __init__(self, settings: Settings, log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        environment = settings_environment(settings) | {
            "BIND": f"127.0.0.1:{self.port}", "WEB_CONCURRENCY": "1", "GUNICORN_THREADS": "4"}
        with log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [str(GUNICORN), "-c", "config/gunicorn.conf.py", "reporting_portal.wsgi:app"],
                cwd=PROJECT_DIR, env=environment, stdout=log, stderr=subprocess.STDOUT)
        self._wait_until_listening()

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=5):  # noqa: S310
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not start within a minute")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        self._process.terminate()
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=30)


def hidden_inputs(page: str) -> dict[str, str]:
    fields = {}
    for tag in re.findall(r"<input[^>]*>", page):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if 'type="hidden"' in tag and name is not None:
            fields[name.group(1)] = unescape(value.group(1)) if value else ""
    return fields


class WebBrowser:
    """A cookie jar and a server address: one person's browser."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = requests.Session()

    def _as_secure_context(self, response: requests.Response) -> requests.Response:
        # Browsers count http://127.0.0.1 as a secure context and send Secure (__Host-)
        # cookies to it; Python's cookie jar would not, so the flag is dropped here.
        for cookie in self.http.cookies:
            cookie.secure = False
        return response

    def get(self, path: str) -> requests.Response:
        return self._as_secure_context(self.http.get(
            self.base_url + path, allow_redirects=False, timeout=REQUEST_SECONDS))

    def post(self, path: str, data: Any = None, **options: Any) -> requests.Response:
        return self._as_secure_context(self.http.post(
            self.base_url + path, data=data, allow_redirects=False, timeout=REQUEST_SECONDS,
            **options))

    def form_fields(self, path: str) -> tuple[requests.Response, dict[str, str]]:
        page = self.get(path)
        return page, hidden_inputs(page.text) if page.status_code == 200 else {}

    def sign_in(self, username: str, password: str, code: str) -> None:
        _page, fields = self.form_fields("/staff/sign-in")
        signed = self.post("/staff/sign-in", data={**fields, "username": username,
                                                   "password": password, "code": code})
        assert signed.status_code == 302, signed.text
        assert self.get("/staff/sign-in/continue").headers["Location"] == "/staff/"

    def open_receipt(self, code: str) -> bool:
        """Whether ``code`` opens the reporter's mailbox."""
        _page, fields = self.form_fields("/followup")
        response = self.post("/followup", data={**fields, "code": code})
        return response.headers.get("Location") == "/followup/mailbox"


@dataclasses.dataclass
class Submission:
    """What one reporter saw: the statuses of their requests, and a receipt if shown."""

    statuses: list[int]
    receipt: str | None = None
    # Error pages other than the calm "unavailable" one (a traceback, a bare 500).
    unexplained: list[int] = dataclasses.field(default_factory=list)

    def note(self, response: requests.Response) -> None:
        self.statuses.append(response.status_code)
        if response.status_code >= 500 and not is_unavailable_page(response):
            self.unexplained.append(response.status_code)


def is_unavailable_page(response: requests.Response) -> bool:
    text = unescape(response.text)
    return (response.status_code == 503 and (UNAVAILABLE in text or MAY_BE_SAVED in text)
            and "Traceback" not in response.text)


def submit_report(browser: WebBrowser, *, receipt_tries: int = 1) -> Submission:
    """Fill in and send the report form without JavaScript, as a reporter would.

    The report is refused whole or stored whole; once stored, the receipt page is
    reloaded up to ``receipt_tries`` times (the database may be coming back). When the
    "unavailable" page answers the report, the reporter does what it asks: sends the same
    form again, up to as often, until it is stored or they are told it already was.
    """
    form, fields = browser.form_fields(REPORT_FORM)
    seen = Submission(statuses=[])
    seen.note(form)
    if form.status_code != 200:
        return seen
    # The CSRF token must come first in the body (reporter/intake/request_body.py).
    parts = [("csrf_token", fields["csrf_token"]),
             ("submission_token", fields["submission_token"]), *ANSWERS]
    files = [(name, (None, value)) for name, value in parts]
    sent = browser.post(REPORT_FORM, files=files)
    seen.note(sent)
    # Both calm pages ask the reporter to try again: the same form, so a report that was
    # stored after all (its COMMIT's reply lost) is found, and never stored twice.
    for _attempt in range(receipt_tries - 1):
        if not is_unavailable_page(sent):
            break
        time.sleep(0.5)
        sent = browser.post(REPORT_FORM, files=files)
        seen.note(sent)
    already_sent = sent.status_code == 409 and 'id="receipt-pending"' in sent.text
    if sent.status_code != 303 and not already_sent:
        return seen
    for attempt in range(receipt_tries):
        receipt = browser.get("/report/receipt")
        seen.note(receipt)
        if receipt.status_code == 200:
            seen.receipt = receipt_code_from(receipt.text)
            break
        if attempt + 1 < receipt_tries:
            time.sleep(0.5)
    return seen
