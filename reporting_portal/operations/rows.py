"""Database rows as JSON lines, the same on SQLite and PostgreSQL (the backup's tables).

JSON has strings, numbers, booleans and null of its own; every other value is an object
with one key that names its type: ``{"bytes": base64}``, ``{"date": "2026-12-01"}``,
``{"datetime": "2026-12-01T09:30:00.000123Z"}`` (always UTC), ``{"decimal": "1.50"}``,
and ``{"json": value}`` for a JSON column's list or object. A plain JSON object never
stands for itself, so no column value can be mistaken for a tagged one.

Rows are read and written through reflected tables, whose datetime columns carry naive
UTC (what ``UTCDateTime`` stores on both databases), so a naive datetime is written as
UTC and read back naive.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

# A row of the largest table (a report object's age header, a few KiB) is far below it.
MAX_LINE_BYTES = 16 * 1024 * 1024


class RowEncodingError(ValueError):
    """A value this format cannot hold, or a line that is not one of its rows."""


def encode_value(value: object) -> Any:  # noqa: PLR0911 -- one return per type of the format
    """One column value as JSON (see the module's docstring)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise RowEncodingError("a float that is not finite")
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return {"bytes": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return {"datetime": value.isoformat(timespec="microseconds") + "Z"}
    if isinstance(value, date):
        return {"date": value.isoformat()}
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise RowEncodingError("a decimal that is not finite")
        return {"decimal": str(value)}
    if isinstance(value, list | dict):
        return {"json": value}
    raise RowEncodingError(f"no encoding for a value of type {type(value).__name__}")


def decode_value(encoded: Any) -> object:
    """The column value :func:`encode_value` wrote; raises :class:`RowEncodingError`."""
    if not isinstance(encoded, dict):
        return encoded
    if len(encoded) != 1:
        raise RowEncodingError("a tagged value has exactly one key")
    [(tag, text)] = encoded.items()
    if tag == "json":
        return text
    if not isinstance(text, str):
        raise RowEncodingError(f"a {tag} value is written as text")
    try:
        if tag == "bytes":
            return base64.b64decode(text, validate=True)
        if tag == "datetime":
            if not text.endswith("Z"):
                raise RowEncodingError("a datetime is written in UTC, ending in Z")
            moment = datetime.fromisoformat(text[:-1])
            if moment.tzinfo is not None:
                raise RowEncodingError("a datetime is written in UTC, ending in Z")
            return moment
        if tag == "date":
            return date.fromisoformat(text)
        if tag == "decimal":
            return Decimal(text)
    except (binascii.Error, ValueError, InvalidOperation):
        raise RowEncodingError(f"not a valid {tag} value") from None
    raise RowEncodingError(f"unknown value type {tag!r}")


def encode_row(row: Mapping[str, Any]) -> bytes:
    """One row as one line of compact ASCII JSON, ending in a newline."""
    line = json.dumps({column: encode_value(value) for column, value in row.items()},
                      ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    return line.encode("ascii") + b"\n"


def decode_row(line: bytes, columns: frozenset[str]) -> dict[str, object]:
    """A row from its line; its columns must be exactly ``columns`` (the table's)."""
    if len(line) > MAX_LINE_BYTES:
        raise RowEncodingError("a row is larger than any this format writes")
    try:
        encoded = json.loads(line)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise RowEncodingError("a row is not valid JSON") from None
    if not isinstance(encoded, dict):
        raise RowEncodingError("a row is a JSON object")
    if set(encoded) != columns:
        raise RowEncodingError("a row's columns are not the table's")
    return {column: decode_value(value) for column, value in encoded.items()}
