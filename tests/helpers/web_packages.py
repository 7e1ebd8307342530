"""web/'s npm packages (esbuild, fflate, age-encryption) for the tests that run its code."""

from __future__ import annotations

import fcntl
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
# Written after `npm ci` has finished: a folder that merely exists may be half installed.
INSTALLED = WEB / "node_modules" / ".installed-for-tests"


def install_web_packages(npm: str) -> None:
    """`npm ci` in web/ once for all pytest-xdist workers: the others wait on the lock
    instead of running their own `npm ci`, which empties node_modules under a running one
    (a worker once found fflate and no esbuild)."""
    with (ROOT / ".web-packages.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not INSTALLED.exists():
            subprocess.run([npm, "ci", "--no-audit", "--no-fund"], check=True, cwd=WEB,
                           timeout=600)
            INSTALLED.touch()
