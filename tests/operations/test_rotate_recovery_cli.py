"""``reporting-portal rotate-recovery`` as an operator runs it: the new identity written
once to a private file, a clear refusal for the wrong identity, a resumable run."""

from __future__ import annotations

import re
import stat
from datetime import timedelta

import pytest
from sqlalchemy import select

from crypto.keys import parse_identities
from reporting_portal.cli import rotation as rotation_commands
from reporting_portal.storage.models import AuditEvent, Installation, KeyRotation
from tests.helpers.cli import query, run_cli, use_installation

pytestmark = pytest.mark.database


@pytest.fixture
def cli_env(monkeypatch, tmp_path, database_url):
    # No reporter page can be open on an instance that never served one: no wait.
    monkeypatch.setattr(rotation_commands, "stale_page_grace", lambda _minutes: timedelta(0))
    use_installation(monkeypatch, tmp_path / "instance", database_url)
    return tmp_path



@pytest.fixture
def old_identity_file(cli_env):
    path = cli_env / "recovery.txt"
    assert run_cli("init", "--recovery-identity-file", str(path)).exit_code == 0
    return path


def test_rotation_writes_the_new_identity_once_and_switches_the_installation(
        cli_env, database_url, old_identity_file):
    new_file = cli_env / "new-recovery.txt"

    result = run_cli("rotate-recovery", "--old-identity", str(old_identity_file),
                 "--new-identity-out", str(new_file))

    assert result.exit_code == 0, result.output
    [new_identity] = parse_identities(new_file.read_text())
    assert stat.S_IMODE(new_file.stat().st_mode) == 0o600
    assert new_identity.to_string() not in result.output
    [installation] = query(database_url, select(Installation))
    assert installation.recovery_recipient == str(new_identity.recipient)
    assert re.search(r"Done: \d+ object\(s\) and \d+ sealed text\(s\) re-granted", result.output)
    [rotation] = query(database_url, select(KeyRotation))
    assert rotation.completed_at is not None
    actions = [e.action for e in query(database_url, select(AuditEvent))]
    assert actions[-2:] == ["installation.recovery_rotation_started",
                            "installation.recovery_rotation_completed"]


def test_the_new_identity_is_printed_when_no_file_is_given(cli_env, database_url,
                                                           old_identity_file):
    result = run_cli("rotate-recovery", "--old-identity", str(old_identity_file))

    assert result.exit_code == 0, result.output
    printed = re.search(r"^(AGE-SECRET-KEY-PQ-1[0-9A-Z]+)$", result.output, re.M).group(1)
    [installation] = query(database_url, select(Installation))
    assert installation.recovery_recipient == str(parse_identities(printed)[0].recipient)


def test_the_old_identity_no_longer_rotates_once_replaced(cli_env, database_url,
                                                          old_identity_file):
    assert run_cli("rotate-recovery", "--old-identity", str(old_identity_file),
               "--new-identity-out", str(cli_env / "new.txt")).exit_code == 0
    recipient = query(database_url, select(Installation.recovery_recipient))

    again = run_cli("rotate-recovery", "--old-identity", str(old_identity_file),
                "--new-identity-out", str(cli_env / "newer.txt"))

    assert again.exit_code == 1
    assert "not the installation's recovery identity. Nothing was changed." in again.output
    assert not (cli_env / "newer.txt").exists()
    assert query(database_url, select(Installation.recovery_recipient)) == recipient


def test_an_existing_output_file_is_never_overwritten(cli_env, database_url, old_identity_file):
    taken = cli_env / "taken.txt"
    taken.write_text("keep me\n")
    recipient = query(database_url, select(Installation.recovery_recipient))

    result = run_cli("rotate-recovery", "--old-identity", str(old_identity_file),
                 "--new-identity-out", str(taken))

    assert result.exit_code == 1
    assert "exists: give a new file name" in result.output
    assert taken.read_text() == "keep me\n"
    assert query(database_url, select(Installation.recovery_recipient)) == recipient


def test_a_file_that_is_not_an_identity_is_refused_without_echoing_it(cli_env,
                                                                      old_identity_file):
    wrong = cli_env / "wrong.txt"
    wrong.write_text("AGE-SECRET-KEY-PQ-1NOTAKEY-SECRET-LOOKING\n")

    result = run_cli("rotate-recovery", "--old-identity", str(wrong))

    assert result.exit_code == 1
    assert "is not an age identity file" in result.output
    assert "NOTAKEY" not in result.output
