"""reporter reads back: a channel's choice, and each report's encryption (issue 15)

- ``channel.reporter_reads_back``: whether a reporter signed in with the receipt code can
  read what they sent. On by default; existing channels are on.
- ``report.content_for_reporter``: whether the report's content and files were also
  encrypted to the reporter's key when it was sent. Reports from before this revision
  were not, so they are false and cannot be shown to their reporter.

Revision ID: 0015
Revises: 0012
Create Date: 2026-12-01 23:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMNs: a batch (copy-and-move) table on SQLite would drop the report
    # table, and with it every row that cascades from it (as in 0009).
    op.add_column(
        "channel",
        sa.Column("reporter_reads_back", sa.Boolean(), server_default=sa.true(),
                  nullable=False),
    )
    op.add_column(
        "report",
        sa.Column("content_for_reporter", sa.Boolean(), server_default=sa.false(),
                  nullable=False),
    )


def downgrade() -> None:
    op.drop_column("report", "content_for_reporter")  # SQLite 3.35+ drops in place
    op.drop_column("channel", "reporter_reads_back")
