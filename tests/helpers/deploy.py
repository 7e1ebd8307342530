"""The shipped deploy/ files, rendered for a test: the operator's paths become temp paths.

Each substitution names text that must be in the shipped file, and rendering fails when
it is not there, so a changed file cannot silently escape its test: edit the table here
with the file.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
DEPLOY = REPOSITORY / "deploy"
NGINX_FILE = DEPLOY / "nginx" / "reporting-portal.conf"
TORRC_FILE = DEPLOY / "tor" / "torrc.example"
SYSTEMD_DIR = DEPLOY / "systemd"
# The clearnet names of the shipped nginx file; the test certificate covers both.
REPORTER_NAME = "report.example.org"
STAFF_NAME = "staff.example.org"
# A well-formed v3 onion address (56 base32 characters), as Tor writes to `hostname`.
TEST_ONION = "reportingportaltestonionaddressaaaaaaaaaaaaaaaaaaaaaaaaa.onion"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class TestCertificate:
    certificate: Path
    private_key: Path


@dataclass(frozen=True)
class NginxPorts:
    http: int
    https: int
    reporter_onion: int
    staff_onion: int

    @classmethod
    def free(cls) -> NginxPorts:
        return cls(free_port(), free_port(), free_port(), free_port())


def substitute(text: str, replacements: list[tuple[str, str]], source: Path) -> str:
    """``text`` with each ``(old, new)`` replaced everywhere; every ``old`` must occur."""
    for old, new in replacements:
        if old not in text:
            raise AssertionError(f"{source.name} no longer contains {old!r}: "
                                 "update tests/helpers/deploy.py with it")
        text = text.replace(old, new)
    return text


def render_nginx_site(folder: Path, ports: NginxPorts, tls: TestCertificate,
                      *, reporter_socket: Path, staff_socket: Path) -> str:
    """deploy/nginx/reporting-portal.conf on loopback ports, with temp paths and the test
    certificate. The reporter block's error log (``/dev/null`` when shipped) becomes a
    file at ``warn``, the level of nginx's "buffered to a temporary file" warning."""
    text = NGINX_FILE.read_text()
    # IPv6 listeners: a test machine may have no IPv6; the IPv4 ones carry the same rules.
    text = "\n".join(line for line in text.splitlines() if "listen [::]:" not in line) + "\n"
    return substitute(text, [
        ("unix:/run/reporting-portal-reporter/gunicorn.sock", f"unix:{reporter_socket}"),
        ("unix:/run/reporting-portal-staff/gunicorn.sock", f"unix:{staff_socket}"),
        ("listen 80 default_server;", f"listen 127.0.0.1:{ports.http} default_server;"),
        ("listen 443 ssl default_server;",
         f"listen 127.0.0.1:{ports.https} ssl default_server;"),
        ("listen 80;", f"listen 127.0.0.1:{ports.http};"),
        ("listen 443 ssl;", f"listen 127.0.0.1:{ports.https} ssl;"),
        ("listen 127.0.0.1:8080;", f"listen 127.0.0.1:{ports.reporter_onion};"),
        ("listen 127.0.0.1:8081;", f"listen 127.0.0.1:{ports.staff_onion};"),
        (f"/etc/letsencrypt/live/{REPORTER_NAME}/fullchain.pem", str(tls.certificate)),
        (f"/etc/letsencrypt/live/{REPORTER_NAME}/privkey.pem", str(tls.private_key)),
        (f"/etc/letsencrypt/live/{STAFF_NAME}/fullchain.pem", str(tls.certificate)),
        (f"/etc/letsencrypt/live/{STAFF_NAME}/privkey.pem", str(tls.private_key)),
        ("/var/log/nginx/reporting-portal-error.log", str(folder / "error.log")),
        ("error_log /dev/null crit;", f"error_log {folder / 'reporter-error.log'} warn;"),
        ("/opt/reporting-portal/src/reporting_portal/static/",
         f"{REPOSITORY / 'reporting_portal' / 'static'}/"),
        ("/var/www/letsencrypt", str(folder / "letsencrypt")),
        ("map $host $reporting_portal_reporter_onion {\n    default \"\";",
         f"map $host $reporting_portal_reporter_onion {{\n    default \"{TEST_ONION}\";"),
    ], NGINX_FILE)


def nginx_main_config(folder: Path, site: Path, *, run_as_root: bool,
                      extra_http: str = "") -> str:
    """An nginx.conf as deploy/README.md asks for (no access log, errors at crit), with
    every path nginx writes to, the client-body folder first, inside ``folder``."""
    # nginx's workers drop to `nobody` when started as root, and could not reach the
    # gunicorn socket in the test's private temp folder; in production the socket's
    # group (reporting-portal, with www-data in it) is what lets them in.
    user = "user root root;\n" if run_as_root else ""
    return f"""{user}worker_processes 1;
pid {folder / 'nginx.pid'};
error_log {folder / 'main-error.log'} warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {folder / 'client_body'};
    proxy_temp_path {folder / 'proxy'};
    fastcgi_temp_path {folder / 'fastcgi'};
    uwsgi_temp_path {folder / 'uwsgi'};
    scgi_temp_path {folder / 'scgi'};
    include {site};
{extra_http}}}
"""


def render_torrc(folder: Path, *, reporter_port: int, staff_port: int,
                 offline: bool = False) -> str:
    """deploy/tor/torrc.example with its onion service folders and a DataDirectory in
    ``folder``; ``offline`` adds DisableNetwork, so tor makes the services' keys and
    addresses without ever touching the network."""
    text = substitute(TORRC_FILE.read_text(), [
        ("HiddenServiceDir /var/lib/tor/reporting-portal-reporter/",
         f"HiddenServiceDir {folder / 'reporting-portal-reporter'}/"),
        ("HiddenServiceDir /var/lib/tor/reporting-portal-staff/",
         f"HiddenServiceDir {folder / 'reporting-portal-staff'}/"),
        ("HiddenServicePort 80 127.0.0.1:8080", f"HiddenServicePort 80 127.0.0.1:{reporter_port}"),
        ("HiddenServicePort 80 127.0.0.1:8081", f"HiddenServicePort 80 127.0.0.1:{staff_port}"),
    ], TORRC_FILE)
    text += f"\nDataDirectory {folder / 'data'}\nLog notice file {folder / 'tor.log'}\n"
    if offline:
        text += "DisableNetwork 1\n"
    return text
