"""Bech32 (BIP-173) encoding as age uses it for recipients and identities.

Differences from BIP-173, following the age spec (c2sp.org/age): there is no
90-character limit, because a post-quantum ``age1pq1…`` recipient is about 1,950
characters long. As in BIP-173 a string is all lowercase or all uppercase, and the
checksum is always computed over the lowercase form; the human-readable part is
returned in the case it was written in, so callers can insist on age's convention
(lowercase recipients, uppercase identities).
"""

from __future__ import annotations

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


def _convert_bits(data: bytes | list[int], from_bits: int, to_bits: int, *, pad: bool) -> list[int]:
    accumulator = 0
    bits = 0
    result: list[int] = []
    max_value = (1 << to_bits) - 1
    # Keep only the bits still needed, so the accumulator stays a small integer.
    max_accumulator = (1 << (from_bits + to_bits - 1)) - 1
    for value in data:
        accumulator = ((accumulator << from_bits) | value) & max_accumulator
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            result.append((accumulator >> bits) & max_value)
    if pad:
        if bits:
            result.append((accumulator << (to_bits - bits)) & max_value)
    # Without padding, leftover bits must be fewer than one input group and zero:
    # anything else means a second string decodes to the same bytes (malleability).
    elif bits >= from_bits or (accumulator << (to_bits - bits)) & max_value:
        raise KeyFormatError("Bech32 string has invalid padding")
    return result


def encode(hrp: str, data: bytes) -> str:
    """Encode ``data`` under the human-readable part ``hrp``, in lowercase.

    Callers that need the uppercase form (age identities) call ``.upper()`` on the
    result, which keeps the checksum valid since it is defined over lowercase.
    """
    hrp = hrp.lower()
    if not hrp or any(ord(c) not in _HRP_CHARACTERS for c in hrp):
        raise KeyFormatError("invalid Bech32 human-readable part")
    values = _convert_bits(data, 8, 5, pad=True)
    checksum = _create_checksum(hrp, values)
    return hrp + "1" + "".join(CHARSET[v] for v in values + checksum)


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
    try:
        values = [_CHARSET_INDEX[c] for c in text[separator + 1 :].lower()]
    except KeyError:
        raise KeyFormatError("Bech32 data part has an invalid character") from None
    if _polymod([*_expand_hrp(hrp.lower()), *values]) != 1:
        raise KeyFormatError("Bech32 checksum is invalid (mistyped key?)")
    data = _convert_bits(values[:-_CHECKSUM_LENGTH], 5, 8, pad=False)
    return hrp, bytes(data)
