"""A restore refuses, before writing anything: a non-empty target, a damaged or truncated
file, the wrong audit key."""

import tarfile

import pytest
from sqlalchemy import func, inspect, select, text

from crypto.checkpoint import generate_signer_key
from reporting_portal.operations.archive import BackupFileError
from reporting_portal.operations.restore import RestoreError, TargetNotEmptyError
from reporting_portal.storage.db import Base
from reporting_portal.web.database import get_database
from tests.helpers.operations import back_up, restore

pytestmark = [pytest.mark.database, pytest.mark.slow]


@pytest.fixture
def backup(app, case_with_file, tmp_path):
    path = tmp_path / "portal.backup"
    back_up(app, path)
    return path


def assert_nothing_written(target):
    settings = target.extensions["settings"]
    assert inspect(get_database(target).engine).get_table_names() == []
    assert not settings.blob_dir.exists() or not any(settings.blob_dir.rglob("*"))
    assert not settings.audit_key_file.exists()


def state_of(app):
    """Every table's row count, every blob's name and the key: what a refusal must keep."""
    settings = app.extensions["settings"]
    with get_database(app).engine.connect() as connection:
        counts = {table.name: connection.scalar(select(func.count()).select_from(table))
                  for table in Base.metadata.sorted_tables}
    return counts, sorted(app.extensions["blob_store"].names()), \
        settings.audit_key_file.read_bytes()


def test_a_non_empty_installation_is_refused_and_left_as_it_was(app, backup, settings):
    before = state_of(app)
    with pytest.raises(TargetNotEmptyError, match="is not empty"):
        restore(app, backup, settings.audit_key_file)
    assert state_of(app) == before


def test_an_empty_database_with_blobs_in_the_store_is_refused(backup, make_target, settings):
    target = make_target("sqlite")
    store = target.extensions["blob_store"]
    with store.create() as writer:
        writer.write(b"left over")
        writer.commit()
    with pytest.raises(TargetNotEmptyError, match="blob store already holds blobs"):
        restore(target, backup, settings.audit_key_file)
    assert inspect(get_database(target).engine).get_table_names() == []
    assert list(store.names()) == [writer.name]


def member_info(path, member_prefix):
    with tarfile.open(path) as tar:
        return next(info for info in tar if info.name.startswith(member_prefix))


MEMBERS = ["blobs/", "database/report_object", "database/report.", "audit-head.txt",
           "manifest.json", "manifest.sha256"]


def test_a_flipped_byte_anywhere_is_refused_before_anything_is_written(
        backup, make_target, settings):
    original = backup.read_bytes()
    infos = [member_info(backup, member) for member in MEMBERS]
    for info in infos:
        damaged = bytearray(original)
        damaged[info.offset_data + info.size // 2] ^= 0x01
        backup.write_bytes(bytes(damaged))
        target = make_target("sqlite")
        with pytest.raises(BackupFileError, match="damaged"):
            restore(target, backup, settings.audit_key_file)
        assert_nothing_written(target)


def test_a_file_cut_short_anywhere_is_refused_before_anything_is_written(
        backup, make_target, settings):
    original = backup.read_bytes()
    for info in [member_info(backup, member) for member in MEMBERS]:
        for cut in (info.offset + 100, info.offset_data + info.size // 2):
            backup.write_bytes(original[:cut])
            target = make_target("sqlite")
            with pytest.raises(BackupFileError, match=r"incomplete|not a complete backup"):
                restore(target, backup, settings.audit_key_file)
            assert_nothing_written(target)


def test_a_file_that_is_not_a_backup_is_refused(backup, make_target, settings, tmp_path):
    other = tmp_path / "notes.tar"
    with tarfile.open(other, "w") as tar:
        tar.add(backup, arcname="../outside")
    target = make_target("sqlite")
    with pytest.raises(BackupFileError, match="unexpected member"):
        restore(target, other, settings.audit_key_file)
    assert_nothing_written(target)


def test_the_wrong_audit_key_is_refused_before_anything_is_written(
        backup, make_target, tmp_path):
    wrong = tmp_path / "other.key"
    wrong.write_text(generate_signer_key("reporting-portal.test/audit") + "\n")
    target = make_target("sqlite")
    with pytest.raises(RestoreError, match="is not the key that signed"):
        restore(target, backup, wrong)
    assert_nothing_written(target)
    not_a_key = tmp_path / "garbage.key"
    not_a_key.write_text("PRIVATE+KEY+nonsense\n")
    with pytest.raises(RestoreError, match="is not an audit signing key"):
        restore(target, backup, not_a_key)
    assert_nothing_written(target)


def test_another_key_already_installed_at_the_target_is_refused(
        backup, make_target, settings):
    target = make_target("sqlite")
    installed = target.extensions["settings"].audit_key_file
    installed.write_text(generate_signer_key("reporting-portal.test/audit") + "\n")
    with pytest.raises(RestoreError, match="holds another audit signing key"):
        restore(target, backup, settings.audit_key_file)
    assert inspect(get_database(target).engine).get_table_names() == []


def test_a_backup_of_a_newer_schema_is_refused(backup, make_target, settings, monkeypatch):
    from reporting_portal.operations import restore as restore_module

    target = make_target("sqlite")
    monkeypatch.setattr(restore_module, "_known_revisions", lambda _engine: ["0006", "0005"])
    with pytest.raises(RestoreError, match="unknown to this release"):
        restore(target, backup, settings.audit_key_file)
    assert_nothing_written(target)


def test_a_restore_that_fails_midway_leaves_no_rows_no_blobs_and_no_key(
        backup, make_target, settings, monkeypatch):
    from reporting_portal.operations import restore as restore_module

    def fail(*_args):
        raise RestoreError("the access log does not verify")

    target = make_target("sqlite")
    monkeypatch.setattr(restore_module, "_reset_sequences", fail)
    with pytest.raises(RestoreError):
        restore(target, backup, settings.audit_key_file)
    target_settings = target.extensions["settings"]
    with get_database(target).engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM report")) == 0
        assert connection.scalar(text("SELECT count(*) FROM audit_event")) == 0
    assert list(target.extensions["blob_store"].names()) == []
    assert not target_settings.audit_key_file.exists()
