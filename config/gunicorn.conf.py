"""gunicorn settings for Reporting Portal (``gunicorn -c config/gunicorn.conf.py ...``).

One gunicorn service per surface, each behind nginx (deploy/README.md):

    gunicorn -c config/gunicorn.conf.py reporting_portal.wsgi:reporter_app
    gunicorn -c config/gunicorn.conf.py reporting_portal.wsgi:staff_app

Environment variables read here (the application's own settings come from
``REPORTING_PORTAL_CONFIG`` and ``REPORTING_PORTAL_*``, see config/settings.py):

- ``BIND``: where to listen, comma-separated; default ``127.0.0.1:8000``. Production uses
  a Unix socket, e.g. ``unix:/run/reporting-portal-reporter/gunicorn.sock``.
- ``WEB_CONCURRENCY``: worker processes; default ``cores + 1``, at most 8.
- ``GUNICORN_THREADS``: threads per worker; default 6.
- ``GUNICORN_TIMEOUT``: worker heartbeat timeout in seconds; default 600.
- ``GUNICORN_LOG_LEVEL`` (else ``REPORTING_PORTAL_LOG_LEVEL``): default ``info``.
- ``FORWARDED_ALLOW_IPS``: proxies trusted for ``X-Forwarded-Proto``; default loopback.

Nothing here may make gunicorn log a client address, user agent or query string: there is
no access log, and gunicorn's own loggers go through config.logging's allow-list formatter.
"""

from __future__ import annotations

import os

from config.logging import configure_logging

# --- Listening --------------------------------------------------------------------------

bind = [address.strip() for address in os.environ.get("BIND", "127.0.0.1:8000").split(",")]
# Applies only to the Unix socket gunicorn creates (and its heartbeat file), not to files
# the application writes (systemd's UMask=0077 does): 0770 lets nginx, a member of the
# service's group, connect, and nobody else.
umask = 0o007
backlog = 256

# --- The CPU's vector units -------------------------------------------------------------

# OpenSSL's AVX512VL code (its ChaCha20 for 8 blocks at a time, used for the payload) leaves
# the upper vector registers in a state in which libargon2's SSE code runs at half speed on
# the reference machine (AMD EPYC): once a thread (or the thread that created it) has
# encrypted anything, each receipt or password Argon2id costs 0.20 s of CPU instead of
# 0.10 s. Masking AVX512VL only (bit 31 of CPUID leaf 7, EBX) leaves ChaCha20 on OpenSSL's
# AVX-512F 16-block path, as fast as before (4,000 MiB/s on one core), and the derivation
# at 0.10 s. The workers inherit this from the master and OpenSSL reads it when they load
# it; an operator's own OPENSSL_ia32cap wins. Ignored on CPUs other than x86.
os.environ.setdefault("OPENSSL_ia32cap", ":~0x80000000")

# --- Workers ----------------------------------------------------------------------------

# The work is CPU-bound (every receipt-code or password check is a 64 MiB Argon2id), and
# the threads, not more processes, cover the waits: one worker per core and one more.
# On the 2-core reference VM, 3 workers took 0.26 s of CPU per report where the old
# 2 x cores + 1 (5) took 0.37 s, since each switch between processes' address spaces
# costs the caches and TLBs (bench/README.md). A worker derives on at most one thread per
# core at once (crypto.kdf.POOLED_BUFFERS); 8 workers bound the memory at 2 GiB.
_MAX_DEFAULT_WORKERS = 8
workers = int(
    os.environ.get("WEB_CONCURRENCY", min((os.cpu_count() or 1) + 1, _MAX_DEFAULT_WORKERS))
)
# Threads, so that a slow upload over Tor (up to 1 GiB, streamed and encrypted as it
# arrives) holds one thread, not a whole worker.
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "6"))
# Build the application in each worker, never in the master: no database connections or
# keys shared across fork.
preload_app = False
# Recycle workers now and then, gracefully, to bound memory growth.
max_requests = 2000
max_requests_jitter = 200

# --- Timeouts (1 GiB uploads over Tor) --------------------------------------------------

# With gthread the heartbeat comes from the worker's main loop, so a long upload in a
# thread does not trip it; nginx's client_body_timeout bounds a stalled client instead.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "600"))
# On restart, in-flight uploads get this long to finish (systemd's TimeoutStopSec is longer).
graceful_timeout = 300
keepalive = 5

# --- Request limits ---------------------------------------------------------------------

limit_request_line = 4094
limit_request_fields = 64
limit_request_field_size = 8190

# --- Behind the local nginx -------------------------------------------------------------

# Only the local proxy may say the scheme was https (FORWARDED_ALLOW_IPS names another
# proxy, e.g. in a container). Connections over a Unix socket are trusted unconditionally
# by gunicorn, so the socket's permissions are the access control.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# Only the header nginx sets (and overwrites), so a client cannot inject another one.
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}
proxy_protocol = "off"
# No runtime control socket ($HOME/.gunicorn/gunicorn.ctl); systemd manages the service.
control_socket_disable = True

# --- Logging ----------------------------------------------------------------------------

# No access log, ever: it would name client addresses, user agents and query strings.
# (gunicorn skips building access records at all when accesslog, syslog and every
# logconfig* are unset, so none of those is set here.)
accesslog = None
disable_redirect_access_to_syslog = True
syslog = False
errorlog = "-"
loglevel = (
    os.environ.get("GUNICORN_LOG_LEVEL") or os.environ.get("REPORTING_PORTAL_LOG_LEVEL") or "info"
).lower()
capture_output = False
proc_name = "reporting-portal"


def _route_logs_through_allow_list() -> None:
    """Replace gunicorn's log handlers by the allow-list formatter; keep access silent."""
    configure_logging(loglevel.upper())


def on_starting(server: object) -> None:
    """Master, before the listeners open and the workers start."""
    _route_logs_through_allow_list()


def on_reload(server: object) -> None:
    """Master, after a reload (SIGHUP) re-ran gunicorn's own logging set-up."""
    _route_logs_through_allow_list()


def post_fork(server: object, worker: object) -> None:
    """Each worker, right after fork (the application re-applies its log_level on load)."""
    _route_logs_through_allow_list()
