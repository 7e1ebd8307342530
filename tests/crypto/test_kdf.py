"""Argon2id parameters and derivation (crypto.kdf)."""

from __future__ import annotations

import pytest

from crypto.errors import KdfParameterError
from crypto.kdf import (
    MAX_MEMORY_COST_KIB,
    MIN_SECURE_MEMORY_COST_KIB,
    Argon2Params,
    derive,
)

# Known answers from the Argon2 reference implementation, P-H-C/phc-winner-argon2
# src/test.c, "Test Argon2id version number: 13": password "password", salt "somesalt",
# 32-byte tag, no secret or associated data. Columns: t, m (KiB), p, tag.
REFERENCE_VECTORS = [
    (2, 256, 1, "9dfeb910e80bad0311fee20f9c0e2b12c17987b4cac90c2ef54d5b3021c68bfe"),
    (2, 256, 2, "6d093c501fd5999645e0ea3bf620d7b8be7fd2db59c20d9fff9539da2bf57037"),
    (1, 65536, 1, "f6a5adc1ba723dddef9b5ac1d464e180fcd9dffc9d1cbf76cca2fed795d9ca98"),
    (2, 65536, 1, "09316115d5cf24ed5a15a31a3ba326e5cf32edc24702987c02b6566f61913cf7"),
]


@pytest.mark.parametrize(
    ("time_cost", "memory_cost_kib", "parallelism", "expected"), REFERENCE_VECTORS
)
def test_derive_matches_reference_implementation(
    time_cost: int, memory_cost_kib: int, parallelism: int, expected: str
) -> None:
    params = Argon2Params.insecure_for_tests(time_cost, memory_cost_kib, parallelism)
    assert derive(b"password", b"somesalt", params, 32).hex() == expected


def test_production_defaults_meet_the_design_floors() -> None:
    staff = Argon2Params.staff_key_wrapping()
    assert staff.memory_cost_kib >= 64 * 1024
    assert staff.time_cost >= 3
    receipt = Argon2Params.receipt_derivation()
    # OWASP Password Storage Cheat Sheet minimum for Argon2id: 19 MiB, t=2.
    assert receipt.memory_cost_kib >= 19 * 1024
    assert receipt.time_cost >= 2


@pytest.mark.parametrize(
    ("time_cost", "memory_cost_kib"),
    [(1, 64 * 1024), (2, MIN_SECURE_MEMORY_COST_KIB - 1), (3, 8)],
)
def test_constructor_refuses_parameters_below_the_floor(
    time_cost: int, memory_cost_kib: int
) -> None:
    with pytest.raises(KdfParameterError, match="security floor"):
        Argon2Params(time_cost, memory_cost_kib, 1)


def test_floor_itself_is_accepted() -> None:
    params = Argon2Params(2, MIN_SECURE_MEMORY_COST_KIB, 1)
    assert params.memory_cost_kib == MIN_SECURE_MEMORY_COST_KIB


@pytest.mark.parametrize(
    ("time_cost", "memory_cost_kib", "parallelism"),
    [
        (0, 8, 1),
        (17, 8, 1),
        (1, 7, 1),
        (1, 15, 2),
        (1, 64, 0),
        (1, 64, 17),
        (1, MAX_MEMORY_COST_KIB + 1, 1),
        (True, 8, 1),
    ],
)
def test_even_test_parameters_must_be_runnable_and_bounded(
    time_cost: int, memory_cost_kib: int, parallelism: int
) -> None:
    with pytest.raises(KdfParameterError):
        Argon2Params.insecure_for_tests(time_cost, memory_cost_kib, parallelism)


def test_stored_parameters_below_the_floor_are_accepted_for_reading() -> None:
    assert Argon2Params.from_stored(1, 8, 1) == Argon2Params.insecure_for_tests(1, 8, 1)


@pytest.mark.parametrize(
    ("salt", "length"), [(b"7bytes!", 32), (b"s" * 65, 32), (b"somesalt", 15), (b"somesalt", 65)]
)
def test_derive_refuses_out_of_range_salt_or_length(salt: bytes, length: int) -> None:
    with pytest.raises(KdfParameterError):
        derive(b"password", salt, Argon2Params.insecure_for_tests(), length)


def test_meets_compares_time_and_memory() -> None:
    base = Argon2Params.insecure_for_tests(2, 64)
    assert base.meets(base)
    assert base.meets(Argon2Params.insecure_for_tests(1, 64))
    assert not base.meets(Argon2Params.insecure_for_tests(3, 64))
    assert not base.meets(Argon2Params.insecure_for_tests(2, 128))
