"""Wrapping identity secrets at rest: under a password (staff) or a raw key (reporters).

Envelope layout (all integers big-endian), version 1::

    magic       4 bytes   b"RPkw"
    version     1 byte    0x01
    kind        1 byte    0x01 password (Argon2id), 0x02 raw 32-byte key
    -- kind 0x01 only --
    time_cost   4 bytes   Argon2id passes
    memory      4 bytes   Argon2id memory in KiB
    parallelism 1 byte    Argon2id lanes
    salt        16 bytes  fresh for every wrap
    -- both kinds --
    nonce       12 bytes  fresh for every wrap
    ciphertext  rest      ChaCha20-Poly1305(secret), 16-byte tag included

Everything before the ciphertext is the AEAD associated data, so the parameters, the salt
and the kind cannot be changed without the tag failing: a password blob never opens as a
key blob, and nobody can lower a blob's recorded cost. The recorded cost lets the policy
rise later (:func:`needs_rewrap`). A key blob may also be bound to a ``context`` (it
follows the header in the associated data, and is not stored): it then opens only with
the same context, so a blob moved to another row does not open there.
"""

from __future__ import annotations

import secrets
import struct
import unicodedata
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from crypto.errors import KdfParameterError, KeyWrapError
from crypto.kdf import Argon2Params, derive

__all__ = [
    "KEY_BYTES",
    "MAX_KEY_SEALED_BYTES",
    "MAX_PASSWORD_BYTES",
    "MAX_SECRET_BYTES",
    "needs_rewrap",
    "rewrap_with_password",
    "unwrap_with_key",
    "unwrap_with_password",
    "wrap_with_key",
    "wrap_with_password",
]

MAGIC: Final = b"RPkw"
VERSION: Final = 1
KIND_PASSWORD: Final = 1
KIND_KEY: Final = 2

KEY_BYTES: Final = 32
SALT_BYTES: Final = 16
NONCE_BYTES: Final = 12
TAG_BYTES: Final = 16
# An age identity string is under 100 bytes; 4 KiB leaves room for other key types
# while bounding what an untrusted blob can make us decrypt.
MAX_SECRET_BYTES: Final = 4096
# Raw-key blobs also seal small records (a server-side session): a larger, still fixed,
# bound on what an untrusted blob can make us decrypt.
MAX_KEY_SEALED_BYTES: Final = 64 * 1024
# Argon2id hashes the password once, so length is not a cost problem; the bound keeps
# request bodies and memory predictable and is far above any passphrase.
MAX_PASSWORD_BYTES: Final = 1024

_PREFIX: Final = struct.Struct(">4sBB")
_PASSWORD_FIELDS: Final = struct.Struct(f">IIB{SALT_BYTES}s")
_PASSWORD_HEADER_BYTES: Final = _PREFIX.size + _PASSWORD_FIELDS.size + NONCE_BYTES
_KEY_HEADER_BYTES: Final = _PREFIX.size + NONCE_BYTES
MAX_BLOB_BYTES: Final = _PASSWORD_HEADER_BYTES + MAX_SECRET_BYTES + TAG_BYTES

# One message for every unwrap failure, so no caller can tell a wrong password from a
# damaged blob (and so none can leak the difference to a user or a log).
_UNWRAP_FAILED: Final = "cannot unwrap the secret: wrong password or key, or damaged data"


def wrap_with_password(secret: bytes, password: str, params: Argon2Params) -> bytes:
    """Encrypt ``secret`` under a key derived from ``password`` with Argon2id at ``params``.

    The password is NFC-normalised first (RFC 8265 OpaqueString), so the same passphrase
    typed on different systems gives the same key. Raises ``ValueError`` for an empty or
    oversized secret or password.
    """
    _check_secret(secret)
    password_bytes = _password_bytes(password)
    if not password_bytes:
        raise ValueError("password must not be empty")
    salt = secrets.token_bytes(SALT_BYTES)
    nonce = secrets.token_bytes(NONCE_BYTES)
    header = (
        _PREFIX.pack(MAGIC, VERSION, KIND_PASSWORD)
        + _PASSWORD_FIELDS.pack(params.time_cost, params.memory_cost_kib, params.parallelism, salt)
        + nonce
    )
    key = derive(password_bytes, salt, params, KEY_BYTES)
    return header + ChaCha20Poly1305(key).encrypt(nonce, secret, header)


def unwrap_with_password(blob: bytes, password: str) -> bytes:
    """Return the secret in a password blob.

    Raises :class:`~crypto.errors.KeyWrapError`, with the same message, for a wrong
    password, a key blob, or a blob that is damaged, truncated or of unknown version.
    """
    params, salt, nonce, header, ciphertext = _parse_password_blob(blob)
    try:
        password_bytes = _password_bytes(password)
    except ValueError:
        raise KeyWrapError(_UNWRAP_FAILED) from None
    key = derive(password_bytes, salt, params, KEY_BYTES)
    return _decrypt(key, nonce, ciphertext, header)


def rewrap_with_password(
    blob: bytes, old_password: str, new_password: str, params: Argon2Params
) -> bytes:
    """Re-encrypt a password blob under ``new_password`` at ``params``, with fresh salt and nonce.

    Use it for a password change, and with the same password on both sides to raise the
    cost of a blob for which :func:`needs_rewrap` is true. Raises
    :class:`~crypto.errors.KeyWrapError` if ``old_password`` does not open ``blob``.
    """
    return wrap_with_password(unwrap_with_password(blob, old_password), new_password, params)


def needs_rewrap(blob: bytes, params: Argon2Params) -> bool:
    """True if a password blob was wrapped at a lower time or memory cost than ``params``.

    Looks only at the (unauthenticated) header, so an attacker who can edit the blob can
    change the answer; at worst that causes an extra re-wrap, which the tag then guards.
    A policy that lowers the cost does not trigger a downgrade of existing blobs.
    Raises :class:`~crypto.errors.KeyWrapError` if ``blob`` is not a password blob.
    """
    stored, *_ = _parse_password_blob(blob)
    return not stored.meets(params)


def wrap_with_key(secret: bytes, key: bytes, *, context: bytes = b"") -> bytes:
    """Encrypt ``secret`` under a 32-byte key (the receipt-derived wrapping key, or a
    session's key), bound to ``context`` if one is given.

    Raises ``ValueError`` for a key that is not 32 bytes or an empty or oversized secret
    (up to :data:`MAX_KEY_SEALED_BYTES`).
    """
    _check_secret(secret, MAX_KEY_SEALED_BYTES)
    _check_key(key)
    nonce = secrets.token_bytes(NONCE_BYTES)
    header = _PREFIX.pack(MAGIC, VERSION, KIND_KEY) + nonce
    return header + ChaCha20Poly1305(key).encrypt(nonce, secret, header + context)


def unwrap_with_key(blob: bytes, key: bytes, *, context: bytes = b"") -> bytes:
    """Return the secret in a key blob wrapped with the same ``context``.

    Raises :class:`~crypto.errors.KeyWrapError`, with the same message, for a wrong key
    or context, a password blob, or a damaged blob; ``ValueError`` if ``key`` is not 32
    bytes.
    """
    _check_key(key)
    _check_prefix(blob, KIND_KEY)
    if not _KEY_HEADER_BYTES + TAG_BYTES < len(blob) <= (
            _KEY_HEADER_BYTES + MAX_KEY_SEALED_BYTES + TAG_BYTES):
        raise KeyWrapError(_UNWRAP_FAILED)
    header = blob[:_KEY_HEADER_BYTES]
    nonce = header[_PREFIX.size :]
    return _decrypt(key, nonce, blob[_KEY_HEADER_BYTES:], header + context)


def _parse_password_blob(blob: bytes) -> tuple[Argon2Params, bytes, bytes, bytes, bytes]:
    _check_prefix(blob, KIND_PASSWORD)
    if not _PASSWORD_HEADER_BYTES + TAG_BYTES < len(blob) <= MAX_BLOB_BYTES:
        raise KeyWrapError(_UNWRAP_FAILED)
    time_cost, memory_cost_kib, parallelism, salt = _PASSWORD_FIELDS.unpack_from(blob, _PREFIX.size)
    try:
        # The stored cost may be below today's floor (an old blob that must still open to
        # be re-wrapped); the ceilings in Argon2Params stop a forged header from making
        # us allocate or compute without bound before the tag check.
        params = Argon2Params.from_stored(time_cost, memory_cost_kib, parallelism)
    except KdfParameterError:
        raise KeyWrapError(_UNWRAP_FAILED) from None
    header = blob[:_PASSWORD_HEADER_BYTES]
    nonce = header[-NONCE_BYTES:]
    return params, salt, nonce, header, blob[_PASSWORD_HEADER_BYTES:]


def _check_prefix(blob: bytes, kind: int) -> None:
    if not isinstance(blob, bytes) or len(blob) < _PREFIX.size:
        raise KeyWrapError(_UNWRAP_FAILED)
    if _PREFIX.unpack_from(blob) != (MAGIC, VERSION, kind):
        raise KeyWrapError(_UNWRAP_FAILED)


def _decrypt(key: bytes, nonce: bytes, ciphertext: bytes, header: bytes) -> bytes:
    try:
        return ChaCha20Poly1305(key).decrypt(nonce, ciphertext, header)
    except InvalidTag:
        raise KeyWrapError(_UNWRAP_FAILED) from None


def _password_bytes(password: str) -> bytes:
    """NFC-normalised UTF-8 of ``password``; ``ValueError`` if too long or not encodable."""
    if not isinstance(password, str):
        raise TypeError("password must be str")
    # Bound before normalising so an enormous input costs nothing.
    if len(password) > MAX_PASSWORD_BYTES:
        raise ValueError(f"password must be at most {MAX_PASSWORD_BYTES} bytes in UTF-8")
    # UnicodeEncodeError (lone surrogates) is a ValueError too.
    encoded = unicodedata.normalize("NFC", password).encode("utf-8")
    if len(encoded) > MAX_PASSWORD_BYTES:
        raise ValueError(f"password must be at most {MAX_PASSWORD_BYTES} bytes in UTF-8")
    return encoded


def _check_secret(secret: bytes, limit: int = MAX_SECRET_BYTES) -> None:
    if not isinstance(secret, bytes):
        raise TypeError("secret must be bytes")
    if not 0 < len(secret) <= limit:
        raise ValueError(f"secret must be 1 to {limit} bytes")


def _check_key(key: bytes) -> None:
    if not isinstance(key, bytes) or len(key) != KEY_BYTES:
        raise ValueError(f"key must be {KEY_BYTES} bytes")
