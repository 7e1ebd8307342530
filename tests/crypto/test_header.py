"""Header encoding and parsing: canonical form, MAC, unknown stanzas, limits."""

from __future__ import annotations

import io

import pytest

from crypto import age
from crypto.errors import HeaderError, HMACError
from crypto.header import FileKey, Stanza, encode_header, parse_header
from crypto.keys import X25519Identity
from crypto.stream import PayloadEncryptor

IDENTITY = X25519Identity.generate()


def sealed(stanzas: list[Stanza], file_key: FileKey) -> bytes:
    return encode_header(stanzas, file_key)


@pytest.mark.parametrize("body_size", [0, 1, 47, 48, 49, 96, 200])
def test_stanza_bodies_wrap_at_64_columns_and_end_with_a_short_line(body_size: int) -> None:
    stanza = Stanza("example.org/test", ("arg",), bytes(range(256))[:body_size])
    lines = stanza.encode().split(b"\n")[1:-1]
    assert all(len(line) == 64 for line in lines[:-1])
    assert len(lines[-1]) < 64
    header = parse_header(sealed([stanza], FileKey.generate()))
    assert header.stanzas == (stanza,)


def test_encoding_is_canonical_and_parses_back_identically() -> None:
    file_key = FileKey.generate()
    stanzas = [IDENTITY.recipient.wrap(file_key), Stanza("grease-x", ("a", "b~!"), b"\x00" * 48)]
    header_bytes = sealed(stanzas, file_key)
    parsed = parse_header(header_bytes)
    assert header_bytes.startswith(b"age-encryption.org/v1\n-> X25519 ")
    assert header_bytes.endswith(b"\n")
    # One encoding per header: re-encoding what was parsed gives the same bytes.
    assert encode_header(list(parsed.stanzas), file_key) == header_bytes
    assert parsed.mac_input + b" " in header_bytes
    parsed.verify_mac(file_key)
    with pytest.raises(HMACError):
        parsed.verify_mac(FileKey.generate())


@pytest.mark.parametrize("argument", ["", "has space", "tab\t", "é"])
def test_invalid_stanza_arguments_are_refused_when_encoding(argument: str) -> None:
    with pytest.raises(ValueError, match="stanza arguments"):
        Stanza("type", (argument,)).encode()


def test_unknown_stanzas_are_ignored_on_decryption() -> None:
    file_key = FileKey.generate()
    grease = Stanza("ed25519-grease", ("+l%", "Zm9v"), b"\x01" * 70)
    header = sealed([grease, IDENTITY.recipient.wrap(file_key)], file_key)
    payload = io.BytesIO()
    with PayloadEncryptor(payload, file_key) as encryptor:
        encryptor.write(b"hello")
    payload.seek(0)
    assert age.inspect_header(header) == ["ed25519-grease", "X25519"]
    assert b"".join(age.open_parts(header, payload, [IDENTITY])) == b"hello"


def test_a_changed_unknown_stanza_fails_the_mac() -> None:
    file_key = FileKey.generate()
    header = sealed([Stanza("other", ("abc",)), IDENTITY.recipient.wrap(file_key)], file_key)
    tampered = header.replace(b"-> other abc", b"-> other abd")
    with pytest.raises(HMACError):
        age.add_recipients(tampered, [IDENTITY], [])


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (b"", "not an age file"),
        (b"age-encryption.org/v2\n", "unsupported"),
        (
            b"age-encryption.org/v1\n--- AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
            "no recipient",
        ),
        (b"age-encryption.org/v1\n-> X25519 AAAA\n", "truncated"),
        (b"age-encryption.org/v1\n-> X25519 AAAA\nAA==\n", "base64"),
        (b"age-encryption.org/v1\n->\n\n", "malformed stanza"),
        (b"age-encryption.org/v1\n-> a  b\n\n", "VCHAR"),
        (b"age-encryption.org/v1\n-> a\n" + b"A" * 64 + b"\n--- x\n", "short line"),
        (b"age-encryption.org/v1\nhello\n", "unexpected line"),
    ],
)
def test_malformed_headers_are_rejected(header: bytes, message: str) -> None:
    with pytest.raises(HeaderError, match=message):
        parse_header(header)


def test_stored_header_must_not_carry_trailing_bytes() -> None:
    file_key = FileKey.generate()
    header = sealed([IDENTITY.recipient.wrap(file_key)], file_key)
    parse_header(header)
    with pytest.raises(HeaderError, match="after the header"):
        parse_header(header + b"x")


def test_overlong_header_line_is_refused_early() -> None:
    with pytest.raises(HeaderError, match="too long"):
        parse_header(b"age-encryption.org/v1\n-> " + b"a" * 70_000 + b"\n")


def test_file_key_does_not_leak_through_repr_or_hashing() -> None:
    file_key = FileKey.generate()
    assert "redacted" in repr(file_key)
    assert file_key.secret_bytes().hex() not in repr(file_key)
    with pytest.raises(TypeError):
        hash(file_key)
    assert file_key == FileKey(file_key.secret_bytes())
    with pytest.raises(ValueError, match="16 bytes"):
        FileKey(b"short")
