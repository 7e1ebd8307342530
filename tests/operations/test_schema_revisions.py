"""A backup taken before an upgrade restores into a newer release: the schema is made at
the backup's revision, the rows go in, then the release's migrations run over them."""

import secrets
from datetime import UTC, datetime

import pytest
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select

from reporting_portal.audit.events import SYSTEM, AuditAction, record_event
from reporting_portal.audit.log import TreeHeadSigner, create_signing_key, install_audit_log
from reporting_portal.audit.verify import verify_log
from reporting_portal.operations.archive import verify_backup_file
from reporting_portal.operations.backup import create_backup
from reporting_portal.storage.blobstore import LocalBlobStore
from reporting_portal.storage.db import Database
from reporting_portal.storage.migrate import head_revision, upgrade_database
from reporting_portal.storage.models import AuditEvent, Installation
from reporting_portal.web.database import get_database
from tests.helpers.operations import restore

pytestmark = [pytest.mark.database, pytest.mark.slow]


@pytest.mark.parametrize("target_backend", ["sqlite", "postgresql"])
@pytest.mark.parametrize("schema_made_first", [False, True])
def test_a_backup_of_an_older_schema_is_restored_and_upgraded(
        make_target, tmp_path, target_backend, schema_made_first):
    old = Database(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade_database(old.engine, "0006")
    key_file = tmp_path / "old-audit.key"
    verifier_key = create_signing_key(key_file, "reporting-portal.test/old")
    install_audit_log(old.session_factory, TreeHeadSigner(key_file))
    with old.session_factory() as db:
        db.connection().exec_driver_sql(
            "INSERT INTO installation (recovery_recipient, receipt_salt, created_on, "
            "audit_verifier_key) VALUES ('age1example', ?, '2026-11-30', ?)",
            (secrets.token_bytes(32), verifier_key))
        record_event(db, AuditAction.INSTALLATION_INITIALISED, actor=None, actor_role=SYSTEM)
        db.commit()
    backup = tmp_path / "old.backup"
    create_backup(old, LocalBlobStore(tmp_path / "old-blobs"), backup)
    old.engine.dispose()
    manifest, head = verify_backup_file(backup)
    assert manifest.schema_revision == "0006"

    target = make_target(target_backend)
    if schema_made_first:  # the operator ran `db upgrade` on the new database first
        upgrade_database(get_database(target).engine)
    restored = restore(target, backup, key_file)
    assert restored.schema_revision == "0006"
    engine = get_database(target).engine
    with engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == head_revision()
    with get_database(target).session_factory() as db:
        installation = db.scalar(select(Installation))
        assert installation.created_on == datetime(2026, 11, 30, tzinfo=UTC).date()
        assert installation.recovery_confirmed_on is None  # the column 0007 added
        assert list(db.scalars(select(AuditEvent.action).order_by(AuditEvent.leaf_index))) \
            == ["installation.initialised", "operations.backup_restored"]
        assert verify_log(db, verifier_key, head).intact
