"""Fixtures for the production-fault tests: a PostgreSQL cluster of their own to stop
and start, and a small RAM disk to fill."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.postgres_cluster import PostgresCluster, unavailable_reason


@pytest.fixture
def cluster() -> Iterator[PostgresCluster]:
    """A running throw-away cluster (never the shared server, which others use)."""
    reason = unavailable_reason()
    if reason is not None:
        pytest.skip(reason)
    made = PostgresCluster()
    try:
        made.start()
        yield made
    finally:
        made.destroy()


@pytest.fixture
def small_disk() -> Iterator[Path]:
    """A 4 MiB tmpfs, unmounted afterwards; skipped where mounting is refused."""
    folder = Path(tempfile.mkdtemp(prefix="reporting-portal-disk-"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", str(folder)],
        capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        folder.rmdir()
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip() or 'refused'}); "
                    "the full-disk test needs root")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)
        folder.rmdir()
