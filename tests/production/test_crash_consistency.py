"""Crash consistency: gunicorn is SIGKILLed 50 times while reporters submit and reply.

The reporter surface runs as in production (gunicorn, config/gunicorn.conf.py, two
workers of four threads, ``environment = "production"``), with the cheapest Argon2 costs
the settings allow and the receipt sign-in budget raised, so that the test spends its
time on uploads. Client threads send reports without JavaScript, each with a file of a few
hundred KiB, and replies with a file from the mailbox their receipt code opens. At a
random moment (a seeded ``random.Random``) the server's whole process group gets SIGKILL:
no rollback, no cleanup, no flush. After each kill:

- ``reporting-portal fsck --repair --grace 0`` repairs what the kill left, and a second
  ``fsck`` finds nothing;
- every report in the database has its content, every object's payload exists and
  decrypts for the recovery identity that ``init`` wrote, and every file the content or a
  message names is there: no partial report;
- the restarted server opens every receipt code a client was shown, and its mailbox shows
  every reply whose POST got its redirect.

The counts (kills, reports and replies completed, what fsck found and repaired) are
printed (see them with ``-s``) and written to ``crash-counts.json`` in the test's folder.
"""

from __future__ import annotations

import http.client
import io
import json
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

import reporting_portal
from crypto import decrypt_parts
from crypto.keys import parse_identity
from reporting_portal.cli import main
from reporting_portal.storage.blobstore import LocalBlobStore
from reporting_portal.storage.models import (
    Channel,
    ObjectKind,
    Report,
    ReportObject,
    StaffAccount,
)
from tests.helpers.reporting import MULTIPART, multipart_body, receipt_code_from

pytestmark = [pytest.mark.slow, pytest.mark.starts_first, pytest.mark.timeout(1200)]

KILLS = int(os.environ.get("CRASH_TEST_KILLS", "50"))
SEED = 20261201
CLIENT_THREADS = 4
FILE_BYTES = 300 * 1024
# About 0.2 s per upload of FILE_BYTES: long enough for kills to land inside one.
LINK_CHUNK_BYTES = 16 * 1024
LINK_PAUSE_SECONDS = 0.01
PROJECT = Path(reporting_portal.__file__).resolve().parents[1]
GUNICORN = Path(sys.executable).with_name("gunicorn")
TRANSIENT = (OSError, http.client.HTTPException)


@dataclass
class Counts:
    kills: int = 0
    reports_completed: int = 0
    replies_completed: int = 0
    # Kills after which fsck found something: they landed in the middle of a write.
    kills_leaving_debris: int = 0
    orphan_blobs_found: int = 0
    orphan_blobs_repaired: int = 0
    unfinished_uploads_found: int = 0
    unfinished_uploads_repaired: int = 0
    object_rows_removed: int = 0
    held_events_released: int = 0


@dataclass
class Ledger:
    """What the clients were told: each receipt code shown, and the replies accepted."""

    replies: dict[str, list[str]] = field(default_factory=dict)
    unchecked: set[str] = field(default_factory=set)
    # Set once a request of the round got its answer: the server is up and serving.
    served: threading.Event = field(default_factory=threading.Event)
    # Anything but a cut connection, raised in a client thread, for the test to fail on.
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Browser:
    """A browser without JavaScript behind the TLS proxy: its own cookies, HTTP/1.1."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes = b"",
                content_type: str | None = None) -> tuple[int, str, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"X-Forwarded-Proto": "https"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if content_type:
            headers["Content-Type"] = content_type
        if body:
            headers["Content-Length"] = str(len(body))
        try:
            connection.request(method, path, body=_as_a_slow_link(body) if body else None,
                               headers=headers)
            response = connection.getresponse()
            page = response.read().decode("utf-8", "replace")
        finally:
            connection.close()
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, value = cookie.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value
        return response.status, response.headers.get("Location", ""), page

    def hidden(self, path: str) -> dict[str, str]:
        status, _, page = self.request("GET", path)
        assert status == 200, (path, status)
        fields = {}
        for tag in re.findall(r'<input[^>]*type="hidden"[^>]*>', page):
            name, value = re.search(r'name="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
            if name:
                fields[name.group(1)] = value.group(1) if value else ""
        return fields


def _as_a_slow_link(body: bytes) -> Iterator[bytes]:
    """The body in pieces with pauses, as over Tor: a kill often finds an upload half-read."""
    for start in range(0, len(body), LINK_CHUNK_BYTES):
        yield body[start:start + LINK_CHUNK_BYTES]
        time.sleep(LINK_PAUSE_SECONDS)


def submit_report(port: int, served: threading.Event) -> str | None:
    """A whole report with one file; its receipt code, or None if it was refused."""
    browser = Browser(port)
    tokens = browser.hidden("/report/corruption")
    body = multipart_body([
        ("csrf_token", tokens["csrf_token"]), ("submission_token", tokens["submission_token"]),
        ("q_what", f"Crash test {secrets.token_hex(4)}: invoices paid twice."),
        ("q_when", "2026-10-02"), ("q_where", "City hall"), ("q_kind", "Bribery"),
        ("q_how_known", "I found documents"),
        ("q_evidence", ("ledger.pdf", secrets.token_bytes(FILE_BYTES))),
    ])
    status, _, _ = browser.request("POST", "/report/corruption", body, MULTIPART)
    served.set()
    if status != 303:
        return None
    status, _, page = browser.request("GET", "/report/receipt")
    assert status == 200, "a report accepted without its receipt page"
    return receipt_code_from(page)


def open_mailbox(port: int, code: str) -> tuple[Browser, str]:
    browser = Browser(port)
    tokens = browser.hidden("/followup")
    form = f"csrf_token={tokens['csrf_token']}&code={code.replace(' ', '+')}"
    status, location, _ = browser.request("POST", "/followup", form.encode(),
                                          "application/x-www-form-urlencoded")
    assert status in (302, 303), (code, status)
    assert location.endswith("/followup/mailbox")
    status, _, page = browser.request("GET", "/followup/mailbox")
    assert status == 200
    return browser, page


def send_reply(port: int, code: str, served: threading.Event) -> str | None:
    browser, _ = open_mailbox(port, code)
    tokens = browser.hidden("/followup/mailbox")
    marker = f"reply-{secrets.token_hex(6)}"
    body = multipart_body([
        ("csrf_token", tokens["csrf_token"]), ("submission_token", tokens["submission_token"]),
        ("q_message", f"{marker}: the second invoice is attached."),
        ("q_attachments", ("invoice.pdf", secrets.token_bytes(FILE_BYTES // 2))),
    ])
    status, _, _ = browser.request("POST", "/followup/reply", body, MULTIPART)
    served.set()
    return marker if status == 303 else None


def reporter(port: int, ledger: Ledger, counts: Counts, seed: int) -> None:
    """Submit and reply until the server dies under this thread."""
    choose = random.Random(seed)
    while True:
        with ledger.lock:
            known = sorted(ledger.replies)
        try:
            if known and choose.random() < 0.5:
                code = choose.choice(known)
                marker = send_reply(port, code, ledger.served)
                if marker is not None:
                    with ledger.lock:
                        ledger.replies[code].append(marker)
                        ledger.unchecked.add(code)
                        counts.replies_completed += 1
            else:
                code = submit_report(port, ledger.served)
                if code is not None:
                    with ledger.lock:
                        ledger.replies[code] = []
                        ledger.unchecked.add(code)
                        counts.reports_completed += 1
        except TRANSIENT:
            return
        except Exception as error:  # reported to the test's thread below
            with ledger.lock:
                ledger.failures.append(repr(error))
            return


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(environ: dict[str, str]) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    server = subprocess.Popen(
        [str(GUNICORN), "-c", str(PROJECT / "config" / "gunicorn.conf.py"),
         "reporting_portal.wsgi:reporter_app"],
        env={**environ, "BIND": f"127.0.0.1:{port}"}, cwd=PROJECT,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while True:
        try:
            if Browser(port).request("GET", "/healthz")[0] == 200:
                return server, port
        except TRANSIENT:
            pass
        assert server.poll() is None, "gunicorn did not start"
        assert time.monotonic() < deadline, "gunicorn did not answer"
        time.sleep(0.1)


def kill_group(server: subprocess.Popen[bytes]) -> None:
    os.killpg(server.pid, signal.SIGKILL)
    server.wait()


def repair_and_recheck(counts: Counts) -> None:
    repaired = CliRunner().invoke(main, ["fsck", "--repair", "--grace", "0"],
                                  catch_exceptions=False)
    assert repaired.exit_code == 0, repaired.output
    done = re.search(r"deleted (\d+) orphan blob\(s\), removed (\d+) object row\(s\), "
                     r"aborted (\d+) unfinished upload\(s\), released (\d+)", repaired.output)
    assert done, repaired.output
    blobs, rows, uploads, held = (int(number) for number in done.groups())
    found_blobs = len(re.findall(r"^orphan blob: ", repaired.output, re.MULTILINE))
    found_uploads = len(re.findall(r"^unfinished upload: ", repaired.output, re.MULTILINE))
    # With no server running, nothing may be spared: all that was found is repaired.
    assert (found_blobs, found_uploads) == (blobs, uploads), repaired.output
    # A kill never loses a committed payload: blobs are durable before their row commits.
    assert rows == 0, repaired.output
    counts.kills_leaving_debris += bool(blobs or uploads or rows)
    counts.orphan_blobs_found += found_blobs
    counts.orphan_blobs_repaired += blobs
    counts.unfinished_uploads_found += found_uploads
    counts.unfinished_uploads_repaired += uploads
    counts.object_rows_removed += rows
    counts.held_events_released += held
    again = CliRunner().invoke(main, ["fsck"], catch_exceptions=False)
    assert (again.exit_code, again.output) == (0, "fsck: clean.\n")


def check_database(database_url: str, store: LocalBlobStore, recovery: str,
                   checked: set[int]) -> None:
    """Every report whole; every object not read before decrypts for the recovery key."""
    identity = parse_identity(recovery)
    engine = create_engine(database_url)
    try:
        with Session(engine) as db:
            for report in db.scalars(select(Report)):
                objects = db.scalars(select(ReportObject).where(
                    ReportObject.report_id == report.id).order_by(ReportObject.id)).all()
                kinds = [obj.kind for obj in objects]
                assert kinds.count(ObjectKind.CONTENT) == 1, f"a partial report: {kinds}"
                for obj in objects:
                    if obj.id in checked:
                        continue
                    plaintext = io.BytesIO()
                    with store.open(obj.blob_name) as payload:
                        decrypt_parts(obj.header, payload, plaintext, [identity])
                    assert plaintext.tell() > 0
                    if obj.kind in (ObjectKind.CONTENT, ObjectKind.MESSAGE):
                        named = json.loads(plaintext.getvalue())["files"]
                        attached = [o for o in objects if o.parent_id == obj.id]
                        assert len(named) == len(attached), "a file named but not stored"
                    checked.add(obj.id)
    finally:
        engine.dispose()


def check_receipts(port: int, ledger: Ledger, codes: set[str]) -> None:
    for code in sorted(codes):
        _, page = open_mailbox(port, code)
        for marker in ledger.replies[code]:
            assert marker in page, "an accepted reply is missing from the mailbox"


@pytest.fixture
def production(tmp_path, monkeypatch) -> dict[str, str]:
    """An initialised production installation on SQLite, cheap to hash for."""
    environ = {key: value for key, value in os.environ.items()
               if not key.startswith("REPORTING_PORTAL_") and key != "DATABASE_URL"}
    settings = {
        "ENVIRONMENT": "production", "SECRET_KEY": secrets.token_urlsafe(48),
        "INSTANCE_DIR": str(tmp_path / "instance"), "LOG_LEVEL": "WARNING",
        "PASSWORD_HASH_TIME_COST": "1", "PASSWORD_HASH_MEMORY_KIB": "19456",
        "IDENTITY_WRAP_TIME_COST": "2", "IDENTITY_WRAP_MEMORY_KIB": "19456",
        "RECEIPT_KDF_TIME_COST": "2", "RECEIPT_KDF_MEMORY_KIB": "19456",
        "RECEIPT_PLAIN_ATTEMPTS_PER_MINUTE": "1000000",
    }
    environ.update({f"REPORTING_PORTAL_{key}": value for key, value in settings.items()})
    environ.update(WEB_CONCURRENCY="1", GUNICORN_THREADS="4", GUNICORN_LOG_LEVEL="critical")
    for key in [k for k in os.environ if k.startswith("REPORTING_PORTAL_") or k == "DATABASE_URL"]:
        monkeypatch.delenv(key)
    for key, value in environ.items():
        if key.startswith("REPORTING_PORTAL_"):
            monkeypatch.setenv(key, value)
    recovery_file = tmp_path / "recovery-identity.txt"
    initialised = CliRunner().invoke(
        main, ["init", "--recovery-identity-file", str(recovery_file)], catch_exceptions=False)
    assert initialised.exit_code == 0, initialised.output
    # A channel takes reports once a case handler with a key receives it (an administrator
    # would add them on the channel's page).
    handler = CliRunner().invoke(main, ["create-user", "--username", "hana",
                                        "--role", "case_handler"], catch_exceptions=False)
    assert handler.exit_code == 0, handler.output
    engine = create_engine(f"sqlite:///{tmp_path / 'instance' / 'reporting-portal.db'}")
    with Session(engine) as db:
        channel = db.scalars(select(Channel).where(Channel.slug == "corruption")).one()
        channel.handlers.append(
            db.scalars(select(StaffAccount).where(StaffAccount.username == "hana")).one())
        db.commit()
    engine.dispose()
    environ["RECOVERY_IDENTITY"] = recovery_file.read_text().strip()
    return environ


def test_sigkill_during_submissions_and_replies_leaves_nothing_partial(production, tmp_path):
    recovery = production.pop("RECOVERY_IDENTITY")
    instance = Path(production["REPORTING_PORTAL_INSTANCE_DIR"])
    database_url = f"sqlite:///{instance / 'reporting-portal.db'}"
    store = LocalBlobStore(instance / "blobs")
    moments = random.Random(SEED)
    print(f"\ncrash test: seed {SEED}, {KILLS} kills")
    counts, ledger, checked = Counts(), Ledger(), set[int]()
    server, port = start_server(production)
    try:
        for kill in range(KILLS):
            clients = [threading.Thread(target=reporter, daemon=True,
                                        args=(port, ledger, counts, moments.getrandbits(32)))
                       for _ in range(CLIENT_THREADS)]
            ledger.served.clear()
            for client in clients:
                client.start()
            # From the first answer on, so that no kill lands before the workers serve.
            assert ledger.served.wait(timeout=120), "the server answered no upload"
            time.sleep(moments.uniform(0.0, 2.0))
            kill_group(server)
            counts.kills = kill + 1
            for client in clients:
                client.join(timeout=120)
                assert not client.is_alive(), "a client hung on a dead server"
            assert ledger.failures == []
            repair_and_recheck(counts)
            check_database(database_url, store, recovery, checked)
            server, port = start_server(production)
            with ledger.lock:
                due, ledger.unchecked = set(ledger.unchecked), set()
            check_receipts(port, ledger, due)
        check_receipts(port, ledger, set(ledger.replies))
    finally:
        if server.poll() is None:
            kill_group(server)
        totals = json.dumps(asdict(counts), indent=2)
        (tmp_path / "crash-counts.json").write_text(totals)
        print(f"crash test counts (seed {SEED}):\n{totals}")
    assert counts.reports_completed > KILLS, "too few reports to prove anything"
    assert counts.replies_completed > KILLS // 2
    assert counts.kills_leaving_debris > 0, "no kill landed in the middle of a write"
