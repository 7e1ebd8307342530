"""deadline columns and read markers

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 04:31:37.921438
"""

import calendar
from collections.abc import Sequence
from datetime import date, timedelta

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _add_months(day: date, months: int) -> date:
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def upgrade() -> None:
    op.create_table(
        "case_read",
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("last_object_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["report.id"],
            name=op.f("fk_case_read_report_id_report"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_account.id"],
            name=op.f("fk_case_read_staff_id_staff_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("report_id", "staff_id", name=op.f("pk_case_read")),
    )
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.add_column(sa.Column("acknowledgement_due", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("feedback_due", sa.Date(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_report_acknowledgement_due"), ["acknowledgement_due"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_report_feedback_due"), ["feedback_due"], unique=False)

    # Fill the deadlines of existing reports (EU Directive 2019/1937: acknowledgement
    # within 7 days; feedback 3 months after acknowledgement or after those 7 days).
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, received_on, acknowledged_on FROM report"))
    for report_id, received_on, acknowledged_on in rows.fetchall():
        received = _as_date(received_on)
        acknowledged = _as_date(acknowledged_on) if acknowledged_on else None
        due = received + timedelta(days=7)
        connection.execute(
            sa.text("UPDATE report SET acknowledgement_due = :a, feedback_due = :f WHERE id = :i"),
            {"a": due, "f": _add_months(acknowledged or due, 3), "i": report_id},
        )


def downgrade() -> None:
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_feedback_due"))
        batch_op.drop_index(batch_op.f("ix_report_acknowledgement_due"))
        batch_op.drop_column("feedback_due")
        batch_op.drop_column("acknowledgement_due")

    op.drop_table("case_read")
