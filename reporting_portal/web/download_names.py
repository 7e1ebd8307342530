"""Names for downloaded files that are safe in a Content-Disposition header.

A name given by a reporter or a handler is content: it may carry a path, a header break
or an extension a browser would run. Both zones use this one rule.
"""

from __future__ import annotations

import re

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
MAX_NAME_CHARS = 100


def safe_download_name(name: str) -> str:
    """``name`` reduced to letters, digits, dots, dashes and underscores, never empty."""
    cleaned = _UNSAFE.sub("_", name).strip("._") or "file"
    return cleaned[:MAX_NAME_CHARS]
