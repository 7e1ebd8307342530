"""The committed browser bundles are reproducible from web/ (lockfile, build script, source).

The reporter's form loads ``reporting_portal/static/js/report.bundle.js`` and the receipt
sign-in page ``receipt-pow.bundle.js``, both with subresource integrity; anyone must be
able to rebuild them from the pinned lockfile and get the same bytes, so what the server
ships can be checked against the reviewed source.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers.web_packages import install_web_packages

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
STATIC_JS = ROOT / "reporting_portal" / "static" / "js"
BUNDLES = ("report.bundle.js", "receipt-pow.bundle.js", "reporter-page.bundle.js",
           "passkeys.bundle.js")


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed; it is needed to rebuild the browser bundle"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.mark.slow
def test_committed_bundle_is_reproducible(tmp_path: Path) -> None:
    node = _tool("node")
    npm = _tool("npm")
    install_web_packages(npm)
    fresh = tmp_path / "report.bundle.js"
    # Run from elsewhere: the build must not depend on the caller's working directory.
    subprocess.run(
        [node, str(WEB / "build.mjs"), "--outfile", str(fresh)],
        check=True,
        cwd=tmp_path,
        timeout=300,
    )
    for name in BUNDLES:
        built = (tmp_path / name).read_bytes()
        assert built == (STATIC_JS / name).read_bytes(), (
            f"reporting_portal/static/js/{name} differs from a fresh build; "
            "rebuild it with: cd web && npm ci && node build.mjs"
        )
        # Deterministic output: no absolute paths of the machine that built it.
        assert str(ROOT).encode() not in built
        assert str(tmp_path).encode() not in built


@pytest.mark.parametrize("name", BUNDLES)
def test_bundle_avoids_what_the_csp_forbids(name: str) -> None:
    # Strict CSP (no 'unsafe-eval', connect-src 'self'): the script builds no code from
    # strings, writes no markup and makes no request but the form's own POST.
    text = (STATIC_JS / name).read_text(encoding="utf-8")
    for forbidden in (
        r"\beval\(",
        r"\bnew Function\b",
        r"\bdocument\.write",
        r"\.innerHTML\b",
        r"\bfetch\(",
        r"\bWebSocket\b",
        r"\bsendBeacon\b",
        r"\bimportScripts\b",
    ):
        assert re.search(forbidden, text) is None, forbidden
