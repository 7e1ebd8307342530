"""ASCII armor: the writer's layout and the strict reader (see also the armor_* vectors)."""

from __future__ import annotations

import base64
import io
import os
from collections.abc import Callable

import pytest

from crypto import age
from crypto.armor import BEGIN_LINE, END_LINE, ArmorReader, ArmorWriter
from crypto.errors import ArmorError
from crypto.keys import X25519Identity

IDENTITY = X25519Identity.generate()


def armored(data: bytes) -> bytes:
    out = io.BytesIO()
    writer = ArmorWriter(out)
    for start in range(0, len(data), 1000):
        writer.write(data[start : start + 1000])
    writer.close()
    return out.getvalue()


def unarmored(text: bytes) -> bytes:
    return io.BufferedReader(ArmorReader(io.BytesIO(text))).read()


@pytest.mark.parametrize("size", [0, 1, 47, 48, 49, 48 * 1024, 48 * 1024 + 5, 200_000])
def test_writer_emits_strict_pem_that_reads_back(size: int) -> None:
    data = os.urandom(size)
    text = armored(data)
    lines = text.split(b"\n")
    assert lines[0] == BEGIN_LINE
    assert lines[-2:] == [END_LINE, b""]
    body = lines[1:-2]
    assert all(len(line) == 64 for line in body[:-1])
    assert not body or 0 < len(body[-1]) <= 64
    assert base64.b64decode(b"".join(body)) == data
    assert unarmored(text) == data


@pytest.mark.parametrize("size", [11, 100_000])
def test_surrounding_whitespace_and_crlf_are_accepted(size: int) -> None:
    data = os.urandom(size)
    text = armored(data)
    assert unarmored(b"\n  \r\n" + text.replace(b"\n", b"\r\n") + b"\n\t \n") == data


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t + b"more",  # data after the end line
        lambda t: t.replace(b"=\n", b"\n"),  # missing padding
        lambda t: t.replace(END_LINE, b""),  # no end line
        lambda t: b" " * 2000 + t,  # unbounded leading whitespace
        lambda t: t + b" " * 2000,  # unbounded trailing whitespace
        lambda t: t.replace(b"\n", b"\n\n", 2)[:-1],  # blank line inside
        lambda t: t.replace(b"\n", b" \n", 2),  # trailing space on a full line
        lambda t: t[:40] + t[41:],  # a full line one character short
    ],
)
def test_non_canonical_armor_is_rejected(mangle: Callable[[bytes], bytes]) -> None:
    text = armored(os.urandom(100))
    with pytest.raises(ArmorError):
        unarmored(mangle(text))


def test_armored_age_file_is_detected_on_decryption() -> None:
    out = io.BytesIO()
    age.encrypt(io.BytesIO(b"secret"), out, [IDENTITY.recipient], armor=True)
    assert out.getvalue().startswith(BEGIN_LINE)
    plain = io.BytesIO()
    age.decrypt(io.BytesIO(out.getvalue()), plain, [IDENTITY])
    assert plain.getvalue() == b"secret"
