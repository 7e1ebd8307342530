"""The shipped gunicorn settings, plus a count of where each request's CPU goes.

Used by ``submission_load.py --cpu-split`` only. Each worker times, on the handling
thread's own CPU clock, every request and every receipt derivation inside one, and at
exit writes the totals to ``$BENCH_CPU_SPLIT_DIR/<pid>.json``. Two figures taken in the
same threads at the same moments: other load on a shared machine moves both alike, so
their ratio (the derivation's share of a report's CPU) holds where wall-clock rates do not.
"""

from __future__ import annotations

import json
import os
import runpy
import threading
import time
from pathlib import Path
from typing import Any

globals().update({name: value for name, value in runpy.run_path(
    str(Path(__file__).resolve().parents[1] / "config" / "gunicorn.conf.py")).items()
    if not name.startswith("__")})

# Per request name ("POST /report/corruption"): [requests, CPU seconds, of which derivation].
_totals: dict[str, list[float]] = {}
_lock = threading.Lock()
_current = threading.local()


def post_worker_init(worker: object) -> None:
    """Wrap the receipt derivation of both paths that run it: report and follow-up.

    Imported here, in the worker: the master never loads the application."""
    import reporting_portal.reporter.followup.services as followup_services  # noqa: PLC0415
    import reporting_portal.reporter.intake.services as intake_services  # noqa: PLC0415

    for module in (intake_services, followup_services):
        def timed(*args: Any, _derive: Any = module.derive_receipt_secrets,
                  **kwargs: Any) -> Any:
            started = time.thread_time()
            try:
                return _derive(*args, **kwargs)
            finally:
                _current.kdf += time.thread_time() - started
        module.derive_receipt_secrets = timed  # type: ignore[attr-defined]


def pre_request(worker: object, req: Any) -> None:
    _current.kdf = 0.0
    _current.started = time.thread_time()


def post_request(worker: object, req: Any, environ: object, resp: object) -> None:
    spent = time.thread_time() - _current.started
    name = f"{req.method} {req.path.split('?')[0]}"
    with _lock:
        counts = _totals.setdefault(name, [0, 0.0, 0.0])
        counts[0] += 1
        counts[1] += spent
        counts[2] += _current.kdf


def worker_exit(server: object, worker: object) -> None:
    """Runs in the worker as it stops (also on the quick shutdown the bench sends)."""
    folder = os.environ.get("BENCH_CPU_SPLIT_DIR")
    if folder:
        with _lock:
            (Path(folder) / f"{os.getpid()}.json").write_text(json.dumps(_totals))
