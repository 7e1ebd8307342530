"""Bech32, identities and recipients: the spec's examples, round trips, rejections."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import bech32
from crypto.errors import KeyFormatError
from crypto.keys import (
    HybridIdentity,
    HybridRecipient,
    X25519Identity,
    X25519Recipient,
    generate_identity,
    parse_identities,
    parse_identity,
    parse_recipient,
    parse_recipients,
)

# Examples from c2sp.org/age (the identity and recipient of each type belong together).
SPEC_X25519_IDENTITY = "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX"
SPEC_X25519_RECIPIENT = "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj"
SPEC_HYBRID_IDENTITY = (
    "AGE-SECRET-KEY-PQ-1XX76JRALNLXDMEW0CRK45QMCCH4X06SE84UN3VPM33W6HWDX0H3SK3ZQFR"
)
SPEC_HYBRID_RECIPIENT_START = "age1pq1x34nzsvr0rxjsgdn8zgyhfe8j7ceq5r9rdelkjuh3y235jzxshfg87p"
SPEC_HYBRID_RECIPIENT_END = "xpfqdkmhh6gjtqmwze9pyyzk3tlhl53k2ykx3qheyty7saeq0d3fzv49zc0k"


def test_bip173_valid_strings() -> None:
    assert bech32.decode("A12UEL5L") == ("A", b"")
    assert bech32.decode("a12uel5l") == ("a", b"")
    hrp, _ = bech32.decode("abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw")
    assert hrp == "abcdef"


@pytest.mark.parametrize(
    "text",
    [
        "pzry9x0s0muk",  # no separator
        "1pzry9x0s0muk",  # empty human-readable part
        "x1b4n0q5v",  # invalid data character
        "li1dgmt3",  # checksum too short
        "A1G7SGD8",  # checksum computed over the uppercase human-readable part
        "a12UEL5L",  # mixed case
        "age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwk",  # bad checksum
    ],
)
def test_bip173_invalid_strings(text: str) -> None:
    with pytest.raises(KeyFormatError):
        bech32.decode(text)


@settings(max_examples=50)
@given(
    hrp=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1).filter(
        lambda s: "1" not in s
    ),
    data=st.binary(max_size=1300),
)
def test_bech32_round_trip_without_length_limit(hrp: str, data: bytes) -> None:
    encoded = bech32.encode(hrp, data)
    assert bech32.decode(encoded) == (hrp.lower(), data)
    assert bech32.decode(encoded.upper()) == (hrp.upper(), data)


def reference_regroup(values: list[int], from_bits: int, to_bits: int, *, pad: bool
                      ) -> list[int] | None:
    """BIP-173's convertbits, bit by bit: what bech32's base32 shortcut must agree with."""
    accumulator, bits, result = 0, 0, []
    for value in values:
        accumulator = (accumulator << from_bits) | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            result.append((accumulator >> bits) & ((1 << to_bits) - 1))
    if pad:
        if bits:
            result.append((accumulator << (to_bits - bits)) & ((1 << to_bits) - 1))
    elif bits >= from_bits or (accumulator << (to_bits - bits)) & ((1 << to_bits) - 1):
        return None
    return result


def with_checksum(hrp: str, groups: list[int]) -> str:
    checksum = bech32._create_checksum(hrp, groups)
    return hrp + "1" + "".join(bech32.CHARSET[v] for v in groups + checksum)


@settings(max_examples=200)
@given(data=st.binary(max_size=1300))
def test_encoding_regroups_bits_as_bip173_does(data: bytes) -> None:
    groups = reference_regroup(list(data), 8, 5, pad=True)
    assert groups is not None
    assert bech32.encode("age", data) == with_checksum("age", groups)


@settings(max_examples=300)
@given(groups=st.lists(st.integers(min_value=0, max_value=31), max_size=80))
def test_decoding_takes_exactly_the_strings_bip173_takes(groups: list[int]) -> None:
    # Any sequence of groups with a valid checksum: only the padding rule decides.
    expected = reference_regroup(groups, 5, 8, pad=False)
    text = with_checksum("age", groups)
    if expected is None:
        with pytest.raises(KeyFormatError, match="padding"):
            bech32.decode(text)
    else:
        assert bech32.decode(text) == ("age", bytes(expected))


def test_spec_x25519_example() -> None:
    identity = parse_identity(SPEC_X25519_IDENTITY)
    assert isinstance(identity, X25519Identity)
    assert str(identity.recipient) == SPEC_X25519_RECIPIENT
    assert identity.to_string() == SPEC_X25519_IDENTITY


def test_spec_hybrid_example_derives_the_published_recipient() -> None:
    identity = parse_identity(SPEC_HYBRID_IDENTITY)
    assert isinstance(identity, HybridIdentity)
    recipient = str(identity.recipient)
    assert len(recipient) == 1959  # 1,216 bytes in Bech32, past BIP-173's 90 characters
    assert recipient.startswith(SPEC_HYBRID_RECIPIENT_START)
    assert recipient.endswith(SPEC_HYBRID_RECIPIENT_END)
    assert parse_recipient(recipient) == identity.recipient
    assert identity.to_string() == SPEC_HYBRID_IDENTITY


def test_new_identities_are_hybrid_by_default() -> None:
    assert isinstance(generate_identity(), HybridIdentity)
    assert isinstance(generate_identity(post_quantum=False), X25519Identity)


@pytest.mark.parametrize("identity_type", [X25519Identity, HybridIdentity])
def test_generated_keys_round_trip(identity_type: type[X25519Identity | HybridIdentity]) -> None:
    identity = identity_type.generate()
    again = parse_identity(identity.to_string())
    assert again.recipient == identity.recipient
    assert parse_recipient(str(identity.recipient)) == identity.recipient


def test_key_case_rules() -> None:
    # age writes recipients in lowercase and identities in uppercase, and accepts only that.
    with pytest.raises(KeyFormatError):
        X25519Recipient.from_string(SPEC_X25519_RECIPIENT.upper())
    with pytest.raises(KeyFormatError):
        X25519Identity.from_string(SPEC_X25519_IDENTITY.lower())
    with pytest.raises(KeyFormatError):
        HybridIdentity.from_string(SPEC_HYBRID_IDENTITY.lower())


@pytest.mark.parametrize(
    "text",
    [
        "",
        "age1",
        SPEC_X25519_RECIPIENT[:-1],  # truncated: checksum fails
        bech32.encode("age", bytes(31)),  # wrong length
        bech32.encode("age1pq", bytes(32)),  # hybrid prefix, X25519 length
        bech32.encode("age1tag", bytes(33)),  # a recipient type we do not support
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI",
    ],
)
def test_malformed_recipients_are_rejected(text: str) -> None:
    with pytest.raises(KeyFormatError):
        parse_recipient(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        SPEC_X25519_IDENTITY[:-1],
        bech32.encode("AGE-SECRET-KEY-", bytes(31)).upper(),
        bech32.encode("AGE-SECRET-KEY-PQ-", bytes(64)).upper(),
        "AGE-PLUGIN-YUBIKEY-1QQQQQQ",
    ],
)
def test_malformed_identities_are_rejected_without_echoing_them(text: str) -> None:
    with pytest.raises(KeyFormatError) as caught:
        parse_identity(text)
    assert not text or text not in str(caught.value)


def test_hybrid_recipient_rejects_an_invalid_mlkem_key() -> None:
    # ML-KEM encapsulation keys hold coefficients below q = 3329; all-ones bytes are not.
    with pytest.raises(KeyFormatError):
        HybridRecipient(b"\xff" * 1216)


def test_key_files_skip_comments_and_report_the_bad_line() -> None:
    text = f"# created: now\n# public key: {SPEC_X25519_RECIPIENT}\n\n{SPEC_X25519_IDENTITY}\n"
    assert len(parse_identities(text)) == 1
    recipients = parse_recipients(f"# team\n{SPEC_X25519_RECIPIENT}\n  \n")
    assert recipients == [X25519Recipient.from_string(SPEC_X25519_RECIPIENT)]
    with pytest.raises(KeyFormatError, match="line 2"):
        parse_identities(f"{SPEC_X25519_IDENTITY}\nAGE-SECRET-KEY-1NOPE\n")
    with pytest.raises(KeyFormatError, match="no identity"):
        parse_identities("# nothing here\n")


def test_identity_repr_does_not_reveal_the_secret() -> None:
    for identity in (parse_identity(SPEC_X25519_IDENTITY), parse_identity(SPEC_HYBRID_IDENTITY)):
        assert identity.to_string() not in repr(identity)
        assert identity.to_string()[20:40] not in repr(identity)
