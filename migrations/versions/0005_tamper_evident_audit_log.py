"""tamper-evident audit log

Events become the leaves of an RFC 9162 Merkle tree: each gets a leaf index and a leaf
hash, perfect subtrees and signed tree heads are kept beside them, and triggers refuse
UPDATE and DELETE on those tables on both databases. Existing events are numbered in id
order and hashed here; the first commit after the upgrade signs a head over them (the
signing key is a file, not something a migration can reach).

Note for later revisions: a batch ALTER of these tables recreates them on SQLite and drops
their triggers; recreate the triggers after it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 10:12:03.852203
"""

from collections.abc import Sequence
from datetime import UTC
from types import SimpleNamespace

import sqlalchemy as sa
from alembic import op

from crypto.merkle import CompactRange
from reporting_portal.audit.log import event_leaf_hash

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY_TABLES = ("audit_event", "audit_tree_node", "audit_tree_head")
MESSAGE = "the audit log is append-only"
FILTER_INDEXES = {
    "ix_audit_event_action_leaf": "action",
    "ix_audit_event_actor_leaf": "actor_id",
    "ix_audit_event_role_leaf": "actor_role",
    "ix_audit_event_object_leaf": "object_id",
}


def upgrade() -> None:
    op.create_table(
        "audit_log_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("compact_range", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log_state")),
    )
    op.create_table(
        "audit_tree_head",
        sa.Column("tree_size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("signed_at", sa.DateTime(), nullable=False),
        sa.Column("checkpoint", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("tree_size", name=op.f("pk_audit_tree_head")),
    )
    op.create_table(
        "audit_tree_node",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("level", "index", name=op.f("pk_audit_tree_node")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("leaf_index", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=True))
    _number_existing_events()
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.alter_column("leaf_index", existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column("leaf_hash", existing_type=sa.LargeBinary(length=32), nullable=False)
        # The auditor's filters, each with the leaf index: pages come off the index.
        batch_op.drop_index("ix_audit_event_action")
        batch_op.drop_index("ix_audit_event_actor_id")
        for name, column in FILTER_INDEXES.items():
            batch_op.create_index(name, [column, "leaf_index"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_audit_event_occurred_at"), ["occurred_at"], unique=False
        )
        batch_op.create_unique_constraint(batch_op.f("uq_audit_event_leaf_index"), ["leaf_index"])

    with op.batch_alter_table("installation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("audit_verifier_key", sa.Text(), nullable=True))
    _create_append_only_triggers()


def _number_existing_events() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.text(
            "SELECT id, occurred_at, actor_id, actor_role, action, object_type, object_id, "
            "outcome FROM audit_event ORDER BY id"
        ).columns(occurred_at=sa.DateTime())
    ).all()
    compact = CompactRange()
    for row in rows:
        # Events of that time carry no receipt (0021): the log's first encoding.
        entry = SimpleNamespace(**row._asdict(), leaf_index=compact.size,
                                receipt_channel=None, receipt_headers=None)
        entry.occurred_at = row.occurred_at.replace(tzinfo=UTC)  # stored as naive UTC
        digest = event_leaf_hash(entry)  # type: ignore[arg-type]
        connection.execute(
            sa.text("UPDATE audit_event SET leaf_index = :index, leaf_hash = :hash WHERE id = :id"),
            {"index": compact.size, "hash": digest, "id": row.id},
        )
        for level, index, node in compact.append(digest):
            connection.execute(
                sa.text('INSERT INTO audit_tree_node (level, "index", hash) VALUES (:l, :i, :h)'),
                {"l": level, "i": index, "h": node},
            )
    connection.execute(
        sa.text(
            "INSERT INTO audit_log_state (id, tree_size, compact_range) VALUES (1, :size, :edge)"
        ),
        {"size": compact.size, "edge": compact.to_bytes()},
    )


def _revoke_changes_from_other_roles() -> None:
    """On PostgreSQL, only INSERT and SELECT remain for every role but the owner.

    deploy/postgresql/roles.sql grants the application role UPDATE and DELETE on every
    table by default privileges; for the audit tables that grant is taken back here.
    """
    connection = op.get_bind()
    grantees = connection.execute(sa.text(
        "SELECT DISTINCT grantee FROM information_schema.role_table_grants "
        "WHERE table_schema = current_schema() AND table_name IN :tables "
        "AND privilege_type IN ('UPDATE', 'DELETE', 'TRUNCATE') AND grantee <> current_user"
    ).bindparams(sa.bindparam("tables", expanding=True)), {"tables": APPEND_ONLY_TABLES})
    for (grantee,) in grantees:
        role = connection.dialect.identifier_preparer.quote(grantee)
        op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {', '.join(APPEND_ONLY_TABLES)} "
                   f"FROM {role}")


def _create_append_only_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _revoke_changes_from_other_roles()
        op.execute(
            "CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{MESSAGE} (%)', TG_TABLE_NAME "
            "USING ERRCODE = 'insufficient_privilege'; END $$"
        )
        for table in APPEND_ONLY_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION audit_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()"
            )
        return
    for table in APPEND_ONLY_TABLES:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
            )


def _drop_append_only_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS audit_append_only()")
        return
    for table in APPEND_ONLY_TABLES:
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")


def downgrade() -> None:
    _drop_append_only_triggers()
    with op.batch_alter_table("installation", schema=None) as batch_op:
        batch_op.drop_column("audit_verifier_key")

    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_audit_event_leaf_index"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_audit_event_occurred_at"))
        for name in FILTER_INDEXES:
            batch_op.drop_index(name)
        batch_op.create_index("ix_audit_event_action", ["action"], unique=False)
        batch_op.create_index("ix_audit_event_actor_id", ["actor_id"], unique=False)
        batch_op.drop_column("leaf_hash")
        batch_op.drop_column("leaf_index")

    op.drop_table("audit_tree_node")
    op.drop_table("audit_tree_head")
    op.drop_table("audit_log_state")
