"""Property tests: the cleaning rules parse untrusted bytes (issue 18)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reporting_portal.domain.metadata_cleaning import CannotClean, clean_file
from tests.helpers import metadata_samples as samples

JPEG = samples.jpeg_with_gps()
PNG = samples.png_with_text()
SAMPLES = samples.all_samples()

_METADATA_MARKERS = st.sampled_from([0xE1, 0xE3, 0xE4, 0xE9, 0xED, 0xEF, 0xFE])


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.sampled_from([b"", b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"%PDF-1.7\n",
                        b"PK\x03\x04"]), st.binary(max_size=400))
def test_any_bytes_are_cleaned_or_refused_with_a_reason(prefix, rest):
    try:
        cleaned = clean_file(prefix + rest)
    except CannotClean:
        return  # refused with a reason: what the handler and the reporter are told
    assert isinstance(cleaned, bytes)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(_METADATA_MARKERS, st.binary(min_size=1, max_size=300)),
                min_size=1, max_size=5))
def test_any_added_jpeg_metadata_segment_is_dropped_and_nothing_else(segments):
    inserted = b"".join(bytes([0xFF, marker]) + (len(payload) + 2).to_bytes(2, "big") + payload
                        for marker, payload in segments)
    tampered = JPEG.data[:2] + inserted + JPEG.data[2:]
    assert clean_file(tampered) == clean_file(JPEG.data)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([b"tEXt", b"zTXt", b"iTXt", b"tIME", b"eXIf",
                                           b"caBX", b"prVt"]),
                          st.binary(max_size=200)), min_size=1, max_size=5))
def test_any_added_png_text_or_private_chunk_is_dropped(chunks):
    import zlib

    inserted = b"".join(len(body).to_bytes(4, "big") + kind + body
                        + zlib.crc32(kind + body).to_bytes(4, "big") for kind, body in chunks)
    after_header = 8 + 25  # signature, then IHDR's 25 bytes
    tampered = PNG.data[:after_header] + inserted + PNG.data[after_header:]
    assert clean_file(tampered) == clean_file(PNG.data)


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.name)
def test_cleaning_twice_changes_nothing_more(sample):
    once = clean_file(sample.data)
    assert clean_file(once) == once
