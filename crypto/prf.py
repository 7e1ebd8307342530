"""Keys from a passkey's WebAuthn PRF output, to wrap a second copy of a staff identity.

An authenticator with the PRF extension (CTAP2 hmac-secret) returns 32 bytes that only
it can compute, for a credential and an input the relying party chooses. The output is
not used as a key as it is: HKDF-SHA-256 with a random salt kept per credential and a
fixed info string makes the wrapping key, so the same output never keys two purposes and
a copy of one credential's row says nothing about another's key. The wrapped copy is a
raw-key blob of :mod:`crypto.keywrap`, bound to a context naming the credential.
"""

from __future__ import annotations

import secrets
from typing import Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from crypto.keywrap import KEY_BYTES, unwrap_with_key, wrap_with_key

__all__ = [
    "PRF_INPUT",
    "PRF_OUTPUT_BYTES",
    "SALT_BYTES",
    "new_salt",
    "unwrap_with_prf",
    "wrap_with_prf",
    "wrapping_key",
]

# What the browser asks the authenticator to evaluate. The same for every credential, so
# a sign-in that does not yet know which passkey will answer can still ask for it; the
# per-credential salt below keeps the derived keys apart.
PRF_INPUT: Final = b"reporting-portal staff identity unlock v1"
PRF_OUTPUT_BYTES: Final = 32
SALT_BYTES: Final = 32
_INFO: Final = b"reporting-portal/prf-identity-wrap/v1"
_CONTEXT_PREFIX: Final = b"rp-passkey-identity\0"


def new_salt() -> bytes:
    return secrets.token_bytes(SALT_BYTES)


def wrapping_key(prf_output: bytes, salt: bytes) -> bytes:
    """HKDF-SHA-256(prf_output, salt, info) as a 32-byte key.

    Raises ``ValueError`` for an output or a salt that is not 32 bytes.
    """
    if not isinstance(prf_output, bytes) or len(prf_output) != PRF_OUTPUT_BYTES:
        raise ValueError(f"a PRF output is {PRF_OUTPUT_BYTES} bytes")
    if not isinstance(salt, bytes) or len(salt) != SALT_BYTES:
        raise ValueError(f"the salt is {SALT_BYTES} bytes")
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=salt,
                info=_INFO).derive(prf_output)


def wrap_with_prf(secret: bytes, prf_output: bytes, salt: bytes, credential_id: bytes) -> bytes:
    """``secret`` wrapped under the key from ``prf_output``, bound to ``credential_id``."""
    return wrap_with_key(secret, wrapping_key(prf_output, salt),
                         context=_CONTEXT_PREFIX + credential_id)


def unwrap_with_prf(blob: bytes, prf_output: bytes, salt: bytes, credential_id: bytes) -> bytes:
    """The secret of :func:`wrap_with_prf`; :class:`~crypto.errors.KeyWrapError` for a
    wrong output, another credential's blob or a damaged one."""
    return unwrap_with_key(blob, wrapping_key(prf_output, salt),
                           context=_CONTEXT_PREFIX + credential_id)
