"""Fixtures for the production-fault tests: a PostgreSQL cluster of their own to stop
and start, and a small RAM disk to fill."""

from __future__ import annotations

import os
import secrets
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.helpers.postgres_cluster import SHARED_SERVER_URL, PostgresCluster, unavailable_reason


@pytest.fixture
def cluster() -> Iterator[PostgresCluster]:
    """A running throw-away cluster (never the shared server, which others use)."""
    reason = unavailable_reason()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs a throw-away PostgreSQL cluster: {reason}")
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


@pytest.fixture
def fresh_database() -> Iterator[str]:
    """A new, empty database on the shared server, dropped afterwards (its URL)."""
    name = f"portal_{secrets.token_hex(6)}"
    admin = create_engine(SHARED_SERVER_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:
        admin.dispose()
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL at {SHARED_SERVER_URL} is required in CI: {error}")
        pytest.skip(f"PostgreSQL not reachable at {SHARED_SERVER_URL}")
    try:
        yield SHARED_SERVER_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()
