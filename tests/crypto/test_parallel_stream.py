"""The payload sealed and opened in batches on several threads.

Whatever the thread count and batch size, the sealed bytes must equal those of a
plain chunk-by-chunk STREAM written here from the age spec; decryption must release
exactly the authenticated chunks before the first bad one, in order, never a byte
after it (not even of the bad chunk's own batch); and the read-ahead must stay
within a fixed number of batches.
"""

from __future__ import annotations

import io
import os
import threading
import tracemalloc

import pytest
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import age
from crypto.errors import PayloadError, TruncatedPayloadError
from crypto.keys import X25519Identity
from crypto.payload_pipeline import BATCH_CHUNKS, open_payload, opened_batches, seal_payload
from crypto.stream import CHUNK_SIZE, ENCRYPTED_CHUNK_SIZE, encrypt_stream

AEAD = ChaCha20Poly1305(bytes(range(32)))
BATCH = BATCH_CHUNKS * CHUNK_SIZE
# Around a chunk and around a batch: where the last-chunk rules and the read-ahead meet.
SIZES = [
    0,
    1,
    CHUNK_SIZE - 1,
    CHUNK_SIZE,
    CHUNK_SIZE + 1,
    BATCH - 1,
    BATCH,
    BATCH + 1,
    2 * BATCH,
    5 * BATCH + 1,
]
# Small batches, so that payloads of a few chunks already span many batches.
SMALL_BATCH_CHUNKS = 3
IDENTITY = X25519Identity.generate()


def spec_seal(plaintext: bytes) -> bytes:
    """STREAM as the age spec words it, one chunk at a time, sharing no code with crypto/."""
    chunks = [plaintext[i : i + CHUNK_SIZE] for i in range(0, len(plaintext), CHUNK_SIZE)]
    chunks = chunks or [b""]
    return b"".join(
        AEAD.encrypt(index.to_bytes(11, "big") + bytes([index == len(chunks) - 1]), chunk, None)
        for index, chunk in enumerate(chunks)
    )


def seal(plaintext: bytes, *, threads: int, batch_chunks: int = BATCH_CHUNKS) -> bytes:
    sealed = bytearray()
    seal_payload(
        io.BytesIO(plaintext), AEAD, sealed.extend, threads=threads, batch_chunks=batch_chunks
    )
    return bytes(sealed)


def open_into(
    released: bytearray, ciphertext: bytes, *, threads: int, batch_chunks: int = BATCH_CHUNKS
) -> None:
    if threads == 0:  # the one-thread generator a download reads at its own pace
        for batch in opened_batches(io.BytesIO(ciphertext), AEAD, batch_chunks=batch_chunks):
            released += batch
        return
    open_payload(
        io.BytesIO(ciphertext), AEAD, released.extend, threads=threads, batch_chunks=batch_chunks
    )


def payload_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name.startswith("age-payload")]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("threads", [0, 1, 2, 4])
def test_sealed_bytes_equal_the_spec_for_any_thread_count(size: int, threads: int) -> None:
    plaintext = os.urandom(size)
    ciphertext = seal(plaintext, threads=threads)
    assert ciphertext == spec_seal(plaintext)
    released = bytearray()
    open_into(released, ciphertext, threads=threads)
    assert released == plaintext


@settings(max_examples=40, deadline=None)
@given(
    size=st.integers(min_value=0, max_value=7 * SMALL_BATCH_CHUNKS * CHUNK_SIZE + 2),
    threads=st.integers(min_value=1, max_value=6),
    batch_chunks=st.integers(min_value=1, max_value=5),
)
def test_any_size_thread_count_and_batch_size_give_the_same_bytes(
    size: int, threads: int, batch_chunks: int
) -> None:
    plaintext = os.urandom(size)
    ciphertext = seal(plaintext, threads=threads, batch_chunks=batch_chunks)
    assert ciphertext == spec_seal(plaintext)
    released = bytearray()
    open_into(released, ciphertext, threads=threads, batch_chunks=batch_chunks)
    assert released == plaintext


def many_batches() -> tuple[bytes, bytes]:
    """Seven small batches of three chunks, and a short last chunk: 22 chunks."""
    plaintext = os.urandom(7 * SMALL_BATCH_CHUNKS * CHUNK_SIZE + 500)
    return plaintext, spec_seal(plaintext)


# First chunk of all; first, middle and last chunk of a batch in the middle; the final one.
@pytest.mark.parametrize("bad_chunk", [0, 9, 10, 11, 21])
@pytest.mark.parametrize("threads", [0, 1, 4])
def test_a_tampered_chunk_releases_nothing_after_it(bad_chunk: int, threads: int) -> None:
    plaintext, ciphertext = many_batches()
    tampered = bytearray(ciphertext)
    tampered[bad_chunk * ENCRYPTED_CHUNK_SIZE + 100] ^= 0x01
    released = bytearray()
    with pytest.raises(PayloadError, match=f"chunk {bad_chunk} failed authentication"):
        open_into(released, bytes(tampered), threads=threads, batch_chunks=SMALL_BATCH_CHUNKS)
    assert released == plaintext[: bad_chunk * CHUNK_SIZE]


@pytest.mark.parametrize("chunks_kept", [1, 5, 6, 21])
def test_truncation_at_a_chunk_or_batch_boundary_is_detected(chunks_kept: int) -> None:
    plaintext, ciphertext = many_batches()
    released = bytearray()
    with pytest.raises(TruncatedPayloadError, match="truncated"):
        open_into(
            released,
            ciphertext[: chunks_kept * ENCRYPTED_CHUNK_SIZE],
            threads=4,
            batch_chunks=SMALL_BATCH_CHUNKS,
        )
    # The chunks that remain are authentic and were released; nothing else.
    assert released == plaintext[: chunks_kept * CHUNK_SIZE]


def test_truncation_inside_a_chunk_releases_the_chunks_before_it() -> None:
    plaintext, ciphertext = many_batches()
    released = bytearray()
    with pytest.raises(PayloadError):
        open_into(
            released,
            ciphertext[: 10 * ENCRYPTED_CHUNK_SIZE + 1000],
            threads=4,
            batch_chunks=SMALL_BATCH_CHUNKS,
        )
    assert released == plaintext[: 10 * CHUNK_SIZE]


def test_data_after_the_final_chunk_is_refused_after_it() -> None:
    plaintext = os.urandom(4 * CHUNK_SIZE)  # a full final chunk, then a whole chunk more
    ciphertext = spec_seal(plaintext)
    released = bytearray()
    with pytest.raises(PayloadError, match="unexpected data after the final payload chunk"):
        open_into(
            released, ciphertext + bytes(ENCRYPTED_CHUNK_SIZE), threads=4, batch_chunks=1
        )
    # As the reference does: the authenticated final chunk is out, the extra data is the error.
    assert released == plaintext


def test_an_empty_payload_is_truncated() -> None:
    with pytest.raises(TruncatedPayloadError):
        open_into(bytearray(), b"", threads=4)


class CountingSource(io.RawIOBase):
    """A plaintext source that records how far reading got ahead of writing."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        count = self._data.readinto(buffer)
        self.read_bytes += count
        return count


def test_read_ahead_stays_within_a_fixed_number_of_batches() -> None:
    threads = 4
    source = CountingSource(os.urandom(40 * BATCH))
    written = 0
    furthest_ahead = 0

    def write(batch: memoryview) -> None:
        nonlocal written, furthest_ahead
        written += len(batch) // ENCRYPTED_CHUNK_SIZE * CHUNK_SIZE
        furthest_ahead = max(furthest_ahead, source.read_bytes - written)

    seal_payload(source, AEAD, write, threads=threads)
    assert written == 40 * BATCH
    # A batch per thread and the one byte read past it, however long the payload is.
    assert furthest_ahead <= threads * BATCH + 1


def test_a_payload_of_one_batch_starts_no_thread() -> None:
    seen: list[int] = []
    source = io.BytesIO(os.urandom(BATCH))
    seal_payload(source, AEAD, lambda _: seen.append(len(payload_threads())), threads=4)
    assert seen == [0]


def test_a_failing_destination_stops_every_thread() -> None:
    class FullDisk(io.BytesIO):
        def write(self, data: object, /) -> int:
            if self.tell() > 3 * BATCH:
                raise OSError(28, "No space left on device")
            return super().write(data)  # type: ignore[arg-type]

    with pytest.raises(OSError, match="No space"):
        encrypt_stream(io.BytesIO(os.urandom(20 * BATCH)), FullDisk(), threads=4)
    assert payload_threads() == []


@pytest.mark.parametrize("size", [0, BATCH - 1, BATCH, 3 * BATCH + 5])
def test_whole_files_round_trip_on_several_threads(size: int) -> None:
    plaintext = os.urandom(size)
    encrypted = io.BytesIO()
    age.encrypt(io.BytesIO(plaintext), encrypted, [IDENTITY.recipient])
    decrypted = io.BytesIO()
    age.decrypt(io.BytesIO(encrypted.getvalue()), decrypted, [IDENTITY])
    assert decrypted.getvalue() == plaintext


def test_a_failing_source_raises_here_and_stops_every_thread() -> None:
    class BrokenPipe(CountingSource):
        def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
            if self.read_bytes > 5 * BATCH:
                raise OSError(32, "Broken pipe")
            return super().readinto(buffer)

    with pytest.raises(OSError, match="Broken pipe"):
        encrypt_stream(BrokenPipe(os.urandom(20 * BATCH)), io.BytesIO(), threads=4)
    assert payload_threads() == []


def test_a_bad_chunk_early_in_a_long_payload_stops_every_thread() -> None:
    plaintext = os.urandom(30 * BATCH)
    tampered = bytearray(spec_seal(plaintext))
    tampered[2 * BATCH_CHUNKS * ENCRYPTED_CHUNK_SIZE + 5] ^= 0x80
    released = bytearray()
    with pytest.raises(PayloadError, match=f"chunk {2 * BATCH_CHUNKS} failed"):
        open_into(released, bytes(tampered), threads=4)
    assert released == plaintext[: 2 * BATCH]
    assert payload_threads() == []


@pytest.mark.parametrize("size", [0, 2000, CHUNK_SIZE - 1])
def test_a_short_message_costs_no_batch_buffers(size: int) -> None:
    # Most objects (answers, messages) are a few KiB and are sealed on every request:
    # they must not pay for allocating and wiping megabytes of batch buffers.
    plaintext = os.urandom(size)
    tracemalloc.start()
    try:
        ciphertext = seal(plaintext, threads=4)
        released = bytearray()
        open_into(released, ciphertext, threads=4)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert released == plaintext
    assert peak < 4 * ENCRYPTED_CHUNK_SIZE + 4 * size
