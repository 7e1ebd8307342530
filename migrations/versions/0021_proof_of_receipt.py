"""proof of receipt: a report's receipt event names its channel and its objects' headers

- ``audit_event.receipt_channel``, ``audit_event.receipt_headers``: set only on a report's
  ``report.submitted`` event, which is then encoded as a receipt event
  (crypto/proof_of_receipt.py) that a reporter's proof of receipt carries. Existing
  events keep both empty and their first encoding, so their leaf hashes do not change.
- The same two columns on ``audit_held_event``, which carries them to the release.

Columns are only added (ALTER TABLE ... ADD COLUMN on both databases, never a batch
copy), so the append-only triggers on both tables stay as they are.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("audit_event", "audit_held_event")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("receipt_channel", sa.String(length=64), nullable=True,
                                       server_default=sa.null()))
        op.add_column(table, sa.Column("receipt_headers", sa.Text(), nullable=True,
                                       server_default=sa.null()))


def downgrade() -> None:
    # SQLite drops a column in place since 3.35; the triggers do not name these columns.
    for table in TABLES:
        op.drop_column(table, "receipt_headers")
        op.drop_column(table, "receipt_channel")
