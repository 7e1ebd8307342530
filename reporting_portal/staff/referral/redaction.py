"""Redaction by marks: the handler puts ``[[`` and ``]]`` around what the receiver must not read.

Why this design: a handler redacts by reading the answer in context, so the page gives
each text answer in a text box and the handler types two brackets before and after each
span to hide; it works without JavaScript, on any device and with a screen reader, and a
span is chosen by its words rather than by counting characters. The server then proves
that nothing but marks was added (the text without the marks must equal the original), so
a slip of the keyboard cannot change what the reporter said: it is refused with a clear
message. Each marked span becomes :data:`MARKER` in the redacted copy.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

OPEN, CLOSE = "[[", "]]"
# What stands in a redacted copy for each hidden span; English, like the package's formats.
MARKER = "[REDACTED]"


class RedactionError(ValueError):
    """The marked text is not the original with marks added; the message says why."""


@dataclass(frozen=True)
class Redacted:
    """An answer with its marked spans replaced, and what the preview shows of it."""

    text: str
    # The text in pieces: (piece, hidden); the preview shows hidden pieces as the marker.
    pieces: tuple[tuple[str, bool], ...]

    @property
    def span_count(self) -> int:
        return sum(1 for _, hidden in self.pieces if hidden)


def _newlines(text: str) -> str:
    # A browser sends a text box's line breaks as CRLF whatever the original held.
    return text.replace("\r\n", "\n")


def redact(original: str, marked: str) -> Redacted:
    """Replace each ``[[…]]`` span of ``marked`` by :data:`MARKER`, if only marks were added."""
    pieces: list[tuple[str, bool]] = []
    marked = _newlines(marked)
    position = 0
    while position < len(marked):
        start = marked.find(OPEN, position)
        stray_close = marked.find(CLOSE, position)
        if stray_close != -1 and (start == -1 or stray_close < start):
            raise RedactionError(_l("A ]] closes no [[. Put [[ before each span to hide."))
        if start == -1:
            pieces.append((marked[position:], False))
            break
        end = marked.find(CLOSE, start + len(OPEN))
        if end == -1:
            raise RedactionError(_l("A [[ is not closed. Put ]] after each span to hide."))
        hidden = marked[start + len(OPEN):end]
        if OPEN in hidden:
            raise RedactionError(_l("Marks cannot be nested: close each [[ with ]] first."))
        pieces.append((marked[position:start], False))
        if hidden:
            pieces.append((hidden, True))
        position = end + len(CLOSE)
    pieces = [(text, hidden) for text, hidden in pieces if text]
    if "".join(text for text, _ in pieces) != _newlines(original):
        raise RedactionError(_l("Only add [[ and ]] marks: the text itself was changed. "
                                "Start again from the original answer."))
    return Redacted(text="".join(MARKER if hidden else text for text, hidden in pieces),
                    pieces=tuple(pieces))
