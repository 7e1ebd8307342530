"""Subresource integrity for our own static scripts (DESIGN.md: strict CSP with SRI).

The hash is computed from the file the app actually serves, once per process, so a
script altered on disk after start-up is refused by the browser.
"""

from __future__ import annotations

import base64
import hashlib
from functools import cache
from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"


@cache
def static_integrity(relative_path: str) -> str:
    """The ``integrity`` attribute value (sha384) of a file under ``static/``."""
    digest = hashlib.sha384((STATIC_DIR / relative_path).read_bytes()).digest()
    return "sha384-" + base64.b64encode(digest).decode("ascii")
