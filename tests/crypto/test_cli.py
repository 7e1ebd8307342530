"""``python -m crypto`` as an operator runs it, in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from crypto.keys import parse_identities

REPO = Path(__file__).resolve().parents[2]


def run(
    *arguments: str | Path, stdin: bytes = b"", cwd: Path | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "crypto", *map(str, arguments)],
        input=stdin,
        capture_output=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=False,
        timeout=60,
    )


def keygen(path: Path, *extra: str) -> str:
    result = run("keygen", *extra, "-o", path)
    assert result.returncode == 0, result.stderr
    return path.read_text().splitlines()[1].removeprefix("# public key: ")


def test_keygen_writes_an_age_keygen_style_file(tmp_path: Path) -> None:
    recipient = keygen(tmp_path / "key.txt")
    lines = (tmp_path / "key.txt").read_text().splitlines()
    assert lines[0].startswith("# created: ")
    assert recipient.startswith("age1")
    assert not recipient.startswith("age1pq1")
    assert lines[2].startswith("AGE-SECRET-KEY-1")
    assert (tmp_path / "key.txt").stat().st_mode & 0o777 == 0o600
    assert str(parse_identities(lines[2])[0].recipient) == recipient
    assert keygen(tmp_path / "pq.txt", "--pq").startswith("age1pq1")


def test_keygen_never_overwrites_a_key(tmp_path: Path) -> None:
    keygen(tmp_path / "key.txt")
    before = (tmp_path / "key.txt").read_bytes()
    result = run("keygen", "-o", tmp_path / "key.txt")
    assert result.returncode != 0
    assert (tmp_path / "key.txt").read_bytes() == before


@pytest.mark.parametrize("pq", [False, True])
def test_encrypt_decrypt_round_trip_through_files_and_pipes(tmp_path: Path, pq: bool) -> None:
    recipient = keygen(tmp_path / "key.txt", *(["--pq"] if pq else []))
    plaintext = os.urandom(150_000)
    (tmp_path / "plain").write_bytes(plaintext)
    (tmp_path / "recipients.txt").write_text(f"# the team\n{recipient}\n")

    assert run("-r", recipient, "-o", tmp_path / "a.age", tmp_path / "plain").returncode == 0
    armored = run("-e", "-a", "-R", tmp_path / "recipients.txt", stdin=plaintext)
    assert armored.returncode == 0
    assert armored.stdout.startswith(b"-----BEGIN AGE ENCRYPTED FILE-----\n")

    from_file = run("-d", "-i", tmp_path / "key.txt", tmp_path / "a.age")
    from_pipe = run("-d", "-i", tmp_path / "key.txt", stdin=armored.stdout)
    assert from_file.returncode == from_pipe.returncode == 0
    assert from_file.stdout == from_pipe.stdout == plaintext


def test_failed_decryption_leaves_no_output_file(tmp_path: Path) -> None:
    recipient = keygen(tmp_path / "key.txt")
    encrypted = run("-r", recipient, stdin=os.urandom(200_000)).stdout
    tampered = bytearray(encrypted)
    tampered[-10] ^= 1  # in the last chunk: the first three chunks authenticate
    result = run("-d", "-i", tmp_path / "key.txt", "-o", tmp_path / "out", stdin=bytes(tampered))
    assert result.returncode == 1
    assert result.stderr.decode().count("\n") == 1
    assert "failed authentication" in result.stderr.decode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["key.txt"]


def test_wrong_identity_is_a_one_line_error(tmp_path: Path) -> None:
    recipient = keygen(tmp_path / "key.txt")
    keygen(tmp_path / "other.txt")
    encrypted = run("-r", recipient, stdin=b"hello").stdout
    result = run("-d", "-i", tmp_path / "other.txt", stdin=encrypted)
    assert result.returncode == 1
    assert result.stdout == b""
    assert (
        result.stderr.decode().strip().endswith("no identity matched any of the file's recipients")
    )


@pytest.mark.parametrize(
    "arguments",
    [
        ("-d",),  # no identity
        ("-e",),  # no recipient
        ("-d", "-r", "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj"),
        ("-r", "age1notakey"),
    ],
)
def test_usage_errors_exit_non_zero(arguments: tuple[str, ...]) -> None:
    result = run(*arguments, stdin=b"data")
    assert result.returncode != 0
    assert result.stdout == b""
    assert b"error" in result.stderr


def test_crypto_package_does_not_import_the_web_stack() -> None:
    code = (
        "import sys, crypto, crypto.cli; "
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('flask', 'sqlalchemy', 'reporting_portal', 'werkzeug')]; print(bad)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=True,
        text=True,
    )
    assert result.stdout.strip() == "[]"
