"""The age payload: a 16-byte nonce, then STREAM chunks of ChaCha20-Poly1305.

Each 64 KiB plaintext chunk is sealed under a key derived from the file key and the
nonce (c2sp.org/age, "Payload"; the chunks themselves are in
:mod:`crypto.payload_chunks`). Whole streams move in batches of chunks on a few
threads (:mod:`crypto.payload_pipeline`); an upload arriving in pieces is sealed a
chunk at a time by :class:`PayloadEncryptor`. Memory use never grows with file size,
and decryption hands out a chunk only after its tag verified.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import BinaryIO, Protocol

from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from crypto.errors import HeaderError
from crypto.header import FileKey
from crypto.payload_chunks import (
    CHUNK_SIZE,
    ENCRYPTED_CHUNK_SIZE,
    TAG_SIZE,
    seal_run,
)
from crypto.payload_pipeline import open_payload, opened_batches, read_full, seal_payload

__all__ = [
    "CHUNK_SIZE",
    "ENCRYPTED_CHUNK_SIZE",
    "NONCE_SIZE",
    "TAG_SIZE",
    "PayloadDecryptor",
    "PayloadEncryptor",
    "Writable",
    "encrypt_stream",
    "payload_aead",
    "read_full",
]

NONCE_SIZE = 16


class Writable(Protocol):
    """Where encrypted output goes: a binary file, a socket wrapper, an armor writer."""

    def write(self, data: bytes | memoryview, /) -> object:
        """Write all of ``data``."""
        ...


def payload_aead(file_key: FileKey, nonce: bytes) -> ChaCha20Poly1305:
    """The cipher of one payload: its key is derived from the file key and the nonce."""
    return ChaCha20Poly1305(file_key.derive(salt=nonce, info=b"payload"))


class PayloadEncryptor:
    """Encrypt a payload incrementally: ``write()`` plaintext as it arrives, then ``finish()``.

    The nonce is written to ``dst`` at once; each chunk is written as soon as it is
    known not to be the last one. A fresh file key is generated unless one is given;
    read it from :attr:`file_key` to seal the header once the payload is complete.
    """

    def __init__(self, dst: Writable, file_key: FileKey | None = None) -> None:
        self.file_key = file_key if file_key is not None else FileKey.generate()
        self._dst = dst
        payload_nonce = os.urandom(NONCE_SIZE)
        self._aead = payload_aead(self.file_key, payload_nonce)
        self._counter = 0
        self._plain = bytearray(CHUNK_SIZE)
        self._plain_view = memoryview(self._plain)
        self._filled = 0
        self._sealed_view = memoryview(bytearray(ENCRYPTED_CHUNK_SIZE))
        self._finished = False
        dst.write(payload_nonce)

    def _seal(self, plaintext: memoryview, *, last: bool) -> None:
        size = seal_run(self._aead, plaintext, self._sealed_view, self._counter, last=last)
        self._dst.write(self._sealed_view[:size])
        self._counter += 1

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Encrypt and write out every complete chunk of ``data``; buffer the rest."""
        if self._finished:
            raise ValueError("payload already finished")
        view = memoryview(data).cast("B")
        position = 0
        while position < len(view):
            if self._filled == CHUNK_SIZE:
                # More data follows, so the buffered chunk is not the last one.
                self._seal(self._plain_view, last=False)
                self._filled = 0
            if self._filled == 0 and len(view) - position > CHUNK_SIZE:
                # Fast path: seal straight from the caller's buffer, no copy.
                self._seal(view[position : position + CHUNK_SIZE], last=False)
                position += CHUNK_SIZE
                continue
            taken = min(CHUNK_SIZE - self._filled, len(view) - position)
            self._plain[self._filled : self._filled + taken] = view[position : position + taken]
            self._filled += taken
            position += taken
        return len(view)

    def finish(self) -> None:
        """Seal the final chunk (empty only when the whole payload is empty)."""
        if self._finished:
            raise ValueError("payload already finished")
        self._seal(self._plain_view[: self._filled], last=True)
        self._finished = True
        self._plain[:] = bytes(CHUNK_SIZE)  # leave no plaintext in the buffer

    def __enter__(self) -> PayloadEncryptor:
        return self

    def __exit__(self, exc_type: object, exc: object, traceback: object) -> None:
        # Only a complete upload gets its final chunk; after an error the payload
        # stays without one, so it can never be mistaken for a whole file.
        if exc_type is None and not self._finished:
            self.finish()


def encrypt_stream(
    src: BinaryIO, dst: Writable, file_key: FileKey | None = None, *, threads: int | None = None
) -> FileKey:
    """Encrypt all of ``src`` into ``dst`` (nonce and chunks) and return the file key.

    ``threads`` defaults to the machine's cores (capped); the bytes written are the
    same for any count. ``dst.write`` is called from those threads, one call at a time.
    """
    file_key = file_key if file_key is not None else FileKey.generate()
    payload_nonce = os.urandom(NONCE_SIZE)
    dst.write(payload_nonce)
    seal_payload(src, payload_aead(file_key, payload_nonce), dst.write, threads=threads)
    return file_key


class PayloadDecryptor:
    """Decrypt a payload, releasing each chunk only once authenticated.

    Reads the nonce on construction (a missing nonce is reported as a header error,
    as the reference implementation reads it together with the header).
    """

    def __init__(self, src: BinaryIO, file_key: FileKey) -> None:
        payload_nonce = bytearray(NONCE_SIZE)
        if read_full(src, memoryview(payload_nonce)) != NONCE_SIZE:
            raise HeaderError("payload nonce is missing or truncated")
        self._src = src
        self._aead = payload_aead(file_key, bytes(payload_nonce))

    def chunks(self) -> Iterator[memoryview]:
        """Yield authenticated plaintext chunks as views into a reused buffer.

        One chunk at a time on this thread, for a consumer that takes them at its own
        pace (a download). Each view is valid only until the next one is requested;
        copy it to keep it. Raises :class:`PayloadError` (or
        :class:`TruncatedPayloadError`) on the first chunk that fails, having yielded
        only the chunks before it.
        """
        return opened_batches(self._src, self._aead, batch_chunks=1)

    def decrypt_to(self, dst: Writable, *, threads: int | None = None) -> None:
        """Write every authenticated chunk to ``dst``, in order; stop at the first failure.

        Batches of chunks are opened on ``threads`` threads (default: the machine's
        cores, capped), which call ``dst.write`` one at a time, in order; ``dst``
        never sees a byte of a chunk after a bad one.
        """
        open_payload(self._src, self._aead, dst.write, threads=threads)
