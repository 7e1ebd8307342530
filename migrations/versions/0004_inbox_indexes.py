"""inbox indexes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 04:47:34.143649
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("access_grant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_grant_staff_id"))
        batch_op.create_index(
            "ix_access_grant_staff_report", ["staff_id", "report_id"], unique=False
        )

    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.create_index("ix_report_received_on_id", ["received_on", "id"], unique=False)
        batch_op.create_index("ix_report_status_id", ["status", "id"], unique=False)
        batch_op.create_index(
            "ix_report_status_priority", ["status", "priority", "received_on"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_index("ix_report_status_priority")
        batch_op.drop_index("ix_report_status_id")
        batch_op.drop_index("ix_report_received_on_id")

    with op.batch_alter_table("access_grant", schema=None) as batch_op:
        batch_op.drop_index("ix_access_grant_staff_report")
        batch_op.create_index(batch_op.f("ix_access_grant_staff_id"), ["staff_id"], unique=False)
