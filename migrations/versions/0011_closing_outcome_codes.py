"""closing outcome codes

A closed case's outcome was stored as an English sentence; it becomes a code
(storage.models.ClosingOutcome), put into words in the reader's language only for
display (domain/case_words.py). The five sentences the application offered map to their
codes; any other text stays as it was and shows as itself.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 23:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here: the sentences as the application stored them before this revision.
SENTENCE_TO_CODE = {
    "Substantiated: referred to the competent authority": "referred",
    "Substantiated: dealt with internally": "dealt_with_internally",
    "Not substantiated": "not_substantiated",
    "Outside the scope of this channel": "out_of_scope",
    "Not enough information to act on": "not_enough_information",
}

report = sa.table("report", sa.column("closing_outcome", sa.String(64)))


def _move(mapping: dict[str, str]) -> None:
    for old, new in mapping.items():
        op.execute(report.update()
                   .where(report.c.closing_outcome == old)
                   .values(closing_outcome=new))


def upgrade() -> None:
    _move(SENTENCE_TO_CODE)


def downgrade() -> None:
    _move({code: sentence for sentence, code in SENTENCE_TO_CODE.items()})
