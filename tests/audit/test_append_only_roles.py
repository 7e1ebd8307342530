"""On PostgreSQL the application's role may append to the access log, never change it.

The role gets its rights as deploy/postgresql/roles.sql gives them (every right on every
table), then the migration to the Merkle log takes UPDATE, DELETE and TRUNCATE back.
"""

from __future__ import annotations

import secrets

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DatabaseError, ProgrammingError

from reporting_portal.storage.migrate import downgrade_database, upgrade_database

pytestmark = pytest.mark.database


@pytest.fixture
def owner_engine(backend, database_url):
    if backend != "postgresql":
        pytest.skip("roles are a PostgreSQL matter; SQLite has only the triggers")
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def app_role(owner_engine):
    role = f"rp_app_{secrets.token_hex(4)}"
    with owner_engine.begin() as connection:
        connection.execute(text(f"CREATE ROLE {role} NOLOGIN"))
    yield role
    with owner_engine.begin() as connection:
        connection.execute(text(f"DROP OWNED BY {role}"))
        connection.execute(text(f"DROP ROLE {role}"))


def test_the_application_role_cannot_update_or_delete_audit_rows(owner_engine, app_role):
    upgrade_database(owner_engine, "0004")
    with owner_engine.begin() as connection:  # what roles.sql grants an existing database
        connection.execute(text(f"GRANT USAGE ON SCHEMA {_schema(connection)} TO {app_role}"))
        connection.execute(text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "
                                f"{_schema(connection)} TO {app_role}"))
        connection.execute(text(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {_schema(connection)} "
                                f"TO {app_role}"))
    upgrade_database(owner_engine)
    with owner_engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO audit_event (leaf_index, leaf_hash, occurred_at, actor_role, action, "
            "outcome) VALUES (0, :h, now(), 'system', 'case.read', 'success')"), {"h": b"\0" * 32})

    with owner_engine.connect() as connection:
        connection.execute(text(f"SET ROLE {app_role}"))
        assert connection.execute(text("SELECT count(*) FROM audit_event")).scalar() == 1
        connection.execute(text("UPDATE report SET priority = 'high'"))  # other tables: yes
        for statement in ("UPDATE audit_event SET outcome = 'denied'",
                          "DELETE FROM audit_event",
                          "TRUNCATE audit_tree_head",
                          "DELETE FROM audit_tree_node"):
            savepoint = connection.begin_nested()
            with pytest.raises(ProgrammingError, match="permission denied"):
                connection.execute(text(statement))
            savepoint.rollback()
        connection.rollback()

    # The owner is refused too, by the triggers.
    with pytest.raises(DatabaseError, match="append-only"), owner_engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_event"))
    downgrade_database(owner_engine, "0004")  # and the way back still works


def _schema(connection) -> str:
    return connection.execute(text("SELECT current_schema()")).scalar()
