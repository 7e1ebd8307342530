"""Wrapping identity secrets under a password or a key (crypto.keywrap)."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.errors import KeyWrapError
from crypto.kdf import Argon2Params
from crypto.keywrap import (
    MAX_PASSWORD_BYTES,
    needs_rewrap,
    rewrap_with_password,
    unwrap_with_key,
    unwrap_with_password,
    wrap_with_key,
    wrap_with_password,
)

CHEAP = Argon2Params.insecure_for_tests()
IDENTITY = b"AGE-SECRET-KEY-PQ-1" + b"Q" * 70
PASSWORD = "correct horse battery staple"
KEY = bytes(range(32))

# Offsets in the documented version 1 password envelope.
MEMORY_FIELD = slice(10, 14)
PREFIX_BYTES = 6

secrets_to_wrap = st.binary(min_size=1, max_size=200)
passwords = st.text(min_size=1, max_size=50)


@settings(max_examples=50)
@given(secrets_to_wrap, passwords)
def test_password_round_trip(secret: bytes, password: str) -> None:
    assert unwrap_with_password(wrap_with_password(secret, password, CHEAP), password) == secret


@settings(max_examples=50)
@given(secrets_to_wrap)
def test_key_round_trip(secret: bytes) -> None:
    assert unwrap_with_key(wrap_with_key(secret, KEY), KEY) == secret


def test_password_envelope_layout_is_as_documented() -> None:
    params = Argon2Params.insecure_for_tests(time_cost=2, memory_cost_kib=64, parallelism=2)
    blob = wrap_with_password(IDENTITY, PASSWORD, params)
    assert blob[:6] == b"RPkw\x01\x01"
    assert struct.unpack(">IIB", blob[6:15]) == (2, 64, 2)
    # magic+version+kind, params, salt, nonce, ciphertext, tag
    assert len(blob) == 6 + 9 + 16 + 12 + len(IDENTITY) + 16
    key_blob = wrap_with_key(IDENTITY, KEY)
    assert key_blob[:6] == b"RPkw\x01\x02"
    assert len(key_blob) == 6 + 12 + len(IDENTITY) + 16


def test_each_wrap_uses_fresh_salt_and_nonce() -> None:
    first = wrap_with_password(IDENTITY, PASSWORD, CHEAP)
    second = wrap_with_password(IDENTITY, PASSWORD, CHEAP)
    assert first[15:31] != second[15:31]
    assert first[31:43] != second[31:43]
    assert wrap_with_key(IDENTITY, KEY)[6:18] != wrap_with_key(IDENTITY, KEY)[6:18]


def test_wrong_password_fails() -> None:
    blob = wrap_with_password(IDENTITY, PASSWORD, CHEAP)
    with pytest.raises(KeyWrapError):
        unwrap_with_password(blob, PASSWORD + " ")


def test_wrong_key_fails() -> None:
    blob = wrap_with_key(IDENTITY, KEY)
    with pytest.raises(KeyWrapError):
        unwrap_with_key(blob, bytes(32))


def test_password_is_unicode_normalised() -> None:
    # "é" precomposed on one keyboard, e + combining acute on another.
    blob = wrap_with_password(IDENTITY, "caf\u00e9 au lait", CHEAP)
    assert unwrap_with_password(blob, "cafe\u0301 au lait") == IDENTITY


def _flipped(blob: bytes, bit: int) -> bytes:
    changed = bytearray(blob)
    changed[bit // 8] ^= 1 << (bit % 8)
    return bytes(changed)


def test_every_bit_flip_in_a_password_blob_is_rejected() -> None:
    blob = wrap_with_password(IDENTITY, PASSWORD, CHEAP)
    memory_bits = range(MEMORY_FIELD.start * 8, MEMORY_FIELD.stop * 8)
    for bit in range(len(blob) * 8):
        # Setting bits 17-19 of the big-endian memory field asks for 128-512 MiB, within
        # the ceiling: still rejected by the tag, but only after seconds of Argon2id.
        if bit in memory_bits and 17 <= 31 - (bit - memory_bits.start) <= 19:
            continue
        with pytest.raises(KeyWrapError):
            unwrap_with_password(_flipped(blob, bit), PASSWORD)


def test_every_bit_flip_in_a_key_blob_is_rejected() -> None:
    blob = wrap_with_key(IDENTITY, KEY)
    for bit in range(len(blob) * 8):
        with pytest.raises(KeyWrapError):
            unwrap_with_key(_flipped(blob, bit), KEY)


def test_every_truncation_and_extension_is_rejected() -> None:
    password_blob = wrap_with_password(IDENTITY, PASSWORD, CHEAP)
    key_blob = wrap_with_key(IDENTITY, KEY)
    for length in range(len(password_blob)):
        with pytest.raises(KeyWrapError):
            unwrap_with_password(password_blob[:length], PASSWORD)
    for length in range(len(key_blob)):
        with pytest.raises(KeyWrapError):
            unwrap_with_key(key_blob[:length], KEY)
    with pytest.raises(KeyWrapError):
        unwrap_with_password(password_blob + b"\x00", PASSWORD)
    with pytest.raises(KeyWrapError):
        unwrap_with_key(key_blob + b"\x00", KEY)


def test_blobs_of_one_kind_never_open_as_the_other() -> None:
    with pytest.raises(KeyWrapError):
        unwrap_with_key(wrap_with_password(IDENTITY, PASSWORD, CHEAP), KEY)
    with pytest.raises(KeyWrapError):
        unwrap_with_password(wrap_with_key(IDENTITY, KEY), PASSWORD)
    with pytest.raises(KeyWrapError):
        needs_rewrap(wrap_with_key(IDENTITY, KEY), CHEAP)


def test_a_cost_above_the_ceiling_is_refused_before_derivation() -> None:
    blob = bytearray(wrap_with_password(IDENTITY, PASSWORD, CHEAP))
    blob[MEMORY_FIELD] = struct.pack(">I", 0xFFFFFFFF)
    with pytest.raises(KeyWrapError):
        unwrap_with_password(bytes(blob), PASSWORD)


@given(st.binary(max_size=300))
def test_garbage_raises_only_key_wrap_error(data: bytes) -> None:
    with pytest.raises(KeyWrapError):
        unwrap_with_password(data, PASSWORD)
    with pytest.raises(KeyWrapError):
        unwrap_with_key(data, KEY)


@given(st.binary(min_size=0, max_size=120))
def test_garbage_after_a_valid_header_raises_only_key_wrap_error(tail: bytes) -> None:
    header = wrap_with_password(IDENTITY, PASSWORD, CHEAP)[:15]
    with pytest.raises(KeyWrapError):
        unwrap_with_password(header + tail, PASSWORD)
    with pytest.raises(KeyWrapError):
        unwrap_with_key(b"RPkw\x01\x02" + tail, KEY)


def test_failures_carry_one_message_whatever_the_cause() -> None:
    blob = wrap_with_password(IDENTITY, PASSWORD, CHEAP)
    messages = set()
    for bad_blob, password in [
        (blob, "wrong"),
        (blob[:-1], PASSWORD),
        (b"junk", PASSWORD),
        (blob, "x" * (MAX_PASSWORD_BYTES + 1)),
    ]:
        with pytest.raises(KeyWrapError) as raised:
            unwrap_with_password(bad_blob, password)
        messages.add(str(raised.value))
    assert len(messages) == 1


def test_password_length_is_bounded_in_utf8_bytes() -> None:
    longest = "x" * MAX_PASSWORD_BYTES
    assert unwrap_with_password(wrap_with_password(IDENTITY, longest, CHEAP), longest) == IDENTITY
    with pytest.raises(ValueError, match="password"):
        wrap_with_password(IDENTITY, "\u00e9" * (MAX_PASSWORD_BYTES // 2 + 1), CHEAP)
    with pytest.raises(ValueError, match="password"):
        wrap_with_password(IDENTITY, "", CHEAP)


@pytest.mark.parametrize("secret", [b"", b"x" * 4097])
def test_secret_size_is_bounded(secret: bytes) -> None:
    with pytest.raises(ValueError, match="secret"):
        wrap_with_password(secret, PASSWORD, CHEAP)
    if not secret:  # key blobs take records up to 64 KiB (the test below)
        with pytest.raises(ValueError, match="secret"):
            wrap_with_key(secret, KEY)


@pytest.mark.parametrize("key", [b"", bytes(31), bytes(33)])
def test_key_must_be_32_bytes(key: bytes) -> None:
    with pytest.raises(ValueError, match="key"):
        wrap_with_key(IDENTITY, key)
    with pytest.raises(ValueError, match="key"):
        unwrap_with_key(wrap_with_key(IDENTITY, KEY), key)


def test_needs_rewrap_when_the_policy_rises() -> None:
    current = Argon2Params.insecure_for_tests(time_cost=2, memory_cost_kib=64)
    blob = wrap_with_password(IDENTITY, PASSWORD, current)
    assert not needs_rewrap(blob, current)
    assert not needs_rewrap(blob, Argon2Params.insecure_for_tests(1, 32))
    assert needs_rewrap(blob, Argon2Params.insecure_for_tests(3, 64))
    assert needs_rewrap(blob, Argon2Params.insecure_for_tests(2, 128))


def test_rewrap_raises_the_cost_and_keeps_the_secret() -> None:
    old_policy = Argon2Params.insecure_for_tests(time_cost=1, memory_cost_kib=8)
    new_policy = Argon2Params.insecure_for_tests(time_cost=2, memory_cost_kib=16)
    blob = wrap_with_password(IDENTITY, PASSWORD, old_policy)
    assert needs_rewrap(blob, new_policy)
    rewrapped = rewrap_with_password(blob, PASSWORD, PASSWORD, new_policy)
    assert not needs_rewrap(rewrapped, new_policy)
    assert unwrap_with_password(rewrapped, PASSWORD) == IDENTITY


def test_password_change_opens_with_the_new_password_only() -> None:
    blob = wrap_with_password(IDENTITY, PASSWORD, CHEAP)
    rewrapped = rewrap_with_password(blob, PASSWORD, "new passphrase", CHEAP)
    assert unwrap_with_password(rewrapped, "new passphrase") == IDENTITY
    with pytest.raises(KeyWrapError):
        unwrap_with_password(rewrapped, PASSWORD)


def test_password_change_needs_the_old_password() -> None:
    blob = wrap_with_password(IDENTITY, PASSWORD, CHEAP)
    with pytest.raises(KeyWrapError):
        rewrap_with_password(blob, "not it", "new passphrase", CHEAP)


def test_a_key_blob_bound_to_a_context_opens_only_with_it():
    blob = wrap_with_key(b'{"staff_id":"x"}', KEY, context=b"row-1")
    assert unwrap_with_key(blob, KEY, context=b"row-1") == b'{"staff_id":"x"}'
    for other in (b"row-2", b""):
        with pytest.raises(KeyWrapError):
            unwrap_with_key(blob, KEY, context=other)
    # Without a context a blob is what it always was: stored reporter keys still open.
    assert unwrap_with_key(wrap_with_key(IDENTITY, KEY), KEY) == IDENTITY


def test_key_blobs_hold_records_up_to_their_bound():
    from crypto.keywrap import MAX_KEY_SEALED_BYTES

    record = b"x" * MAX_KEY_SEALED_BYTES
    assert unwrap_with_key(wrap_with_key(record, KEY), KEY) == record
    with pytest.raises(ValueError, match="secret must be"):
        wrap_with_key(record + b"x", KEY)
