"""Property tests: round trips at chunk boundaries, and tampering never leaks plaintext.

For any single bit flip or truncation of an age file, decryption must fail with an
:class:`AgeError`, and whatever it wrote before failing must be whole authenticated
chunks: a prefix of the plaintext whose length is a multiple of 64 KiB.
"""

from __future__ import annotations

import io
import os
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import age
from crypto.errors import AgeError, TruncatedPayloadError
from crypto.keys import HybridIdentity, X25519Identity
from crypto.stream import CHUNK_SIZE, PayloadEncryptor

SIZES = [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 2 * CHUNK_SIZE, 3 * CHUNK_SIZE + 7]
X25519_IDENTITY = X25519Identity.generate()
HYBRID_IDENTITY = HybridIdentity.generate()


def encrypt_bytes(plaintext: bytes, identity: X25519Identity | HybridIdentity) -> bytes:
    out = io.BytesIO()
    age.encrypt(io.BytesIO(plaintext), out, [identity.recipient])
    return out.getvalue()


def decrypt_bytes(ciphertext: bytes, identity: X25519Identity | HybridIdentity) -> bytes:
    out = io.BytesIO()
    age.decrypt(io.BytesIO(ciphertext), out, [identity])
    return out.getvalue()


@cache
def sample() -> tuple[bytes, bytes]:
    """Two full chunks and a short last one, encrypted once for all examples."""
    plaintext = os.urandom(2 * CHUNK_SIZE + 1000)
    return plaintext, encrypt_bytes(plaintext, X25519_IDENTITY)


def assert_released_only_authenticated_chunks(released: bytes, plaintext: bytes) -> None:
    assert len(released) % CHUNK_SIZE == 0
    assert plaintext.startswith(released)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("armor", [False, True])
def test_round_trip_at_chunk_boundaries(size: int, armor: bool) -> None:
    plaintext = os.urandom(size)
    out = io.BytesIO()
    age.encrypt(io.BytesIO(plaintext), out, [X25519_IDENTITY.recipient], armor=armor)
    assert decrypt_bytes(out.getvalue(), X25519_IDENTITY) == plaintext


@pytest.mark.parametrize("size", [0, CHUNK_SIZE, CHUNK_SIZE + 1])
def test_hybrid_round_trip(size: int) -> None:
    plaintext = os.urandom(size)
    assert decrypt_bytes(encrypt_bytes(plaintext, HYBRID_IDENTITY), HYBRID_IDENTITY) == plaintext


def test_payload_size_is_exact() -> None:
    # 16-byte nonce, then each chunk plus a 16-byte tag; a full last chunk gets no
    # extra empty chunk after it.
    for size, chunks in [(0, 1), (1, 1), (CHUNK_SIZE, 1), (CHUNK_SIZE + 1, 2)]:
        payload = io.BytesIO()
        age.encrypt_payload(io.BytesIO(bytes(size)), payload)
        assert len(payload.getvalue()) == 16 + size + 16 * chunks


@settings(max_examples=25, deadline=None)
@given(
    data=st.binary(max_size=3 * CHUNK_SIZE + 10),
    pieces=st.lists(st.integers(min_value=0, max_value=CHUNK_SIZE + 3), max_size=8),
)
def test_incremental_writes_match_any_split(data: bytes, pieces: list[int]) -> None:
    """An upload arriving in arbitrary pieces decrypts to the same bytes."""
    payload = io.BytesIO()
    encryptor = PayloadEncryptor(payload)
    position = 0
    for piece in pieces:
        encryptor.write(data[position : position + piece])
        position += piece
    encryptor.write(data[position:])
    encryptor.finish()
    header = age.seal_header(encryptor.file_key, [X25519_IDENTITY.recipient])
    payload.seek(0)
    assert b"".join(age.open_parts(header, payload, [X25519_IDENTITY])) == data


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_any_bit_flip_fails_without_releasing_unauthenticated_bytes(data: st.DataObject) -> None:
    plaintext, ciphertext = sample()
    bit = data.draw(st.integers(min_value=0, max_value=len(ciphertext) * 8 - 1))
    tampered = bytearray(ciphertext)
    tampered[bit // 8] ^= 1 << (bit % 8)
    released = io.BytesIO()
    with pytest.raises(AgeError):
        age.decrypt(io.BytesIO(bytes(tampered)), released, [X25519_IDENTITY])
    assert_released_only_authenticated_chunks(released.getvalue(), plaintext)


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_bit_flip_in_a_hybrid_header_fails(data: st.DataObject) -> None:
    ciphertext = encrypt_bytes(b"short", HYBRID_IDENTITY)
    header_length = ciphertext.index(b"\n---") + 49
    bit = data.draw(st.integers(min_value=0, max_value=header_length * 8 - 1))
    tampered = bytearray(ciphertext)
    tampered[bit // 8] ^= 1 << (bit % 8)
    released = io.BytesIO()
    with pytest.raises(AgeError):
        age.decrypt(io.BytesIO(bytes(tampered)), released, [HYBRID_IDENTITY])
    assert released.getvalue() == b""


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_any_truncation_fails_without_releasing_unauthenticated_bytes(
    data: st.DataObject,
) -> None:
    plaintext, ciphertext = sample()
    length = data.draw(st.integers(min_value=0, max_value=len(ciphertext) - 1))
    released = io.BytesIO()
    with pytest.raises(AgeError):
        age.decrypt(io.BytesIO(ciphertext[:length]), released, [X25519_IDENTITY])
    assert_released_only_authenticated_chunks(released.getvalue(), plaintext)


def test_truncation_at_a_chunk_boundary_says_truncated() -> None:
    plaintext, ciphertext = sample()
    header_length = len(ciphertext) - 16 - len(plaintext) - 3 * 16
    cut = header_length + 16 + 2 * (CHUNK_SIZE + 16)
    released = io.BytesIO()
    with pytest.raises(TruncatedPayloadError, match="truncated"):
        age.decrypt(io.BytesIO(ciphertext[:cut]), released, [X25519_IDENTITY])
    assert released.getvalue() == plaintext[: 2 * CHUNK_SIZE]
