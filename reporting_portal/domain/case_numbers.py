"""Case numbers handlers can say on the phone: ``2026-0142``, counted per year of receipt.

A number is taken from a per-year counter row in the submission's own transaction:

- the year's row is created if missing with ``INSERT ... ON CONFLICT DO NOTHING`` (on
  PostgreSQL a second inserter waits for the first to commit, then inserts nothing);
- ``UPDATE ... SET last_number = last_number + 1 ... RETURNING`` then raises it. On
  PostgreSQL the row lock makes a concurrent submission wait and read the raised value;
  on SQLite the UPDATE takes the database's write lock, held until commit.

So two concurrent submissions never get the same number, and a submission that rolls
back gives its number back. The unique index on (year, number) vouches for it anyway.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from reporting_portal.storage.models import CaseNumberCounter, Report

# "2026-0142", "2026-142", "2026 142", "2026/142" and "20260142": a year, then the number.
_CASE_NUMBER = re.compile(r"(\d{4})\s*[-/\s]\s*(\d{1,7})|(\d{4})(\d{4})")
_MAX_NUMBER = 10**7
# A reference shorter than this is too short to name one case; one this long is whole.
_MIN_PREFIX = 4
_PUBLIC_ID_CHARS = 22


def allocate_case_number(db: Session, report: Report) -> None:
    """Give a new report the next number of the year it was received in."""
    year = report.received_on.year
    insert = postgresql_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.execute(insert(CaseNumberCounter).values(year=year, last_number=0)
               .on_conflict_do_nothing(index_elements=["year"]))
    number = db.execute(
        update(CaseNumberCounter).where(CaseNumberCounter.year == year)
        .values(last_number=CaseNumberCounter.last_number + 1)
        .returning(CaseNumberCounter.last_number)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    report.case_year = year
    report.case_number = number


def parse_case_number(text: str) -> tuple[int, int] | None:
    """(year, number) from what a handler typed, with or without dash or leading zeros;
    ``None`` when it is not a case number."""
    match = _CASE_NUMBER.fullmatch(text.strip())
    if match is None:
        return None
    year, number = (match.group(1), match.group(2)) if match.group(1) else (
        match.group(3), match.group(4))
    if int(number) == 0 or int(number) >= _MAX_NUMBER:
        return None
    return int(year), int(number)


def case_named_by(db: Session, typed: str) -> Report | None:
    """The one report a person named by its number, or by the start of its reference as
    staff pages show it (``public_id[:8]``); ``None`` when none, or several, fit."""
    text = typed.strip()
    number = parse_case_number(text)
    if number is not None:
        found = db.scalar(select(Report).where(Report.case_year == number[0],
                                               Report.case_number == number[1]))
        if found is not None:
            return found
    if not _MIN_PREFIX <= len(text) <= _PUBLIC_ID_CHARS:
        return None
    # substr, not LIKE: SQLite's LIKE ignores case, and a base64url reference's case matters.
    matches = list(db.scalars(select(Report).where(
        func.substr(Report.public_id, 1, len(text)) == text).limit(2)))
    return matches[0] if len(matches) == 1 else None
