"""A throw-away PostgreSQL cluster of a test's own, to stop and start at will.

The shared server at 127.0.0.1:5432 serves everyone and must never stop, so outage
tests run their own: ``initdb`` in a temporary folder, as the ``postgres`` user when the
tests run as root (PostgreSQL refuses to run as root), listening on a free loopback port.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def _server_programs() -> Path:
    """Debian's newest installed PostgreSQL server programs (PG_BIN overrides)."""
    if os.environ.get("PG_BIN"):
        return Path(os.environ["PG_BIN"])
    installed = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                       key=lambda path: int(path.parts[-3]) if path.parts[-3].isdigit() else 0)
    return installed[-1].parent if installed else Path("/usr/lib/postgresql/15/bin")


PG_BIN = _server_programs()
# The server everyone shares (tests/conftest.py's default): databases on it, never a stop.
SHARED_SERVER_URL = os.environ.get("TEST_POSTGRES_URL",
                                   "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def unavailable_reason() -> str | None:
    """Why no cluster can be made here, or None when one can."""
    if not (PG_BIN / "initdb").exists():
        return f"PostgreSQL's server programs are not in {PG_BIN} (apt-get install postgresql)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser, so PostgreSQL cannot be started"
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class PostgresCluster:
    """One cluster in a temporary folder; :meth:`destroy` stops it and removes the folder."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="reporting-portal-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust",
                  "--no-sync", "-E", "UTF8")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, program: str, *args: str) -> None:
        command = [str(PG_BIN / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c max_connections=60")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w",
                  "start")

    def stop(self) -> None:
        """A fast shutdown, as an operator's restart does: sessions are cut off."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def is_running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def destroy(self) -> None:
        if self.is_running():
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
