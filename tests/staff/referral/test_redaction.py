"""Redaction by marks: only [[ ]] may be added, and each marked span becomes the marker."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from reporting_portal.staff.referral.redaction import MARKER, RedactionError, redact

ANSWER = "I saw Maria Rossi take the envelope at the town hall."


def test_each_marked_span_becomes_the_marker() -> None:
    redacted = redact(ANSWER, "I saw [[Maria Rossi]] take the envelope at the [[town hall]].")
    assert redacted.text == f"I saw {MARKER} take the envelope at the {MARKER}."
    assert redacted.span_count == 2
    assert "Maria" not in redacted.text


def test_no_marks_send_the_answer_as_it_is() -> None:
    assert redact(ANSWER, ANSWER).text == ANSWER
    assert redact(ANSWER, ANSWER).span_count == 0


def test_line_breaks_as_a_browser_sends_them_are_not_a_change() -> None:
    original = "First line.\nSecond: Maria Rossi."
    redacted = redact(original, "First line.\r\nSecond: [[Maria Rossi]].")
    assert redacted.text == f"First line.\nSecond: {MARKER}."


@pytest.mark.parametrize("marked", [
    "I saw [[Maria Rossi take the envelope at the town hall.",  # not closed
    "I saw Maria Rossi]] take the envelope at the town hall.",  # closes nothing
    "I saw [[Maria [[Rossi]]]] take the envelope at the town hall.",  # nested
    "I saw [[someone]] take the envelope at the town hall.",  # the text was changed
    "I saw Maria Rossi take the envelope.",  # text removed without marks
])
def test_anything_but_added_marks_is_refused(marked: str) -> None:
    with pytest.raises(RedactionError):
        redact(ANSWER, marked)


TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="[]\r"),
               max_size=200)


@settings(max_examples=200, deadline=None)
@given(TEXT, st.lists(st.integers(min_value=0, max_value=200), max_size=8))
def test_marking_any_spans_hides_exactly_them(original: str, cuts: list[int]) -> None:
    bounds = sorted({min(c, len(original)) for c in cuts})
    assume(len(bounds) % 2 == 0)
    spans = list(zip(bounds[::2], bounds[1::2], strict=True))
    marked, expected, position = "", "", 0
    for start, end in spans:
        marked += original[position:start] + "[[" + original[start:end] + "]]"
        expected += original[position:start] + MARKER
        position = end
    marked += original[position:]
    expected += original[position:]
    redacted = redact(original, marked)
    assert redacted.text == expected
    assert "".join(piece for piece, _ in redacted.pieces) == original
    assert [piece for piece, hidden in redacted.pieces if hidden] == [
        original[s:e] for s, e in spans if e > s]


@settings(max_examples=200, deadline=None)
@given(TEXT, st.text(max_size=200))
def test_any_submitted_text_is_either_the_original_with_marks_or_refused(original, marked):
    try:
        redacted = redact(original, marked)
    except RedactionError:
        return
    assert "".join(piece for piece, _ in redacted.pieces) == original
