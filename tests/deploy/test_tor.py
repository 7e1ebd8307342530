"""deploy/tor/torrc.example, checked by Debian's tor.

``tor --verify-config`` must accept the shipped file (an option this tor does not know,
such as a proof-of-work option on a tor built without it, fails it). Then tor starts on it
without network access, makes both onion services, and loads a staff client key made
the way the file's comment says.
"""

from __future__ import annotations

import base64
import re
import subprocess
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from tests.helpers.deploy import TORRC_FILE, free_port, render_torrc

ONION_ADDRESS = re.compile(r"^[a-z2-7]{56}\.onion$")


def write_torrc(folder: Path, *, offline: bool = False) -> Path:
    torrc = folder / "torrc"
    torrc.write_text(render_torrc(folder, reporter_port=free_port(), staff_port=free_port(),
                                  offline=offline))
    return torrc


def test_the_shipped_torrc_passes_verify_config(system_tool, tmp_path):
    tor = system_tool("tor")
    checked = subprocess.run([tor, "--verify-config", "-f", str(write_torrc(tmp_path))],
                             capture_output=True, text=True, timeout=120, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Configuration was valid" in checked.stdout


def test_the_reporter_service_is_v3_with_proof_of_work_and_the_staff_one_is_not_public():
    text = TORRC_FILE.read_text()
    services = text.split("HiddenServiceDir ")[1:]
    assert len(services) == 2
    reporter, staff = services
    assert reporter.startswith("/var/lib/tor/reporting-portal-reporter/")
    assert staff.startswith("/var/lib/tor/reporting-portal-staff/")
    for service in services:
        assert "HiddenServiceVersion 3" in service
    for option in ("HiddenServicePoWDefensesEnabled 1", "HiddenServicePoWQueueRate",
                   "HiddenServicePoWQueueBurst", "HiddenServiceEnableIntroDoSDefense 1"):
        assert option in reporter
    assert "authorized_clients" in text
    assert re.search(r"^HiddenServiceAuthorizeClient", text, re.M) is None  # v2 only


def staff_client_key() -> tuple[str, str]:
    """An x25519 key pair in Tor's base32 form, as the torrc comment makes it."""
    private = X25519PrivateKey.generate()
    raw_private = private.private_bytes(serialization.Encoding.Raw,
                                        serialization.PrivateFormat.Raw,
                                        serialization.NoEncryption())
    raw_public = private.public_key().public_bytes(serialization.Encoding.Raw,
                                                   serialization.PublicFormat.Raw)
    return (base64.b32encode(raw_private).decode().rstrip("="),
            base64.b32encode(raw_public).decode().rstrip("="))


@pytest.mark.slow
def test_tor_makes_both_services_and_loads_the_staff_client_key(system_tool, tmp_path):
    tor = system_tool("tor")
    staff = tmp_path / "reporting-portal-staff"
    (staff / "authorized_clients").mkdir(parents=True, mode=0o700)
    staff.chmod(0o700)
    _, public = staff_client_key()
    (staff / "authorized_clients" / "alice.auth").write_text(f"descriptor:x25519:{public}\n")
    hostnames = [tmp_path / "reporting-portal-reporter" / "hostname", staff / "hostname"]

    process = subprocess.Popen([tor, "-f", str(write_torrc(tmp_path, offline=True))],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120  # a start-up bound, not a measurement
        while not all(path.exists() and path.read_text().strip() for path in hostnames):
            assert process.poll() is None, "tor stopped"
            assert time.monotonic() < deadline, "tor made no onion services"
            time.sleep(0.2)
    finally:
        process.terminate()
        process.wait(timeout=60)

    addresses = [path.read_text().strip() for path in hostnames]
    assert all(ONION_ADDRESS.match(address) for address in addresses)
    assert addresses[0] != addresses[1]
    log = (tmp_path / "tor.log").read_text()
    # A malformed .auth file is skipped with a warning, leaving the service open to all.
    assert "authorized_clients" not in log
    assert "Client authorization" not in log
