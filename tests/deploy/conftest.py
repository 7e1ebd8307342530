"""Fixtures for the tests of deploy/: the system tools they drive, and a TLS certificate.

nginx, tor and systemd-analyze are Debian packages, not Python ones. Where a tool is
missing a test is skipped with a notice, except in CI (``CI=true``), where .ci/run
installs nginx and tor and a missing one fails the test: a shipped configuration that is
never checked is how a broken one reaches an operator.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.helpers.deploy import REPORTER_NAME, STAFF_NAME, TestCertificate


@pytest.fixture(scope="session")
def system_tool() -> Callable[[str], str]:
    """``system_tool("nginx")`` is the tool's path; without it the test skips, or fails in
    CI. ``ci_installs=False`` for a tool CI cannot count on (systemd-analyze in a
    container): then it only ever skips."""

    def find(name: str, *, ci_installs: bool = True) -> str:
        found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
        if found is None:
            if ci_installs and os.environ.get("CI") == "true":
                pytest.fail(f"{name} is missing: CI must install it (.ci/run)")
            pytest.skip(f"{name} is not installed")
        return found

    return find


@pytest.fixture(scope="session")
def tls_certificate(tmp_path_factory: pytest.TempPathFactory) -> TestCertificate:
    """A self-signed certificate for both names, standing in for the operator's."""
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, REPORTER_NAME)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.DNSName(REPORTER_NAME), x509.DNSName(STAFF_NAME)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    paths = TestCertificate(folder / "fullchain.pem", folder / "privkey.pem")
    paths.certificate.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    paths.private_key.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    paths.private_key.chmod(0o600)
    return paths
