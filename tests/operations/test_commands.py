"""``reporting-portal backup`` and ``restore`` on the command line: messages, exit codes."""

import tarfile

import pytest
from click.testing import CliRunner

from reporting_portal.cli import main

pytestmark = [pytest.mark.database, pytest.mark.slow]


def use_installation(monkeypatch, folder, database_url):
    for key, value in {
        "REPORTING_PORTAL_INSTANCE_DIR": str(folder),
        "DATABASE_URL": database_url,
        "REPORTING_PORTAL_PASSWORD_HASH_TIME_COST": "1",
        "REPORTING_PORTAL_PASSWORD_HASH_MEMORY_KIB": "19456",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("REPORTING_PORTAL_CONFIG", raising=False)


def run(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_backup_then_restore_into_a_new_installation(monkeypatch, tmp_path, database_url):
    use_installation(monkeypatch, tmp_path / "source", database_url)
    assert run("init").exit_code == 0
    backup = tmp_path / "portal.backup"
    made = run("backup", "-o", str(backup))
    assert made.exit_code == 0, made.output
    assert f"blobs to {backup}" in made.output
    assert backup.stat().st_mode & 0o777 == 0o600
    again = run("backup", "-o", str(backup))
    assert again.exit_code == 1
    assert "already exists" in again.output
    key = tmp_path / "source" / "audit-signing.key"

    use_installation(monkeypatch, tmp_path / "target", f"sqlite:///{tmp_path / 'target.db'}")
    restored = run("restore", str(backup), "--audit-key", str(key))
    assert restored.exit_code == 0, restored.output
    assert "the access log verified against the backup's head" in restored.output
    assert (tmp_path / "target" / "audit-signing.key").read_text() == key.read_text()
    with tarfile.open(backup) as tar:
        (tmp_path / "head.txt").write_bytes(tar.extractfile("audit-head.txt").read())
    verified = run("audit", "verify", "--head", str(tmp_path / "head.txt"))
    assert verified.exit_code == 0, verified.output
    assert "The log only grew since the saved head" in verified.output
    assert run("init").output.startswith("Already initialised")

    twice = run("restore", str(backup), "--audit-key", str(key))
    assert twice.exit_code == 3
    assert "is not empty" in twice.output


def test_a_damaged_backup_exits_4_and_creates_nothing(monkeypatch, tmp_path, database_url):
    use_installation(monkeypatch, tmp_path / "source", database_url)
    run("init")
    backup = tmp_path / "portal.backup"
    run("backup", "-o", str(backup), "--quiet")
    data = backup.read_bytes()
    backup.write_bytes(data[:len(data) // 2])
    use_installation(monkeypatch, tmp_path / "target", f"sqlite:///{tmp_path / 'target.db'}")
    refused = run("restore", str(backup), "--audit-key",
                  str(tmp_path / "source" / "audit-signing.key"))
    assert refused.exit_code == 4
    assert "cannot be restored" in refused.output
    assert not (tmp_path / "target" / "audit-signing.key").exists()
