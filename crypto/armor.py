"""ASCII armor for age files: strict PEM (RFC 7468 section 3), label "AGE ENCRYPTED FILE".

Armored files are malleable unless the parser is strict, so, as the age spec asks,
only the canonical encoding is accepted: 64-column lines of padded canonical base64,
a short line only at the end, no headers, no blank lines; the only tolerance is LF
or CRLF line ends and whitespace before and after the block.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
from typing import BinaryIO

from crypto.errors import ArmorError

BEGIN_LINE = b"-----BEGIN AGE ENCRYPTED FILE-----"
END_LINE = b"-----END AGE ENCRYPTED FILE-----"
COLUMNS_PER_LINE = 64
BYTES_PER_LINE = COLUMNS_PER_LINE // 4 * 3
# Whitespace tolerated around the block is bounded so a stream of spaces cannot
# keep the reader busy forever.
MAX_SURROUNDING_WHITESPACE = 1024
_WHITESPACE = b" \t\r\n\v\f"
# Batch of whole lines encoded at a time when writing; bytes read at a time.
_WRITE_BATCH = BYTES_PER_LINE * 1024
_READ_SIZE = 64 * 1024
_FULL_LINES = re.compile(rb"(?:[A-Za-z0-9+/]{64}\r?\n)+")


def looks_armored(start: bytes) -> bool:
    """Tell from the first bytes of an input whether it is armored.

    A binary age file starts with "age-encryption.org/"; armor starts with the PEM
    line, possibly after whitespace. Anything beginning with a dash or whitespace goes
    to the strict armor parser, so a damaged armor line is reported as an armor error.
    """
    return start[:1] == b"-" or (bool(start) and start[:1] in _WHITESPACE)


class ArmorWriter:
    """Write armored output to ``dst``; call :meth:`close` to write the end line.

    Closing does not close ``dst``.
    """

    def __init__(self, dst: BinaryIO) -> None:
        self._dst = dst
        self._pending = bytearray()
        self._closed = False
        dst.write(BEGIN_LINE + b"\n")

    def _write_lines(self, data: bytes | bytearray) -> None:
        encoded = base64.b64encode(data)
        self._dst.write(
            b"".join(
                encoded[start : start + COLUMNS_PER_LINE] + b"\n"
                for start in range(0, len(encoded), COLUMNS_PER_LINE)
            )
        )

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Buffer ``data`` and write out every batch of complete lines."""
        if self._closed:
            raise ValueError("armor already closed")
        self._pending += data
        if len(self._pending) >= _WRITE_BATCH:
            whole = len(self._pending) - len(self._pending) % BYTES_PER_LINE
            self._write_lines(self._pending[:whole])
            del self._pending[:whole]
        return len(data)

    def flush(self) -> None:
        """Flush the destination (buffered partial lines stay until close)."""
        self._dst.flush()

    def close(self) -> None:
        """Write the remaining data, with a padded short last line, and the end line."""
        if self._closed:
            return
        self._write_lines(self._pending)
        self._pending.clear()
        self._dst.write(END_LINE + b"\n")
        self._closed = True


class ArmorReader(io.RawIOBase):
    """Decode armored input lazily, rejecting any non-canonical form.

    Errors surface on the read that reaches them, so an armor error after the last
    data line is raised before the reader reports the end of the data.
    """

    def __init__(self, src: BinaryIO) -> None:
        super().__init__()
        self._src = src
        self._buffer = bytearray()
        self._eof = False
        self._started = False
        self._done = False
        self._unread = b""

    def readable(self) -> bool:
        return True

    def _fill(self) -> bool:
        if self._eof:
            return False
        data = self._src.read(_READ_SIZE)
        if not data:
            self._eof = True
            return False
        self._buffer += data
        return True

    def _line(self, limit: int = COLUMNS_PER_LINE + 2) -> bytes | None:
        """Return the next line without its LF or CRLF; None at the end of input."""
        while True:
            end = self._buffer.find(b"\n")
            if end != -1 or len(self._buffer) > limit or not self._fill():
                break
        if end == -1:
            end = len(self._buffer)
            if not end:
                return None
        line = bytes(self._buffer[:end])
        del self._buffer[: end + 1]
        if len(line) > limit:
            raise ArmorError("armor line is longer than 64 columns")
        return line.removesuffix(b"\r")

    def _start(self) -> None:
        skipped = 0
        while True:
            line = self._line(MAX_SURROUNDING_WHITESPACE)
            if line is None:
                raise ArmorError("input is empty or holds only whitespace")
            if line.strip(_WHITESPACE):
                break
            skipped += len(line) + 1
            if skipped > MAX_SURROUNDING_WHITESPACE:
                raise ArmorError("too much whitespace before the armor")
        if line != BEGIN_LINE:
            raise ArmorError("armor does not start with '-----BEGIN AGE ENCRYPTED FILE-----'")
        self._started = True

    def _finish(self) -> None:
        while len(self._buffer) <= MAX_SURROUNDING_WHITESPACE and self._fill():
            pass
        if bytes(self._buffer).strip(_WHITESPACE):
            raise ArmorError("unexpected data after the armor end line")
        if len(self._buffer) > MAX_SURROUNDING_WHITESPACE:
            raise ArmorError("too much whitespace after the armor")
        self._buffer.clear()
        self._done = True

    def _full_lines(self) -> bytes:
        """Decode a run of complete 64-column lines at once (the bulk of a large file).

        64 base64 characters encode exactly 48 bytes without padding, so such lines
        are canonical by construction; the last line and the end line are left to
        the line-by-line checks.
        """
        if len(self._buffer) < _READ_SIZE:
            self._fill()
        match = _FULL_LINES.match(self._buffer)
        if match is None:
            return b""
        run = self._buffer[: match.end()]
        del self._buffer[: match.end()]
        return binascii.a2b_base64(run.translate(None, b"\r\n"), strict_mode=True)

    def _next_block(self) -> bytes:
        if not self._started:
            self._start()
        decoded = self._full_lines()
        if decoded:
            return decoded
        line = self._line()
        if line is None:
            raise ArmorError("armor has no end line (truncated?)")
        if line == END_LINE:
            self._finish()
            return b""
        if not line or len(line) > COLUMNS_PER_LINE:
            raise ArmorError("armor line is empty or longer than 64 columns")
        try:
            decoded = binascii.a2b_base64(line, strict_mode=True)
        except binascii.Error:
            raise ArmorError("armor line is not valid padded base64") from None
        if base64.b64encode(decoded) != line:
            raise ArmorError("armor line is not canonical base64")
        if len(decoded) < BYTES_PER_LINE:
            # Only the last line may be short: the end line must follow at once.
            if self._line() != END_LINE:
                raise ArmorError("short armor line is not followed by the end line")
            self._finish()
        return decoded

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        """Fill ``buffer`` with decoded bytes; 0 only at the verified end of the armor."""
        while not self._unread:
            if self._done:
                return 0
            self._unread = self._next_block()
        count = min(len(buffer), len(self._unread))
        buffer[:count] = self._unread[:count]
        self._unread = self._unread[count:]
        return count
