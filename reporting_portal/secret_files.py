"""Files that hold a secret: created owner-only, never overwritten."""

from __future__ import annotations

import os
from pathlib import Path


def write_secret_file(path: Path, content: str) -> None:
    """Write a new file readable by its owner only; never overwrite an existing one."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(content)
