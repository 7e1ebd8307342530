"""Receipt codes (crypto.receipt)."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import re
import secrets

import pytest
from argon2.low_level import Type, hash_secret_raw
from hypothesis import given
from hypothesis import strategies as st

from crypto import receipt
from crypto.errors import ReceiptCodeError, ReceiptCodeTypo
from crypto.kdf import Argon2Params
from crypto.receipt import (
    RECEIPT_CODE_DIGITS,
    damm_check_digit,
    derive_receipt_secrets,
    format_receipt_code,
    generate_receipt_code,
    new_installation_salt,
    normalise_receipt_code,
)

CHEAP = Argon2Params.insecure_for_tests()
SALT = bytes(range(16))
# A fixed valid code: 27 digits and their Damm check digit.
KNOWN_CODE = "123456789012345678901234567"
KNOWN_CODE += damm_check_digit(KNOWN_CODE)

# Zero of each of several Unicode decimal digit systems: ASCII, full-width, Arabic-Indic,
# extended Arabic-Indic (Persian, Urdu), Devanagari, Bengali, Thai.
DIGIT_ZEROS = ["0", "\uff10", "\u0660", "\u06f0", "\u0966", "\u09e6", "\u0e50"]
SEPARATORS = [
    " ",
    "\t",
    "\n",
    "\u00a0",
    "\u3000",
    "\u202f",
    "-",
    "\u2010",
    "\u2011",
    "\u2013",
    "\u2014",
    "\uff0d",
    "\u2212",
    "\u200b",
    "\u00ad",
    # Bidirectional marks, as text copied from an Arabic (right-to-left) page carries them.
    "\u200e",
    "\u200f",
    "\u061c",
    "\u2066",
    "\u2069",
]
# The digit sets issue 14 names: ASCII, Arabic-Indic, Persian, full-width.
ISSUE_14_ZEROS = ["0", "\u0660", "\u06f0", "\uff10"]

random_parts = st.text(alphabet="0123456789", min_size=27, max_size=27)
valid_codes = random_parts.map(lambda digits: digits + damm_check_digit(digits))


@pytest.mark.parametrize(("digits", "check"), [("572", "4"), ("", "0"), ("0", "0"), ("5724", "0")])
def test_damm_check_digit_matches_published_example(digits: str, check: str) -> None:
    # Wikipedia "Damm algorithm": 572 has check digit 4, and 5724 validates to 0.
    assert damm_check_digit(digits) == check


def test_damm_table_catches_every_single_error_and_adjacent_transposition() -> None:
    # Exhaustive over every interim value, so it holds at every position of any code.
    # Rows and columns are permutations (a quasigroup): a changed interim value stays
    # changed through every later digit, and a changed digit changes the interim value.
    table = receipt._DAMM_TABLE
    for interim in range(10):
        assert sorted(table[interim]) == list(range(10))
        assert sorted(row[interim] for row in table) == list(range(10))
        assert table[interim][interim] == 0
        for a, b in itertools.permutations(range(10), 2):
            assert table[table[interim][a]][b] != table[table[interim][b]][a]


def test_generated_code_shape() -> None:
    code = generate_receipt_code()
    assert re.fullmatch(r"[0-9]{28}", code)
    assert normalise_receipt_code(code) == code


def test_generated_codes_keep_leading_zeros(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(secrets, "randbelow", lambda _upper: 42)
    code = generate_receipt_code()
    assert code[:27] == "0" * 25 + "42"
    assert normalise_receipt_code(code) == code


def test_generated_codes_do_not_repeat() -> None:
    assert len({generate_receipt_code() for _ in range(1000)}) == 1000


def test_format_groups_of_four() -> None:
    formatted = format_receipt_code(KNOWN_CODE)
    assert re.fullmatch(r"[0-9]{4}( [0-9]{4}){6}", formatted)
    assert formatted.replace(" ", "") == KNOWN_CODE


@given(valid_codes)
def test_every_single_digit_substitution_is_a_typo(code: str) -> None:
    for position, digit in itertools.product(range(RECEIPT_CODE_DIGITS), "0123456789"):
        if code[position] == digit:
            continue
        mistyped = code[:position] + digit + code[position + 1 :]
        with pytest.raises(ReceiptCodeTypo):
            normalise_receipt_code(mistyped)


@given(valid_codes)
def test_every_adjacent_transposition_is_a_typo(code: str) -> None:
    for position in range(RECEIPT_CODE_DIGITS - 1):
        a, b = code[position], code[position + 1]
        if a == b:
            continue
        swapped = code[:position] + b + a + code[position + 2 :]
        with pytest.raises(ReceiptCodeTypo):
            normalise_receipt_code(swapped)


@st.composite
def typed_forms(draw: st.DrawFn) -> tuple[str, str]:
    """A valid code as a person might type or paste it, and its canonical form."""
    code = draw(valid_codes)
    pieces = [draw(st.lists(st.sampled_from(SEPARATORS), max_size=5)) for _ in range(29)]
    typed = "".join(pieces[0])
    for digit, separators in zip(code, pieces[1:], strict=True):
        zero = draw(st.sampled_from(DIGIT_ZEROS))
        typed += chr(ord(zero) + int(digit)) + "".join(separators)
    return typed, code


@given(typed_forms())
def test_normalise_accepts_separators_and_any_decimal_digits(form: tuple[str, str]) -> None:
    typed, code = form
    assert normalise_receipt_code(typed) == code
    assert normalise_receipt_code(normalise_receipt_code(typed)) == code
    assert normalise_receipt_code(format_receipt_code(typed)) == code


@given(valid_codes, st.sampled_from(ISSUE_14_ZEROS),
       st.lists(st.lists(st.sampled_from(SEPARATORS), max_size=3), min_size=29, max_size=29))
def test_a_code_written_wholly_in_one_digit_set_normalises_to_the_same_code(
    code: str, zero: str, gaps: list[list[str]]
) -> None:
    written = "".join(gaps[0]) + "".join(
        chr(ord(zero) + int(digit)) + "".join(gap)
        for digit, gap in zip(code, gaps[1:], strict=True))
    assert normalise_receipt_code(written) == code
    assert format_receipt_code(written) == " ".join(code[i : i + 4] for i in range(0, 28, 4))


@pytest.mark.parametrize("zero", ISSUE_14_ZEROS[1:])
def test_a_typo_in_another_digit_set_is_still_a_typo(zero: str) -> None:
    mistyped = KNOWN_CODE[:-1] + str((int(KNOWN_CODE[-1]) + 1) % 10)
    with pytest.raises(ReceiptCodeTypo):
        normalise_receipt_code("".join(chr(ord(zero) + int(digit)) for digit in mistyped))


@pytest.mark.parametrize("look_alike", ["\u00b2", "\u2461", "\u2081", "\u2171"])
def test_digit_look_alikes_that_are_not_decimal_digits_are_refused(look_alike: str) -> None:
    # superscript two, circled two, subscript one, small roman numeral two
    code = KNOWN_CODE[:5] + look_alike + KNOWN_CODE[6:]
    with pytest.raises(ReceiptCodeError) as raised:
        normalise_receipt_code(code)
    assert not isinstance(raised.value, ReceiptCodeTypo)


@pytest.mark.parametrize(
    "text",
    [
        "",
        KNOWN_CODE[:-1],
        KNOWN_CODE + "0",
        KNOWN_CODE + "x",
        "O" + KNOWN_CODE[1:],
        KNOWN_CODE + " " * 200,
    ],
)
def test_malformed_codes_are_not_reported_as_typos(text: str) -> None:
    with pytest.raises(ReceiptCodeError) as raised:
        normalise_receipt_code(text)
    assert not isinstance(raised.value, ReceiptCodeTypo)


def test_error_messages_do_not_echo_the_code() -> None:
    mistyped = KNOWN_CODE[:-1] + str((int(KNOWN_CODE[-1]) + 1) % 10)
    with pytest.raises(ReceiptCodeTypo) as raised:
        normalise_receipt_code(mistyped)
    assert mistyped[:8] not in str(raised.value)


@given(st.one_of(st.text(), st.text(alphabet="0123456789 -\uff10\uff11\u0661x", max_size=60)))
def test_garbage_raises_only_receipt_code_error(text: str) -> None:
    try:
        result = normalise_receipt_code(text)
    except ReceiptCodeError:
        return
    assert re.fullmatch(r"[0-9]{28}", result)


def test_derivation_is_argon2id_then_hkdf_expand_with_distinct_labels() -> None:
    # Recomputed here with the primitives, so a change to the construction (and with it
    # every stored lookup value) cannot slip through.
    master = hash_secret_raw(KNOWN_CODE.encode(), SALT, 1, 8, 1, 32, Type.ID)

    def hkdf_expand_32(info: bytes) -> bytes:  # RFC 5869: T(1) = HMAC(PRK, info || 0x01)
        return hmac.new(master, info + b"\x01", hashlib.sha256).digest()

    derived = derive_receipt_secrets(KNOWN_CODE, SALT, CHEAP)
    assert derived.lookup == hkdf_expand_32(b"reporting-portal receipt lookup v1")
    assert derived.wrapping_key == hkdf_expand_32(b"reporting-portal receipt wrapping key v1")


def test_same_code_in_any_form_gives_the_same_secrets() -> None:
    plain = derive_receipt_secrets(KNOWN_CODE, SALT, CHEAP)
    assert derive_receipt_secrets(format_receipt_code(KNOWN_CODE), SALT, CHEAP) == plain
    full_width = "".join(chr(0xFF10 + int(digit)) for digit in KNOWN_CODE)
    assert derive_receipt_secrets(full_width, SALT, CHEAP) == plain


def test_secrets_depend_on_code_salt_and_cost() -> None:
    base = derive_receipt_secrets(KNOWN_CODE, SALT, CHEAP)
    other_code = generate_receipt_code()
    assert derive_receipt_secrets(other_code, SALT, CHEAP).lookup != base.lookup
    assert derive_receipt_secrets(KNOWN_CODE, bytes(16), CHEAP).lookup != base.lookup
    dearer = Argon2Params.insecure_for_tests(time_cost=2)
    assert derive_receipt_secrets(KNOWN_CODE, SALT, dearer).lookup != base.lookup
    assert len(base.lookup) == len(base.wrapping_key) == 32
    assert base.lookup != base.wrapping_key


def test_secrets_stay_out_of_repr() -> None:
    derived = derive_receipt_secrets(KNOWN_CODE, SALT, CHEAP)
    text = repr(derived)
    assert derived.lookup.hex()[:8] not in text
    assert derived.wrapping_key.hex()[:8] not in text


def test_typo_is_refused_before_any_derivation() -> None:
    mistyped = KNOWN_CODE[:-1] + str((int(KNOWN_CODE[-1]) + 1) % 10)
    with pytest.raises(ReceiptCodeTypo):
        derive_receipt_secrets(mistyped, SALT, CHEAP)


def test_installation_salt_is_fresh_and_long_enough() -> None:
    first, second = new_installation_salt(), new_installation_salt()
    assert len(first) >= 16
    assert first != second
    with pytest.raises(ValueError, match="salt"):
        derive_receipt_secrets(KNOWN_CODE, first[:15], CHEAP)
