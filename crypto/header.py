"""The age v1 header: file key, recipient stanzas, canonical parsing and the MAC.

The header is parsed strictly (c2sp.org/age): every form the spec calls
non-canonical is rejected, so that exactly one byte string encodes a given header
and the MAC over the raw bytes authenticates what was parsed. Unknown stanza types
are kept as they are (their recipients may be other tools' users) and ignored by our
identities.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import io
import os
import re
from dataclasses import dataclass, field
from hashlib import sha256
from typing import BinaryIO

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from crypto.errors import HeaderError, HMACError

VERSION_LINE = b"age-encryption.org/v1\n"
STANZA_PREFIX = b"->"
MAC_PREFIX = b"---"
FILE_KEY_SIZE = 16
MAC_SIZE = 32
COLUMNS_PER_LINE = 64
BYTES_PER_LINE = COLUMNS_PER_LINE // 4 * 3

# Limits against a hostile header: a line longer than this or a header bigger than
# this is refused before it can exhaust memory. A hybrid stanza's argument line is
# about 1,500 bytes; the limits leave room for hundreds of recipients.
MAX_LINE_LENGTH = 64 * 1024
MAX_HEADER_SIZE = 4 * 1024 * 1024

# Argument characters are VCHAR (ABNF, RFC 5234): US-ASCII 0x21..0x7E. One regular
# expression, not a loop in Python: a post-quantum stanza's argument is 1,500 characters,
# checked for every stanza of every header sealed.
_ARGUMENT = re.compile(rb"[\x21-\x7e]+")
# "-> TYPE [ARGS]" needs the prefix and a type; "--- MAC" is exactly two parts.
_MIN_STANZA_LINE_PARTS = 2
_MAC_LINE_PARTS = 2

# Unpadded standard base64 (RFC 4648 section 4) as age uses it.
_BASE64_CHARACTERS = re.compile(rb"[A-Za-z0-9+/]*")


class FileKey:
    """The 128-bit symmetric key of one age file.

    Kept opaque on purpose: it is not printable, not comparable to bytes and not
    hashable, so it does not end up in a log, a cache key or an error message by
    accident. Only the header and payload code read the secret.
    """

    __slots__ = ("_secret",)

    def __init__(self, secret: bytes) -> None:
        if len(secret) != FILE_KEY_SIZE:
            raise ValueError("an age file key is 16 bytes")
        self._secret = bytes(secret)

    @classmethod
    def generate(cls) -> FileKey:
        """Return a fresh file key from the OS CSPRNG (never reuse one across files)."""
        return cls(os.urandom(FILE_KEY_SIZE))

    def secret_bytes(self) -> bytes:
        """Return the raw key; only for wrapping it into a recipient stanza."""
        return self._secret

    def derive(self, salt: bytes, info: bytes) -> bytes:
        """HKDF-SHA-256 of the file key, 32 bytes, as the spec derives every subkey."""
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(self._secret)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FileKey):
            return NotImplemented
        return hmac.compare_digest(self._secret, other._secret)

    __hash__ = None  # type: ignore[assignment]  # mutable-looking secret: keep it out of sets

    def __repr__(self) -> str:
        return "FileKey(<redacted>)"


@dataclass(frozen=True)
class Stanza:
    """One recipient stanza: a type, its other arguments and a binary body."""

    type: str
    args: tuple[str, ...] = ()
    body: bytes = field(default=b"", repr=False)

    def encode(self) -> bytes:
        """Return the canonical encoding: argument line, then the body at 64 columns."""
        arguments = (self.type, *self.args)
        for argument in arguments:
            if not argument.isascii() or not _is_valid_argument(argument.encode("ascii")):
                raise ValueError("stanza arguments are non-empty printable ASCII without spaces")
        lines = [b"-> " + " ".join(arguments).encode("ascii")]
        encoded_body = encode_base64(self.body)
        lines.extend(
            encoded_body[start : start + COLUMNS_PER_LINE]
            for start in range(0, len(encoded_body), COLUMNS_PER_LINE)
        )
        # The body always ends with a line shorter than 64 columns, empty if need be.
        if len(encoded_body) % COLUMNS_PER_LINE == 0:
            lines.append(b"")
        return b"\n".join(lines) + b"\n"


@dataclass(frozen=True)
class Header:
    """A parsed header: its stanzas, the MAC, and the raw bytes the MAC covers."""

    stanzas: tuple[Stanza, ...]
    mac: bytes = field(repr=False)
    # Everything from the version line through "---" (without the space after it).
    mac_input: bytes = field(repr=False)

    def verify_mac(self, file_key: FileKey) -> None:
        """Raise :class:`HMACError` unless the MAC matches under ``file_key``."""
        if not hmac.compare_digest(compute_mac(file_key, self.mac_input), self.mac):
            raise HMACError("header MAC mismatch: the header was modified or is corrupted")


def encode_base64(data: bytes) -> bytes:
    """Unpadded canonical base64, as every base64 field in an age header uses."""
    return base64.b64encode(data).rstrip(b"=")


def decode_base64(text: bytes) -> bytes:
    """Decode unpadded base64, rejecting padding, stray characters and non-canonical bits.

    The spec requires canonical encodings only: otherwise an attacker could change
    the header bytes (and so defeat any equality check on them) without changing
    its meaning.
    """
    if _BASE64_CHARACTERS.fullmatch(text) is None or len(text) % 4 == 1:
        raise HeaderError("invalid base64 in header (bad character, padding or length)")
    try:
        decoded = base64.b64decode(text + b"=" * (-len(text) % 4), validate=True)
    except binascii.Error:
        raise HeaderError("invalid base64 in header") from None
    if encode_base64(decoded) != text:
        raise HeaderError("non-canonical base64 in header")
    return decoded


def compute_mac(file_key: FileKey, mac_input: bytes) -> bytes:
    """HMAC-SHA-256 over the header through ``---`` with HKDF(file key, "header")."""
    hmac_key = file_key.derive(salt=b"", info=b"header")
    return hmac.new(hmac_key, mac_input, sha256).digest()


def encode_header(stanzas: list[Stanza] | tuple[Stanza, ...], file_key: FileKey) -> bytes:
    """Return the complete canonical header, including the MAC line and its newline."""
    if not stanzas:
        raise ValueError("an age header needs at least one recipient stanza")
    mac_input = VERSION_LINE + b"".join(s.encode() for s in stanzas) + MAC_PREFIX
    return mac_input + b" " + encode_base64(compute_mac(file_key, mac_input)) + b"\n"


def _is_valid_argument(argument: bytes) -> bool:
    return _ARGUMENT.fullmatch(argument) is not None


def _read_line(src: BinaryIO, consumed: int) -> bytes:
    line = src.readline(MAX_LINE_LENGTH + 1)
    if not line.endswith(b"\n"):
        if len(line) > MAX_LINE_LENGTH:
            raise HeaderError("header line is too long")
        raise HeaderError("file ends inside the header (truncated or not an age file)")
    if consumed + len(line) > MAX_HEADER_SIZE:
        raise HeaderError("header is too large")
    return line


def _parse_stanza(argument_line: bytes, src: BinaryIO, consumed: int) -> tuple[Stanza, bytes]:
    parts = argument_line[:-1].split(b" ")
    if parts[0] != STANZA_PREFIX or len(parts) < _MIN_STANZA_LINE_PARTS:
        raise HeaderError("malformed stanza line: expected '-> TYPE [ARGUMENTS]'")
    if not all(_is_valid_argument(a) for a in parts[1:]):
        raise HeaderError("stanza argument is empty or has a character outside VCHAR")
    raw = [argument_line]
    body = bytearray()
    while True:
        line = _read_line(src, consumed + sum(map(len, raw)))
        raw.append(line)
        if line.startswith((STANZA_PREFIX, MAC_PREFIX)):
            # Only a line shorter than 64 columns ends a stanza; a new stanza or the
            # MAC line appearing first means the final body line is missing.
            raise HeaderError("stanza body does not end with a short line")
        chunk = decode_base64(line[:-1])
        if len(chunk) > BYTES_PER_LINE:
            raise HeaderError("stanza body line is longer than 64 columns")
        body += chunk
        if len(chunk) < BYTES_PER_LINE:
            break
    stanza = Stanza(
        type=parts[1].decode("ascii"),
        args=tuple(a.decode("ascii") for a in parts[2:]),
        body=bytes(body),
    )
    return stanza, b"".join(raw)


def read_header(src: BinaryIO) -> tuple[Header, bytes]:
    """Read one header from the start of ``src`` and return it with its raw bytes.

    ``src`` is left positioned at the first payload byte. Raises
    :class:`HeaderError` on anything the spec does not allow.
    """
    version = src.readline(len(VERSION_LINE))
    if version != VERSION_LINE:
        if version.startswith(b"age-encryption.org/"):
            raise HeaderError("unsupported age format version (only v1 is supported)")
        raise HeaderError("not an age file: missing 'age-encryption.org/v1' line")
    raw = [version]
    consumed = len(version)
    stanzas: list[Stanza] = []
    while True:
        line = _read_line(src, consumed)
        if line.startswith(MAC_PREFIX):
            parts = line[:-1].split(b" ")
            if parts[0] != MAC_PREFIX or len(parts) != _MAC_LINE_PARTS:
                raise HeaderError("malformed MAC line: expected '--- MAC'")
            mac = decode_base64(parts[1])
            if len(mac) != MAC_SIZE:
                raise HeaderError("header MAC has the wrong length")
            if not stanzas:
                raise HeaderError("header has no recipient stanza")
            mac_input = b"".join(raw) + MAC_PREFIX
            return Header(tuple(stanzas), mac, mac_input), b"".join(raw) + line
        if not line.startswith(STANZA_PREFIX):
            raise HeaderError("unexpected line in header")
        stanza, stanza_raw = _parse_stanza(line, src, consumed)
        stanzas.append(stanza)
        raw.append(stanza_raw)
        consumed += len(stanza_raw)


def parse_header(header_bytes: bytes) -> Header:
    """Parse a stand-alone header (as stored apart from its payload).

    The bytes must hold exactly one header, through the MAC line's newline.
    """
    src = io.BytesIO(header_bytes)
    header, _ = read_header(src)
    if src.read(1):
        raise HeaderError("unexpected data after the header MAC line")
    return header
