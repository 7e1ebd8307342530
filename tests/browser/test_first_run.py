"""A newcomer's first minute: `make run`'s two commands, then a report and its reading.

The real command line runs here as `make run` runs it (development settings, default
costs, a fresh instance folder): `reporting-portal init`, then `reporting-portal serve`.
A reporter without JavaScript submits on the default channel, keeps the receipt and opens
the mailbox with it; the demo case handler that init printed signs in for the first time
and reads the report.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.starts_first]

CLI = [sys.executable, "-c", "from reporting_portal.cli import main; main()"]
ANSWER = "FIRST-RUN-MARKER: the roads department paid for work never done."
HANDLER_PASSWORD = "harbour lantern quietly ninety"


@dataclass
class FirstRun:
    base_url: str
    init_output: str


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def first_run(tmp_path: Path) -> Iterator[FirstRun]:
    environ = {key: value for key, value in os.environ.items()
               if not key.startswith("REPORTING_PORTAL_") and key != "DATABASE_URL"}
    environ["REPORTING_PORTAL_INSTANCE_DIR"] = str(tmp_path / "instance")
    port = _free_port()
    environ["PORT"] = str(port)
    init = subprocess.run([*CLI, "init"], env=environ, capture_output=True, text=True,
                          timeout=120, check=True)
    server = subprocess.Popen([*CLI, "serve"], env=environ, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base_url}/healthz", timeout=2):  # noqa: S310
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise AssertionError("the development server did not start") from None
                time.sleep(0.2)
        yield FirstRun(base_url=base_url, init_output=init.stdout)
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=20)
        # The server's own log must not have named the reporter's request.
        assert "/followup" not in errors
        assert ANSWER not in errors


def test_a_newcomer_reports_and_the_demo_handler_reads_it(browser, first_run, tmp_path):
    output = first_run.init_output
    assert "RECOVERY IDENTITY" in output
    handler_password = re.search(r"^  demo-handler\s+one-time password: (\S+)$", output,
                                 re.M).group(1)
    shots = Path(__file__).resolve().parents[1] / ".screenshots"
    shots.mkdir(exist_ok=True)

    reporter = browser.new_context(java_script_enabled=False).new_page()
    reporter.goto(first_run.base_url)
    reporter.get_by_role("link", name="Make a report").first.click()
    expect(reporter.get_by_role("link", name="Report corruption")).to_be_visible()
    reporter.get_by_role("link", name="Report corruption").click()
    reporter.get_by_label("What happened?").fill(ANSWER)
    reporter.get_by_label("Where did it happen?").fill("Roads department")
    reporter.get_by_label("Fraud").check()
    reporter.get_by_label("I saw or heard it myself").check()
    reporter.get_by_role("button", name="Send report").click()
    expect(reporter.get_by_role("heading", name="Your report was received")).to_be_visible()
    code = reporter.locator("#receipt-code").inner_text().strip()
    reporter.get_by_label("I have written the code down").check()
    reporter.get_by_role("button", name="Continue").click()
    reporter.goto(f"{first_run.base_url}/followup")
    reporter.get_by_label("Receipt code").fill(code)
    reporter.get_by_role("button", name="Open my mailbox").click()
    expect(reporter.get_by_role("heading", name="Your mailbox")).to_be_visible()
    reporter.screenshot(path=str(shots / "first-run-mailbox.png"), full_page=True)
    reporter.context.close()

    staff = browser.new_context(viewport={"width": 1100, "height": 800}).new_page()
    staff.goto(f"{first_run.base_url}/staff/")
    staff.get_by_label("Account name").fill("demo-handler")
    staff.get_by_label("Password").fill(handler_password)
    staff.get_by_role("button", name="Sign in", exact=True).click()
    secret = staff.locator("code.secret").inner_text().replace(" ", "")
    staff.get_by_label("Code shown by your authenticator app").fill(pyotp.TOTP(secret).now())
    staff.get_by_role("button", name="Confirm").click()
    staff.get_by_label("New password", exact=True).fill(HANDLER_PASSWORD)
    staff.get_by_label("New password, again").fill(HANDLER_PASSWORD)
    staff.get_by_role("button", name="Save password").click()
    expect(staff.get_by_role("heading", name="Welcome, Demo Case Handler")).to_be_visible()
    staff.goto(f"{first_run.base_url}/staff/cases")
    staff.locator("table.inbox a").first.click()
    expect(staff.get_by_text(ANSWER)).to_be_visible()
    staff.screenshot(path=str(shots / "first-run-case.png"), full_page=True)
    staff.context.close()
