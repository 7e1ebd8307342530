"""Stream a payload through the cipher in batches of chunks, on a few threads at once.

Reading and writing 64 KiB at a time costs more than sealing it, so the payload moves
in batches of many chunks: one read and one write per batch into buffers allocated
once. A batch is sealed or opened on a small thread pool (pyca/cryptography releases
the GIL inside the cipher) while this thread reads the next batch and hands out the
finished ones, always in order. Memory is a fixed ring of batch buffers, whatever
the payload's size, and a payload that fits in one batch never starts a thread.

Whether a batch holds the payload's last chunk is known only once the next read
returns nothing, so each batch is read one batch ahead of its processing.
"""

from __future__ import annotations

import contextlib
import os
from collections import deque
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import BinaryIO, TypeVar

from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from crypto.errors import TruncatedPayloadError
from crypto.payload_chunks import (
    CHUNK_SIZE,
    ENCRYPTED_CHUNK_SIZE,
    OpenedRun,
    open_run,
    seal_run,
)

# 16 chunks (1 MiB) per batch: large enough that a read, a write and the hand-over
# between threads cost little beside the cipher, small enough to keep memory low.
BATCH_CHUNKS = 16
# Past four threads the copies in and out of the kernel, not the cipher, set the pace.
MAX_THREADS = 4

_Result = TypeVar("_Result")


def default_threads() -> int:
    """Threads to seal or open with: the machine's cores, at most :data:`MAX_THREADS`."""
    return max(1, min(os.cpu_count() or 1, MAX_THREADS))


def read_full(src: BinaryIO, buffer: memoryview) -> int:
    """Fill ``buffer`` from ``src`` until it is full or ``src`` ends; return the count.

    A single read may return less than asked (pipes, sockets, upload streams), so a
    short read alone never means end of file.
    """
    readinto = getattr(src, "readinto", None)
    filled = 0
    while filled < len(buffer):
        if readinto is not None:
            count = readinto(buffer[filled:])
        else:
            data = src.read(len(buffer) - filled)
            count = len(data)
            buffer[filled : filled + count] = data
        if not count:
            break
        filled += count
    return filled


class _Slot:
    """One batch's buffers: what was read (``source``) and what it became (``result``)."""

    def __init__(self, source_size: int, result_size: int) -> None:
        self._source = bytearray(source_size)
        self._result = bytearray(result_size)
        self.source = memoryview(self._source)
        self.result = memoryview(self._result)

    def wipe(self) -> None:
        # Plaintext is in one buffer or the other; leave none behind in memory.
        self.source[:] = bytes(len(self._source))
        self.result[:] = bytes(len(self._result))


class _Workers:
    """Runs batch jobs on a thread pool, started only when a second batch exists."""

    def __init__(self, threads: int) -> None:
        self._threads = threads
        self._pool: ThreadPoolExecutor | None = None

    def submit(
        self, job: Callable[[_Slot, int, int, bool], _Result], slot: _Slot, size: int,
        counter: int, at_end: bool,
    ) -> Future[_Result]:
        if self._pool is None and (self._threads == 1 or at_end):
            # One thread, or a payload that fits in one batch: run it here and now.
            done: Future[_Result] = Future()
            done.set_result(job(slot, size, counter, at_end))
            return done
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="age-payload")
        return self._pool.submit(job, slot, size, counter, at_end)

    def close(self) -> None:
        # Wait for running jobs before the buffers they use are wiped or reused.
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


def _pipeline(
    src: BinaryIO,
    job: Callable[[_Slot, int, int, bool], _Result],
    *,
    source_size: int,
    result_size: int,
    batch_chunks: int,
    threads: int,
) -> Generator[_Result, None, None]:
    """Read ``src`` in batches of ``source_size`` bytes and yield ``job``'s results in order.

    ``job(slot, size, first_chunk, at_end)`` turns the ``size`` bytes read into
    ``slot.source`` into ``slot.result``. A yielded result may refer to its slot, which
    is reused only after the caller asks for the next result.
    """
    slots = [_Slot(source_size, result_size) for _ in range(2 if threads == 1 else threads + 2)]
    free = deque(slots)
    pending: deque[tuple[Future[_Result], _Slot]] = deque()
    workers = _Workers(threads)
    try:
        held = free.popleft()
        held_size = read_full(src, held.source)
        counter = 0
        while True:
            at_end = held_size < source_size
            if not at_end:
                if not free:
                    done, slot = pending.popleft()
                    yield done.result()
                    free.append(slot)
                ahead = free.popleft()
                ahead_size = read_full(src, ahead.source)
                at_end = ahead_size == 0
            pending.append((workers.submit(job, held, held_size, counter, at_end), held))
            if at_end:
                break
            held, held_size = ahead, ahead_size
            counter += batch_chunks
        while pending:
            done, _ = pending.popleft()
            yield done.result()
    finally:
        workers.close()
        for slot in slots:
            slot.wipe()


def sealed_batches(
    src: BinaryIO,
    aead: ChaCha20Poly1305,
    *,
    threads: int | None = None,
    batch_chunks: int = BATCH_CHUNKS,
) -> Iterator[memoryview]:
    """Seal all of ``src`` into STREAM chunks; yield the sealed bytes batch by batch.

    Each view is valid until the next one is requested. The output is the same for
    any ``threads`` and ``batch_chunks``: only how the work is cut up changes.
    """

    def seal(slot: _Slot, size: int, counter: int, at_end: bool) -> memoryview:
        written = seal_run(aead, slot.source[:size], slot.result, counter, last=at_end)
        return slot.result[:written]

    yield from _pipeline(
        src,
        seal,
        source_size=batch_chunks * CHUNK_SIZE,
        result_size=batch_chunks * ENCRYPTED_CHUNK_SIZE,
        batch_chunks=batch_chunks,
        threads=threads or default_threads(),
    )


def opened_batches(
    src: BinaryIO,
    aead: ChaCha20Poly1305,
    *,
    threads: int | None = None,
    batch_chunks: int = BATCH_CHUNKS,
) -> Iterator[memoryview]:
    """Open the STREAM chunks of ``src``; yield authenticated plaintext batch by batch.

    Each view is valid until the next one is requested. On the first chunk that fails,
    the authenticated chunks before it (of its own batch too) are yielded, then its
    :class:`~crypto.errors.PayloadError` is raised; nothing after it is ever yielded,
    although later batches may already have been opened on other threads.
    """

    def open_batch(slot: _Slot, size: int, counter: int, at_end: bool) -> tuple[OpenedRun, _Slot]:
        return open_run(aead, slot.source[:size], slot.result, counter, at_end=at_end), slot

    runs = _pipeline(
        src,
        open_batch,
        source_size=batch_chunks * ENCRYPTED_CHUNK_SIZE,
        result_size=batch_chunks * CHUNK_SIZE,
        batch_chunks=batch_chunks,
        threads=threads or default_threads(),
    )
    final = False
    with contextlib.closing(runs):
        for run, slot in runs:
            if run.released:
                yield slot.result[: run.released]
            if run.error is not None:
                raise run.error
            final = run.final
    if not final:
        # Only an empty payload (not one chunk) gets here: every other last run ends
        # with a chunk that opened as the last one, or with an error.
        raise TruncatedPayloadError("payload is truncated: it ends before the final chunk")
