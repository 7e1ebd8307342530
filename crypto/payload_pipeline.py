"""Stream a payload through the cipher in batches of chunks, on a few threads at once.

Reading and writing 64 KiB at a time costs more than sealing it, so the payload moves
in batches of many chunks: one read and one write per batch, into buffers allocated
once. Each worker thread takes the next batch, reads it, seals or opens it and, when
its turn comes, writes the result, all in its own two buffers. A batch thus stays in
the cache of the core that handled it: handing it from a reader thread to a cipher
thread to a writer thread made every byte cross between cores twice, and on a 2-core
VM the copy into the output file then cost more than the cipher (``bench/README.md``).

Reading is one batch at a time (the source is a stream, read under a lock) and writing
is strictly in order (a turn), so the output is byte-identical whatever the thread
count, and once a chunk fails to open no byte after it is written. Memory is two
buffers per thread whatever the payload's size, and a payload that fits in one batch
never starts a thread. pyca/cryptography releases the GIL in ChaCha20-Poly1305 and the
file reads and writes release it too, so the workers really run at once.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol

from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from crypto.errors import PayloadError, TruncatedPayloadError
from crypto.huge_page_memory import huge_page_buffer
from crypto.payload_chunks import CHUNK_SIZE, ENCRYPTED_CHUNK_SIZE, open_run, seal_run

# 15 chunks (960 KiB) per batch: large enough that a read, a write and a turn cost little
# beside the cipher, and small enough that a worker's two buffers (the batch read and one
# more byte, the batch sealed with its tags) share one 2 MiB page (crypto.huge_page_memory);
# 16 would overflow it by 257 bytes.
BATCH_CHUNKS = 15
# Past four threads the copies in and out of the kernel, not the cipher, set the pace.
MAX_THREADS = 4
THREAD_NAME = "age-payload"


class Write(Protocol):
    def __call__(self, data: memoryview, /) -> object: ...


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


@dataclass(frozen=True)
class _Layout:
    """Sizes of one batch: bytes read (``source``) and bytes they become (``result``)."""

    source: int
    result: int
    chunks: int

    @classmethod
    def sealing(cls, chunks: int) -> _Layout:
        return cls(chunks * CHUNK_SIZE, chunks * ENCRYPTED_CHUNK_SIZE, chunks)

    @classmethod
    def opening(cls, chunks: int) -> _Layout:
        return cls(chunks * ENCRYPTED_CHUNK_SIZE, chunks * CHUNK_SIZE, chunks)


@dataclass(frozen=True)
class _Batch:
    index: int  # the batch's position in the payload
    size: int  # bytes read into the buffers' source
    at_end: bool  # the payload ends with this batch


class _Buffers:
    """One worker's buffers: what was read (``source``) and what it became (``result``).

    ``source`` holds a batch and one byte more, the look-ahead of :class:`_BatchReader`.
    Started ``small`` they are one chunk large and grow to a batch on the first read
    that fills them, so a short message (most objects are a few KiB) pays for none.
    """

    def __init__(self, layout: _Layout, *, small: bool) -> None:
        self._layout = layout
        if small:
            unit = max(1, layout.chunks)
            self.source = memoryview(bytearray(layout.source // unit + 1))
            self.result = memoryview(bytearray(layout.result // unit))
        else:
            self._allocate_batch()
        # A result is at most the bytes read plus their tags (sealing) or fewer (opening).
        self._result_margin = max(0, layout.result - layout.source)
        self._most_read = 0

    def _allocate_batch(self) -> None:
        read_size = self._layout.source + 1
        memory = huge_page_buffer(read_size + self._layout.result)
        self.source, self.result = memory[:read_size], memory[read_size:]

    def fill(self, src: BinaryIO, carried: memoryview) -> int:
        """Put ``carried`` first, then read ``src`` up to a batch and one byte; return the count."""
        self.source[: len(carried)] = carried
        count = len(carried) + read_full(src, self.source[len(carried) :])
        if count == len(self.source) < self._layout.source + 1:
            first = self.source
            self._allocate_batch()
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


class _BatchReader:
    """Reads the source a batch at a time, in order, one byte ahead of the batch.

    Whether a batch holds the payload's end is known only once the next read returns
    nothing; reading one byte past each batch tells it without holding a batch back.
    Not thread-safe: :class:`_Workers` calls it under its lock.
    """

    def __init__(self, src: BinaryIO, batch_size: int) -> None:
        self._src = src
        self._batch_size = batch_size
        self._carry = memoryview(bytearray(1))
        self._carried = 0
        self._next = 0
        self._ended = False

    def read(self, buffers: _Buffers) -> _Batch | None:
        """Read the next batch into ``buffers``; ``None`` once the payload has ended."""
        if self._ended:
            return None
        count = buffers.fill(self._src, self._carry[: self._carried])
        at_end = count <= self._batch_size
        if at_end:
            self._ended = True
            self._carried = 0
        else:
            self._carry[0] = buffers.source[self._batch_size]
            self._carried = 1
            count = self._batch_size
        batch = _Batch(self._next, count, at_end)
        self._next += 1
        return batch

    def wipe(self) -> None:
        self._carry[0] = 0


# What a worker made of a batch: the bytes to write, and the error that ends the payload.
_Outcome = tuple[memoryview, PayloadError | None]
_Job = Callable[[_Buffers, _Batch], _Outcome]


class _Workers:
    """The threads of one payload: each reads a batch, runs the job, writes in its turn.

    The first failure (the job's error, or any exception in a read, the cipher or a
    write) stops them all: no batch is written after it, and :meth:`run` raises it.
    """

    def __init__(self, reader: _BatchReader, job: _Job, write: Write) -> None:
        self._reader = reader
        self._job = job
        self._write = write
        self._reading = threading.Lock()
        self._turn = threading.Condition()
        self._written = 0  # batches written so far: the index whose turn it is
        self._stopped = False
        self._failure: BaseException | None = None

    def run(self, layout: _Layout, threads: int) -> None:
        own = _Buffers(layout, small=True)
        others: list[_Buffers] = []
        started: list[threading.Thread] = []
        try:
            first = self._reader.read(own)
            if first is not None and threads > 1 and not first.at_end:
                for number in range(threads - 1):
                    others.append(_Buffers(layout, small=False))
                    thread = threading.Thread(
                        target=self._work, args=(others[-1],), name=f"{THREAD_NAME}-{number}"
                    )
                    thread.start()
                    started.append(thread)
            self._work(own, first)
            for thread in started:
                thread.join()
        finally:
            # After a failure, or an interruption of this thread (Ctrl-C in the CLI),
            # the others must stop before their buffers are wiped.
            self._stop()
            for thread in started:
                thread.join()
            for buffers in [own, *others]:
                buffers.wipe()
            self._reader.wipe()
        if self._failure is not None:
            raise self._failure

    def _work(self, buffers: _Buffers, batch: _Batch | None = None) -> None:
        try:
            while True:
                if batch is None:
                    with self._reading:
                        if self._stopped:
                            return
                        batch = self._reader.read(buffers)
                    if batch is None:
                        return
                data, error = self._job(buffers, batch)
                with self._turn:
                    while self._written != batch.index and not self._stopped:
                        self._turn.wait()
                    if self._stopped:
                        return
                    if data:
                        self._write(data)
                    self._written += 1
                    if error is not None:
                        self._stop(error)
                        return
                    self._turn.notify_all()
                batch = None
        except BaseException as error:  # raised again on the caller's thread, by run()
            self._stop(error)

    def _stop(self, failure: BaseException | None = None) -> None:
        """Stop every worker at its next read or turn; keep the first ``failure``."""
        with self._turn:
            if not self._stopped:
                self._stopped = True
                self._failure = failure
            self._turn.notify_all()


def _seal_job(aead: ChaCha20Poly1305, chunks: int) -> _Job:
    def seal(buffers: _Buffers, batch: _Batch) -> _Outcome:
        plain = buffers.source[: batch.size]
        written = seal_run(aead, plain, buffers.result, batch.index * chunks, last=batch.at_end)
        return buffers.result[:written], None

    return seal


def _open_job(aead: ChaCha20Poly1305, chunks: int) -> _Job:
    def open_batch(buffers: _Buffers, batch: _Batch) -> _Outcome:
        sealed = buffers.source[: batch.size]
        run = open_run(aead, sealed, buffers.result, batch.index * chunks, at_end=batch.at_end)
        error = run.error
        if error is None and batch.at_end and not run.final:
            # Only an empty payload (not one chunk) gets here: every other last batch
            # ends with a chunk that opened as the last one, or with an error.
            error = TruncatedPayloadError("payload is truncated: it ends before the final chunk")
        return buffers.result[: run.released], error

    return open_batch


def seal_payload(
    src: BinaryIO,
    aead: ChaCha20Poly1305,
    write: Write,
    *,
    threads: int | None = None,
    batch_chunks: int = BATCH_CHUNKS,
) -> None:
    """Seal all of ``src`` into STREAM chunks and pass them to ``write``, in order.

    ``write`` is called from the worker threads, one call at a time. The bytes written
    are the same for any ``threads`` and ``batch_chunks``: only how the work is cut up
    changes.
    """
    layout = _Layout.sealing(batch_chunks)
    workers = _Workers(_BatchReader(src, layout.source), _seal_job(aead, batch_chunks), write)
    workers.run(layout, threads or default_threads())


def open_payload(
    src: BinaryIO,
    aead: ChaCha20Poly1305,
    write: Write,
    *,
    threads: int | None = None,
    batch_chunks: int = BATCH_CHUNKS,
) -> None:
    """Open the STREAM chunks of ``src`` and pass the authenticated plaintext to ``write``.

    ``write`` is called in order, one call at a time, from the worker threads. On the
    first chunk that fails, the authenticated chunks before it (of its own batch too)
    are written, then its :class:`~crypto.errors.PayloadError` is raised; nothing after
    it is ever written, although later batches may already have been opened.
    """
    layout = _Layout.opening(batch_chunks)
    workers = _Workers(_BatchReader(src, layout.source), _open_job(aead, batch_chunks), write)
    workers.run(layout, threads or default_threads())


def opened_batches(
    src: BinaryIO, aead: ChaCha20Poly1305, *, batch_chunks: int = BATCH_CHUNKS
) -> Iterator[memoryview]:
    """Open the STREAM chunks of ``src`` on this thread; yield the plaintext batch by batch.

    For a consumer that takes the plaintext at its own pace (a download). Each view is
    valid until the next one is requested. On the first chunk that fails, the chunks
    before it are yielded, then its :class:`~crypto.errors.PayloadError` is raised.
    """
    layout = _Layout.opening(batch_chunks)
    reader = _BatchReader(src, layout.source)
    buffers = _Buffers(layout, small=True)
    job = _open_job(aead, batch_chunks)
    try:
        while (batch := reader.read(buffers)) is not None:
            data, error = job(buffers, batch)
            if data:
                yield data
            if error is not None:
                raise error
    finally:
        buffers.wipe()
        reader.wipe()
