"""report version

A counter on each report, raised by every triage change (stage, priority, labels,
handlers, acknowledgement). A form carries the version it was shown; a change sent from
an older version is refused, so two handlers editing one case cannot overwrite each
other unseen. Existing reports start at 1.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 19:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN on both databases: a batch (copy-and-move) table on SQLite would
    # drop the report table, and with it every row that cascades from it.
    op.add_column(
        "report",
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("report", "version")  # SQLite 3.35+ drops a column in place
