"""case history: what each triage change set, and the time of staff notes and messages

- ``case_change``: one row per triage change of a case (stage, acknowledgement, closing,
  reopening, priority, labels, handlers) with the values it set, for the case page's timeline. The
  access log keeps no values by design, so earlier changes are copied from it with an
  empty detail: the timeline names them without values.
- ``report_object.created_at``: the moment a staff member's note or message was written.
  Reporters' objects keep their day only; existing rows stay empty (day only).

Revision ID: 0016
Revises: 0012
Create Date: 2026-12-01 23:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The AuditAction tags a case_change row is kept for (staff/casework/history.py).
TRIAGE_ACTIONS = (
    "case.status_changed", "case.acknowledged", "case.closed", "case.priority_changed",
    "case.labels_changed", "case.handler_added", "case.handler_removed", "case.reopened",
)


def upgrade() -> None:
    op.create_table(
        "case_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("actor_id", sa.String(length=32), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["report_id"], ["report.id"],
                                name=op.f("fk_case_change_report_id_report"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_change")),
    )
    with op.batch_alter_table("case_change") as batch_op:
        batch_op.create_index(batch_op.f("ix_case_change_report_id"), ["report_id"],
                              unique=False)
    # A plain ADD COLUMN: a batch table on SQLite would drop report_object's rows.
    op.add_column("report_object", sa.Column("created_at", sa.DateTime(), nullable=True))

    # Changes made so far, from the access log (successful ones: a refused change is an
    # event too, but changed nothing). Their values were never kept: an empty detail.
    audit_event = sa.table(
        "audit_event", sa.column("occurred_at", sa.DateTime()),
        sa.column("actor_id", sa.String()), sa.column("action", sa.String()),
        sa.column("object_type", sa.String()), sa.column("object_id", sa.String()),
        sa.column("outcome", sa.String()), sa.column("leaf_index", sa.BigInteger()),
    )
    report = sa.table("report", sa.column("id", sa.Integer()),
                      sa.column("public_id", sa.String()))
    case_change = sa.table(
        "case_change", sa.column("report_id", sa.Integer()),
        sa.column("occurred_at", sa.DateTime()), sa.column("actor_id", sa.String()),
        sa.column("action", sa.String()), sa.column("detail", sa.JSON()),
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(report.c.id, audit_event.c.occurred_at, audit_event.c.actor_id,
                  audit_event.c.action)
        .join(report, report.c.public_id == audit_event.c.object_id)
        .where(audit_event.c.object_type == "report", audit_event.c.outcome == "success",
               audit_event.c.action.in_(TRIAGE_ACTIONS))
        .order_by(audit_event.c.leaf_index)
    ).all()
    if rows:
        op.bulk_insert(case_change, [
            {"report_id": report_id, "occurred_at": occurred_at, "actor_id": actor_id,
             "action": action, "detail": {}}
            for report_id, occurred_at, actor_id, action in rows
        ])


def downgrade() -> None:
    op.drop_column("report_object", "created_at")  # SQLite 3.35+ drops a column in place
    with op.batch_alter_table("case_change") as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_change_report_id"))
    op.drop_table("case_change")
