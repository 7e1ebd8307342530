"""Property tests: a reporter's upload is judged on its bytes, never on how they arrived.

Tor splits a body into cells and the server reads it in whatever pieces the socket
gives. :class:`MultipartReader` and :class:`AgeFileSink` must therefore reach the same
result, or the same clean refusal (:class:`UploadError` or 413), for every way of
cutting the same bytes, and nothing else may ever escape them (issue 11, item 15).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.exceptions import RequestEntityTooLarge

from crypto import age
from crypto.keys import X25519Identity
from reporting_portal.web.uploads import (
    MAX_AGE_HEADER_BYTES,
    AgeFileSink,
    MultipartReader,
    StoredUpload,
    UploadError,
    UploadLimits,
)

BOUNDARY = b"prop-boundary-1234"
IDENTITY = X25519Identity.generate()
LIMITS = UploadLimits(max_field_chars=200, max_parts=30, max_files=4, max_file_bytes=4096,
                      single_parts=frozenset({"content", "identity"}))


@dataclass
class MemoryWriter:
    """A blob writer that keeps its bytes in a list, as the blob store would on disk."""

    name: str
    store: MemoryStore
    data: bytearray = field(default_factory=bytearray)

    def write(self, data: bytes | memoryview, /) -> int:
        self.data += data
        return len(data)

    def commit(self) -> int:
        self.store.committed[self.name] = bytes(self.data)
        return len(self.data)

    def abort(self) -> None:
        self.store.aborted.append(self.name)

    def __enter__(self) -> MemoryWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.abort()


@dataclass
class MemoryStore:
    committed: dict[str, bytes] = field(default_factory=dict)
    aborted: list[str] = field(default_factory=list)
    created: int = 0

    def create(self) -> MemoryWriter:
        self.created += 1
        return MemoryWriter(f"blob{self.created}", self)


class PlainSink:
    """Stands in for the encrypting sink: keeps the plaintext to compare."""

    def __init__(self, writer: MemoryWriter, field_name: str, filename: str) -> None:
        self._writer, self._field_name, self._filename = writer, field_name, filename
        self._size = 0

    def write(self, data: bytes) -> None:
        self._writer.write(data)
        self._size += len(data)

    @property
    def plaintext_bytes(self) -> int:
        return self._size

    def abort(self) -> None:
        self._writer.abort()

    def finish(self) -> StoredUpload:
        return StoredUpload(field_name=self._field_name, blob_name=self._writer.name,
                            payload_size=self._writer.commit(), plaintext_size=self._size,
                            filename=self._filename)


def open_sink(name: str, filename: str, content_type: str, writer):
    if name in {"content", "file", "identity"}:
        return AgeFileSink(writer, field_name=name)
    if name.startswith("q_"):
        return PlainSink(writer, name, filename)
    return None


class Pieces:
    """A stream that hands out the body in the given piece sizes (then the rest), as a
    socket may return less than was asked for."""

    def __init__(self, body: bytes, sizes: list[int]) -> None:
        self._body, self._sizes, self.position = body, list(sizes), 0

    def read(self, size: int = -1, /) -> bytes:
        want = self._sizes.pop(0) if self._sizes else size
        piece = self._body[self.position:self.position + max(1, min(want, size))]
        self.position += len(piece)
        return piece


def outcome(body: bytes, sizes: list[int], limits: UploadLimits = LIMITS) -> tuple:
    """What a reader makes of ``body`` read in ``sizes``: its result, or its refusal."""
    store = MemoryStore()
    first: list[tuple[str, str]] = []
    reader = MultipartReader(store=store, open_sink=open_sink,
                             on_first_field=lambda name, value: first.append((name, value)),
                             created=[], limits=limits)
    try:
        parsed = reader.read(Pieces(body, sizes), BOUNDARY)
    except (UploadError, RequestEntityTooLarge) as refusal:
        return ("refused", type(refusal).__name__, str(refusal.description))
    uploads = [(u.field_name, u.header, store.committed[u.blob_name], u.plaintext_size,
                u.filename) for u in parsed.uploads]
    return ("read", first, list(parsed.fields.items(multi=True)), uploads)


def age_file(plaintext: bytes) -> bytes:
    out = io.BytesIO()
    age.encrypt(io.BytesIO(plaintext), out, [IDENTITY.recipient])
    return out.getvalue()


AGE_FILES = [age_file(b""), age_file(b"evidence " * 40), age_file(b"x" * 3000)]


def part(name: str, value: bytes, filename: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"'
    if filename is not None:
        disposition += f'; filename="{filename}"'
    return (b"--" + BOUNDARY + b"\r\nContent-Disposition: " + disposition.encode()
            + b"\r\n\r\n" + value + b"\r\n")


texts = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\r"), max_size=60)
parts = st.one_of(
    st.tuples(st.sampled_from(["q_what", "mode", "exclude", "q_where"]), texts).map(
        lambda t: part(t[0], t[1].encode())),
    st.tuples(st.sampled_from(["q_evidence", "q_other"]), st.binary(max_size=1500),
              st.sampled_from(["a.pdf", "b.txt", ""])).map(lambda t: part(t[0], t[1], t[2])),
    st.tuples(st.sampled_from(["content", "file", "identity"]), st.sampled_from(AGE_FILES)).map(
        lambda t: part(t[0], t[1], "x.age")),
    st.tuples(st.sampled_from(["file", "content"]), st.sampled_from(AGE_FILES),
              st.integers(0, 400)).map(lambda t: part(t[0], t[1][:t[2]], "cut.age")),
)


@st.composite
def bodies(draw) -> bytes:
    body = part("csrf_token", b"token") if draw(st.booleans()) else b""
    body += b"".join(draw(st.lists(parts, max_size=6)))
    body += b"--" + BOUNDARY + b"--\r\n"
    damage = draw(st.sampled_from(["none", "truncate", "flip", "garbage"]))
    if damage == "truncate" and body:
        body = body[:draw(st.integers(0, len(body) - 1))]
    elif damage == "flip" and body:
        at = draw(st.integers(0, len(body) - 1))
        body = body[:at] + bytes([body[at] ^ (1 << draw(st.integers(0, 7)))]) + body[at + 1:]
    elif damage == "garbage":
        body = draw(st.binary(max_size=300)) + body
    return body


read_sizes = st.lists(st.integers(1, 700), max_size=40)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=bodies(), sizes=read_sizes)
def test_the_same_body_gives_the_same_outcome_however_it_is_cut(body, sizes):
    assert outcome(body, sizes) == outcome(body, [])


BIG_LIMITS = UploadLimits(max_field_chars=100_000, max_parts=10, max_files=2,
                          max_file_bytes=150_000, single_parts=frozenset({"content"}))


@settings(max_examples=60, deadline=None)
@given(size=st.integers(60_000, 140_000), answer=st.integers(0, 70_000),
       sizes=st.lists(st.integers(1, 70_000), max_size=10))
def test_large_parts_across_the_decoders_slices_read_the_same(size, answer, sizes):
    body = (part("csrf_token", b"token") + part("q_what", b"a" * answer)
            + part("q_evidence", bytes(range(256)) * (size // 256), "big.bin")
            + b"--" + BOUNDARY + b"--\r\n")
    expected = outcome(body, [], BIG_LIMITS)
    assert expected[0] == "read"
    assert outcome(body, sizes, BIG_LIMITS) == expected


@settings(max_examples=100, deadline=None)
@given(body=st.binary(max_size=2000), sizes=read_sizes)
def test_any_bytes_at_all_are_read_or_refused_cleanly(body, sizes):
    assert outcome(body, sizes) == outcome(body, [])


def feed(data: bytes, cuts: list[int]) -> tuple:
    store = MemoryStore()
    writer = store.create()
    sink = AgeFileSink(writer, field_name="file")
    points = sorted({c % (len(data) + 1) for c in cuts})
    try:
        start = 0
        for point in [*points, len(data)]:
            sink.write(data[start:point])
            start = point
        upload = sink.finish()
    except UploadError as refusal:
        return ("refused", str(refusal.description))
    return ("read", upload.header, store.committed[writer.name], sink.plaintext_bytes)


age_inputs = st.one_of(
    st.sampled_from(AGE_FILES),
    st.tuples(st.sampled_from(AGE_FILES), st.integers(0, 3100)).map(lambda t: t[0][:t[1]]),
    st.tuples(st.sampled_from(AGE_FILES), st.integers(0, 250), st.integers(0, 7)).map(
        lambda t: t[0][:t[1]] + bytes([t[0][t[1]] ^ (1 << t[2])]) + t[0][t[1] + 1:]
        if t[1] < len(t[0]) else t[0]),
    st.binary(max_size=400),
)


@settings(max_examples=300, deadline=None)
@given(data=age_inputs, cuts=st.lists(st.integers(0, 4000), max_size=30))
def test_an_age_file_is_judged_on_its_bytes_not_on_its_pieces(data, cuts):
    assert feed(data, cuts) == feed(data, [])


@pytest.mark.parametrize("plaintext_size", [0, 1, 64 * 1024 - 1, 64 * 1024, 64 * 1024 + 1,
                                            200_000])
def test_what_an_age_payload_holds_is_counted_exactly(plaintext_size):
    assert feed(age_file(b"p" * plaintext_size), [100, 70_000])[3] == plaintext_size


def test_an_oversized_header_is_refused_however_it_arrives():
    header = b"age-encryption.org/v1\n-> X25519 " + b"A" * MAX_AGE_HEADER_BYTES + b"\n--- "
    whole = header + b"B" * 43 + b"\n" + b"payload"
    assert feed(whole, []) == feed(whole, list(range(0, len(whole), 1000)))
    assert feed(whole, [])[0] == "refused"


def test_a_long_answer_is_refused_as_it_arrives_not_once_in_memory():
    body = part("csrf_token", b"token") + part("q_what", b"a" * 5_000_000) + b"--" + BOUNDARY
    stream = Pieces(body, [])
    reader = MultipartReader(store=MemoryStore(), open_sink=open_sink,
                             on_first_field=lambda name, value: None, created=[],
                             limits=LIMITS)
    with pytest.raises(RequestEntityTooLarge):
        reader.read(stream, BOUNDARY)
    assert stream.position <= 2 * 64 * 1024  # two reads, not five megabytes
