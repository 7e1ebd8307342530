"""STREAM chunks of the age payload, sealed and opened a run of chunks at a time.

Each 64 KiB plaintext chunk is sealed with ChaCha20-Poly1305 under the payload key,
with a 12-byte nonce made of an 11-byte big-endian chunk counter and a last-chunk flag
(c2sp.org/age, "Payload"). A run is any number of consecutive chunks in one buffer;
since every chunk's nonce follows from its position alone, runs are independent and
can be sealed or opened on several threads at once (see :mod:`crypto.payload_pipeline`).

Chunks are positional: chunk ``i`` is the ``i``-th 64 KiB + 16 bytes of the payload,
exactly as the reference implementation reads them, so a short chunk before the end
is simply a full-size chunk that fails to open.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from crypto.errors import PayloadError, TruncatedPayloadError

CHUNK_SIZE = 64 * 1024
TAG_SIZE = 16
ENCRYPTED_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE
_COUNTER_SIZE = 11
_NOT_LAST = b"\x00"
_LAST = b"\x01"


def chunk_nonce(counter: int, *, last: bool) -> bytes:
    """The AEAD nonce of chunk ``counter``: the counter, then the last-chunk flag."""
    return counter.to_bytes(_COUNTER_SIZE, "big") + (_LAST if last else _NOT_LAST)


def chunk_count(plaintext_size: int) -> int:
    """How many chunks a final run of ``plaintext_size`` bytes seals into.

    An empty payload still has one (empty) final chunk; otherwise a full last chunk
    gets no empty chunk after it.
    """
    return max(1, -(-plaintext_size // CHUNK_SIZE))


def seal_run(
    aead: ChaCha20Poly1305, plain: memoryview, out: memoryview, counter: int, *, last: bool
) -> int:
    """Seal ``plain`` as the chunks from ``counter`` on into ``out``; return the bytes written.

    ``last`` marks the run's final chunk as the payload's last one; a run that is not
    last must hold whole chunks only. ``out`` needs room for one tag per chunk.
    """
    size = len(plain)
    if not last and (size == 0 or size % CHUNK_SIZE):
        raise ValueError("only the final run may end with a partial chunk")
    chunks = chunk_count(size) if last else size // CHUNK_SIZE
    encrypt_into = aead.encrypt_into
    written = 0
    for index in range(chunks):
        start = index * CHUNK_SIZE
        piece = plain[start : start + CHUNK_SIZE]
        sealed_size = len(piece) + TAG_SIZE
        nonce = chunk_nonce(counter + index, last=last and index == chunks - 1)
        encrypt_into(nonce, piece, None, out[written : written + sealed_size])
        written += sealed_size
    return written


@dataclass(frozen=True)
class OpenedRun:
    """What opening a run gave: the authenticated plaintext bytes, in order from the
    run's start, and the first failure (the run stops there) or ``None``."""

    released: int
    error: PayloadError | None = None
    final: bool = False


def _opens(aead: ChaCha20Poly1305, nonce: bytes, sealed: memoryview, out: memoryview) -> bool:
    try:
        aead.decrypt_into(nonce, sealed, None, out)
    except InvalidTag:
        return False
    return True


def _auth_failure(counter: int) -> PayloadError:
    return PayloadError(
        f"payload chunk {counter} failed authentication"
        " (file corrupted, truncated or tampered with)"
    )


def open_run(  # noqa: PLR0911 -- one return per way a run of the age STREAM can end
    aead: ChaCha20Poly1305, sealed: memoryview, out: memoryview, counter: int, *, at_end: bool
) -> OpenedRun:
    """Open the sealed chunks in ``sealed`` (from chunk ``counter`` on) into ``out``.

    ``at_end`` says that the payload ends with this run. Chunks open one after the
    other and the run stops at the first one that fails, so ``out[:released]`` is
    always whole authenticated chunks in order and nothing after a bad one. The rules
    and their order follow the reference implementation (and the C2SP vectors): a
    full-size chunk is tried as a middle chunk, then as the last one; an authenticated
    last chunk is released even when data follows it, and that data is the error.
    """
    position = released = 0
    index = counter
    while position < len(sealed):
        size = min(ENCRYPTED_CHUNK_SIZE, len(sealed) - position)
        piece = sealed[position : position + size]
        target = out[released : released + size - TAG_SIZE] if size >= TAG_SIZE else out[:0]
        ends_payload = at_end and position + size == len(sealed)
        if size < ENCRYPTED_CHUNK_SIZE:
            # Only the payload's end can leave a short chunk: it must be the last one.
            if size < TAG_SIZE:
                return OpenedRun(
                    released, PayloadError(f"payload chunk {index} is truncated or corrupted")
                )
            if size == TAG_SIZE and index > 0:
                return OpenedRun(released, PayloadError("payload ends with an empty final chunk"))
            if not _opens(aead, chunk_nonce(index, last=True), piece, target):
                return OpenedRun(released, _auth_failure(index))
            return OpenedRun(released + size - TAG_SIZE, final=True)
        if _opens(aead, chunk_nonce(index, last=False), piece, target):
            released += CHUNK_SIZE
            if ends_payload:
                return OpenedRun(
                    released,
                    TruncatedPayloadError("payload is truncated: it ends before the final chunk"),
                )
        elif _opens(aead, chunk_nonce(index, last=True), piece, target):
            released += CHUNK_SIZE
            if not ends_payload:
                return OpenedRun(
                    released, PayloadError("unexpected data after the final payload chunk")
                )
            return OpenedRun(released, final=True)
        else:
            return OpenedRun(released, _auth_failure(index))
        position += size
        index += 1
    return OpenedRun(released)
