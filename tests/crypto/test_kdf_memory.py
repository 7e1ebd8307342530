"""Reused Argon2id working memory (crypto.kdf_memory): same answers, bounded, wiped."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from argon2.low_level import Type, hash_secret_raw

from crypto import kdf
from crypto.kdf import Argon2Params, derive
from crypto.kdf_memory import WorkingMemoryPool, argon2id_with_memory

KIB = 1024

# RFC 9106 section 5.3, Argon2id: t=3, m=32 KiB, p=4, 32-byte tag, with secret and
# associated data (the only published vector that exercises them).
RFC9106_TAG = "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659"


def test_rfc_9106_argon2id_vector_in_a_lent_buffer() -> None:
    pool = WorkingMemoryPool(1, 64 * KIB)
    with pool.borrow(32 * KIB) as buffer:
        assert buffer is not None
        status, tag = argon2id_with_memory(
            buffer,
            password=b"\x01" * 32,
            salt=b"\x02" * 16,
            secret=b"\x03" * 8,
            associated_data=b"\x04" * 12,
            time_cost=3,
            memory_cost_kib=32,
            parallelism=4,
            length=32,
        )
    assert (status, tag.hex()) == (0, RFC9106_TAG)


@pytest.mark.parametrize(("time_cost", "memory_cost_kib", "parallelism"), [
    (1, 8, 1), (2, 256, 2), (3, 4096, 1), (3, 64 * KIB, 1),
])
def test_pooled_derive_equals_hash_secret_raw(
    time_cost: int, memory_cost_kib: int, parallelism: int
) -> None:
    params = Argon2Params.insecure_for_tests(time_cost, memory_cost_kib, parallelism)
    for password in (b"", b"0123456789012345678901234567", bytes(range(256))):
        expected = hash_secret_raw(
            password, b"installation-salt", time_cost, memory_cost_kib, parallelism, 32, Type.ID
        )
        # Twice: the second run gets the buffer the first one used and wiped.
        assert derive(password, b"installation-salt", params) == expected
        assert derive(password, b"installation-salt", params) == expected


def test_the_production_derivation_uses_the_pool() -> None:
    before = kdf._working_memory.mapped
    derive(b"code", b"s" * 16, Argon2Params.receipt_derivation())
    assert 1 <= kdf._working_memory.mapped <= kdf.POOLED_BUFFERS
    assert kdf._working_memory.mapped >= before


def test_a_buffer_comes_back_wiped() -> None:
    pool = WorkingMemoryPool(1, 1024 * KIB)
    with pool.borrow(1024 * KIB) as buffer:
        assert buffer is not None
        status, _ = argon2id_with_memory(
            buffer, password=b"secret code", salt=b"s" * 16, time_cost=1,
            memory_cost_kib=1024, parallelism=1, length=32,
        )
        assert status == 0
        # Every byte argon2 used, not only the sampled pages the pool checks.
        assert not any(buffer.mapping[: 1024 * KIB])
        assert buffer.wiped


def test_a_buffer_left_unwiped_is_never_lent_again() -> None:
    pool = WorkingMemoryPool(1, 64 * KIB)
    with pool.borrow(64 * KIB) as buffer:
        assert buffer is not None
        buffer.mapping[100] = 1
        buffer.wiped = buffer.is_wiped(64 * KIB)
        assert not buffer.wiped
    assert buffer.mapping.closed
    assert pool.mapped == 0
    with pool.borrow(64 * KIB) as again:
        assert again is not None
        assert again is not buffer
        assert not any(again.mapping[:])


def test_the_pool_is_bounded_and_without_a_wait_lends_nothing_more() -> None:
    pool = WorkingMemoryPool(2, 64 * KIB)
    with (
        pool.borrow(64 * KIB) as first,
        pool.borrow(64 * KIB) as second,
        pool.borrow(64 * KIB) as third,
    ):
        assert first is not None
        assert second is not None
        assert first is not second
        assert third is None
    assert pool.mapped == 2
    with pool.borrow(64 * KIB + 1) as too_large:
        assert too_large is None
    with pool.borrow(8 * KIB) as reused:
        assert reused in (first, second)
    assert pool.mapped == 2


def test_a_derivation_waits_for_a_buffer_to_come_back() -> None:
    pool = WorkingMemoryPool(1, 64 * KIB, wait_seconds=30)
    lent_out = threading.Event()
    got: list[object] = []

    def second_derivation() -> None:
        lent_out.wait()
        with pool.borrow(64 * KIB) as buffer:
            got.append(buffer)

    waiter = threading.Thread(target=second_derivation)
    waiter.start()
    with pool.borrow(64 * KIB) as first:
        lent_out.set()
        waiter.join(timeout=0.3)
        assert waiter.is_alive(), "the second derivation did not wait for the buffer"
    waiter.join(timeout=30)
    assert got == [first]
    assert pool.mapped == 1


def test_a_wait_that_times_out_falls_back() -> None:
    pool = WorkingMemoryPool(1, 64 * KIB, wait_seconds=0.05)
    with pool.borrow(64 * KIB) as first, pool.borrow(64 * KIB) as second:
        assert first is not None
        assert second is None


def test_an_exhausted_pool_falls_back_to_libargon2_allocation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(kdf, "_working_memory", WorkingMemoryPool(0, 64 * KIB))
    params = Argon2Params.insecure_for_tests(1, 64, 1)
    expected = hash_secret_raw(b"pw", b"saltsalt", 1, 64, 1, 32, Type.ID)
    assert derive(b"pw", b"saltsalt", params) == expected


def test_concurrent_derivations_each_get_their_own_buffer() -> None:
    pool = WorkingMemoryPool(3, 2048 * KIB)
    inputs = [f"code {n}".encode() for n in range(24)]
    lent: set[int] = set()
    lent_lock = threading.Lock()

    def one(password: bytes) -> bytes:
        with pool.borrow(2048 * KIB) as buffer:
            if buffer is None:
                return hash_secret_raw(password, b"s" * 16, 2, 2048, 1, 32, Type.ID)
            with lent_lock:
                lent.add(id(buffer))
            status, tag = argon2id_with_memory(
                buffer, password=password, salt=b"s" * 16, time_cost=2,
                memory_cost_kib=2048, parallelism=1, length=32,
            )
            assert status == 0
            return tag

    with ThreadPoolExecutor(max_workers=6) as executor:
        tags = list(executor.map(one, inputs))
    assert tags == [hash_secret_raw(p, b"s" * 16, 2, 2048, 1, 32, Type.ID) for p in inputs]
    assert 1 <= len(lent) <= 3
    assert pool.mapped <= 3
