"""report object parents and a global rate limit

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 04:09:31.492300
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_hit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.String(length=32), nullable=False),
        sa.Column("hit_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_limit_hit")),
    )
    with op.batch_alter_table("rate_limit_hit", schema=None) as batch_op:
        batch_op.create_index("ix_rate_limit_hit_bucket_time", ["bucket", "hit_at"], unique=False)

    with op.batch_alter_table("report_object", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parent_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_report_object_parent_id"), ["parent_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_report_object_parent_id_report_object"),
            "report_object",
            ["parent_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    with op.batch_alter_table("report_object", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_report_object_parent_id_report_object"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_report_object_parent_id"))
        batch_op.drop_column("parent_id")

    with op.batch_alter_table("rate_limit_hit", schema=None) as batch_op:
        batch_op.drop_index("ix_rate_limit_hit_bucket_time")

    op.drop_table("rate_limit_hit")
