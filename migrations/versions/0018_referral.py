"""referral to another competent authority (issue 17, part 3)

- ``authority``: the directory an administrator keeps (name, age recipient, contact note,
  active flag).
- ``referral``: each referral of a case (which objects, which answers object, whether the
  identity went with it).
- ``channel.referral_notice``: whether the reporter is told, and whether the receiver is
  named ("none", "told", "named"); existing channels tell without naming.
- ``identity_access_request.purpose``: "handler" (existing requests) or "referral".

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "authority",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("age_recipient", sa.Text(), nullable=False),
        sa.Column("contact_note", sa.Text(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authority")),
        sa.UniqueConstraint("name", name=op.f("uq_authority_name")),
        sa.UniqueConstraint("public_id", name=op.f("uq_authority_public_id")),
    )
    op.create_table(
        "referral",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("authority_id", sa.Integer(), nullable=False),
        sa.Column("referred_by_id", sa.Integer(), nullable=False),
        sa.Column("referred_at", sa.DateTime(), nullable=False),
        sa.Column("object_ids", sa.JSON(), nullable=False),
        sa.Column("answers_id", sa.Integer(), nullable=True),
        sa.Column("include_identity", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["report_id"], ["report.id"],
                                name=op.f("fk_referral_report_id_report"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["authority_id"], ["authority.id"],
                                name=op.f("fk_referral_authority_id_authority")),
        sa.ForeignKeyConstraint(["referred_by_id"], ["staff_account.id"],
                                name=op.f("fk_referral_referred_by_id_staff_account")),
        sa.ForeignKeyConstraint(["answers_id"], ["report_object.id"],
                                name=op.f("fk_referral_answers_id_report_object"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral")),
        sa.UniqueConstraint("public_id", name=op.f("uq_referral_public_id")),
    )
    with op.batch_alter_table("referral") as batch_op:
        batch_op.create_index(batch_op.f("ix_referral_report_id"), ["report_id"], unique=False)
    # Plain ADD COLUMNs: a batch table on SQLite would rebuild the tables.
    op.add_column("channel", sa.Column("referral_notice", sa.String(length=16),
                                       server_default="told", nullable=False))
    op.add_column("identity_access_request",
                  sa.Column("purpose", sa.String(length=16), server_default="handler",
                            nullable=False))


def downgrade() -> None:
    op.drop_column("identity_access_request", "purpose")
    op.drop_column("channel", "referral_notice")
    with op.batch_alter_table("referral") as batch_op:
        batch_op.drop_index(batch_op.f("ix_referral_report_id"))
    op.drop_table("referral")
    op.drop_table("authority")
