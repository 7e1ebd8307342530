"""A small proof of work: find a nonce so SHA-256(challenge || nonce) has leading zeros.

The reporter's browser solves it before a receipt sign-in (web/src/receipt-pow.js), so
every guess costs the sender about 2^bits hashes while the server checks it with one
(GlobaLeaks puts the same price on its submissions; Tor's onion-service proof of work
escalates the same way). The challenge is random, kept in the sealed server-side session
and used once, so a solution cannot be replayed or computed ahead of the page.

Wire format, shared with the script: ``challenge`` is 16 random bytes (hex in the page);
``nonce`` is a whole number below 2^53 (exact in JavaScript), hashed as 8 bytes big-endian.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

CHALLENGE_BYTES = 16
# A challenge older than this is refused: a page left open overnight solves a new one.
CHALLENGE_LIFETIME = timedelta(minutes=30)
MAX_NONCE = 2**53
_DIGEST_BITS = 256


def new_challenge() -> bytes:
    return secrets.token_bytes(CHALLENGE_BYTES)


def leading_zero_bits(digest: bytes) -> int:
    value = int.from_bytes(digest, "big")
    return _DIGEST_BITS - value.bit_length()


def solves(challenge: bytes, nonce: int, bits: int) -> bool:
    """Whether ``nonce`` solves ``challenge`` at ``bits`` leading zero bits: one hash."""
    if len(challenge) != CHALLENGE_BYTES or not 0 <= nonce < MAX_NONCE:
        return False
    digest = hashlib.sha256(challenge + nonce.to_bytes(8, "big")).digest()
    return leading_zero_bits(digest) >= bits

