"""The PRF-derived wrapping of a staff identity: only the same output, salt and
credential open it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crypto.errors import KeyWrapError
from crypto.prf import new_salt, unwrap_with_prf, wrap_with_prf, wrapping_key

SECRET = b"AGE-SECRET-KEY-PQ-1EXAMPLE"
OUTPUT = bytes(range(32))
CREDENTIAL = b"credential-one"


def test_the_same_output_salt_and_credential_open_the_copy() -> None:
    salt = new_salt()
    blob = wrap_with_prf(SECRET, OUTPUT, salt, CREDENTIAL)
    assert SECRET not in blob
    assert unwrap_with_prf(blob, OUTPUT, salt, CREDENTIAL) == SECRET


@pytest.mark.parametrize("change", ["output", "salt", "credential"])
def test_anything_else_is_refused(change: str) -> None:
    salt = new_salt()
    blob = wrap_with_prf(SECRET, OUTPUT, salt, CREDENTIAL)
    output = bytes(32) if change == "output" else OUTPUT
    other_salt = new_salt() if change == "salt" else salt
    credential = b"credential-two" if change == "credential" else CREDENTIAL
    with pytest.raises(KeyWrapError):
        unwrap_with_prf(blob, output, other_salt, credential)


def test_the_key_is_not_the_output_and_depends_on_the_salt() -> None:
    first, second = new_salt(), new_salt()
    assert wrapping_key(OUTPUT, first) != OUTPUT
    assert wrapping_key(OUTPUT, first) != wrapping_key(OUTPUT, second)
    assert wrapping_key(OUTPUT, first) == wrapping_key(OUTPUT, first)


@given(st.binary(max_size=64).filter(lambda data: len(data) != 32))
def test_an_output_of_the_wrong_length_is_refused(output: bytes) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        wrapping_key(output, bytes(32))
