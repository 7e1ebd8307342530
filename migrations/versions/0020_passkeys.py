"""passkeys: staff members' WebAuthn credentials, and passkey-only accounts

- ``staff_passkey``: one row per credential, with its public key, signature counter,
  name and times, and (for an authenticator with PRF) the HKDF salt and the copy of the
  member's age identity wrapped under the PRF-derived key.
- ``staff_account.passkey_only``: the password and TOTP code no longer sign in.
- ``passkey_required_role``: the roles whose members an administrator requires to use
  passkeys.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_passkey",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.LargeBinary(), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sign_count", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.Column("prf_salt", sa.LargeBinary(), nullable=True),
        sa.Column("wrapped_identity", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_account.id"],
                                name=op.f("fk_staff_passkey_staff_id_staff_account"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_passkey")),
        sa.UniqueConstraint("credential_id", name=op.f("uq_staff_passkey_credential_id")),
        sa.UniqueConstraint("public_id", name=op.f("uq_staff_passkey_public_id")),
    )
    with op.batch_alter_table("staff_passkey", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_passkey_staff_id"), ["staff_id"],
                              unique=False)
    op.create_table(
        "passkey_required_role",
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("role", name=op.f("pk_passkey_required_role")),
    )
    # A plain ADD COLUMN with a server default for the existing rows.
    op.add_column("staff_account", sa.Column("passkey_only", sa.Boolean(), nullable=False,
                                             server_default=sa.false()))


def downgrade() -> None:
    op.drop_column("staff_account", "passkey_only")
    op.drop_table("passkey_required_role")
    with op.batch_alter_table("staff_passkey", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_passkey_staff_id"))
    op.drop_table("staff_passkey")
