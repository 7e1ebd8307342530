"""deploy/nginx/reporting-portal.conf, checked by Debian's nginx.

The shipped file, rendered onto loopback ports and temp paths (tests/helpers/deploy.py),
must pass ``nginx -t``. Then nginx runs it in front of a gunicorn reporter app of this
project, and a reporter without JavaScript sends a 50 MiB file over HTTPS: the receipt
comes back, and nginx never wrote the body to its client-body folder. nginx unlinks a
body's temporary file as soon as it opens it, so a watcher thread looks both at the
folder and at the files nginx's processes hold open; a control server in the same nginx,
with request buffering left on, shows that the watcher does see a buffered body.
"""

from __future__ import annotations

import http.client
import os
import re
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers.deploy import (
    NGINX_FILE,
    REPORTER_NAME,
    REPOSITORY,
    STAFF_NAME,
    TEST_ONION,
    NginxPorts,
    free_port,
    nginx_main_config,
    render_nginx_site,
)
from tests.helpers.reporting import receipt_code_from

BUFFERED_WARNING = "a client request body is buffered to a temporary file"
UPLOAD_BYTES = 50 * 1024 * 1024
MARKER = "DEPLOY-NGINX-MARKER: the port authority's tender was rigged."
REPORT_FORM = "/report/corruption"
BOUNDARY = "----reporting-portal-nginx-test"
# Argon2 at the settings' floor: the test is about transport, not key derivation.
LOW_COSTS = {f"REPORTING_PORTAL_{name}": value for name, value in {
    "PASSWORD_HASH_TIME_COST": "2", "PASSWORD_HASH_MEMORY_KIB": "19456",
    "IDENTITY_WRAP_TIME_COST": "2", "IDENTITY_WRAP_MEMORY_KIB": "19456",
    "RECEIPT_KDF_TIME_COST": "2", "RECEIPT_KDF_MEMORY_KIB": "19456",
}.items()}


def control_server(folder: Path, port: int) -> str:
    """A server with nginx's default request buffering, for the watcher's control."""
    return f"""    server {{
        listen 127.0.0.1:{port};
        access_log off;
        error_log {folder / 'control-error.log'} warn;
        client_max_body_size 4m;
        client_body_buffer_size 16k;
        proxy_request_buffering on;
        location / {{ proxy_pass http://reporting_portal_reporter; }}
    }}
"""


def render(folder: Path, tls, ports: NginxPorts, *, control_port: int | None = None) -> Path:
    site = folder / "reporting-portal.conf"
    site.write_text(render_nginx_site(folder, ports, tls,
                                      reporter_socket=folder / "reporter.sock",
                                      staff_socket=folder / "staff.sock"))
    main = folder / "nginx.conf"
    extra = control_server(folder, control_port) if control_port else ""
    main.write_text(nginx_main_config(folder, site, run_as_root=os.geteuid() == 0,
                                      extra_http=extra))
    return main


def test_the_shipped_file_passes_nginx_t(system_tool, tls_certificate, tmp_path):
    nginx = system_tool("nginx")
    main = render(tmp_path, tls_certificate, NginxPorts.free())
    checked = subprocess.run([nginx, "-t", "-p", str(tmp_path), "-c", str(main)],
                             capture_output=True, text=True, timeout=60, check=False)
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr


def test_no_server_logs_who_is_asking():
    text = NGINX_FILE.read_text()
    servers = len(re.findall(r"^server \{", text, re.M))
    assert servers == 4
    assert len(re.findall(r"^    access_log off;$", text, re.M)) == servers
    for leak in ("$remote_addr", "$http_user_agent", "$http_x_forwarded_for", "log_format"):
        assert leak not in text
    # The client's address is never passed on, and headers claiming one are cleared.
    assert text.count('proxy_set_header X-Forwarded-For "";') == 2
    assert text.count('proxy_set_header X-Real-IP "";') == 2


class BodyTempWatch(threading.Thread):
    """Watches nginx's client-body folder: its files, and files under it that nginx's
    processes hold open (nginx unlinks a body's temporary file right after opening it)."""

    def __init__(self, folder: Path, master_pid: int) -> None:
        super().__init__(daemon=True)
        self.folder = str(folder)
        self.master_pid = master_pid
        self.seen: set[str] = set()
        self.spotted = threading.Event()
        self.done = threading.Event()
        self.looks = 0
        self.pids: list[int] = []

    def nginx_pids(self) -> list[int]:
        pids = [self.master_pid]
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                if int(stat.rpartition(")")[2].split()[1]) == self.master_pid:
                    pids.append(int(entry))
        return pids

    def look(self) -> None:
        for root, _, files in os.walk(self.folder):
            self.seen.update(os.path.join(root, name) for name in files)
        # Scanning /proc for nginx's workers costs more than a look: do it now and then.
        if self.looks % 100 == 0:
            self.pids = self.nginx_pids()
        self.looks += 1
        for pid in self.pids:
            try:
                descriptors = os.listdir(f"/proc/{pid}/fd")
            except OSError:
                continue
            for descriptor in descriptors:
                try:
                    target = os.readlink(f"/proc/{pid}/fd/{descriptor}")
                except OSError:
                    continue
                if target.startswith(self.folder + "/"):
                    self.seen.add(target)
        if self.seen:
            self.spotted.set()

    def run(self) -> None:
        while not self.done.is_set():
            self.look()
            self.done.wait(0.005)

    def stop(self) -> set[str]:
        self.done.set()
        self.join(timeout=30)
        self.look()
        return self.seen


class NamedHttps(http.client.HTTPSConnection):
    """HTTPS to 127.0.0.1 that names the server (SNI and Host) as a browser would."""

    def __init__(self, port: int, name: str, context: ssl.SSLContext) -> None:
        super().__init__("127.0.0.1", port, context=context, timeout=300)
        self.name = name

    def connect(self) -> None:
        http.client.HTTPConnection.connect(self)
        try:
            self.sock = self._context.wrap_socket(self.sock, server_hostname=self.name)
        except OSError:
            self.sock.close()
            raise


@dataclass
class Browser:
    """A reporter's browser without JavaScript: one site, its cookies, no redirects."""

    port: int
    name: str
    context: ssl.SSLContext
    cookies: dict[str, str]

    def request(self, method: str, path: str, body=None, headers=None):
        connection = NamedHttps(self.port, self.name, self.context)
        sent = {"Host": self.name, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        content = response.read()
        connection.close()
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, value = cookie.partition(";")[0].partition("=")
            self.cookies[name.strip()] = value
        return response, content.decode("utf-8", "replace")


@dataclass
class LiveNginx:
    folder: Path
    ports: NginxPorts
    control_port: int
    context: ssl.SSLContext
    nginx_pid: int
    instance: Path

    def browser(self, name: str = REPORTER_NAME) -> Browser:
        return Browser(self.ports.https, name, self.context, {})

    def watch_body_folder(self) -> BodyTempWatch:
        watch = BodyTempWatch(self.folder / "client_body", self.nginx_pid)
        watch.start()
        return watch


def wait_until_up(port: int, name: str, context: ssl.SSLContext,
                  processes: list[subprocess.Popen]) -> None:
    """Until nginx answers /healthz from gunicorn (a start-up bound, not a measurement)."""
    deadline = time.monotonic() + 120
    while True:
        connection = NamedHttps(port, name, context)
        try:
            connection.request("GET", "/healthz", headers={"Host": name})
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            connection.close()
        if time.monotonic() > deadline or any(p.poll() is not None for p in processes):
            raise AssertionError("nginx and gunicorn did not come up")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def live_nginx(system_tool, tls_certificate, tmp_path_factory) -> Iterator[LiveNginx]:
    nginx = system_tool("nginx")
    folder = tmp_path_factory.mktemp("nginx")
    instance = folder / "instance"
    ports, control_port = NginxPorts.free(), free_port()
    main = render(folder, tls_certificate, ports, control_port=control_port)
    environ = {key: value for key, value in os.environ.items()
               if not key.startswith("REPORTING_PORTAL_") and key != "DATABASE_URL"}
    environ.update(LOW_COSTS, REPORTING_PORTAL_INSTANCE_DIR=str(instance),
                   REPORTING_PORTAL_ENVIRONMENT="development",
                   BIND=f"unix:{folder / 'reporter.sock'}", WEB_CONCURRENCY="1",
                   GUNICORN_THREADS="4")
    subprocess.run([sys.executable, "-c", "from reporting_portal.cli import main; main()",
                    "init"], env=environ, cwd=REPOSITORY, capture_output=True,
                   timeout=300, check=True)
    with open(folder / "gunicorn.log", "wb") as gunicorn_log:
        gunicorn = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py",
             "reporting_portal.wsgi:reporter_app"],
            env=environ, cwd=REPOSITORY, stdout=gunicorn_log, stderr=subprocess.STDOUT)
    with open(folder / "nginx-stderr.log", "wb") as nginx_stderr:
        server = subprocess.Popen([nginx, "-p", str(folder), "-c", str(main),
                                   "-g", "daemon off;"], stderr=nginx_stderr)
    context = ssl.create_default_context(cafile=str(tls_certificate.certificate))
    try:
        wait_until_up(ports.https, REPORTER_NAME, context, [gunicorn, server])
        yield LiveNginx(folder, ports, control_port, context, server.pid, instance)
    finally:
        for process in (server, gunicorn):
            process.terminate()
        for process in (server, gunicorn):
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                # gunicorn waits up to graceful_timeout for requests in flight.
                process.kill()
                process.wait(timeout=60)
    # Nothing of the report reached any log of nginx or gunicorn.
    for log in folder.glob("*.log"):
        assert MARKER not in log.read_text(errors="replace"), log.name


def hidden_field(page: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*value="([^"]+)"', page)
    assert match, f"no {name} on the form"
    return match.group(1)


def multipart_upload(page: str, file_bytes: int) -> tuple[list[bytes], int]:
    """The no-JavaScript report form as a browser sends it (CSRF token first), with one
    file of ``file_bytes`` bytes, as chunks and their total length."""
    fields = [("csrf_token", hidden_field(page, "csrf_token")),
              ("submission_token", hidden_field(page, "submission_token")),
              ("q_what", MARKER), ("q_when", "2026-11-20"), ("q_where", "Harbour"),
              ("q_kind", "Bribery"), ("q_how_known", "I found documents")]
    head = b"".join(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        .encode() for name, value in fields)
    head += (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="q_evidence"; '
             'filename="ledger.bin"\r\nContent-Type: application/octet-stream\r\n\r\n').encode()
    block = os.urandom(1024 * 1024)
    chunks = [head] + [block] * (file_bytes // len(block)) + [f"\r\n--{BOUNDARY}--\r\n".encode()]
    return chunks, sum(len(chunk) for chunk in chunks)


@pytest.mark.slow
def test_a_50_mib_upload_without_javascript_streams_past_nginx_s_disk(live_nginx):
    reporter = live_nginx.browser()
    response, page = reporter.request("GET", REPORT_FORM)
    assert response.status == 200
    chunks, length = multipart_upload(page, UPLOAD_BYTES)

    watch = live_nginx.watch_body_folder()
    response, _ = reporter.request("POST", REPORT_FORM, body=iter(chunks), headers={
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        "Content-Length": str(length)})
    assert response.status == 303, response.status
    response, receipt = reporter.request("GET", "/report/receipt")
    assert response.status == 200
    assert receipt_code_from(receipt)

    # The file arrived whole, as ciphertext in the blob store ...
    stored = sum(p.stat().st_size for p in (live_nginx.instance / "blobs").rglob("*")
                 if p.is_file())
    assert stored > UPLOAD_BYTES
    # ... and never in nginx's client-body folder, as a file or an open, unlinked one.
    assert watch.stop() == set()
    assert os.listdir(live_nginx.folder / "client_body") == []
    for log in ("reporter-error.log", "main-error.log"):
        path = live_nginx.folder / log
        assert BUFFERED_WARNING not in (path.read_text() if path.exists() else "")


@pytest.mark.slow
def test_the_watch_sees_a_body_that_nginx_buffers(live_nginx):
    # Control: nginx's default (buffering on) for a 1 MiB body. The client sends half,
    # then holds the rest until the watcher has seen nginx's temporary file.
    watch = live_nginx.watch_body_folder()
    body = os.urandom(1024 * 1024)
    connection = http.client.HTTPConnection("127.0.0.1", live_nginx.control_port, timeout=120)
    connection.putrequest("POST", "/healthz")
    connection.putheader("Content-Length", str(len(body)))
    connection.endheaders()
    connection.send(body[: len(body) // 2])
    spotted = watch.spotted.wait(timeout=120)
    connection.send(body[len(body) // 2:])
    connection.getresponse().read()
    connection.close()
    assert spotted
    assert watch.stop()
    assert BUFFERED_WARNING in (live_nginx.folder / "control-error.log").read_text()


@pytest.mark.slow
def test_onion_location_is_offered_on_the_clearnet_name_only(live_nginx):
    response, _ = live_nginx.browser().request("GET", REPORT_FORM)
    assert response.headers["Onion-Location"] == f"http://{TEST_ONION}{REPORT_FORM}"
    # Over the onion service's listener (plain http from the local tor), none.
    connection = http.client.HTTPConnection("127.0.0.1", live_nginx.ports.reporter_onion)
    connection.request("GET", REPORT_FORM, headers={"Host": TEST_ONION})
    over_onion = connection.getresponse()
    over_onion.read()
    connection.close()
    assert over_onion.status == 200
    assert over_onion.headers["Onion-Location"] is None


@pytest.mark.slow
def test_large_bodies_are_refused_outside_the_upload_addresses(live_nginx):
    connection = NamedHttps(live_nginx.ports.https, REPORTER_NAME, live_nginx.context)
    connection.putrequest("POST", "/followup", skip_host=True)
    connection.putheader("Host", REPORTER_NAME)
    connection.putheader("Content-Length", str(3 * 1024 * 1024))
    connection.endheaders()
    # nginx answers from the headers alone, without reading (or storing) the body.
    refused = connection.getresponse()
    refused.read()
    connection.close()
    assert refused.status == 413


@pytest.mark.slow
def test_tor2web_gateways_and_unknown_names_are_turned_away(live_nginx):
    response, _ = live_nginx.browser().request("GET", "/", headers={"X-Tor2web": "1"})
    assert response.status == 403
    response, _ = live_nginx.browser(STAFF_NAME).request("GET", "/",
                                                          headers={"X-Tor2web": "1"})
    assert response.status == 403
    # A name nginx does not serve gets no TLS handshake at all (not even a certificate
    # to refuse: this client would accept any).
    trusting = ssl.create_default_context()
    trusting.check_hostname = False
    trusting.verify_mode = ssl.CERT_NONE
    stranger = Browser(live_nginx.ports.https, "unknown.example.org", trusting, {})
    with pytest.raises(ssl.SSLError, match="UNRECOGNIZED_NAME"):
        stranger.request("GET", "/")
