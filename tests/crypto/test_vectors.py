"""The C2SP CCTV age test vectors (tests/vectors/age-cctv/, source and licence in its README).

Every vector runs through :func:`crypto.decrypt` and must end the way it says: success,
or the error class of its failure category, with exactly the plaintext it expects
released before any failure (its ``payload`` hash; none at all when it has none).
Vectors that need a passphrase and carry no identity are left out of the parameters, as
this project implements no scrypt identity; their count is pinned, so leaving out another
is a conscious change.
"""

from __future__ import annotations

import hashlib
import io
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest

from crypto import age
from crypto.armor import ArmorReader
from crypto.errors import (
    AgeError,
    ArmorError,
    HeaderError,
    HMACError,
    NoMatchError,
    PayloadError,
)
from crypto.keys import parse_identity

VECTOR_DIR = Path(__file__).resolve().parents[1] / "vectors" / "age-cctv"

EXPECTED_ERRORS: dict[str, type[AgeError]] = {
    "header failure": HeaderError,
    "no match": NoMatchError,
    "HMAC failure": HMACError,
    "payload failure": PayloadError,
    "armor failure": ArmorError,
}
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


@dataclass(frozen=True)
class Vector:
    expect: str
    payload_sha256: str | None
    identities: tuple[str, ...]
    passphrases: tuple[str, ...]
    armored: bool
    age_file: bytes


def load_vector(path: Path) -> Vector:
    head, _, body = path.read_bytes().partition(b"\n\n")
    fields: dict[str, list[str]] = {}
    for line in head.decode().splitlines():
        key, _, value = line.partition(": ")
        fields.setdefault(key, []).append(value)
    if fields.get("compressed") == ["zlib"]:
        body = zlib.decompress(body)
    return Vector(
        expect=fields["expect"][0],
        payload_sha256=fields.get("payload", [None])[0],
        identities=tuple(fields.get("identity", [])),
        passphrases=tuple(fields.get("passphrase", [])),
        armored=fields.get("armored") == ["yes"],
        age_file=body,
    )


VECTOR_PATHS = sorted(p for p in VECTOR_DIR.iterdir() if p.name != "README.md")
VECTORS = {path.name: load_vector(path) for path in VECTOR_PATHS}
# scrypt is not implemented, so a vector that can only be opened with a passphrase is left
# out of the parameters (a skip each would only be noise, and would hide a real skip); one
# that also names an identity still runs (scrypt_and_x25519).
PASSPHRASE_ONLY = sorted(name for name, v in VECTORS.items() if v.passphrases and not v.identities)
RUNNABLE = sorted(name for name in VECTORS if name not in PASSPHRASE_ONLY)


def test_vector_set_is_complete() -> None:
    # A missing or truncated copy must fail loudly, not pass with zero vectors; and the
    # count left out is pinned so a new one is a conscious change.
    assert len(VECTORS) == 109
    assert len(PASSPHRASE_ONLY) == 20
    assert all(name.startswith(("scrypt", "armor_scrypt")) for name in PASSPHRASE_ONLY)
    assert len(RUNNABLE) == 89


@pytest.mark.parametrize("name", RUNNABLE)
def test_vector(name: str) -> None:
    vector = VECTORS[name]
    identities = [parse_identity(text) for text in vector.identities]
    released = io.BytesIO()
    if vector.expect == "success":
        age.decrypt(io.BytesIO(vector.age_file), released, identities)
    else:
        with pytest.raises(EXPECTED_ERRORS[vector.expect]):
            age.decrypt(io.BytesIO(vector.age_file), released, identities)
    expected = vector.payload_sha256 or EMPTY_SHA256
    assert hashlib.sha256(released.getvalue()).hexdigest() == expected


@pytest.mark.parametrize(
    "name", sorted(n for n, v in VECTORS.items() if v.expect == "success" and v.identities)
)
def test_vector_through_split_parts(name: str) -> None:
    """The same files, split into header and payload as the platform stores them."""
    vector = VECTORS[name]
    source = io.BytesIO(vector.age_file)
    if vector.armored:
        source = io.BytesIO(io.BufferedReader(ArmorReader(source)).read())
    payload = io.BytesIO()
    header = age.split(source, payload)
    payload.seek(0)
    identities = [parse_identity(text) for text in vector.identities]
    plaintext = b"".join(age.open_parts(header, payload, identities))
    assert hashlib.sha256(plaintext).hexdigest() == vector.payload_sha256
