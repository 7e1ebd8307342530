"""case numbers: a readable number per year of receipt (issue 15, item 3)

- ``report.case_year`` and ``report.case_number``, unique together; existing reports are
  numbered per year by ``received_on``, then ``id``;
- ``case_number_counter``: the last number given in each year, so new submissions go on
  from there (domain/case_numbers.py).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 23:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

report = sa.table(
    "report",
    sa.column("id", sa.Integer()),
    sa.column("received_on", sa.Date()),
    sa.column("case_year", sa.Integer()),
    sa.column("case_number", sa.Integer()),
)
counter = sa.table(
    "case_number_counter",
    sa.column("year", sa.Integer()),
    sa.column("last_number", sa.Integer()),
)


def upgrade() -> None:
    op.create_table(
        "case_number_counter",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_case_number_counter")),
    )
    # Plain ADD COLUMNs and a unique index, not a unique constraint: a batch (copy and
    # move) table on SQLite would drop the report table, and every row cascading from it.
    op.add_column("report", sa.Column("case_year", sa.Integer(), nullable=True))
    op.add_column("report", sa.Column("case_number", sa.Integer(), nullable=True))

    connection = op.get_bind()
    last: dict[int, int] = {}
    rows = connection.execute(
        sa.select(report.c.id, report.c.received_on).order_by(report.c.received_on, report.c.id))
    for report_id, received_on in rows.all():
        year = received_on.year
        last[year] = last.get(year, 0) + 1
        connection.execute(report.update().where(report.c.id == report_id)
                           .values(case_year=year, case_number=last[year]))
    if last:
        connection.execute(counter.insert(), [{"year": year, "last_number": number}
                                              for year, number in sorted(last.items())])
    op.create_index("ix_report_case_year_number", "report", ["case_year", "case_number"],
                    unique=True)


def downgrade() -> None:
    op.drop_index("ix_report_case_year_number", table_name="report")
    op.drop_column("report", "case_number")  # SQLite 3.35+ drops a column in place
    op.drop_column("report", "case_year")
    op.drop_table("case_number_counter")
