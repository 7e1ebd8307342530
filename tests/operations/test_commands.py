"""``reporting-portal backup`` and ``restore`` on the command line: messages, exit codes."""

import tarfile

import pytest

from tests.helpers.cli import run_cli, use_installation

pytestmark = [pytest.mark.database, pytest.mark.slow]



def test_backup_then_restore_into_a_new_installation(monkeypatch, tmp_path, database_url):
    use_installation(monkeypatch, tmp_path / "source", database_url)
    assert run_cli("init").exit_code == 0
    backup = tmp_path / "portal.backup"
    made = run_cli("backup", "-o", str(backup))
    assert made.exit_code == 0, made.output
    assert f"blobs to {backup}" in made.output
    assert backup.stat().st_mode & 0o777 == 0o600
    again = run_cli("backup", "-o", str(backup))
    assert again.exit_code == 1
    assert "already exists" in again.output
    key = tmp_path / "source" / "audit-signing.key"

    use_installation(monkeypatch, tmp_path / "target", f"sqlite:///{tmp_path / 'target.db'}")
    restored = run_cli("restore", str(backup), "--audit-key", str(key))
    assert restored.exit_code == 0, restored.output
    assert "the access log verified against the backup's head" in restored.output
    assert (tmp_path / "target" / "audit-signing.key").read_text() == key.read_text()
    with tarfile.open(backup) as tar:
        (tmp_path / "head.txt").write_bytes(tar.extractfile("audit-head.txt").read())
    verified = run_cli("audit", "verify", "--head", str(tmp_path / "head.txt"))
    assert verified.exit_code == 0, verified.output
    assert "The log only grew since the saved head" in verified.output
    assert run_cli("init").output.startswith("Already initialised")

    twice = run_cli("restore", str(backup), "--audit-key", str(key))
    assert twice.exit_code == 3
    assert "is not empty" in twice.output


def test_a_damaged_backup_exits_4_and_creates_nothing(monkeypatch, tmp_path, database_url):
    use_installation(monkeypatch, tmp_path / "source", database_url)
    run_cli("init")
    backup = tmp_path / "portal.backup"
    run_cli("backup", "-o", str(backup), "--quiet")
    data = backup.read_bytes()
    backup.write_bytes(data[:len(data) // 2])
    use_installation(monkeypatch, tmp_path / "target", f"sqlite:///{tmp_path / 'target.db'}")
    refused = run_cli("restore", str(backup), "--audit-key",
                  str(tmp_path / "source" / "audit-signing.key"))
    assert refused.exit_code == 4
    assert "cannot be restored" in refused.output
    assert not (tmp_path / "target" / "audit-signing.key").exists()
