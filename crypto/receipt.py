"""Receipt codes: the reporter's only credential.

A receipt code is 27 digits from the OS CSPRNG plus one Damm check digit: 28 digits,
shown as seven groups of four. Digits only, so the code reads the same in every language
and script; any Unicode decimal digits and separators are accepted on input.

Entropy: 27 * log2(10) = 27 * 3.3219 = 89.7 bits (DESIGN.md asks for at least 80; 25
random digits would give 83.0 bits but 26 digits do not split into groups of four).

From a code, one Argon2id run with the installation-wide salt gives a 32-byte master;
HKDF-SHA256 expands it into the lookup value stored with the report and the key that
wraps the reporter's identity, which is never stored.
"""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass, field
from typing import Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from crypto.errors import ReceiptCodeError, ReceiptCodeTypo
from crypto.kdf import Argon2Params, derive

__all__ = [
    "RECEIPT_CODE_DIGITS",
    "ReceiptSecrets",
    "damm_check_digit",
    "derive_receipt_secrets",
    "format_receipt_code",
    "generate_receipt_code",
    "new_installation_salt",
    "normalise_receipt_code",
]

RANDOM_DIGITS: Final = 27
RECEIPT_CODE_DIGITS: Final = RANDOM_DIGITS + 1
GROUP_SIZE: Final = 4
# Generous for 28 digits with separators, small enough that normalising is cheap
# whatever a client posts.
MAX_INPUT_CHARS: Final = 200
INSTALLATION_SALT_BYTES: Final = 16
SECRET_BYTES: Final = 32

_LOOKUP_INFO: Final = b"reporting-portal receipt lookup v1"
_WRAPPING_KEY_INFO: Final = b"reporting-portal receipt wrapping key v1"

# Damm (2004) check digit: a totally anti-symmetric quasigroup of order 10. Unlike Luhn it
# detects every single-digit substitution and every adjacent transposition (Luhn misses
# 09 <-> 90), and unlike Verhoeff it needs one table and never yields a non-digit. Those
# are the two errors people make copying a long number by hand. Table from Damm's thesis,
# as reproduced on Wikipedia "Damm algorithm".
_DAMM_TABLE: Final = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)

# Characters people or their software put between groups: every Unicode whitespace
# (str.isspace), every dash punctuation (category Pd: hyphen, en/em dash, full-width
# hyphen...), and these, which are neither but appear in copied text.
_EXTRA_SEPARATORS: Final = frozenset(
    {
        "\u00ad",  # soft hyphen
        "\u200b",  # zero width space
        "\u2060",  # word joiner
        "\u2212",  # minus sign
        "\ufeff",  # zero width no-break space (BOM)
        ".",
        "/",
        # Bidirectional marks and isolates: text copied from a right-to-left page (Arabic)
        # or typed with a right-to-left keyboard carries them around runs of digits.
        "\u061c",  # Arabic letter mark
        "\u200e",  # left-to-right mark
        "\u200f",  # right-to-left mark
        *(chr(code) for code in range(0x202A, 0x202F)),  # embeddings and overrides
        *(chr(code) for code in range(0x2066, 0x206A)),  # isolates
    }
)


def damm_check_digit(digits: str) -> str:
    """Return the Damm check digit for a string of ASCII digits."""
    interim = 0
    for digit in digits:
        interim = _DAMM_TABLE[interim][int(digit)]
    return str(interim)


def _damm_valid(digits: str) -> bool:
    # A string ending in its own check digit drives the interim value back to 0.
    return damm_check_digit(digits) == "0"


def generate_receipt_code() -> str:
    """Return a new receipt code as 28 ASCII digits (use :func:`format_receipt_code` to show it)."""
    # randbelow over the full range is uniform: no modulo bias, no dropped leading zeros.
    random_part = f"{secrets.randbelow(10**RANDOM_DIGITS):0{RANDOM_DIGITS}d}"
    return random_part + damm_check_digit(random_part)


def format_receipt_code(code: str) -> str:
    """Return ``code`` in its display form: groups of four digits separated by spaces.

    Accepts any form :func:`normalise_receipt_code` accepts, and raises as it does.
    """
    digits = normalise_receipt_code(code)
    return " ".join(digits[i : i + GROUP_SIZE] for i in range(0, len(digits), GROUP_SIZE))


def normalise_receipt_code(text: str) -> str:
    """Return the canonical 28 ASCII digits of a receipt code as typed or pasted.

    Separators (any Unicode whitespace or dash) are dropped and any Unicode decimal digit
    (full-width, Arabic-Indic, Devanagari...) maps to its ASCII digit. Other characters,
    including superscripts and circled digits, are refused rather than guessed at.

    Raises :class:`~crypto.errors.ReceiptCodeTypo` if the check digit fails, and
    :class:`~crypto.errors.ReceiptCodeError` for anything else malformed. Messages never
    contain the input. The check digit is public arithmetic, so answering "typo" early and
    fast reveals nothing; a well-formed code must still go through
    :func:`derive_receipt_secrets` whether or not a report matches it.
    """
    if not isinstance(text, str):
        raise ReceiptCodeError("receipt code must be text")
    if len(text) > MAX_INPUT_CHARS:
        raise ReceiptCodeError("receipt code is too long")
    digits: list[str] = []
    for char in text:
        # unicodedata.decimal is defined only for category Nd; unicodedata.digit would
        # also map superscripts and circled digits, which are not what the reporter saw.
        value = unicodedata.decimal(char, None)
        if value is not None:
            digits.append(str(value))
        elif not (
            char.isspace() or unicodedata.category(char) == "Pd" or char in _EXTRA_SEPARATORS
        ):
            raise ReceiptCodeError("receipt code may contain only digits and separators")
    canonical = "".join(digits)
    if len(canonical) != RECEIPT_CODE_DIGITS:
        raise ReceiptCodeError(f"receipt code must have {RECEIPT_CODE_DIGITS} digits")
    if not _damm_valid(canonical):
        raise ReceiptCodeTypo("receipt code has a typo")
    return canonical


@dataclass(frozen=True, slots=True)
class ReceiptSecrets:
    """Values derived from one receipt code.

    ``lookup`` is stored with the report to find it; ``wrapping_key`` unwraps the reporter's
    identity and must never be stored or logged. Neither appears in ``repr``.
    """

    lookup: bytes = field(repr=False)
    wrapping_key: bytes = field(repr=False)


def new_installation_salt() -> bytes:
    """Return a fresh installation-wide salt for receipt derivation (made once, at init)."""
    return secrets.token_bytes(INSTALLATION_SALT_BYTES)


def derive_receipt_secrets(
    code: str, installation_salt: bytes, params: Argon2Params
) -> ReceiptSecrets:
    """Derive the lookup value and the wrapping key from a receipt code.

    ``code`` may be in any form :func:`normalise_receipt_code` accepts; it raises as that
    does. One Argon2id run per call, whatever the outcome: that cost is the deliberate limit
    on guessing, online and offline. Two independent HKDF-Expand outputs with distinct labels
    follow, so the stored lookup value reveals nothing about the wrapping key.
    """
    if len(installation_salt) < INSTALLATION_SALT_BYTES:
        raise ValueError(f"installation salt must be at least {INSTALLATION_SALT_BYTES} bytes")
    canonical = normalise_receipt_code(code)
    master = derive(canonical.encode("ascii"), installation_salt, params, SECRET_BYTES)
    # Argon2id output is already a uniform key, so HKDF-Extract is unnecessary
    # (RFC 5869 section 3.3); Expand with distinct info labels separates the two uses.
    return ReceiptSecrets(
        lookup=_expand(master, _LOOKUP_INFO),
        wrapping_key=_expand(master, _WRAPPING_KEY_INFO),
    )


def _expand(master: bytes, info: bytes) -> bytes:
    return HKDFExpand(algorithm=hashes.SHA256(), length=SECRET_BYTES, info=info).derive(master)
