"""Interoperability with independent age implementations, both directions.

- Debian's ``age`` CLI (1.1.1, X25519 only: it predates hybrid recipients).
- The ``age-encryption`` npm package (typage, the browser implementation), for hybrid
  recipients; driven by the scripts in ``interop_js/``.

Missing tools skip these tests locally but fail them in CI (``CI=true``), so an
incomplete CI image cannot pass silently.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from crypto import age
from crypto.keys import HybridIdentity, X25519Identity, parse_identities, parse_recipient
from tests.helpers.interop import run_js, unavailable

pytestmark = pytest.mark.interop

PLAINTEXT = os.urandom(3 * 64 * 1024 + 77)
# Several 1 MiB batches, so the payload is sealed and opened on the thread pool.
LARGE_PLAINTEXT = os.urandom(5 * 1024 * 1024 + 77)


@pytest.fixture(scope="module")
def age_cli() -> str:
    path = shutil.which("age")
    if path is None or shutil.which("age-keygen") is None:
        unavailable("the age CLI is not installed (apt install age)")
    return path


def our_encrypt(recipient: str, plaintext: bytes, *, armor: bool = False) -> bytes:
    out = io.BytesIO()
    age.encrypt(io.BytesIO(plaintext), out, [parse_recipient(recipient)], armor=armor)
    return out.getvalue()


def our_decrypt(ciphertext: bytes, identity: X25519Identity | HybridIdentity) -> bytes:
    out = io.BytesIO()
    age.decrypt(io.BytesIO(ciphertext), out, [identity])
    return out.getvalue()


@pytest.fixture(scope="module")
def age_key(age_cli: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, X25519Identity]:
    path = tmp_path_factory.mktemp("age") / "key.txt"
    subprocess.run(["age-keygen", "-o", str(path)], check=True, capture_output=True)
    identity = parse_identities(path.read_text())[0]
    assert isinstance(identity, X25519Identity)
    return path, identity


@pytest.mark.parametrize("armor", [False, True])
def test_age_cli_decrypts_our_x25519_files(
    age_cli: str, age_key: tuple[Path, X25519Identity], armor: bool
) -> None:
    key_file, identity = age_key
    ciphertext = our_encrypt(str(identity.recipient), PLAINTEXT, armor=armor)
    result = subprocess.run(
        [age_cli, "-d", "-i", str(key_file)], input=ciphertext, capture_output=True, check=True
    )
    assert result.stdout == PLAINTEXT


@pytest.mark.parametrize("armor", [False, True])
def test_we_decrypt_age_cli_x25519_files(
    age_cli: str, age_key: tuple[Path, X25519Identity], armor: bool
) -> None:
    _, identity = age_key
    command = [age_cli, "-e", "-r", str(identity.recipient), *(["-a"] if armor else [])]
    ciphertext = subprocess.run(command, input=PLAINTEXT, capture_output=True, check=True).stdout
    assert our_decrypt(ciphertext, identity) == PLAINTEXT


def test_age_cli_and_we_agree_on_payloads_of_many_batches(
    age_cli: str, age_key: tuple[Path, X25519Identity]
) -> None:
    key_file, identity = age_key
    ours = our_encrypt(str(identity.recipient), LARGE_PLAINTEXT)
    opened = subprocess.run(
        [age_cli, "-d", "-i", str(key_file)], input=ours, capture_output=True, check=True
    )
    assert opened.stdout == LARGE_PLAINTEXT
    command = [age_cli, "-e", "-r", str(identity.recipient)]
    theirs = subprocess.run(command, input=LARGE_PLAINTEXT, capture_output=True, check=True)
    assert our_decrypt(theirs.stdout, identity) == LARGE_PLAINTEXT


def test_age_cli_opens_a_granted_header_joined_to_the_stored_payload(
    age_cli: str, age_key: tuple[Path, X25519Identity]
) -> None:
    key_file, identity = age_key
    owner = X25519Identity.generate()
    payload = io.BytesIO()
    file_key = age.encrypt_payload(io.BytesIO(PLAINTEXT), payload)
    header = age.seal_header(file_key, [owner.recipient])
    granted = age.add_recipients(header, [owner], [identity.recipient])
    joined = io.BytesIO()
    payload.seek(0)
    age.join(granted, payload, joined)
    result = subprocess.run(
        [age_cli, "-d", "-i", str(key_file)],
        input=joined.getvalue(),
        capture_output=True,
        check=True,
    )
    assert result.stdout == PLAINTEXT


@pytest.mark.parametrize("armor", [False, True])
def test_age_encryption_decrypts_our_hybrid_files(node: str, armor: bool) -> None:
    identity, recipient = run_js(node, "keygen.mjs").decode().split()
    assert recipient.startswith("age1pq1")
    ciphertext = our_encrypt(recipient, PLAINTEXT, armor=armor)
    assert run_js(node, "decrypt.mjs", stdin=ciphertext, identity=identity) == PLAINTEXT


@pytest.mark.parametrize("armor", [False, True])
def test_we_decrypt_age_encryption_hybrid_files(node: str, armor: bool) -> None:
    identity = HybridIdentity.generate()
    arguments = ["--armor"] if armor else []
    ciphertext = run_js(node, "encrypt.mjs", *arguments, str(identity.recipient), stdin=PLAINTEXT)
    assert our_decrypt(ciphertext, identity) == PLAINTEXT


def test_hybrid_keys_agree_between_implementations(node: str) -> None:
    identity_text, recipient = run_js(node, "keygen.mjs").decode().split()
    assert str(parse_identities(identity_text)[0].recipient) == recipient
