"""age identities and recipients: X25519 and the hybrid mlkem768x25519 type.

Each recipient wraps a file key into a stanza; each identity finds and unwraps the
stanza addressed to it. Both types follow c2sp.org/age. The hybrid type is HPKE
base mode with the MLKEM768-X25519 KEM (X-Wing, id 0x647a), HKDF-SHA-256 and
ChaCha20-Poly1305, as in age 1.3, and protects files against a future quantum
computer ("harvest now, decrypt later"), which is why new identities are hybrid.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import ClassVar, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hpke
from cryptography.hazmat.primitives.asymmetric import mlkem, x25519
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from crypto import bech32
from crypto.errors import AgeError, HeaderError, KeyFormatError
from crypto.header import FILE_KEY_SIZE, FileKey, Stanza, decode_base64, encode_base64

X25519_RECIPIENT_HRP = "age"
X25519_IDENTITY_HRP = "AGE-SECRET-KEY-"
HYBRID_RECIPIENT_HRP = "age1pq"
HYBRID_IDENTITY_HRP = "AGE-SECRET-KEY-PQ-"

X25519_STANZA_TYPE = "X25519"
HYBRID_STANZA_TYPE = "mlkem768x25519"
_X25519_INFO = b"age-encryption.org/v1/X25519"
_HYBRID_INFO = b"age-encryption.org/mlkem768x25519"

_KEY_SIZE = 32
_WRAPPED_FILE_KEY_SIZE = FILE_KEY_SIZE + 16  # ChaCha20-Poly1305 tag
_ZERO_NONCE = bytes(12)
# MLKEM768-X25519 sizes (filippo.io/hpke-pq): encapsulation key 1184 + X25519 32,
# ciphertext 1088 + X25519 share 32. The 32-byte seed expands to 64 + 32 bytes.
_MLKEM_PUBLIC_SIZE = 1184
_HYBRID_PUBLIC_SIZE = _MLKEM_PUBLIC_SIZE + _KEY_SIZE
_MLKEM_CIPHERTEXT_SIZE = 1088
_HYBRID_ENC_SIZE = _MLKEM_CIPHERTEXT_SIZE + _KEY_SIZE
_MLKEM_SEED_SIZE = 64
_HPKE_SUITE = hpke.Suite(
    hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305
)


class Recipient(Protocol):
    """Anything that can wrap a file key into a stanza (the public side)."""

    post_quantum: ClassVar[bool]

    def wrap(self, file_key: FileKey) -> Stanza:
        """Return a new stanza wrapping ``file_key`` for this recipient."""
        ...


class Identity(Protocol):
    """Anything that can find and unwrap its stanza (the secret side)."""

    def unwrap(self, stanzas: Sequence[Stanza]) -> FileKey | None:
        """Return the file key, None if no stanza is ours, or raise HeaderError."""
        ...


def _hkdf(ikm: bytes, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=_KEY_SIZE, salt=salt, info=info).derive(ikm)


def _single_argument(stanza: Stanza, expected_size: int) -> bytes:
    if len(stanza.args) != 1:
        raise HeaderError(f"{stanza.type} stanza must have exactly one argument")
    value = decode_base64(stanza.args[0].encode("ascii"))
    if len(value) != expected_size:
        raise HeaderError(f"{stanza.type} stanza argument has the wrong length")
    # Checked before any decryption to avoid a partitioning oracle (age spec).
    if len(stanza.body) != _WRAPPED_FILE_KEY_SIZE:
        raise HeaderError(f"{stanza.type} stanza body has the wrong length")
    return value


class X25519Recipient:
    """An ``age1…`` recipient: an X25519 public key."""

    post_quantum: ClassVar[bool] = False

    def __init__(self, public_key: x25519.X25519PublicKey) -> None:
        self._public_key = public_key
        self._public_bytes = public_key.public_bytes_raw()

    @classmethod
    def from_string(cls, text: str) -> X25519Recipient:
        """Parse an ``age1…`` string; raise KeyFormatError if malformed."""
        hrp, data = bech32.decode(text)
        if hrp != X25519_RECIPIENT_HRP or len(data) != _KEY_SIZE:
            raise KeyFormatError("not an X25519 age recipient (age1…, lowercase)")
        return cls(x25519.X25519PublicKey.from_public_bytes(data))

    @property
    def public_bytes(self) -> bytes:
        """The raw 32-byte X25519 public key."""
        return self._public_bytes

    def __str__(self) -> str:
        return bech32.encode(X25519_RECIPIENT_HRP, self._public_bytes)

    def __repr__(self) -> str:
        return f"X25519Recipient({self})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, X25519Recipient) and self._public_bytes == other._public_bytes

    def __hash__(self) -> int:
        return hash(self._public_bytes)

    def wrap(self, file_key: FileKey) -> Stanza:
        """Wrap ``file_key`` under a fresh ephemeral X25519 share."""
        ephemeral = x25519.X25519PrivateKey.generate()
        share = ephemeral.public_key().public_bytes_raw()
        try:
            shared_secret = ephemeral.exchange(self._public_key)
        except ValueError:
            raise KeyFormatError("X25519 recipient is a low-order point") from None
        wrap_key = _hkdf(shared_secret, share + self._public_bytes, _X25519_INFO)
        body = ChaCha20Poly1305(wrap_key).encrypt(_ZERO_NONCE, file_key.secret_bytes(), None)
        return Stanza(X25519_STANZA_TYPE, (encode_base64(share).decode("ascii"),), body)


class X25519Identity:
    """An ``AGE-SECRET-KEY-1…`` identity: an X25519 private key."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) != _KEY_SIZE:
            raise KeyFormatError("an X25519 identity is 32 bytes")
        self._secret = bytes(secret)
        self._private_key = x25519.X25519PrivateKey.from_private_bytes(secret)
        self.recipient = X25519Recipient(self._private_key.public_key())

    @classmethod
    def generate(cls) -> X25519Identity:
        """Return a new identity from the OS CSPRNG."""
        return cls(os.urandom(_KEY_SIZE))

    @classmethod
    def from_string(cls, text: str) -> X25519Identity:
        """Parse an ``AGE-SECRET-KEY-1…`` string; raise KeyFormatError if malformed."""
        hrp, data = bech32.decode(text)
        if hrp != X25519_IDENTITY_HRP:
            raise KeyFormatError("not an X25519 age identity (AGE-SECRET-KEY-1…, uppercase)")
        return cls(data)

    def to_string(self) -> str:
        """Return the secret encoding; handle it like the key it is."""
        return bech32.encode(X25519_IDENTITY_HRP, self._secret).upper()

    def __repr__(self) -> str:
        return f"X25519Identity(recipient={self.recipient})"

    def unwrap(self, stanzas: Sequence[Stanza]) -> FileKey | None:
        """Return the file key from the first X25519 stanza that opens, else None."""
        for stanza in stanzas:
            if stanza.type != X25519_STANZA_TYPE:
                continue
            share = _single_argument(stanza, _KEY_SIZE)
            try:
                shared_secret = self._private_key.exchange(
                    x25519.X25519PublicKey.from_public_bytes(share)
                )
            except ValueError:
                # An all-zero shared secret: the share is a low-order point, which
                # the spec requires aborting on rather than skipping.
                raise HeaderError("X25519 stanza share is a low-order point") from None
            salt = share + self.recipient.public_bytes
            wrap_key = _hkdf(shared_secret, salt, _X25519_INFO)
            try:
                file_key = ChaCha20Poly1305(wrap_key).decrypt(_ZERO_NONCE, stanza.body, None)
            except InvalidTag:
                continue  # addressed to another X25519 recipient
            return FileKey(file_key)
        return None


class HybridRecipient:
    """An ``age1pq1…`` recipient: an MLKEM768-X25519 public key (1,216 bytes)."""

    post_quantum: ClassVar[bool] = True

    def __init__(self, public_bytes: bytes) -> None:
        if len(public_bytes) != _HYBRID_PUBLIC_SIZE:
            raise KeyFormatError("an mlkem768x25519 recipient is 1216 bytes")
        try:
            mlkem_key = mlkem.MLKEM768PublicKey.from_public_bytes(public_bytes[:_MLKEM_PUBLIC_SIZE])
        except ValueError:
            raise KeyFormatError("mlkem768x25519 recipient has an invalid ML-KEM key") from None
        x25519_key = x25519.X25519PublicKey.from_public_bytes(public_bytes[_MLKEM_PUBLIC_SIZE:])
        self._public_bytes = bytes(public_bytes)
        self._public_key = hpke.MLKEM768X25519PublicKey(mlkem_key, x25519_key)
        # The ~1,950-character string, made once: recipients are printed into every
        # access list and compared as text far more often than they are parsed.
        self._encoded: str | None = None

    @classmethod
    def from_string(cls, text: str) -> HybridRecipient:
        """Parse an ``age1pq1…`` string; raise KeyFormatError if malformed."""
        hrp, data = bech32.decode(text)
        if hrp != HYBRID_RECIPIENT_HRP:
            raise KeyFormatError("not a hybrid age recipient (age1pq1…, lowercase)")
        recipient = cls(data)
        # Lowercase (the hrp check above) with a valid checksum: the canonical encoding.
        recipient._encoded = text
        return recipient

    def __str__(self) -> str:
        if self._encoded is None:
            self._encoded = bech32.encode(HYBRID_RECIPIENT_HRP, self._public_bytes)
        return self._encoded

    def __repr__(self) -> str:
        return f"HybridRecipient({str(self)[:20]}…)"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HybridRecipient) and self._public_bytes == other._public_bytes

    def __hash__(self) -> int:
        return hash(self._public_bytes)

    def wrap(self, file_key: FileKey) -> Stanza:
        """Seal ``file_key`` with HPKE to this recipient (fresh encapsulation each time)."""
        sealed = _HPKE_SUITE.encrypt(file_key.secret_bytes(), self._public_key, info=_HYBRID_INFO)
        enc, body = sealed[:_HYBRID_ENC_SIZE], sealed[_HYBRID_ENC_SIZE:]
        return Stanza(HYBRID_STANZA_TYPE, (encode_base64(enc).decode("ascii"),), body)


class HybridIdentity:
    """An ``AGE-SECRET-KEY-PQ-1…`` identity: a 32-byte MLKEM768-X25519 seed."""

    def __init__(self, seed: bytes) -> None:
        if len(seed) != _KEY_SIZE:
            raise KeyFormatError("an mlkem768x25519 identity is 32 bytes")
        self._seed = bytes(seed)
        # expandKey from filippo.io/hpke-pq: SHAKE256(seed, 96) gives the ML-KEM
        # seed (d || z, 64 bytes) and the X25519 scalar (32 bytes).
        expanded = hashlib.shake_256(seed).digest(_MLKEM_SEED_SIZE + _KEY_SIZE)
        mlkem_key = mlkem.MLKEM768PrivateKey.from_seed_bytes(expanded[:_MLKEM_SEED_SIZE])
        self._x25519_key = x25519.X25519PrivateKey.from_private_bytes(expanded[_MLKEM_SEED_SIZE:])
        self._private_key = hpke.MLKEM768X25519PrivateKey(mlkem_key, self._x25519_key)
        self.recipient = HybridRecipient(
            mlkem_key.public_key().public_bytes_raw()
            + self._x25519_key.public_key().public_bytes_raw()
        )

    @classmethod
    def generate(cls) -> HybridIdentity:
        """Return a new identity from the OS CSPRNG."""
        return cls(os.urandom(_KEY_SIZE))

    @classmethod
    def from_string(cls, text: str) -> HybridIdentity:
        """Parse an ``AGE-SECRET-KEY-PQ-1…`` string; raise KeyFormatError if malformed."""
        hrp, data = bech32.decode(text)
        if hrp != HYBRID_IDENTITY_HRP:
            raise KeyFormatError("not a hybrid age identity (AGE-SECRET-KEY-PQ-1…, uppercase)")
        return cls(data)

    def to_string(self) -> str:
        """Return the secret encoding; handle it like the key it is."""
        return bech32.encode(HYBRID_IDENTITY_HRP, self._seed).upper()

    def __repr__(self) -> str:
        return f"HybridIdentity(recipient={self.recipient!r})"

    def unwrap(self, stanzas: Sequence[Stanza]) -> FileKey | None:
        """Return the file key from the first mlkem768x25519 stanza that opens, else None."""
        for stanza in stanzas:
            if stanza.type != HYBRID_STANZA_TYPE:
                continue
            enc = _single_argument(stanza, _HYBRID_ENC_SIZE)
            try:
                # The HPKE library reports an all-zero X25519 secret as a plain
                # decryption failure; age treats it as a malformed stanza.
                self._x25519_key.exchange(
                    x25519.X25519PublicKey.from_public_bytes(enc[_MLKEM_CIPHERTEXT_SIZE:])
                )
            except ValueError:
                raise HeaderError("mlkem768x25519 stanza has a low-order X25519 share") from None
            try:
                file_key = _HPKE_SUITE.decrypt(enc + stanza.body, self._private_key, _HYBRID_INFO)
            except InvalidTag:
                continue
            return FileKey(file_key)
        return None


class FallbackIdentity:
    """Opens what either of two identities opens: ``primary`` first, then ``fallback``.

    For a key rotation in progress: a header not yet re-granted opens with the old key,
    one already re-granted (or new) with the new key, and the reader needs both.
    """

    def __init__(self, primary: Identity, fallback: Identity) -> None:
        self.primary = primary
        self.fallback = fallback

    def __repr__(self) -> str:
        return f"FallbackIdentity({self.primary!r}, {self.fallback!r})"

    def unwrap(self, stanzas: Sequence[Stanza]) -> FileKey | None:
        """Return the file key from ``primary``'s stanza, else from ``fallback``'s."""
        file_key = self.primary.unwrap(stanzas)
        return file_key if file_key is not None else self.fallback.unwrap(stanzas)


AnyIdentity = X25519Identity | HybridIdentity
AnyRecipient = X25519Recipient | HybridRecipient


def generate_identity(*, post_quantum: bool = True) -> AnyIdentity:
    """Return a new identity: hybrid (post-quantum) unless asked for X25519."""
    return HybridIdentity.generate() if post_quantum else X25519Identity.generate()


def parse_recipient(text: str) -> AnyRecipient:
    """Parse an ``age1…`` or ``age1pq1…`` recipient string."""
    text = text.strip()
    if text.startswith(HYBRID_RECIPIENT_HRP + "1"):
        return HybridRecipient.from_string(text)
    if text.startswith(X25519_RECIPIENT_HRP + "1"):
        return X25519Recipient.from_string(text)
    raise KeyFormatError("unsupported or malformed recipient (expected age1… or age1pq1…)")


def parse_identity(text: str) -> AnyIdentity:
    """Parse an ``AGE-SECRET-KEY-1…`` or ``AGE-SECRET-KEY-PQ-1…`` identity string."""
    text = text.strip()
    if text.startswith(HYBRID_IDENTITY_HRP + "1"):
        return HybridIdentity.from_string(text)
    if text.startswith(X25519_IDENTITY_HRP + "1"):
        return X25519Identity.from_string(text)
    # Never echo the text: it may be a mistyped secret key.
    raise KeyFormatError("unsupported or malformed identity (expected AGE-SECRET-KEY-…)")


def _key_lines(text: str) -> Iterable[tuple[int, str]]:
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            yield number, stripped


def parse_identities(text: str) -> list[AnyIdentity]:
    """Parse an identity file: one identity per line, ``#`` comments, blank lines."""
    identities = []
    for number, line in _key_lines(text):
        try:
            identities.append(parse_identity(line))
        except KeyFormatError as error:
            raise KeyFormatError(f"identity file line {number}: {error}") from None
    if not identities:
        raise KeyFormatError("identity file holds no identity")
    return identities



def read_identity_files(paths: Sequence[str]) -> list[AnyIdentity]:
    """Every identity of the identity files at ``paths``; an error names its file."""
    identities: list[AnyIdentity] = []
    for path in paths:
        try:
            identities.extend(parse_identities(Path(path).read_text(encoding="utf-8")))
        except AgeError as error:
            raise AgeError(f"{path}: {error}") from None
    return identities

def parse_recipients(text: str) -> list[AnyRecipient]:
    """Parse a recipients file: one recipient per line, ``#`` comments, blank lines."""
    recipients = []
    for number, line in _key_lines(text):
        try:
            recipients.append(parse_recipient(line))
        except KeyFormatError as error:
            raise KeyFormatError(f"recipients file line {number}: {error}") from None
    if not recipients:
        raise KeyFormatError("recipients file holds no recipient")
    return recipients
