"""Files that hold a secret: created owner-only, never overwritten."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path


def write_secret_file(path: Path, content: str) -> None:
    """Write a new file readable by its owner only; never overwrite an existing one."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(content)


def read_or_create_secret_file(path: Path, make: Callable[[], str]) -> str:
    """The secret in ``path``, made by ``make`` and written owner-only if there is none.

    Two processes starting at once both end with the same secret: the exclusive create
    lets one write, and the other reads what it wrote.
    """
    with contextlib.suppress(FileExistsError):
        write_secret_file(path, make())
    return path.read_text(encoding="ascii").strip()
