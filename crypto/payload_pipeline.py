"""Stream a payload through the cipher in batches of chunks, on a few threads at once.

Reading and writing 64 KiB at a time costs more than sealing it, so the payload moves
in batches of many chunks: one read and one write per batch into buffers allocated
once. A reader thread fills the batches, a small thread pool seals or opens them
(pyca/cryptography releases the GIL inside the cipher) and the caller's thread takes
the finished ones, always in order, and writes them: reading, the cipher and writing
overlap on separate cores. Memory is a fixed ring of batch buffers, whatever the
payload's size, and a payload that fits in one batch never starts a thread.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import queue
import threading
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import BinaryIO, Generic, TypeVar

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
    """One batch's buffers: what was read (``source``) and what it became (``result``).

    They start one chunk large and grow to a whole batch on the first read that fills
    them, so a short message (most objects are a few KiB) pays for no batch buffers.
    """

    def __init__(self, sizes: tuple[int, int], first_sizes: tuple[int, int]) -> None:
        self._sizes = sizes
        self.source = memoryview(bytearray(first_sizes[0]))
        self.result = memoryview(bytearray(first_sizes[1]))
        # A result is at most the bytes read plus their tags (sealing) or fewer (opening).
        self._result_margin = max(0, sizes[1] - sizes[0])
        self._most_read = 0

    def fill(self, src: BinaryIO) -> int:
        """Read a batch from ``src``; return how many bytes it holds."""
        count = read_full(src, self.source)
        if count == len(self.source) < self._sizes[0]:
            first = self.source
            self.source = memoryview(bytearray(self._sizes[0]))
            self.result = memoryview(bytearray(self._sizes[1]))
            self.source[:count] = first
            first[:] = bytes(count)
            count += read_full(src, self.source[count:])
        self._most_read = max(self._most_read, count)
        return count

    def wipe(self) -> None:
        # Plaintext is in one buffer or the other; leave none behind in memory. Only
        # the part ever used: a short message must not pay for zeroing whole batches.
        used = min(len(self.source), self._most_read)
        self.source[:used] = bytes(used)
        touched = min(len(self.result), used + self._result_margin)
        self.result[:touched] = bytes(touched)


class _Ring:
    """The batch buffers, made only when first needed, at most :attr:`capacity` of them."""

    def __init__(self, sizes: tuple[int, int], first_sizes: tuple[int, int]) -> None:
        self.capacity = 2  # the batch processed and the one read ahead
        self._sizes = sizes
        self._first_sizes = first_sizes
        self._slots: list[_Slot] = []
        self._free: queue.SimpleQueue[_Slot | None] = queue.SimpleQueue()
        self._stopping = threading.Event()

    def take(self) -> _Slot | None:
        """A free slot, waiting for one if all are in use; ``None`` once stopped."""
        if self._stopping.is_set():
            return None
        if self._free.empty() and len(self._slots) < self.capacity:
            slot = _Slot(self._sizes, self._first_sizes)
            self._slots.append(slot)
            return slot
        return self._free.get()

    def give_back(self, slot: _Slot) -> None:
        self._free.put(slot)

    def stop(self) -> None:
        """Make :meth:`take` return ``None`` from now on, waking a caller waiting in it."""
        self._stopping.set()
        self._free.put(None)

    def wipe(self) -> None:
        for slot in self._slots:
            slot.wipe()


_Read = tuple[_Slot, int, int, bool]  # a batch read: slot, size, first chunk, at end


def _batches_read(
    src: BinaryIO, take_slot: Callable[[], _Slot | None], *, source_size: int, batch_chunks: int
) -> Iterator[_Read]:
    """Read ``src`` into slots from ``take_slot`` (``None`` stops); yield each batch in order.

    Whether a batch holds the payload's end is known only once the next read returns
    nothing, so each batch is read one batch ahead of being yielded.
    """
    held = take_slot()
    if held is None:
        return
    held_size = held.fill(src)
    counter = 0
    while True:
        at_end = held_size < source_size
        if not at_end:
            taken = take_slot()
            if taken is None:
                return
            ahead = taken
            ahead_size = ahead.fill(src)
            at_end = ahead_size == 0
        yield held, held_size, counter, at_end
        if at_end:
            return
        held, held_size = ahead, ahead_size
        counter += batch_chunks


class _ParallelRun(Generic[_Result]):
    """A reader thread and a pool of workers, with this thread taking results in order.

    The reader fills free slots and hands each batch to the pool; the caller takes the
    results oldest first and gives each slot back once done with it. Reading, the
    cipher and the caller's writes thus run at once, on separate cores.
    """

    def __init__(self, reads: Iterator[_Read], job: Callable[..., _Result], threads: int) -> None:
        self._reads = reads
        self._job = job
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="age-payload")
        self._ready: queue.SimpleQueue[tuple[Future[_Result], _Slot] | BaseException | None]
        self._ready = queue.SimpleQueue()
        # A daemon: a reader blocked on a source that never ends (a terminal) must not
        # keep the interpreter alive after the caller gave up (Ctrl-C in the CLI).
        self._reader = threading.Thread(
            target=self._read, name="age-payload-reader", daemon=True
        )

    def start(self, first: _Read) -> None:
        self._submit(first)
        self._reader.start()

    def _submit(self, read: _Read) -> None:
        self._ready.put((self._pool.submit(self._job, *read), read[0]))

    def _read(self) -> None:
        try:
            for read in self._reads:
                self._submit(read)
        except BaseException as error:  # handed to the caller's thread, raised there
            self._ready.put(error)
        else:
            self._ready.put(None)

    def results(self) -> Iterator[tuple[_Result, _Slot]]:
        while (item := self._ready.get()) is not None:
            if isinstance(item, BaseException):
                raise item
            done, slot = item
            yield done.result(), slot

    def close(self, ring: _Ring) -> None:
        # Stop the reader (waking it if it waits for a slot) and let it finish the read
        # it is in, then wait for running jobs: only then may the buffers be wiped.
        ring.stop()
        if self._reader.ident is not None:
            self._reader.join()
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
    is reused only after the caller asks for the next result. With one thread, or a
    payload of one batch, everything runs on the caller's thread.
    """
    ring = _Ring(
        (source_size, result_size), (source_size // batch_chunks, result_size // batch_chunks)
    )
    reads = _batches_read(src, ring.take, source_size=source_size, batch_chunks=batch_chunks)
    parallel: _ParallelRun[_Result] | None = None
    try:
        first = next(reads)
        if threads == 1 or first[3]:
            # Two slots in turn on this thread: the one processed and the one read ahead.
            for read in itertools.chain([first], reads):
                yield job(*read)
                ring.give_back(read[0])
            return
        # Enough batches for every worker, one read ahead and one being handed out.
        ring.capacity = threads + 2
        parallel = _ParallelRun(reads, job, threads)
        parallel.start(first)
        for result, slot in parallel.results():
            yield result
            ring.give_back(slot)
    finally:
        if parallel is not None:
            parallel.close(ring)
        ring.wipe()


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
