"""notice outbox and deadline reminders

- ``notice_outbox``: one row per member of staff and window, upserted in the request's
  own transaction and sent by ``reporting-portal send-notices`` (replaces the notifier
  threads, whose notices lived in memory only: nothing to carry over).
- ``deadline_reminder``: which reminder (report, deadline, due date, stage) was queued.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 19:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notice_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("window_start", sa.DateTime(), nullable=False),
        sa.Column("unread_cases", sa.Integer(), nullable=False),
        sa.Column("waiting_identity_requests", sa.Integer(), nullable=False),
        sa.Column("deadline_reminders", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_account.id"],
                                name=op.f("fk_notice_outbox_staff_id_staff_account"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_outbox")),
        sa.UniqueConstraint("staff_id", "window_start", name="uq_notice_outbox_staff_window"),
    )
    with op.batch_alter_table("notice_outbox", schema=None) as batch_op:
        batch_op.create_index("ix_notice_outbox_state_next_attempt",
                              ["state", "next_attempt_at"], unique=False)
    op.create_table(
        "deadline_reminder",
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("deadline", sa.String(length=16), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("stage", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(["report_id"], ["report.id"],
                                name=op.f("fk_deadline_reminder_report_id_report"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("report_id", "deadline", "due_on", "stage",
                                name=op.f("pk_deadline_reminder")),
    )


def downgrade() -> None:
    op.drop_table("deadline_reminder")
    with op.batch_alter_table("notice_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_notice_outbox_state_next_attempt")
    op.drop_table("notice_outbox")
