"""Finding a case by what a handler can say or read: its number or its reference.

Both are plaintext columns (``case_year``/``case_number``, ``public_id``): a search never
opens encrypted content.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, false, func, or_

from reporting_portal.domain.case_numbers import parse_case_number
from reporting_portal.storage.models import Report

# Shorter prefixes of the random reference would match too many cases to mean one.
MIN_REFERENCE_PREFIX = 4
MAX_SEARCH_CHARS = 64


def clean_search(value: str | None) -> str | None:
    """What was typed into the search field, or ``None`` when it cannot find anything."""
    text = (value or "").strip()
    if not text or len(text) > MAX_SEARCH_CHARS or not text.isprintable():
        return None
    return text


def case_matches(typed: str) -> Any:
    """A condition on Report: the case with this number, or whose reference starts so.

    The prefix is compared with ``substr``, not ``LIKE``: SQLite's LIKE ignores case and
    PostgreSQL's does not, and a reference's case matters (it is base64url)."""
    conditions = []
    number = parse_case_number(typed)
    if number is not None:
        conditions.append(and_(Report.case_year == number[0], Report.case_number == number[1]))
    if len(typed) >= MIN_REFERENCE_PREFIX:
        conditions.append(func.substr(Report.public_id, 1, len(typed)) == typed)
    return or_(*conditions) if conditions else false()
