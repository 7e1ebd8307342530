"""The age payload: a 16-byte nonce, then STREAM chunks of ChaCha20-Poly1305.

Each 64 KiB plaintext chunk is sealed under a key derived from the file key and the
nonce, with a 12-byte AEAD nonce made of an 11-byte big-endian chunk counter and a
last-chunk flag (c2sp.org/age, "Payload"). Encryption and decryption work one chunk
at a time into preallocated buffers, so memory use does not grow with file size,
and decryption hands out a chunk only after its tag verified.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import BinaryIO, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from crypto.errors import HeaderError, PayloadError, TruncatedPayloadError
from crypto.header import FileKey

CHUNK_SIZE = 64 * 1024
TAG_SIZE = 16
ENCRYPTED_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE
NONCE_SIZE = 16
_COUNTER_SIZE = 11
_LAST_CHUNK_FLAG = 1


class Writable(Protocol):
    """Where encrypted output goes: a binary file, a socket wrapper, an armor writer."""

    def write(self, data: bytes | memoryview, /) -> object:
        """Write all of ``data``."""
        ...


def _payload_aead(file_key: FileKey, nonce: bytes) -> ChaCha20Poly1305:
    return ChaCha20Poly1305(file_key.derive(salt=nonce, info=b"payload"))


def _chunk_nonce(nonce: bytearray, counter: int, *, last: bool) -> bytearray:
    # The buffer is reused for every chunk: one allocation per file, not per chunk.
    nonce[:_COUNTER_SIZE] = counter.to_bytes(_COUNTER_SIZE, "big")
    nonce[_COUNTER_SIZE] = _LAST_CHUNK_FLAG if last else 0
    return nonce


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
        self._aead = _payload_aead(self.file_key, payload_nonce)
        self._nonce = bytearray(12)
        self._counter = 0
        self._plain = bytearray(CHUNK_SIZE)
        self._plain_view = memoryview(self._plain)
        self._filled = 0
        self._sealed = bytearray(ENCRYPTED_CHUNK_SIZE)
        self._sealed_view = memoryview(self._sealed)
        self._finished = False
        dst.write(payload_nonce)

    def _seal(self, plaintext: memoryview, *, last: bool) -> None:
        nonce = _chunk_nonce(self._nonce, self._counter, last=last)
        size = len(plaintext) + TAG_SIZE
        self._aead.encrypt_into(nonce, plaintext, None, self._sealed_view[:size])
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


def encrypt_stream(src: BinaryIO, dst: Writable, file_key: FileKey | None = None) -> FileKey:
    """Encrypt all of ``src`` into ``dst`` (nonce and chunks) and return the file key."""
    encryptor = PayloadEncryptor(dst, file_key)
    # Large reads let most chunks be sealed straight from the read buffer; only the
    # last chunk of each read is copied, since it might turn out to be the final one.
    buffer = bytearray(16 * CHUNK_SIZE)
    view = memoryview(buffer)
    while True:
        count = read_full(src, view)
        if not count:
            break
        encryptor.write(view[:count])
        if count < len(view):
            break
    encryptor.finish()
    return encryptor.file_key


class PayloadDecryptor:
    """Decrypt a payload chunk by chunk, releasing each chunk only once authenticated.

    Reads the nonce on construction (a missing nonce is reported as a header error,
    as the reference implementation reads it together with the header).
    """

    def __init__(self, src: BinaryIO, file_key: FileKey) -> None:
        payload_nonce = bytearray(NONCE_SIZE)
        if read_full(src, memoryview(payload_nonce)) != NONCE_SIZE:
            raise HeaderError("payload nonce is missing or truncated")
        self._src = src
        self._aead = _payload_aead(file_key, bytes(payload_nonce))

    def _open(self, nonce: bytearray, sealed: memoryview, out: memoryview) -> bool:
        try:
            self._aead.decrypt_into(nonce, sealed, None, out)
        except InvalidTag:
            return False
        return True

    def chunks(self) -> Iterator[memoryview]:
        """Yield authenticated plaintext chunks as views into a reused buffer.

        Each view is valid only until the next one is requested; copy it to keep it.
        Raises :class:`PayloadError` (or :class:`TruncatedPayloadError`) on the first
        chunk that fails, having yielded only the chunks before it.
        """
        sealed_buffer = bytearray(ENCRYPTED_CHUNK_SIZE)
        sealed = memoryview(sealed_buffer)
        plain = memoryview(bytearray(CHUNK_SIZE))
        nonce = bytearray(12)
        counter = 0
        while True:
            count = read_full(self._src, sealed)
            if count == 0:
                raise TruncatedPayloadError("payload is truncated: it ends before the final chunk")
            size = count - TAG_SIZE
            if count < ENCRYPTED_CHUNK_SIZE:
                # A short read can only be the final chunk.
                last = True
                if size < 0:
                    raise PayloadError(f"payload chunk {counter} is truncated or corrupted")
                if size == 0 and counter > 0:
                    raise PayloadError("payload ends with an empty final chunk")
                opened = self._open(
                    _chunk_nonce(nonce, counter, last=True), sealed[:count], plain[:size]
                )
            else:
                # A full-size chunk is the last one only if it opens with the flag
                # set; trial decryption matches the reference implementation.
                last = False
                opened = self._open(_chunk_nonce(nonce, counter, last=False), sealed, plain)
                if not opened:
                    last = True
                    opened = self._open(_chunk_nonce(nonce, counter, last=True), sealed, plain)
            if not opened:
                raise PayloadError(
                    f"payload chunk {counter} failed authentication"
                    " (file corrupted, truncated or tampered with)"
                )
            yield plain[:size]
            if last:
                if self._src.read(1):
                    raise PayloadError("unexpected data after the final payload chunk")
                return
            counter += 1

    def decrypt_to(self, dst: Writable) -> None:
        """Write every authenticated chunk to ``dst``; stop at the first failure."""
        for chunk in self.chunks():
            dst.write(chunk)
