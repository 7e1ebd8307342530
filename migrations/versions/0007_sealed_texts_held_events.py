"""sealed custody texts, held reporter events, recovery confirmation

- ``identity_access_request``: the justification and the custodian's reason become age
  files (``sealed_*``) for the identity custodians, the requester and the recovery key.
  Existing plaintext is encrypted here, then its columns are dropped. A downgrade cannot
  decrypt (the server holds no key for that): it leaves a placeholder text.
- ``audit_held_event``: events caused by reporters wait here for the day's release into
  the access log, with a trigger that refuses UPDATE on both databases.
- ``installation.recovery_confirmed_on``: the day an administrator confirmed that the
  recovery identity is stored offline.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 17:05:00.000000
"""

import io
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from crypto import encrypt, parse_recipient

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PLACEHOLDER = "(encrypted; not recoverable by a schema downgrade)"


def upgrade() -> None:
    with op.batch_alter_table("installation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recovery_confirmed_on", sa.Date(), nullable=True))

    op.create_table(
        "audit_held_event",
        sa.Column("id", sa.LargeBinary(length=16), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("actor_role", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("object_type", sa.String(length=32), nullable=True),
        sa.Column("object_id", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_held_event")),
    )
    with op.batch_alter_table("audit_held_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_held_event_occurred_on"), ["occurred_on"],
                              unique=False)
    _create_no_update_trigger()

    with op.batch_alter_table("identity_access_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sealed_justification", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("sealed_decision_reason", sa.LargeBinary(),
                                      nullable=True))
    _seal_existing_texts()
    with op.batch_alter_table("identity_access_request", schema=None) as batch_op:
        batch_op.alter_column("sealed_justification", existing_type=sa.LargeBinary(),
                              nullable=False)
        batch_op.drop_column("justification")
        batch_op.drop_column("decision_reason")


def downgrade() -> None:
    with op.batch_alter_table("identity_access_request", schema=None) as batch_op:
        batch_op.add_column(sa.Column("justification", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("decision_reason", sa.Text(), nullable=True))
    request = sa.table("identity_access_request", sa.column("justification", sa.Text()),
                       sa.column("decision_reason", sa.Text()),
                       sa.column("sealed_decision_reason", sa.LargeBinary()))
    op.execute(request.update().values(justification=_PLACEHOLDER))
    op.execute(request.update().where(request.c.sealed_decision_reason.is_not(None))
               .values(decision_reason=_PLACEHOLDER))
    with op.batch_alter_table("identity_access_request", schema=None) as batch_op:
        batch_op.alter_column("justification", existing_type=sa.Text(), nullable=False)
        batch_op.drop_column("sealed_decision_reason")
        batch_op.drop_column("sealed_justification")

    _drop_no_update_trigger()
    with op.batch_alter_table("audit_held_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_held_event_occurred_on"))
    op.drop_table("audit_held_event")
    with op.batch_alter_table("installation", schema=None) as batch_op:
        batch_op.drop_column("recovery_confirmed_on")


def _seal(text: str, recipients: list[str]) -> bytes:
    sealed = io.BytesIO()
    encrypt(io.BytesIO(text.encode("utf-8")), sealed,
            [parse_recipient(key) for key in dict.fromkeys(recipients)])
    return sealed.getvalue()


def _seal_existing_texts() -> None:
    """Encrypt each request's texts as the application now would (custody.services)."""
    connection = op.get_bind()
    recovery = connection.execute(sa.text("SELECT recovery_recipient FROM installation")).scalar()
    custodians = list(connection.execute(sa.text(
        "SELECT a.age_recipient FROM staff_account a JOIN staff_role r ON r.staff_id = a.id "
        "WHERE r.role = 'identity_custodian' AND a.is_active AND a.age_recipient IS NOT NULL "
        "ORDER BY a.id")).scalars())
    rows = connection.execute(sa.text(
        "SELECT q.id, q.justification, q.decision_reason, a.age_recipient "
        "FROM identity_access_request q JOIN staff_account a ON a.id = q.requester_id")).all()
    for request_id, justification, reason, requester in rows:
        recipients = [*custodians, *([requester] if requester else []), recovery]
        connection.execute(
            sa.text("UPDATE identity_access_request SET sealed_justification = :j, "
                    "sealed_decision_reason = :r WHERE id = :id"),
            {"j": _seal(justification, recipients),
             "r": _seal(reason, recipients) if reason is not None else None, "id": request_id})


def _create_no_update_trigger() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_held_no_update() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION 'held audit events are never changed'; END $$")
        op.execute("CREATE TRIGGER audit_held_event_no_update BEFORE UPDATE ON "
                   "audit_held_event FOR EACH ROW EXECUTE FUNCTION audit_held_no_update()")
    else:
        op.execute("CREATE TRIGGER audit_held_event_no_update BEFORE UPDATE ON "
                   "audit_held_event BEGIN SELECT RAISE(ABORT, "
                   "'held audit events are never changed'); END")


def _drop_no_update_trigger() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_held_event_no_update ON audit_held_event")
        op.execute("DROP FUNCTION IF EXISTS audit_held_no_update()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_held_event_no_update")
