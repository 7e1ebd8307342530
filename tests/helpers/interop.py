"""The independent age implementation in JavaScript (the ``age-encryption`` npm package,
typage, as the browser runs it), driven by the scripts in ``tests/crypto/interop_js/``.

Missing tools skip the tests that need them locally but fail them in CI (``CI=true``), so
an incomplete CI image cannot pass silently.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import NoReturn

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "tests" / "crypto" / "interop_js"
NPM_PREFIX = REPO / "tests" / ".interop"
AGE_ENCRYPTION_VERSION = "0.3.1"
AGE_ENCRYPTION_MODULE = NPM_PREFIX / "node_modules" / "age-encryption" / "dist" / "index.js"


def unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"interop tool missing in CI: {reason}")
    pytest.skip(reason)


def installed_version() -> str | None:
    package = AGE_ENCRYPTION_MODULE.parents[1] / "package.json"
    if not package.exists():
        return None
    return str(json.loads(package.read_text())["version"])


def age_encryption_node() -> str:
    """The path of ``node``, with the pinned ``age-encryption`` installed for it; skips (or
    fails, in CI) when node or npm is missing."""
    node_path, npm_path = shutil.which("node"), shutil.which("npm")
    if node_path is None or npm_path is None:
        unavailable("node and npm are needed for the age-encryption interop tests")
    if installed_version() != AGE_ENCRYPTION_VERSION:
        install = subprocess.run(
            [
                npm_path,
                "install",
                "--prefix",
                str(NPM_PREFIX),
                "--no-audit",
                "--no-fund",
                f"age-encryption@{AGE_ENCRYPTION_VERSION}",
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        if install.returncode != 0 or installed_version() != AGE_ENCRYPTION_VERSION:
            unavailable(
                f"npm install age-encryption@{AGE_ENCRYPTION_VERSION} failed: "
                f"{install.stderr.strip()[-300:]}"
            )
    return node_path


def run_js(
    node: str, script: str, *arguments: str, stdin: bytes = b"", identity: str = ""
) -> bytes:
    result = subprocess.run(
        [node, str(SCRIPTS / script), *arguments],
        input=stdin,
        capture_output=True,
        env={
            **os.environ,
            "AGE_ENCRYPTION_MODULE": str(AGE_ENCRYPTION_MODULE),
            "AGE_IDENTITY": identity,
        },
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout
