"""key rotation: the recovery recipient's and each staff member's

- ``key_rotation``: one row per rotation, with its old and new recipients, how far its
  batches got (cursors, sweep), what it re-granted, and for a staff rotation the old
  identity still wrapped under the person's password until the rotation completes.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 19:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "key_rotation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=16), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("old_recipient", sa.Text(), nullable=False),
        sa.Column("new_recipient", sa.Text(), nullable=False),
        sa.Column("old_wrapped_identity", sa.LargeBinary(), nullable=True),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("complete_after", sa.DateTime(), nullable=False),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.Column("object_cursor", sa.Integer(), nullable=False),
        sa.Column("text_cursor", sa.Integer(), nullable=False),
        sa.Column("sweeping", sa.Boolean(), nullable=False),
        sa.Column("objects_regranted", sa.Integer(), nullable=False),
        sa.Column("texts_regranted", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_account.id"],
                                name=op.f("fk_key_rotation_staff_id_staff_account"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_rotation")),
        sa.UniqueConstraint("public_id", name=op.f("uq_key_rotation_public_id")),
    )
    with op.batch_alter_table("key_rotation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_key_rotation_staff_id"), ["staff_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("key_rotation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_key_rotation_staff_id"))
    op.drop_table("key_rotation")
