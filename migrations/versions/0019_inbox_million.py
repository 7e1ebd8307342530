"""inbox at a million: per-handler counts kept by triggers

- ``inbox_count``: how many cases each staff member holds in each status and priority.
  The inbox's counts, and the totals of pages filtered by status and priority alone,
  read it instead of counting every grant (0.8 s at a million cases on SQLite).
- Triggers keep it, on both databases, whichever code path changes the data: a grant
  added, removed or moved; a case's status or priority changed; a case deleted (its
  grants are deleted first, while the case still says which count to lower; the foreign
  key's cascade then finds nothing left). SQLite counts per row; PostgreSQL per
  statement (see _PG_RAISE).
- ``access_grant.received_on``: the case's day of receipt, copied by triggers, and an
  index (staff, day, case): a deep page of the whole inbox, newest or oldest first,
  walks that index instead of looking up a grant for every case it skips.
- Filled from the existing grants.

A later migration that rebuilds ``report`` or ``access_grant`` with a batch table on
SQLite drops these triggers with the old table and must create them again
(``create_triggers`` below); tests/staff/casework/test_inbox_counts.py would fail.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_RAISE = ("INSERT INTO inbox_count (staff_id, status, priority, cases) "
          "SELECT {staff}, {status}, {priority}, 1 FROM {source} WHERE {where} "
          "ON CONFLICT (staff_id, status, priority) "
          "DO UPDATE SET cases = inbox_count.cases + 1;")
_LOWER_FOR_GRANT = ("UPDATE inbox_count SET cases = cases - 1 WHERE staff_id = OLD.staff_id "
                    "AND (status, priority) = (SELECT report.status, report.priority "
                    "FROM report WHERE report.id = OLD.report_id);")
_RAISE_FOR_GRANT = _RAISE.format(staff="NEW.staff_id", status="report.status",
                                 priority="report.priority", source="report",
                                 where="report.id = NEW.report_id")
_LOWER_FOR_TRIAGE = ("UPDATE inbox_count SET cases = cases - 1 WHERE status = OLD.status "
                     "AND priority = OLD.priority "
                     "AND staff_id IN (SELECT access_grant.staff_id FROM access_grant "
                     "WHERE access_grant.report_id = NEW.id);")
_RAISE_FOR_TRIAGE = _RAISE.format(staff="access_grant.staff_id", status="NEW.status",
                                  priority="NEW.priority", source="access_grant",
                                  where="access_grant.report_id = NEW.id")
_DELETE_GRANTS = "DELETE FROM access_grant WHERE access_grant.report_id = OLD.id;"
_DAY_OF_CASE = "(SELECT report.received_on FROM report WHERE report.id = NEW.report_id)"
_COPY_DAY_TO_GRANT = ("UPDATE access_grant SET received_on = "  # noqa: S608  # nosec B608 -- constants
                      f"{_DAY_OF_CASE} WHERE access_grant.report_id = NEW.report_id "
                      "AND access_grant.staff_id = NEW.staff_id;")
_COPY_DAY_TO_GRANTS = ("UPDATE access_grant SET received_on = NEW.received_on "
                       "WHERE access_grant.report_id = NEW.id;")

_SQLITE_TRIGGERS = {
    "inbox_count_grant_added": ("AFTER INSERT ON access_grant "
                                f"BEGIN {_RAISE_FOR_GRANT} {_COPY_DAY_TO_GRANT} END"),
    "inbox_count_grant_removed": f"AFTER DELETE ON access_grant BEGIN {_LOWER_FOR_GRANT} END",
    "inbox_count_grant_moved": ("AFTER UPDATE OF report_id, staff_id ON access_grant "
                                f"BEGIN {_LOWER_FOR_GRANT} {_RAISE_FOR_GRANT} "
                                f"{_COPY_DAY_TO_GRANT} END"),
    "inbox_count_triage_changed": ("AFTER UPDATE OF status, priority ON report "
                                   "WHEN OLD.status IS NOT NEW.status "
                                   "OR OLD.priority IS NOT NEW.priority "
                                   f"BEGIN {_LOWER_FOR_TRIAGE} {_RAISE_FOR_TRIAGE} END"),
    "inbox_count_case_deleted": f"BEFORE DELETE ON report BEGIN {_DELETE_GRANTS} END",
    "access_grant_day_changed": ("AFTER UPDATE OF received_on ON report "
                                 "WHEN OLD.received_on IS NOT NEW.received_on "
                                 f"BEGIN {_COPY_DAY_TO_GRANTS} END"),
}

# PostgreSQL counts per statement, from its transition tables: one UPDATE of a count
# per (staff, status, priority) however many rows the statement touched. Row triggers
# would update the same count row once per grant, and within one transaction each such
# update walks every earlier version of the row: a bulk insert of a million grants
# never finished.
_PG_RAISE = ("INSERT INTO inbox_count (staff_id, status, priority, cases) "
             "SELECT {staff}, {status}, {priority}, count(*) FROM {source} "
             "GROUP BY 1, 2, 3 ON CONFLICT (staff_id, status, priority) "
             "DO UPDATE SET cases = inbox_count.cases + EXCLUDED.cases;")
_PG_LOWER = ("UPDATE inbox_count SET cases = inbox_count.cases - counted.cases FROM ("
             "SELECT {staff} AS staff_id, {status} AS status, {priority} AS priority, "
             "count(*) AS cases FROM {source} GROUP BY 1, 2, 3) AS counted "
             "WHERE inbox_count.staff_id = counted.staff_id "
             "AND inbox_count.status = counted.status "
             "AND inbox_count.priority = counted.priority;")
_GRANTS_OF = "{grants} AS g JOIN report ON report.id = g.report_id"
_MOVED = ("(SELECT n.id, o.status AS old_status, o.priority AS old_priority, "
          "n.status AS new_status, n.priority AS new_priority "
          "FROM old_cases AS o JOIN new_cases AS n ON n.id = o.id "
          "WHERE (o.status, o.priority) IS DISTINCT FROM (n.status, n.priority)) AS m "
          "JOIN access_grant AS g ON g.report_id = m.id")


def _pg_for_grants(change: str, grants: str) -> str:
    return change.format(staff="g.staff_id", status="report.status",
                         priority="report.priority", source=_GRANTS_OF.format(grants=grants))


_POSTGRESQL_FUNCTIONS = {
    "inbox_count_on_grants_added": f"{_pg_for_grants(_PG_RAISE, 'added_grants')} RETURN NULL;",
    "inbox_count_on_grants_removed": (f"{_pg_for_grants(_PG_LOWER, 'removed_grants')} "
                                      "RETURN NULL;"),
    "inbox_count_on_grants_changed": (f"{_pg_for_grants(_PG_LOWER, 'old_grants')} "
                                      f"{_pg_for_grants(_PG_RAISE, 'new_grants')} RETURN NULL;"),
    "inbox_count_on_cases_changed": (
        _PG_LOWER.format(staff="g.staff_id", status="m.old_status",  # noqa: S608
                         priority="m.old_priority", source=_MOVED)
        + " " + _PG_RAISE.format(staff="g.staff_id", status="m.new_status",
                                 priority="m.new_priority", source=_MOVED)
        + " UPDATE access_grant SET received_on = n.received_on "
        "FROM old_cases AS o JOIN new_cases AS n ON n.id = o.id "
        "WHERE o.received_on IS DISTINCT FROM n.received_on "
        "AND access_grant.report_id = n.id; RETURN NULL;"),
    "inbox_count_on_case_delete": f"{_DELETE_GRANTS} RETURN OLD;",
    "access_grant_take_day": f"NEW.received_on := {_DAY_OF_CASE}; RETURN NEW;",
}
_POSTGRESQL_TRIGGERS = {
    "inbox_count_grants_added": ("AFTER INSERT ON access_grant REFERENCING NEW TABLE AS "
                                 "added_grants FOR EACH STATEMENT",
                                 "inbox_count_on_grants_added"),
    "inbox_count_grants_removed": ("AFTER DELETE ON access_grant REFERENCING OLD TABLE AS "
                                   "removed_grants FOR EACH STATEMENT",
                                   "inbox_count_on_grants_removed"),
    # Transition tables allow no column list: every UPDATE of grants counts its old rows
    # out and its new rows in (no key pairs them when report_id or staff_id moved).
    "inbox_count_grants_changed": ("AFTER UPDATE ON access_grant REFERENCING OLD TABLE AS "
                                   "old_grants NEW TABLE AS new_grants FOR EACH STATEMENT",
                                   "inbox_count_on_grants_changed"),
    "inbox_count_cases_changed": ("AFTER UPDATE ON report REFERENCING OLD TABLE AS old_cases "
                                  "NEW TABLE AS new_cases FOR EACH STATEMENT",
                                  "inbox_count_on_cases_changed"),
    "inbox_count_case_deleted": ("BEFORE DELETE ON report FOR EACH ROW",
                                 "inbox_count_on_case_delete"),
    "access_grant_take_day": ("BEFORE INSERT OR UPDATE OF report_id ON access_grant "
                              "FOR EACH ROW", "access_grant_take_day"),
}


def create_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # As the schema's owner, with the schema's search path: the counts are kept
        # whatever rights the role making the change has on inbox_count (an existing
        # database's application role has none on a new table until granted).
        for name, body in _POSTGRESQL_FUNCTIONS.items():
            op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql "
                       f"SECURITY DEFINER SET search_path FROM CURRENT "
                       f"AS $$ BEGIN {body} END $$")
        for name, (when, function) in _POSTGRESQL_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {when} EXECUTE FUNCTION {function}()")
        return
    for name, definition in _SQLITE_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {definition}")


def drop_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, (when, _function) in _POSTGRESQL_TRIGGERS.items():
            table = when.split(" ON ")[1].split()[0]
            op.execute(f"DROP TRIGGER {name} ON {table}")
        for name in _POSTGRESQL_FUNCTIONS:
            op.execute(f"DROP FUNCTION {name}()")
        return
    for name in _SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER {name}")


def upgrade() -> None:
    op.create_table(
        "inbox_count",
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_account.id"],
                                name=op.f("fk_inbox_count_staff_id_staff_account"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("staff_id", "status", "priority",
                                name=op.f("pk_inbox_count")),
    )
    op.execute(
        "INSERT INTO inbox_count (staff_id, status, priority, cases) "
        "SELECT access_grant.staff_id, report.status, report.priority, count(*) "
        "FROM access_grant JOIN report ON report.id = access_grant.report_id "
        "GROUP BY access_grant.staff_id, report.status, report.priority"
    )
    # A plain ADD COLUMN: a batch table on SQLite would drop the grants' rows.
    op.add_column("access_grant", sa.Column("received_on", sa.Date(), nullable=True))
    op.execute("UPDATE access_grant SET received_on = (SELECT report.received_on FROM report "
               "WHERE report.id = access_grant.report_id)")
    op.create_index("ix_access_grant_staff_received", "access_grant",
                    ["staff_id", "received_on", "report_id"], unique=False)
    create_triggers()


def downgrade() -> None:
    drop_triggers()
    op.drop_index("ix_access_grant_staff_received", table_name="access_grant")
    with op.batch_alter_table("access_grant") as batch_op:
        batch_op.drop_column("received_on")
    op.drop_table("inbox_count")
