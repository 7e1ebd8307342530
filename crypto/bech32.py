"""Bech32 (BIP-173) encoding as age uses it for recipients and identities.

Differences from BIP-173, following the age spec (c2sp.org/age): there is no
90-character limit, because a post-quantum ``age1pq1…`` recipient is about 1,950
characters long. As in BIP-173 a string is all lowercase or all uppercase, and the
checksum is always computed over the lowercase form; the human-readable part is
returned in the case it was written in, so callers can insist on age's convention
(lowercase recipients, uppercase identities).
"""

from __future__ import annotations

import base64

from crypto.errors import KeyFormatError

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_CHARSET_INDEX = {character: index for index, character in enumerate(CHARSET)}
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
_CHECKSUM_LENGTH = 6
# BIP-173 allows US-ASCII 33..126 in the human-readable part.
_HRP_CHARACTERS = range(33, 127)


def _generator_mix(top: int) -> int:
    mixed = 0
    for bit, generator in enumerate(_GENERATOR):
        if (top >> bit) & 1:
            mixed ^= generator
    return mixed


# The five generator terms a 5-bit "top" selects, XORed once ahead of time: post-quantum
# recipients are ~1,950 characters, and the per-bit loop dominated parsing them.
_GENERATOR_TABLE = tuple(_generator_mix(top) for top in range(32))


def _polymod(values: list[int]) -> int:
    checksum = 1
    table = _GENERATOR_TABLE
    for value in values:
        checksum = ((checksum & 0x1FFFFFF) << 5 ^ value) ^ table[checksum >> 25]
    return checksum


def _expand_hrp(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _create_checksum(hrp: str, data: list[int]) -> list[int]:
    polymod = _polymod([*_expand_hrp(hrp), *data, 0, 0, 0, 0, 0, 0]) ^ 1
    return [(polymod >> 5 * (5 - i)) & 31 for i in range(_CHECKSUM_LENGTH)]


# Bech32's 5-bit groups are base32's, with another alphabet: RFC 4648 base32 (in C) does
# the regrouping, and a translation swaps the alphabets. Looping over a post-quantum
# recipient's 1,216 bytes bit by bit in Python cost more than the HPKE seal it is for.
_BASE32 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_TO_BECH32 = bytes.maketrans(_BASE32, CHARSET.encode("ascii"))
_TO_BASE32 = bytes.maketrans(CHARSET.encode("ascii"), _BASE32)
# Base32 characters a final group of 8 may hold: n bytes make these many, the rest is "=".
_BASE32_TAIL_PADDING = {0: 0, 2: 6, 4: 4, 5: 3, 7: 1}


def _to_groups(data: bytes) -> str:
    """``data`` as 5-bit groups in Bech32's alphabet, the last one padded with zero bits."""
    return base64.b32encode(data).rstrip(b"=").translate(_TO_BECH32).decode("ascii")


def _from_groups(groups: str) -> bytes:
    """The bytes that ``groups`` (Bech32 characters, checksum removed) spell.

    Leftover bits must be fewer than five and zero: anything else would let a second
    string decode to the same bytes (malleability).
    """
    padding = _BASE32_TAIL_PADDING.get(len(groups) % 8)
    if padding is None:
        raise KeyFormatError("Bech32 string has invalid padding")
    base32 = groups.encode("ascii").translate(_TO_BASE32) + b"=" * padding
    data = base64.b32decode(base32)
    # b32decode drops the leftover bits without looking at them; encoding back shows them.
    if _to_groups(data) != groups:
        raise KeyFormatError("Bech32 string has invalid padding")
    return data


def encode(hrp: str, data: bytes) -> str:
    """Encode ``data`` under the human-readable part ``hrp``, in lowercase.

    Callers that need the uppercase form (age identities) call ``.upper()`` on the
    result, which keeps the checksum valid since it is defined over lowercase.
    """
    hrp = hrp.lower()
    if not hrp or any(ord(c) not in _HRP_CHARACTERS for c in hrp):
        raise KeyFormatError("invalid Bech32 human-readable part")
    groups = _to_groups(data)
    checksum = _create_checksum(hrp, [_CHARSET_INDEX[c] for c in groups])
    return hrp + "1" + groups + "".join(CHARSET[v] for v in checksum)


def decode(text: str) -> tuple[str, bytes]:
    """Decode a Bech32 string into ``(hrp, data)``.

    The human-readable part keeps the case it was written in. Raises
    :class:`~crypto.errors.KeyFormatError` on mixed case, a bad character, a bad
    checksum or non-zero padding.
    """
    if text.lower() != text and text.upper() != text:
        raise KeyFormatError("Bech32 string mixes upper and lower case")
    separator = text.rfind("1")
    if separator < 1 or separator + 1 + _CHECKSUM_LENGTH > len(text):
        raise KeyFormatError("Bech32 separator is missing or misplaced")
    hrp = text[:separator]
    if any(ord(c) not in _HRP_CHARACTERS for c in hrp):
        raise KeyFormatError("Bech32 human-readable part has an invalid character")
    data_part = text[separator + 1 :].lower()
    try:
        values = [_CHARSET_INDEX[c] for c in data_part]
    except KeyError:
        raise KeyFormatError("Bech32 data part has an invalid character") from None
    if _polymod([*_expand_hrp(hrp.lower()), *values]) != 1:
        raise KeyFormatError("Bech32 checksum is invalid (mistyped key?)")
    return hrp, _from_groups(data_part[:-_CHECKSUM_LENGTH])
