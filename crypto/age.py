"""High-level age API: whole files, and headers and payloads stored apart.

The platform keeps each object's header (stanzas and MAC, a few KiB) in the database
and its payload (nonce and chunks) in the blob store. Access changes rewrite only the
header; a download joins both into a standard age file that ``age -d`` opens.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterable, Iterator, Sequence
from typing import BinaryIO

from crypto.armor import ArmorReader, ArmorWriter, looks_armored
from crypto.errors import HeaderError, IncompatibleRecipientsError, NoMatchError
from crypto.header import FileKey, Header, Stanza, encode_header, parse_header, read_header
from crypto.keys import Identity, Recipient
from crypto.stream import PayloadDecryptor, encrypt_stream

_SCRYPT_STANZA_TYPE = "scrypt"
_READ_BUFFER_SIZE = 128 * 1024


def _check_compatible(recipients: Sequence[Recipient]) -> None:
    if not recipients:
        raise ValueError("at least one recipient is required")
    if len({recipient.post_quantum for recipient in recipients}) > 1:
        raise IncompatibleRecipientsError(
            "post-quantum (age1pq1…) and X25519 (age1…) recipients cannot be mixed in one file"
        )


def _unwrap(header: Header, identities: Iterable[Identity]) -> FileKey:
    """Recover the file key with the first identity that matches and check the MAC."""
    if any(stanza.type == _SCRYPT_STANZA_TYPE for stanza in header.stanzas) and (
        len(header.stanzas) != 1
    ):
        # A passphrase-encrypted file must not also open with a key (age spec).
        raise HeaderError("an scrypt stanza must be the only stanza in the header")
    for identity in identities:
        file_key = identity.unwrap(header.stanzas)
        if file_key is not None:
            header.verify_mac(file_key)
            return file_key
    raise NoMatchError("no identity matched any of the file's recipients")


def _stanza_types(header: Header) -> set[str]:
    return {stanza.type for stanza in header.stanzas}


def _wrap_all(file_key: FileKey, recipients: Sequence[Recipient]) -> list[Stanza]:
    return [recipient.wrap(file_key) for recipient in recipients]


def seal_header(file_key: FileKey, recipients: Sequence[Recipient]) -> bytes:
    """Return the canonical header (through the MAC line's newline) for ``recipients``.

    Raises :class:`IncompatibleRecipientsError` if post-quantum and X25519 recipients
    are mixed, as age 1.3 does.
    """
    _check_compatible(recipients)
    return encode_header(_wrap_all(file_key, recipients), file_key)


def encrypt_payload(src: BinaryIO, dst: BinaryIO) -> FileKey:
    """Encrypt ``src`` into a payload (nonce and chunks) on ``dst``; return the new file key.

    Seal the header afterwards with :func:`seal_header`. For data that arrives in
    pieces (an upload), use :class:`~crypto.stream.PayloadEncryptor` directly.
    """
    return encrypt_stream(src, dst)


def join(header: bytes, payload: BinaryIO, dst: BinaryIO) -> None:
    """Write a standard binary age file: ``header`` then the ``payload`` stream."""
    parse_header(header)  # refuse to emit a file whose header would not parse
    dst.write(header)
    shutil.copyfileobj(payload, dst, _READ_BUFFER_SIZE)


def split(src: BinaryIO, payload_dst: BinaryIO) -> bytes:
    """Split a binary age file: return its header and stream the payload to ``payload_dst``.

    Used for ciphertext encrypted in the browser: the header goes to the database,
    the payload to the blob store. No key is needed; the header is only parsed.
    """
    _, header_bytes = read_header(src)
    shutil.copyfileobj(src, payload_dst, _READ_BUFFER_SIZE)
    return header_bytes


def inspect_header(header: bytes) -> list[str]:
    """Return the stanza types of a stand-alone header, checking its structure only.

    Lets the server validate browser-made ciphertext (stanza count and types) without
    any key; the MAC cannot be checked without the file key.
    """
    return [stanza.type for stanza in parse_header(header).stanzas]


def header_recipient_count(header: bytes) -> int:
    """Return how many recipient stanzas a stand-alone header holds."""
    return len(inspect_header(header))


def open_parts(header: bytes, payload: BinaryIO, identities: Iterable[Identity]) -> Iterator[bytes]:
    """Unwrap the file key now and return an iterator of authenticated plaintext chunks.

    Header problems (:class:`HeaderError`, :class:`NoMatchError`, :class:`HMACError`)
    are raised by this call, before a web response starts; payload problems are raised
    by the iterator, after only authenticated chunks were yielded.
    """
    file_key = _unwrap(parse_header(header), identities)
    decryptor = PayloadDecryptor(payload, file_key)
    return (bytes(chunk) for chunk in decryptor.chunks())


def decrypt_parts(
    header: bytes, payload: BinaryIO, dst: BinaryIO, identities: Iterable[Identity]
) -> None:
    """Decrypt a stored header and payload into ``dst``, one authenticated chunk at a time."""
    file_key = _unwrap(parse_header(header), identities)
    PayloadDecryptor(payload, file_key).decrypt_to(dst)


def add_recipients(
    header: bytes, identities: Iterable[Identity], new_recipients: Sequence[Recipient]
) -> bytes:
    """Grant access without touching the payload: keep every stanza, append new ones.

    The file key is unwrapped with ``identities`` (the granting person's keys) and
    wrapped for ``new_recipients``; the MAC is recomputed. Adding a classical
    recipient to a post-quantum header (or the reverse) is refused.
    """
    parsed = parse_header(header)
    file_key = _unwrap(parsed, identities)
    if new_recipients:
        _check_compatible(new_recipients)
        post_quantum = new_recipients[0].post_quantum
        known = _stanza_types(parsed) & {"X25519", "mlkem768x25519"}
        if known and known != {"mlkem768x25519" if post_quantum else "X25519"}:
            raise IncompatibleRecipientsError(
                "the new recipients' type (post-quantum or X25519) differs from the file's"
            )
    stanzas = [*parsed.stanzas, *_wrap_all(file_key, new_recipients)]
    return encode_header(stanzas, file_key)


def rewrite_recipients(
    header: bytes, identities: Iterable[Identity], recipients: Sequence[Recipient]
) -> bytes:
    """Return a new header for exactly ``recipients`` (revocation), same file key.

    A revoked identity no longer opens the stored object through this header. It is
    not protection against someone who kept the file key or an old copy of the header.
    """
    file_key = _unwrap(parse_header(header), identities)
    return seal_header(file_key, recipients)


def replace_recipient(header: bytes, old_identity: Identity, new_recipient: Recipient) -> bytes:
    """Re-grant a header from one key to another (key rotation), same file key.

    Drops exactly the stanzas ``old_identity`` opens, keeps every other stanza as it
    is, appends one stanza for ``new_recipient`` and recomputes the MAC; the payload is
    never touched. Raises :class:`NoMatchError` when ``old_identity`` opens no stanza
    (nothing to rotate, or rotated already: a resumed rotation skips such headers), and
    :class:`IncompatibleRecipientsError` when the new recipient's type (post-quantum or
    X25519) differs from the stanzas that stay.
    """
    parsed = parse_header(header)
    kept: list[Stanza] = []
    file_key: FileKey | None = None
    for stanza in parsed.stanzas:
        # One stanza at a time: an identity's unwrap stops at its first match, and an
        # identity may hold several stanzas of one header (granted twice).
        opened = old_identity.unwrap([stanza])
        if opened is None:
            kept.append(stanza)
        elif file_key is None:
            file_key = opened
        elif opened != file_key:
            raise HeaderError("the header's stanzas wrap different file keys")
    if file_key is None:
        raise NoMatchError("the old identity opens none of the header's stanzas")
    parsed.verify_mac(file_key)
    known = {stanza.type for stanza in kept} & {"X25519", "mlkem768x25519"}
    if known and known != {"mlkem768x25519" if new_recipient.post_quantum else "X25519"}:
        raise IncompatibleRecipientsError(
            "the new recipient's type (post-quantum or X25519) differs from the file's"
        )
    return encode_header([*kept, new_recipient.wrap(file_key)], file_key)


def replace_recipient_in_file(
    sealed: bytes, old_identity: Identity, new_recipient: Recipient
) -> bytes:
    """:func:`replace_recipient` for a whole binary age file kept in one piece.

    Only the header part changes; the payload bytes that follow it are copied as they are.
    """
    src = io.BytesIO(sealed)
    _, header_bytes = read_header(src)
    return replace_recipient(header_bytes, old_identity, new_recipient) + src.read()


def _buffered(src: BinaryIO) -> io.BufferedReader:
    if isinstance(src, io.BufferedReader):
        return src
    return io.BufferedReader(_RawAdapter(src), _READ_BUFFER_SIZE)


class _RawAdapter(io.RawIOBase):
    """Present any binary file object as a raw stream, so it can be buffered and peeked."""

    def __init__(self, src: BinaryIO) -> None:
        super().__init__()
        self._src = src

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._src.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


def encrypt(
    src: BinaryIO, dst: BinaryIO, recipients: Sequence[Recipient], *, armor: bool = False
) -> None:
    """Encrypt ``src`` to ``recipients`` as a whole age file on ``dst`` (armored if asked).

    The header comes first in the file, so the file key is made and wrapped before the
    payload is streamed.
    """
    file_key = FileKey.generate()
    header = seal_header(file_key, recipients)
    if armor:
        armored = ArmorWriter(dst)
        armored.write(header)
        encrypt_stream(src, armored, file_key)
        armored.close()
    else:
        dst.write(header)
        encrypt_stream(src, dst, file_key)


def decrypt(src: BinaryIO, dst: BinaryIO, identities: Iterable[Identity]) -> None:
    """Decrypt a whole age file (binary or armored, detected) from ``src`` into ``dst``.

    Only authenticated chunks reach ``dst``; on failure an :class:`AgeError` subclass is
    raised and ``dst`` holds at most the authenticated chunks before the bad one.
    """
    reader = _buffered(src)
    if looks_armored(reader.peek(1)[:1]):
        reader = io.BufferedReader(ArmorReader(reader), _READ_BUFFER_SIZE)
    header, _ = read_header(reader)
    file_key = _unwrap(header, identities)
    PayloadDecryptor(reader, file_key).decrypt_to(dst)
