"""retaliation: the reporter's report of it, and the case's protection record (issue 17)

- ``report.retaliation_reports`` and ``report.retaliation_reported_on``: how often the
  reporter reported retaliation, and the day of the latest (the inbox's mark).
- ``report_object.message_type``: a reporter's message that is a retaliation report.
- ``protection_measure`` and ``protection_record``: the handlers' protection record.
  What each says is an age object (``report_object`` of kind ``protection``); the rows
  hold only whether a measure is open or shared and whether the record is closed.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMNs: a batch table on SQLite would drop the rows that cascade from
    # report and report_object (as in 0015 and 0016).
    op.add_column("report", sa.Column("retaliation_reports", sa.Integer(),
                                      server_default=sa.text("0"), nullable=False))
    op.add_column("report", sa.Column("retaliation_reported_on", sa.Date(), nullable=True))
    op.add_column("report_object", sa.Column("message_type", sa.String(length=16),
                                             nullable=True))
    op.create_table(
        "protection_measure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=False),
        sa.Column("shared_object_id", sa.Integer(), nullable=True),
        sa.Column("is_open", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["object_id"], ["report_object.id"],
                                name=op.f("fk_protection_measure_object_id_report_object"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["report_id"], ["report.id"],
                                name=op.f("fk_protection_measure_report_id_report"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["shared_object_id"], ["report_object.id"],
            name=op.f("fk_protection_measure_shared_object_id_report_object"),
            ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_protection_measure")),
        sa.UniqueConstraint("public_id", name=op.f("uq_protection_measure_public_id")),
    )
    with op.batch_alter_table("protection_measure") as batch_op:
        batch_op.create_index(batch_op.f("ix_protection_measure_object_id"), ["object_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_protection_measure_shared_object_id"),
                              ["shared_object_id"], unique=False)
        batch_op.create_index("ix_protection_measure_report_open", ["report_id", "is_open"],
                              unique=False)
    op.create_table(
        "protection_record",
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["object_id"], ["report_object.id"],
                                name=op.f("fk_protection_record_object_id_report_object"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["report_id"], ["report.id"],
                                name=op.f("fk_protection_record_report_id_report"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("report_id", name=op.f("pk_protection_record")),
    )
    with op.batch_alter_table("protection_record") as batch_op:
        batch_op.create_index(batch_op.f("ix_protection_record_object_id"), ["object_id"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("protection_record") as batch_op:
        batch_op.drop_index(batch_op.f("ix_protection_record_object_id"))
    op.drop_table("protection_record")
    with op.batch_alter_table("protection_measure") as batch_op:
        batch_op.drop_index("ix_protection_measure_report_open")
        batch_op.drop_index(batch_op.f("ix_protection_measure_shared_object_id"))
        batch_op.drop_index(batch_op.f("ix_protection_measure_object_id"))
    op.drop_table("protection_measure")
    op.drop_column("report_object", "message_type")  # SQLite 3.35+ drops in place
    op.drop_column("report", "retaliation_reported_on")
    op.drop_column("report", "retaliation_reports")
