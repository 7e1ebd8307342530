"""Signed tree heads: C2SP tlog-checkpoint bodies in C2SP signed-note format, Ed25519.

A checkpoint states a log's origin, its size and its RFC 9162 Merkle root (see
:mod:`crypto.merkle`). Signed, it is what an auditor keeps: any later checkpoint must be
provably consistent with it, so the log cannot rewrite history without being caught.
The formats are the public ones (c2sp.org/tlog-checkpoint, c2sp.org/signed-note, as
golang.org/x/mod/sumdb/note implements them), so tools from other ecosystems can check
our tree heads.

Keys are text, as in the Go note package:

* verifier key: ``<name>+<key ID, 8 hex>+<base64(0x01 || Ed25519 public key)>``
* signer key: ``PRIVATE+KEY+<name>+<key ID, 8 hex>+<base64(0x01 || Ed25519 seed)>``

where the key ID is the first four bytes, big-endian, of
``SHA-256(name || "\\n" || 0x01 || public key)`` (signed-note "Ed25519 signatures").

A signed note is its text, a blank line, then lines ``— <name> <base64(key ID ||
signature)>``. Only signatures by the one key we are given count; lines from other keys
(witnesses, a rotated key) are ignored as the spec requires, but a line naming our key
that fails to verify rejects the whole note. Every failure raises
:class:`~crypto.errors.CheckpointError`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass, field
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from crypto.errors import CheckpointError
from crypto.merkle import HASH_SIZE

__all__ = [
    "MAX_BODY_BYTES",
    "MAX_NOTE_BYTES",
    "MAX_SIGNATURE_LINES",
    "Checkpoint",
    "SignerKey",
    "VerifierKey",
    "generate_signer_key",
    "open_checkpoint",
    "open_note",
    "parse_signer_key",
    "parse_verifier_key",
    "sign_checkpoint",
    "sign_note",
    "verifier_key_for",
]

ALGORITHM_ED25519: Final = 0x01
ED25519_KEY_BYTES: Final = 32
ED25519_SIGNATURE_BYTES: Final = 64
KEY_ID_BYTES: Final = 4
# Checkpoint bodies are three short lines; 64 KiB leaves room for extension lines while
# keeping a hostile note cheap to refuse.
MAX_BODY_BYTES: Final = 64 * 1024
# signed-note: verifiers MUST accept at least 16 signatures; Go's note package refuses
# more than 100. Post-quantum signature lines can approach 7 KiB of base64.
MAX_SIGNATURE_LINES: Final = 100
MAX_NOTE_BYTES: Final = MAX_BODY_BYTES + MAX_SIGNATURE_LINES * 8 * 1024
# Origin, tree size and root hash; extension lines may follow.
MIN_BODY_LINES: Final = 3
# A tree size is a uint64 in every implementation we interoperate with.
MAX_TREE_SIZE: Final = 2**64 - 1

_SIGNATURE_PREFIX: Final = "\u2014 "  # em dash, space
_SIGNER_PREFIX: Final = "PRIVATE+KEY+"
_KEY_ID_PATTERN: Final = re.compile(r"[0-9a-fA-F]{8}")
_TREE_SIZE_PATTERN: Final = re.compile(r"0|[1-9][0-9]{0,19}")
# ASCII control characters other than newline: signed-note forbids them anywhere.
_FORBIDDEN_CONTROL: Final = re.compile(r"[\x00-\x09\x0b-\x1f]")


@dataclass(frozen=True, slots=True)
class VerifierKey:
    """A parsed verifier key: the public half, safe to publish."""

    name: str
    key_id: int
    public_key: Ed25519PublicKey


@dataclass(frozen=True, slots=True)
class SignerKey:
    """A parsed signer key. Its private key must never be logged; it is not in ``repr``."""

    name: str
    key_id: int
    private_key: Ed25519PrivateKey = field(repr=False)


def _is_valid_name(name: str) -> bool:
    # signed-note: non-empty, no Unicode spaces, no "+". Control characters and lone
    # surrogates could never appear in a valid note either, so refuse them here.
    return (
        bool(name)
        and "+" not in name
        and not any(char.isspace() for char in name)
        and _FORBIDDEN_CONTROL.search(name) is None
        and _encodes_as_utf8(name)
    )


def _encodes_as_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _decode_base64(text: str) -> bytes | None:
    # Canonical base64 only (RFC 4648 §4): one encoding per value, so a signature line or
    # key cannot be altered without changing its meaning.
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    if base64.b64encode(raw).decode("ascii") != text:
        return None
    return raw


def _key_id(name: str, public_key: bytes) -> int:
    digest = hashlib.sha256(
        name.encode("utf-8") + b"\n" + bytes([ALGORITHM_ED25519]) + public_key
    ).digest()
    return int.from_bytes(digest[:KEY_ID_BYTES], "big")


def _key_material(key_id_hex: str, key_base64: str) -> tuple[int, bytes]:
    if _KEY_ID_PATTERN.fullmatch(key_id_hex) is None:
        raise CheckpointError("key ID must be 8 hexadecimal digits")
    raw = _decode_base64(key_base64)
    if raw is None or len(raw) != 1 + ED25519_KEY_BYTES:
        raise CheckpointError("key data is malformed")
    if raw[0] != ALGORITHM_ED25519:
        raise CheckpointError("key algorithm is not Ed25519")
    return int(key_id_hex, 16), raw[1:]


def _raw_public_key(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.public_key().public_bytes_raw()


def parse_verifier_key(text: str) -> VerifierKey:
    """Parse ``<name>+<key ID>+<base64 key>``, checking the name and the key ID."""
    name, _, rest = text.partition("+")
    key_id_hex, _, key_base64 = rest.partition("+")
    if not _is_valid_name(name):
        raise CheckpointError("key name is empty or contains spaces or '+'")
    key_id, public_bytes = _key_material(key_id_hex, key_base64)
    if key_id != _key_id(name, public_bytes):
        raise CheckpointError("key ID does not match the key")
    return VerifierKey(name, key_id, Ed25519PublicKey.from_public_bytes(public_bytes))


def parse_signer_key(text: str) -> SignerKey:
    """Parse ``PRIVATE+KEY+<name>+<key ID>+<base64 seed>``, checking name and key ID.

    Messages never include the key text.
    """
    if not text.startswith(_SIGNER_PREFIX):
        raise CheckpointError("signer key must start with PRIVATE+KEY+")
    name, _, rest = text[len(_SIGNER_PREFIX) :].partition("+")
    key_id_hex, _, seed_base64 = rest.partition("+")
    if not _is_valid_name(name):
        raise CheckpointError("key name is empty or contains spaces or '+'")
    key_id, seed = _key_material(key_id_hex, seed_base64)
    private_key = Ed25519PrivateKey.from_private_bytes(seed)
    # The key ID names the public key, so it can only be checked after deriving it.
    if key_id != _key_id(name, _raw_public_key(private_key)):
        raise CheckpointError("key ID does not match the key")
    return SignerKey(name, key_id, private_key)


def _format_key(name: str, key_id: int, raw: bytes) -> str:
    encoded = base64.b64encode(bytes([ALGORITHM_ED25519]) + raw).decode("ascii")
    return f"{name}+{key_id:08x}+{encoded}"


def generate_signer_key(name: str) -> str:
    """Return a new signer key for ``name`` (a log origin, e.g. ``example.org/audit``).

    Keep it secret: anyone holding it can sign tree heads for the log.
    """
    if not _is_valid_name(name):
        raise CheckpointError("key name is empty or contains spaces or '+'")
    private_key = Ed25519PrivateKey.generate()
    key_id = _key_id(name, _raw_public_key(private_key))
    return _SIGNER_PREFIX + _format_key(name, key_id, private_key.private_bytes_raw())


def verifier_key_for(signer_key: str) -> str:
    """Return the verifier key (public, to publish) matching a signer key."""
    signer = parse_signer_key(signer_key)
    return _format_key(signer.name, signer.key_id, _raw_public_key(signer.private_key))


def _check_note_text(text: str, limit: int, what: str) -> None:
    if len(text) > limit or not _encodes_as_utf8(text) or len(text.encode("utf-8")) > limit:
        raise CheckpointError(f"{what} is too large or not valid UTF-8")
    if _FORBIDDEN_CONTROL.search(text):
        raise CheckpointError(f"{what} contains control characters")


def sign_note(body: str, signer_key: str) -> str:
    """Return ``body`` as a signed note with one Ed25519 signature line.

    ``body`` must end in a newline and hold no control characters other than newlines.
    """
    signer = parse_signer_key(signer_key)
    _check_note_text(body, MAX_BODY_BYTES, "note text")
    if not body.endswith("\n"):
        raise CheckpointError("note text must end with a newline")
    signature = signer.private_key.sign(body.encode("utf-8"))
    encoded = base64.b64encode(signer.key_id.to_bytes(KEY_ID_BYTES, "big") + signature)
    return f"{body}\n{_SIGNATURE_PREFIX}{signer.name} {encoded.decode('ascii')}\n"


def _split_note(note: str) -> tuple[str, list[str]]:
    _check_note_text(note, MAX_NOTE_BYTES, "note")
    # The text ends at the last blank line; it may itself contain blank lines.
    split = note.rfind("\n\n")
    if split < 0:
        raise CheckpointError("note has no signature block")
    text, block = note[: split + 1], note[split + 2 :]
    if not block.endswith("\n"):
        raise CheckpointError("note has no signature lines or lacks a final newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURE_LINES:
        raise CheckpointError("note has too many signatures")
    return text, lines


def _parse_signature_line(line: str) -> tuple[str, int, bytes]:
    if not line.startswith(_SIGNATURE_PREFIX):
        raise CheckpointError("malformed signature line")
    name, _, encoded = line[len(_SIGNATURE_PREFIX) :].partition(" ")
    raw = _decode_base64(encoded)
    if not _is_valid_name(name) or raw is None or len(raw) <= KEY_ID_BYTES:
        raise CheckpointError("malformed signature line")
    return name, int.from_bytes(raw[:KEY_ID_BYTES], "big"), raw[KEY_ID_BYTES:]


def open_note(note: str, verifier_key: str) -> str:
    """Return the text of a signed note if ``verifier_key`` signed it.

    Lines from other keys are ignored (signed-note: they MUST be, even if they share the
    name or the key ID but not both). Every line naming this key must verify, and at
    least one must exist. The returned text includes its final newline.
    """
    verifier = parse_verifier_key(verifier_key)
    text, lines = _split_note(note)
    message = text.encode("utf-8")
    verified = False
    for line in lines:
        name, key_id, signature = _parse_signature_line(line)
        if (name, key_id) != (verifier.name, verifier.key_id):
            continue
        if len(signature) != ED25519_SIGNATURE_BYTES:
            raise CheckpointError("signature by the trusted key does not verify")
        try:
            verifier.public_key.verify(signature, message)
        except InvalidSignature:
            raise CheckpointError("signature by the trusted key does not verify") from None
        verified = True
    if not verified:
        raise CheckpointError("note is not signed by the trusted key")
    return text


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A log's signed tree head: origin, tree size, root hash (c2sp.org/tlog-checkpoint).

    Extension lines are opaque and, per the spec, not recommended. Invalid values raise
    :class:`~crypto.errors.CheckpointError` at construction.
    """

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        """Refuse values that could not round-trip through :meth:`to_body`."""
        for line in (self.origin, *self.extensions):
            if not line or "\n" in line or _FORBIDDEN_CONTROL.search(line):
                raise CheckpointError("checkpoint lines must be non-empty single lines")
        if not 0 <= self.size <= MAX_TREE_SIZE:
            raise CheckpointError("tree size is out of range")
        if len(self.root_hash) != HASH_SIZE:
            raise CheckpointError(f"root hash must be {HASH_SIZE} bytes")

    def to_body(self) -> str:
        """Return the note text: origin, size, base64 root, extensions; each line ends "\\n"."""
        root = base64.b64encode(self.root_hash).decode("ascii")
        return "".join(
            f"{line}\n" for line in (self.origin, str(self.size), root, *self.extensions)
        )

    @classmethod
    def from_body(cls, text: str) -> Checkpoint:
        """Parse a checkpoint body strictly: three or more non-empty lines, canonical values.

        The size is ASCII decimal without leading zeros, the root canonical base64 of 32
        bytes; the text must end in a newline and fit in :data:`MAX_BODY_BYTES`.
        """
        _check_note_text(text, MAX_BODY_BYTES, "checkpoint")
        if not text.endswith("\n"):
            raise CheckpointError("checkpoint must end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < MIN_BODY_LINES or not all(lines):
            raise CheckpointError("checkpoint needs at least three non-empty lines")
        origin, size_text, root_text, *extensions = lines
        if _TREE_SIZE_PATTERN.fullmatch(size_text) is None:
            raise CheckpointError("tree size must be decimal without leading zeros")
        root_hash = _decode_base64(root_text)
        if root_hash is None:
            raise CheckpointError("root hash is not canonical base64")
        return cls(origin, int(size_text), root_hash, tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, signer_key: str) -> str:
    """Return ``checkpoint`` as a signed note."""
    return sign_note(checkpoint.to_body(), signer_key)


def has_checkpoint_shape(note: str) -> bool:
    """Whether ``note`` is laid out as a signed checkpoint (a checkpoint body and
    well-formed signature lines), whoever signed it. Nothing is verified: this only tells
    "not a tree head at all" from "a tree head this key did not sign"."""
    try:
        text, lines = _split_note(note)
        for line in lines:
            _parse_signature_line(line)
        Checkpoint.from_body(text)
    except CheckpointError:
        return False
    return bool(lines)


def open_checkpoint(note: str, verifier_key: str, *, origin: str | None = None) -> Checkpoint:
    """Verify a signed checkpoint and parse it.

    The origin must equal ``origin``, by default the key's name (tlog-checkpoint: the
    log's key name SHOULD match its origin), so one log's key cannot vouch for another
    log's tree.
    """
    checkpoint = Checkpoint.from_body(open_note(note, verifier_key))
    expected = parse_verifier_key(verifier_key).name if origin is None else origin
    if checkpoint.origin != expected:
        raise CheckpointError("checkpoint origin is not the expected log")
    return checkpoint
