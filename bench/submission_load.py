"""Submission throughput under load, and server memory during one 1 GiB upload.

    .venv/bin/python bench/submission_load.py [--reports 200] [--concurrency 20]
        [--skip-big-upload] [--cpu-split] [--json]

Sets up a throwaway installation (temporary instance folder, SQLite unless
``--database-url`` names an empty database or schema), gives the default channel
``corruption`` case handlers with keys, serves it with gunicorn (config/gunicorn.conf.py)
on a free loopback port, then:

1. ``--concurrency`` reporter threads each send reports the way a browser without
   JavaScript does (GET the form, POST multipart answers plus a 1 MiB random file, GET
   the receipt page) until ``--reports`` reports are in. Prints reports/s, p50/p95
   latency of POST-through-receipt, errors, and the CPU the server and this client used.
2. Every receipt code is posted to ``/followup`` by ``--verify-concurrency`` reporters at
   once (default: as many as sent reports); each must open its mailbox. A sign-in costs
   one derivation too, so its rate is compared with the same ceiling. The global receipt
   budget without JavaScript (10 a minute in production) is raised for the whole run
   through ``REPORTING_PORTAL_RECEIPT_PLAIN_ATTEMPTS_PER_MINUTE``; the table says so.
3. The ceiling set by the deliberate Argon2id cost of receipt codes (one derivation per
   submission): cores / seconds-per-derivation, timed in-process with the settings'
   parameters, and throughput as a fraction of it. It also times ``cores`` processes
   deriving at once: on small VMs Argon2id's 64 MiB passes contend for memory bandwidth,
   so that measured rate can sit well below the nominal one. That measured rate is the
   baseline of the two ratios printed, reports and follow-ups (target >= 0.8 each).
   Because the machine may be shared, it also prints the CPU one derivation takes (before
   the reports and right after them) and the server's CPU per report as a multiple of it.
   With ``--cpu-split`` the workers run bench/gunicorn_cpu_split.conf.py (the shipped
   settings plus timing hooks) and print the derivation's share of the CPU that a report
   and a follow-up took, both measured in the same threads at the same moments: the
   figure other load on the machine moves least.
4. Unless ``--skip-big-upload``: a fresh one-worker gunicorn receives one report with a
   1 GiB file, streamed from memory (nothing written here), while the worker's VmRSS is
   sampled every 50 ms. Prints the growth over the idle worker (target < 100 MiB).

Nothing is asserted: the figures are printed (``--json``: as JSON on stdout, the table on
stderr). The temporary folder and every gunicorn started are removed at the end.
"""

from __future__ import annotations

import argparse
import html
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from config.settings import Settings, load_settings
from crypto.kdf import Argon2Params
from crypto.keys import generate_identity
from crypto.keywrap import wrap_with_password
from crypto.receipt import derive_receipt_secrets, generate_receipt_code, new_installation_salt
from reporting_portal.app import create_app
from reporting_portal.audit.events import SYSTEM
from reporting_portal.domain.accounts import create_account
from reporting_portal.domain.actors import Actor
from reporting_portal.domain.installation import initialise_installation
from reporting_portal.domain.passwords import get_passwords
from reporting_portal.storage.migrate import upgrade_database
from reporting_portal.storage.models import Channel, Role
from reporting_portal.web.database import get_database

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
MIB = 1024 * 1024
GIB = 1024 * MIB
CHANNEL = "corruption"
COOKIE_NAME = "__Host-session"
HTTP_TIMEOUT = 900.0
RAISED_RECEIPT_LIMIT = "100000"

CSRF_RE = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"')
# The one-time token each report form carries, so a resent POST cannot file it twice.
SUBMISSION_TOKEN_RE = re.compile(r'<input[^>]*name="submission_token"[^>]*value="([^"]+)"')
# The receipt page lists the code's seven groups of four digits, one list item each.
RECEIPT_RE = re.compile(r'<ol class="receipt-code" id="receipt-code"[^>]*>(.*?)</ol>', re.S)
RECEIPT_GROUP_RE = re.compile(r'<li class="receipt-code__group">(\d{4})</li>')


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- A minimal browser: one cookie jar that ignores Secure, multipart by hand -----------


class BenchError(Exception):
    """A request did not give what a browser would have got."""


@dataclass
class Reply:
    status: int
    location: str
    body: str


@dataclass
class Browser:
    """One reporter's browser: its own cookies, a fresh connection per request."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=HTTP_TIMEOUT)

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Connection": "close", "User-Agent": "submission-load-bench"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return {**headers, **(extra or {})}

    def finish(self, connection: http.client.HTTPConnection) -> Reply:
        try:
            response = connection.getresponse()
            body = response.read().decode("utf-8", "replace")
            self.remember(response.headers.get_all("Set-Cookie") or [])
            return Reply(response.status, response.headers.get("Location", ""), body)
        finally:
            connection.close()

    def remember(self, set_cookies: list[str]) -> None:
        # http.cookiejar would drop the Secure __Host- cookie over plain http: keep it here.
        for line in set_cookies:
            name, _, rest = line.partition("=")
            value = rest.split(";", 1)[0]
            attributes = rest.lower()
            if "max-age=0" in attributes or not value:
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value

    def get(self, path: str) -> Reply:
        connection = self.connect()
        connection.request("GET", path, headers=self.headers())
        return self.finish(connection)

    def post(self, path: str, body: bytes, content_type: str) -> Reply:
        connection = self.connect()
        connection.request("POST", path, body=body, headers=self.headers(
            {"Content-Type": content_type, "Content-Length": str(len(body))}))
        return self.finish(connection)

    def csrf_token(self, path: str) -> str:
        reply = self.get(path)
        match = CSRF_RE.search(reply.body)
        if reply.status != 200 or match is None:
            raise BenchError(f"GET {path}: {reply.status}, no CSRF token")
        return html.unescape(match.group(1))


def text_fields(token: str, number: int) -> list[tuple[str, str]]:
    """The answers of the default questionnaire, CSRF token first, in form order."""
    return [
        ("csrf_token", token),
        ("q_what", f"Benchmark report {number}: the tender was awarded to a company owned "
                   "by the head of procurement's brother-in-law. " * 4),
        ("q_when", "2025-11-03"),
        ("q_where", "Ministry of Public Works, procurement department"),
        ("q_who", "The head of procurement approved it; the deputy signed the contract."),
        ("q_kind", "Conflict of interest"),
        ("q_kind", "Procurement irregularities"),
        ("q_how_known", "I found documents"),
        ("q_reported_elsewhere", "No"),
    ]


def multipart_parts(boundary: str, fields: list[tuple[str, str]], filename: str
                    ) -> tuple[bytes, bytes]:
    """The bytes before the file's content (fields, file part header) and after it."""
    head = bytearray()
    for name, value in fields:
        head += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n"
                 f"{value}\r\n").encode()
    head += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"q_evidence\"; "
             f"filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
             ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    return bytes(head), tail


def new_boundary(avoid: bytes) -> str:
    while True:
        boundary = "----bench" + secrets.token_hex(16)
        if boundary.encode() not in avoid:
            return boundary


def read_receipt(browser: Browser) -> str:
    reply = browser.get("/report/receipt")
    match = RECEIPT_RE.search(reply.body)
    if reply.status != 200 or match is None:
        raise BenchError(f"GET /report/receipt: {reply.status}, no receipt code")
    code = "".join(RECEIPT_GROUP_RE.findall(match.group(1)))
    if len(code) != 28 or not code.isdigit():
        raise BenchError("receipt code is not 28 digits")
    return code


def expect_receipt_redirect(reply: Reply) -> None:
    if reply.status != 303 or not reply.location.endswith("/report/receipt"):
        notice = re.search(r'class="notice[^"]*"[^>]*>(.*?)</', reply.body, re.S)
        detail = f" ({html.unescape(notice.group(1)).strip()[:120]})" if notice else ""
        raise BenchError(f"POST /report/{CHANNEL}: {reply.status}{detail}")


# --- Installation and server ---------------------------------------------------------


def base_environment(instance_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("REPORTING_PORTAL_")
           and key not in {"DATABASE_URL", "BIND", "WEB_CONCURRENCY", "GUNICORN_THREADS"}}
    env.update({
        "REPORTING_PORTAL_INSTANCE_DIR": str(instance_dir),
        # As an agency runs it: production settings (templates are not re-read), and
        # the reporter surface on its own (deploy/README.md), not the combined app.
        "REPORTING_PORTAL_ENVIRONMENT": "production",
        "REPORTING_PORTAL_SECRET_KEY": secrets.token_urlsafe(48),
        # Every receipt of the run is posted within a minute or two (the production
        # budget is 10 a minute for the whole installation): the table names this.
        "REPORTING_PORTAL_RECEIPT_PLAIN_ATTEMPTS_PER_MINUTE": RAISED_RECEIPT_LIMIT,
        "REPORTING_PORTAL_LOG_LEVEL": "WARNING",
    })
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def set_up_installation(env: dict[str, str], handlers: int) -> Settings:
    """What ``reporting-portal init`` does, plus case handlers with keys on the channel."""
    settings = load_settings(environ=env)
    settings.blob_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    app = create_app(settings)
    database = get_database(app)
    upgrade_database(database.engine)
    actor = Actor(account=None, role=SYSTEM)
    try:
        with app.app_context(), database.session_factory() as db:
            initialise_installation(db, get_passwords(), actor, admin_username="admin")
            channel = db.scalar(select(Channel).where(Channel.slug == CHANNEL))
            if channel is None:
                raise BenchError(f"init made no {CHANNEL!r} channel")
            for number in range(handlers):
                account = create_account(
                    db, get_passwords(), actor, username=f"handler{number}",
                    display_name=f"Handler {number}", roles=(Role.CASE_HANDLER,),
                ).account
                password = secrets.token_urlsafe(24)
                identity = generate_identity(post_quantum=True)
                account.password_hash = get_passwords().hash(password)
                account.must_change_password = False
                account.age_recipient = str(identity.recipient)
                account.wrapped_identity = wrap_with_password(
                    identity.to_string().encode(), password, Argon2Params.staff_key_wrapping())
                channel.handlers.append(account)
            db.commit()
    finally:
        database.engine.dispose()
    return settings


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def child_pids(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
            found.append(int(entry.name))
    return found


def cpu_seconds(pid: int) -> float:
    try:
        fields = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # utime and stime are fields 14 and 15 of /proc/<pid>/stat (11 and 12 after the name).
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def status_kib(pid: int, key: str) -> int:
    for line in (Path("/proc") / str(pid) / "status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise BenchError(f"no {key} for process {pid}")


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    def workers(self) -> list[int]:
        return child_pids(self.process.pid)

    def cpu(self) -> float:
        return sum(cpu_seconds(pid) for pid in [self.process.pid, *self.workers()])

    def log_problems(self) -> list[str]:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return [line for line in text.splitlines()
                if any(word in line for word in ("ERROR", "CRITICAL", "locked", "Traceback"))]


@contextmanager
def gunicorn(env: dict[str, str], log_path: Path, *, workers: int | None,
             threads: int | None, app: str = "reporting_portal.wsgi:reporter_app",
             config: str = "config/gunicorn.conf.py") -> Iterator[Server]:
    """gunicorn with the shipped config (or ``config``, which wraps it) on a free port;
    ``app``: which surface it serves."""
    port = free_port()
    env = {**env, "BIND": f"127.0.0.1:{port}"}
    if workers:
        env["WEB_CONCURRENCY"] = str(workers)
    if threads:
        env["GUNICORN_THREADS"] = str(threads)
    command = [str(VENV_BIN / "gunicorn"), "-c", config, app]
    with log_path.open("ab") as log_file:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log_file,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    server = Server(process, port, log_path)
    try:
        wait_healthy(server, expected_workers=workers)
        yield server
    finally:
        stop(process)


def wait_healthy(server: Server, expected_workers: int | None, deadline_s: float = 90) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            tail = server.log_path.read_text(errors="replace")[-2000:]
            raise BenchError(f"gunicorn exited with {server.process.returncode}:\n{tail}")
        try:
            reply = Browser(server.port).get("/healthz")
        except OSError:
            reply = None
        ready = expected_workers is None or len(server.workers()) >= expected_workers
        if reply is not None and reply.status == 200 and reply.body.strip() == "ok" and ready:
            return
        time.sleep(0.2)
    raise BenchError("gunicorn did not answer /healthz in time")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Quick shutdown (SIGQUIT; SIGTERM would wait for uploads), then kill its group."""
    if process.poll() is None:
        process.send_signal(signal.SIGQUIT)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=20)
    # The group is the one gunicorn was started in (start_new_session): its own workers.
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


# --- 1. Reporters under load -----------------------------------------------------------


@dataclass
class LoadResult:
    codes: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    form_latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def send_report(port: int, number: int, payload: bytes, result: LoadResult) -> None:
    """One reporter without JavaScript: the form (its CSRF and one-time submission
    tokens), the POST of answers and file, the receipt page."""
    browser = Browser(port)
    started = time.perf_counter()
    form = browser.get(f"/report/{CHANNEL}")
    csrf, once = CSRF_RE.search(form.body), SUBMISSION_TOKEN_RE.search(form.body)
    if form.status != 200 or csrf is None or once is None:
        raise BenchError(f"GET /report/{CHANNEL}: {form.status}, no CSRF or submission token")
    form_done = time.perf_counter()
    fields = text_fields(html.unescape(csrf.group(1)), number)
    fields.insert(1, ("submission_token", html.unescape(once.group(1))))
    content = number.to_bytes(8, "big") + payload[8:]  # no two files alike
    boundary = new_boundary(content)
    head, tail = multipart_parts(boundary, fields, f"evidence-{number}.bin")
    reply = browser.post(f"/report/{CHANNEL}", head + content + tail,
                         f"multipart/form-data; boundary={boundary}")
    expect_receipt_redirect(reply)
    code = read_receipt(browser)
    done = time.perf_counter()
    with result.lock:
        result.codes.append(code)
        result.latencies.append(done - form_done)
        result.form_latencies.append(form_done - started)


def run_load(port: int, reports: int, concurrency: int, file_bytes: int) -> LoadResult:
    result = LoadResult()
    payload = os.urandom(file_bytes)
    tickets = iter(range(reports))
    tickets_lock = threading.Lock()

    def reporter() -> None:
        while True:
            with tickets_lock:
                number = next(tickets, None)
            if number is None:
                return
            try:
                send_report(port, number, payload, result)
            except (BenchError, OSError, http.client.HTTPException) as error:
                with result.lock:
                    result.errors.append(f"report {number}: {type(error).__name__}: {error}")

    threads = [threading.Thread(target=reporter, name=f"reporter-{i}")
               for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return result


# --- 2. Every receipt opens its report -------------------------------------------------


def open_mailbox(port: int, code: str) -> float:
    browser = Browser(port)
    token = browser.csrf_token("/followup")
    started = time.perf_counter()
    body = f"csrf_token={token}&code={code}".encode()
    reply = browser.post("/followup", body, "application/x-www-form-urlencoded")
    if reply.status != 302 or not reply.location.endswith("/followup/mailbox"):
        raise BenchError(f"POST /followup: {reply.status}, not redirected to the mailbox")
    elapsed = time.perf_counter() - started
    mailbox = browser.get("/followup/mailbox")
    if mailbox.status != 200 or "Your mailbox" not in mailbox.body:
        raise BenchError(f"GET /followup/mailbox: {mailbox.status}, no mailbox")
    return elapsed


def verify_codes(port: int, codes: list[str], concurrency: int) -> dict[str, Any]:
    failures: list[str] = []
    latencies: list[float] = []

    def check(code: str) -> None:
        try:
            latencies.append(open_mailbox(port, code))
        except (BenchError, OSError, http.client.HTTPException) as error:
            failures.append(f"{type(error).__name__}: {error}")

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(check, codes))
    elapsed = time.perf_counter() - started
    return {
        "codes": len(codes),
        "opened": len(latencies),
        "failed": len(failures),
        "failures": failures[:5],
        "concurrency": concurrency,
        "seconds": elapsed,
        "per_second": len(latencies) / elapsed if elapsed else 0.0,
        "p50_s": percentile(latencies, 50),
    }


# --- 3. The ceiling the receipt KDF sets -----------------------------------------------


def receipt_params_of(settings: Settings) -> Argon2Params:
    return Argon2Params(time_cost=settings.receipt_kdf_time_cost,
                        memory_cost_kib=settings.receipt_kdf_memory_kib, parallelism=1)


def timed_derivations(params: Argon2Params, runs: int) -> list[tuple[float, float, float]]:
    """``runs`` receipt derivations after one warm-up: (start, end) of each on the
    perf_counter clock, and the CPU seconds each took (this thread's, kernel included)."""
    salt = new_installation_salt()
    derive_receipt_secrets(generate_receipt_code(), salt, params)
    spans = []
    for _ in range(runs):
        code = generate_receipt_code()
        started, cpu_started = time.perf_counter(), time.thread_time()
        derive_receipt_secrets(code, salt, params)
        spans.append((started, time.perf_counter(), time.thread_time() - cpu_started))
    return spans


def receipt_kdf_ceiling(settings: Settings, runs: int) -> dict[str, Any]:
    """The nominal ceiling (cores / one derivation's time) and, for comparison, the rate
    ``cores`` processes deriving at once actually reach (memory bandwidth, shared cores)."""
    params = receipt_params_of(settings)
    alone = timed_derivations(params, runs)
    timings = [end - start for start, end, _cpu in alone]
    median = statistics.median(timings)
    cores = os.cpu_count() or 1
    with ProcessPoolExecutor(max_workers=cores) as pool:
        batches = list(pool.map(timed_derivations, [params] * cores, [runs] * cores))
    spans = [span for batch in batches for span in batch]
    wall = max(end for _, end, _cpu in spans) - min(start for start, _, _cpu in spans)
    return {
        "time_cost": params.time_cost,
        "memory_kib": params.memory_cost_kib,
        "runs": runs,
        "median_s": median,
        "cpu_median_s": statistics.median(cpu for _, _, cpu in alone),
        "min_s": min(timings),
        "cores": cores,
        "ceiling_per_s": cores / median,
        "parallel_per_s": len(spans) / wall,
        "parallel_median_s": statistics.median(end - start for start, end, _cpu in spans),
        "parallel_cpu_median_s": statistics.median(cpu for _, _, cpu in spans),
    }


# --- 4. Server memory during one 1 GiB upload ------------------------------------------


class RssSampler(threading.Thread):
    """VmRSS of one process every ``interval`` seconds, with the phase it was taken in."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        super().__init__(name="rss-sampler", daemon=True)
        self.pid = pid
        self.interval = interval
        self.phase = "body"
        self.peaks: dict[str, int] = {}
        self.samples = 0
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            try:
                rss = status_kib(self.pid, "VmRSS")
            except (OSError, BenchError):
                return
            self.peaks[self.phase] = max(self.peaks.get(self.phase, 0), rss)
            self.samples += 1
            self.halt.wait(self.interval)


def stream_upload(port: int, browser: Browser, size: int,
                  on_body_sent: Callable[[], None]) -> tuple[Reply, float, float]:
    """POST one report whose file is ``size`` bytes made on the fly; never all in memory."""
    token = browser.csrf_token(f"/report/{CHANNEL}")
    block = os.urandom(MIB)
    boundary = new_boundary(block)
    head, tail = multipart_parts(boundary, text_fields(token, -1), "big-evidence.bin")
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=HTTP_TIMEOUT)
    started = time.perf_counter()
    try:
        connection.putrequest("POST", f"/report/{CHANNEL}", skip_accept_encoding=True)
        headers = browser.headers({
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(len(head) + size + len(tail)),
        })
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders()
        connection.send(head)
        chunk = bytearray(block)
        sent = 0
        while sent < size:
            chunk[:8] = sent.to_bytes(8, "big")  # no two MiB alike
            piece = memoryview(chunk)[: min(MIB, size - sent)]
            connection.sock.sendall(piece)
            sent += len(piece)
        connection.send(tail)
        body_sent = time.perf_counter()
        on_body_sent()
        reply = browser.finish(connection)
    finally:
        connection.close()
    return reply, body_sent - started, time.perf_counter() - started


def big_upload(env: dict[str, str], log_path: Path, size: int, file_bytes: int
               ) -> dict[str, Any]:
    env = {**env, "REPORTING_PORTAL_SUBMISSION_MAX_BYTES": str(size + 16 * MIB)}
    with gunicorn(env, log_path, workers=1, threads=None) as server:
        (worker,) = server.workers()
        # Warm the worker up with one ordinary report (imports, templates, one Argon2id).
        warm = LoadResult()
        send_report(server.port, 10**6, os.urandom(file_bytes), warm)
        time.sleep(0.5)
        baseline = status_kib(worker, "VmRSS")
        hwm_before = status_kib(worker, "VmHWM")
        sampler = RssSampler(worker)
        sampler.start()
        browser = Browser(server.port)

        def body_sent() -> None:
            sampler.phase = "response"

        try:
            reply, body_s, total_s = stream_upload(server.port, browser, size, body_sent)
        finally:
            sampler.halt.set()
            sampler.join()
        hwm_after = status_kib(worker, "VmHWM")
        expect_receipt_redirect(reply)
        code = read_receipt(browser)
        opened = open_mailbox(server.port, code) > 0
        peak = max(sampler.peaks.values(), default=baseline)
        return {
            "file_bytes": size,
            "upload_s": total_s,
            "body_sent_s": body_s,
            "mib_per_s": size / MIB / total_s,
            "baseline_rss_mib": baseline / 1024,
            "peak_rss_mib": peak / 1024,
            "growth_mib": (peak - baseline) / 1024,
            "growth_while_streaming_mib": (sampler.peaks.get("body", baseline) - baseline) / 1024,
            "growth_after_body_mib": (sampler.peaks.get("response", baseline) - baseline) / 1024,
            "vmhwm_before_mib": hwm_before / 1024,
            "vmhwm_after_mib": hwm_after / 1024,
            "vmhwm_growth_over_baseline_mib": (hwm_after - baseline) / 1024,
            "samples": sampler.samples,
            "receipt_opens_report": opened,
            "server_log_problems": server.log_problems()[:5],
        }


# --- Orchestration and output ----------------------------------------------------------


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


def load_phase(server: Server, args: argparse.Namespace) -> dict[str, Any]:
    cpu_before, client_before = server.cpu(), time.process_time()
    started = time.perf_counter()
    result = run_load(server.port, args.reports, args.concurrency, args.file_mib * MIB)
    elapsed = time.perf_counter() - started
    server_cpu = server.cpu() - cpu_before
    client_cpu = time.process_time() - client_before
    done = len(result.codes)
    return {
        "reports": args.reports,
        "succeeded": done,
        "errors": len(result.errors),
        "error_samples": result.errors[:5],
        "concurrency": args.concurrency,
        "file_mib": args.file_mib,
        "seconds": elapsed,
        "reports_per_s": done / elapsed if elapsed else 0.0,
        "p50_s": percentile(result.latencies, 50),
        "p95_s": percentile(result.latencies, 95),
        "max_s": max(result.latencies, default=0.0),
        "form_get_p50_s": percentile(result.form_latencies, 50),
        "server_cpu_s": server_cpu,
        "server_cpu_s_per_report": server_cpu / done if done else 0.0,
        "client_cpu_s": client_cpu,
        "client_cpu_s_per_report": client_cpu / done if done else 0.0,
        "codes": result.codes,
    }


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    env = base_environment(workdir / "instance", args.database_url)
    log("setting up the installation ...")
    settings = set_up_installation(env, args.handlers)
    figures: dict[str, Any] = {"cores": os.cpu_count(), "load_average_before": os.getloadavg(),
                               "receipt_plain_per_minute": RAISED_RECEIPT_LIMIT}
    split_dir = workdir / "cpu-split"
    config = "config/gunicorn.conf.py"
    if args.cpu_split:
        split_dir.mkdir()
        env = {**env, "BENCH_CPU_SPLIT_DIR": str(split_dir)}
        config = "bench/gunicorn_cpu_split.conf.py"
    with gunicorn(env, workdir / "gunicorn-load.log", workers=args.workers,
                  threads=args.threads, config=config) as server:
        figures["server"] = {"workers": len(server.workers()),
                             "threads": args.threads or "config default",
                             "database": "postgresql" if args.database_url else "sqlite"}
        log(f"receipt KDF, {args.kdf_runs} runs in-process, then in parallel (server idle) ...")
        figures["kdf"] = receipt_kdf_ceiling(settings, args.kdf_runs)
        log(f"{args.reports} reports from {args.concurrency} reporters ...")
        load = load_phase(server, args)
        # Other load on a shared machine moves a derivation's CPU (memory bandwidth): it
        # is timed again right after the reports, and the two medians averaged.
        after = statistics.median(cpu for _, _, cpu in timed_derivations(
            receipt_params_of(settings), max(3, args.kdf_runs // 2)))
        figures["kdf"]["cpu_after_load_s"] = after
        figures["kdf"]["cpu_s"] = (figures["kdf"]["cpu_median_s"] + after) / 2
        codes = load.pop("codes")
        figures["load"] = load
        figures["load"]["fraction_of_ceiling"] = (
            load["reports_per_s"] / figures["kdf"]["ceiling_per_s"])
        figures["load"]["fraction_of_parallel_kdf_rate"] = (
            load["reports_per_s"] / figures["kdf"]["parallel_per_s"])
        verify_concurrency = args.verify_concurrency or args.concurrency
        log(f"opening {len(codes)} mailboxes, {verify_concurrency} at a time ...")
        verify = verify_codes(server.port, codes, verify_concurrency)
        verify["fraction_of_parallel_kdf_rate"] = (
            verify["per_second"] / figures["kdf"]["parallel_per_s"])
        figures["verify"] = verify
        figures["server"]["log_problems"] = server.log_problems()[:10]
    figures["load_average_after"] = os.getloadavg()
    if args.cpu_split:
        figures["cpu_split"] = cpu_split(split_dir)
    if not args.skip_big_upload:
        log(f"one {args.big_mib} MiB upload to a one-worker gunicorn ...")
        figures["big_upload"] = big_upload(env, workdir / "gunicorn-big.log",
                                           args.big_mib * MIB, args.file_mib * MIB)
    return figures


def cpu_split(folder: Path) -> dict[str, Any]:
    """The workers' totals (bench/gunicorn_cpu_split.conf.py): the derivation's share of
    the CPU a report (form, POST, receipt page) and a follow-up (page, POST, mailbox) took."""
    totals: dict[str, list[float]] = {}
    for path in folder.glob("*.json"):
        for name, counts in json.loads(path.read_text()).items():
            summed = totals.setdefault(name, [0, 0.0, 0.0])
            for index, value in enumerate(counts):
                summed[index] += value

    def share(paths: tuple[str, ...], per: str) -> dict[str, float]:
        rows = [totals.get(path, [0, 0.0, 0.0]) for path in paths]
        count = totals.get(per, [0])[0] or 1
        cpu, kdf = sum(row[1] for row in rows), sum(row[2] for row in rows)
        return {"cpu_s": cpu / count, "kdf_cpu_s": kdf / count,
                "kdf_share": kdf / cpu if cpu else 0.0}

    report_post = f"POST /report/{CHANNEL}"
    return {
        "report": share((f"GET /report/{CHANNEL}", report_post, "GET /report/receipt"),
                        report_post),
        "follow_up": share(("GET /followup", "POST /followup", "GET /followup/mailbox"),
                           "POST /followup"),
        "workers_reporting": len(list(folder.glob("*.json"))),
        # Each request's own CPU, for where the rest of a report's cost sits.
        "per_request_cpu_s": {name: counts[1] / counts[0]
                              for name, counts in sorted(totals.items()) if counts[0]},
    }


def table(figures: dict[str, Any]) -> str:
    load, kdf, verify = figures["load"], figures["kdf"], figures["verify"]
    server = figures["server"]
    rows = [
        ("server", f"{server['workers']} workers x {server['threads']} threads, "
                   f"{server['database']}, {figures['cores']} cores"),
        ("reports sent / ok / errors",
         f"{load['reports']} / {load['succeeded']} / {load['errors']}"),
        ("reporters (threads)", f"{load['concurrency']}, {load['file_mib']} MiB file each"),
        ("wall time", f"{load['seconds']:.1f} s"),
        ("throughput", f"{load['reports_per_s']:.2f} reports/s"),
        ("submission latency p50 / p95 / max",
         f"{load['p50_s']:.2f} / {load['p95_s']:.2f} / {load['max_s']:.2f} s (POST + receipt)"),
        ("form GET p50", f"{load['form_get_p50_s'] * 1000:.0f} ms"),
        ("server CPU per report", f"{load['server_cpu_s_per_report']:.3f} s = "
                                  f"{load['server_cpu_s_per_report'] / kdf['cpu_s']:.2f}"
                                  " x one derivation's CPU"),
        ("client CPU per report", f"{load['client_cpu_s_per_report']:.3f} s (this process)"),
        ("receipt Argon2id", f"t={kdf['time_cost']} m={kdf['memory_kib']} KiB: median "
                             f"{kdf['median_s']:.3f} s, min {kdf['min_s']:.3f} s, "
                             f"CPU {kdf['cpu_median_s']:.3f} s before the reports, "
                             f"{kdf['cpu_after_load_s']:.3f} s after ({kdf['runs']} runs)"),
        ("KDF ceiling", f"{kdf['ceiling_per_s']:.2f} reports/s ({kdf['cores']} cores)"),
        ("throughput / ceiling", f"{load['fraction_of_ceiling']:.2f} (the nominal one)"),
        ("KDF measured in parallel", f"{kdf['parallel_per_s']:.2f} derivations/s with "
                                     f"{kdf['cores']} processes at once (each "
                                     f"{kdf['parallel_median_s']:.3f} s, CPU "
                                     f"{kdf['parallel_cpu_median_s']:.3f} s)"),
        ("throughput / parallel KDF rate",
         f"{load['fraction_of_parallel_kdf_rate']:.2f} (target >= 0.8)"),
        ("receipts verified", f"{verify['opened']} / {verify['codes']} opened, "
                              f"{verify['failed']} failed"),
        ("follow-up sign-ins", f"{verify['per_second']:.2f}/s at concurrency "
                               f"{verify['concurrency']}, p50 {verify['p50_s']:.2f} s "
                               f"(receipt budget raised to {figures['receipt_plain_per_minute']}"
                               "/min for the bench)"),
        ("follow-up / parallel KDF rate",
         f"{verify['fraction_of_parallel_kdf_rate']:.2f} (target >= 0.8)"),
        ("load average before / after", " / ".join(
            ", ".join(f"{value:.2f}" for value in figures[key])
            for key in ("load_average_before", "load_average_after"))),
    ]
    split = figures.get("cpu_split")
    if split:
        for title, key in (("report", "report"), ("follow-up", "follow_up")):
            row = split[key]
            rows.append((f"{title} CPU in the workers", f"{row['cpu_s']:.3f} s, of which the "
                         f"derivation {row['kdf_cpu_s']:.3f} s: share {row['kdf_share']:.2f}"))
        rows.append(("CPU per request in the workers", ", ".join(
            f"{name} {cpu * 1000:.0f} ms" for name, cpu in split["per_request_cpu_s"].items())))
    big = figures.get("big_upload")
    if big:
        rows += [
            (f"{big['file_bytes'] / MIB:.0f} MiB upload time",
             f"{big['upload_s']:.1f} s ({big['mib_per_s']:.0f} MiB/s; "
             f"body sent after {big['body_sent_s']:.1f} s)"),
            ("worker RSS idle / peak", f"{big['baseline_rss_mib']:.0f} / "
                                       f"{big['peak_rss_mib']:.0f} MiB"),
            ("worker RSS growth", f"{big['growth_mib']:.1f} MiB (target < 100): "
                                  f"{big['growth_while_streaming_mib']:.1f} while streaming, "
                                  f"{big['growth_after_body_mib']:.1f} after the body"),
            ("worker VmHWM before / after", f"{big['vmhwm_before_mib']:.0f} / "
                                            f"{big['vmhwm_after_mib']:.0f} MiB"),
            ("big receipt opens its report", str(big["receipt_opens_report"])),
        ]
    width = max(len(name) for name, _ in rows)
    lines = [f"{name:<{width}}  {value}" for name, value in rows]
    for title, problems in (("load errors", load["error_samples"]),
                            ("verify failures", verify["failures"]),
                            ("server log", server["log_problems"]),
                            ("big-upload server log", (big or {}).get("server_log_problems"))):
        for problem in problems or []:
            lines.append(f"{title}: {problem}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reports", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--verify-concurrency", type=int, default=None,
                        help="follow-up sign-ins at once (default: --concurrency)")
    parser.add_argument("--file-mib", type=int, default=1, help="file size per report")
    parser.add_argument("--big-mib", type=int, default=1024, help="file of the big upload")
    parser.add_argument("--skip-big-upload", action="store_true")
    parser.add_argument("--cpu-split", action="store_true",
                        help="time each request's and each derivation's CPU in the workers "
                             "(bench/gunicorn_cpu_split.conf.py)")
    parser.add_argument("--workers", type=int, default=None,
                        help="gunicorn workers (default: config/gunicorn.conf.py's)")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads per worker (default: config/gunicorn.conf.py's)")
    parser.add_argument("--handlers", type=int, default=2, help="case handlers on the channel")
    parser.add_argument("--kdf-runs", type=int, default=10)
    parser.add_argument("--database-url", default=None,
                        help="an EMPTY database or schema (default: SQLite in the temp folder)")
    parser.add_argument("--tmpdir", default=None, help="where the temporary instance goes")
    parser.add_argument("--json", action="store_true",
                        help="JSON on stdout (the table goes to stderr)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # A SIGTERM still runs the finally blocks that stop gunicorn and delete the folder.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    workdir = Path(tempfile.mkdtemp(prefix="submission-load-", dir=args.tmpdir))
    try:
        figures = run(args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    summary = table(figures)
    if args.json:
        print(summary, file=sys.stderr)
        print(json.dumps(figures, indent=2))
    else:
        print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
