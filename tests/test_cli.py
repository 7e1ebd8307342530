"""The reporting-portal command: init is repeatable, create-user prints a password once."""

import re

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, select, text

from crypto.keys import parse_identity
from reporting_portal.cli import main
from reporting_portal.storage.models import AuditEvent, Channel, Installation, Role, StaffAccount
from tests.helpers.cli import query, run_cli, use_installation

pytestmark = pytest.mark.database


@pytest.fixture
def cli_env(monkeypatch, tmp_path, database_url):
    use_installation(monkeypatch, tmp_path / "instance", database_url)
    return tmp_path



def test_init_makes_keys_and_first_admin_then_reuses_them(cli_env, database_url):
    first = run_cli("init")
    assert first.exit_code == 0, first.output
    identity = re.search(r"^(AGE-SECRET-KEY-PQ-1[0-9A-Z]+)$", first.output, re.M).group(1)
    password = re.search(r"one-time password:\s+(\S+)", first.output).group(1)
    assert "account name:       admin" in first.output

    installation = query(database_url, select(Installation))[0]
    assert installation.recovery_recipient == str(parse_identity(identity).recipient)
    assert identity not in str(installation.__dict__)
    assert (cli_env / "instance" / "blobs").is_dir()
    key_file = cli_env / "instance" / "audit-signing.key"
    assert key_file.stat().st_mode & 0o077 == 0
    assert f"  {installation.audit_verifier_key}\n" in first.output
    assert key_file.read_text().startswith("PRIVATE+KEY+reporting-portal/audit/")
    admin = query(database_url, select(StaffAccount))[0]
    assert admin.has_role(Role.ADMINISTRATOR)
    assert admin.must_change_password
    assert password not in admin.password_hash

    again = run_cli("init")
    assert again.exit_code == 0
    assert "Already initialised" in again.output
    assert "DEMO STAFF" not in again.output
    assert len(query(database_url, select(StaffAccount))) == 4  # admin and the demo staff
    actions = [e.action for e in query(database_url, select(AuditEvent))]
    assert actions.count("installation.initialised") == 1


def test_a_development_init_makes_demo_staff_and_opens_the_default_channel(
        cli_env, database_url):
    result = run_cli("init")
    assert "DEMO STAFF - development only" in result.output
    printed = dict(re.findall(r"^  (demo-[a-z]+)\s+one-time password: (\S+)$", result.output,
                              re.M))
    assert sorted(printed) == ["demo-auditor", "demo-custodian", "demo-handler"]
    accounts = {a.username: a for a in query(database_url, select(StaffAccount))}
    assert accounts["demo-handler"].has_role(Role.CASE_HANDLER)
    assert accounts["demo-custodian"].has_role(Role.IDENTITY_CUSTODIAN)
    assert accounts["demo-auditor"].has_role(Role.AUDITOR)
    assert all(accounts[name].age_recipient for name in printed)  # keys from the start
    handlers = query(database_url, select(StaffAccount.username).join(Channel.handlers))
    assert handlers == ["demo-handler"]


def test_init_makes_the_default_channel_in_the_six_un_languages(cli_env, database_url):
    from reporting_portal.domain.questionnaire import parse_questionnaire

    assert run_cli("init").exit_code == 0
    [channel] = query(database_url, select(Channel))
    six = {"ar", "zh_Hans", "en", "fr", "ru", "es"}
    assert channel.languages[0] == "en"
    assert set(channel.languages) == six
    assert set(channel.names) == six
    assert set(channel.descriptions) == six
    assert channel.names["ar"] == "الإبلاغ عن الفساد"
    questions = parse_questionnaire(channel.questionnaire, "en")
    assert len(questions) == 8
    for question in questions:
        assert set(question.label) == six, question.id
        assert all(set(choice.label) == six for choice in question.choices), question.id
        assert not question.help or set(question.help) == six, question.id
    # No two languages share a label by mistake (a text left untranslated).
    for question in questions:
        texts = [question.label[code] for code in ("ar", "zh_Hans", "fr", "ru")]
        assert question.label["en"] not in texts, question.id


def test_a_production_init_never_makes_demo_staff(cli_env, database_url, monkeypatch):
    monkeypatch.setenv("REPORTING_PORTAL_ENVIRONMENT", "production")
    monkeypatch.setenv("REPORTING_PORTAL_SECRET_KEY", "p" * 48)
    result = run_cli("init")
    assert result.exit_code == 0, result.output
    assert "DEMO" not in result.output
    assert [a.username for a in query(database_url, select(StaffAccount))] == ["admin"]


def test_init_can_write_the_recovery_identity_to_a_private_file(cli_env, database_url):
    target = cli_env / "recovery.txt"
    result = run_cli("init", "--recovery-identity-file", str(target))
    assert result.exit_code == 0, result.output
    assert "AGE-SECRET-KEY" not in result.output
    assert target.read_text().startswith("AGE-SECRET-KEY-PQ-1")
    assert target.stat().st_mode & 0o077 == 0


def test_create_user_needs_init_first(cli_env):
    run_cli("db", "upgrade")
    result = run_cli("create-user", "--username", "hana", "--role", "case_handler")
    assert result.exit_code != 0
    assert "signing key" in result.output
    assert "reporting-portal init" in result.output


def test_create_user_prints_a_one_time_password(cli_env, database_url):
    run_cli("init")
    result = run_cli("create-user", "--username", "hana", "--role", "case_handler",
                 "--role", "identity_custodian")
    assert result.exit_code == 0, result.output
    assert "One-time password (shown once)" in result.output
    [account] = query(database_url, select(StaffAccount).where(StaffAccount.username == "hana"))
    assert account.role_set == {Role.CASE_HANDLER, Role.IDENTITY_CUSTODIAN}
    duplicate = run_cli("create-user", "--username", "hana", "--role", "auditor")
    assert duplicate.exit_code != 0
    assert "That account name is taken" in duplicate.output


def test_a_bad_setting_stops_with_one_line(cli_env, monkeypatch):
    monkeypatch.setenv("REPORTING_PORTAL_STAFF_IDLE_MINUTES", "soon")
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.exit_code != 0
    assert "staff_idle_minutes" in result.output


def test_purge_runs_and_reports(cli_env):
    run_cli("init")
    result = run_cli("purge")
    assert result.exit_code == 0, result.output
    assert "Purged 0 report(s)." in result.output


def test_audit_head_and_verify_from_the_command_line(cli_env, tmp_path):
    run_cli("init")
    saved = tmp_path / "head.txt"
    assert run_cli("audit", "head", "-o", str(saved)).exit_code == 0
    result = run_cli("audit", "verify", "--head", str(saved))
    assert result.exit_code == 0, result.output
    assert "Intact:" in result.output


def test_init_signs_the_log_of_an_installation_made_before_it_was_signed(cli_env,
                                                                         database_url):
    run_cli("init")
    engine = create_engine(database_url)
    with engine.begin() as connection:  # as migration 0005 leaves an older installation
        connection.execute(text("UPDATE installation SET audit_verifier_key = NULL"))
    engine.dispose()
    (cli_env / "instance" / "audit-signing.key").unlink()
    again = run_cli("init")
    assert "Auditors record this verifier key" in again.output
    assert run_cli("audit", "verify").exit_code == 0


def test_send_notices_says_when_mail_is_off_and_fails_when_a_mail_was_lost(
        cli_env, database_url, monkeypatch):
    from tests.helpers.smtp import smtp_server

    run_cli("init")
    assert run_cli("send-notices").output == "E-mail is off (smtp_host is empty): nothing sent.\n"
    engine = create_engine(database_url)
    with engine.begin() as connection:  # a run that stopped between its claim and its mark
        connection.execute(text(
            "INSERT INTO notice_outbox (staff_id, window_start, unread_cases, "
            "waiting_identity_requests, deadline_reminders, state, attempts, "
            "next_attempt_at, claimed_at) SELECT id, '2026-01-01 10:00:00', 1, 0, 0, "
            "'sending', 1, '2026-01-01 11:00:00', '2026-01-01 11:00:00' FROM staff_account "
            "WHERE username = 'admin'"))
    engine.dispose()
    with smtp_server() as server:
        monkeypatch.setenv("REPORTING_PORTAL_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("REPORTING_PORTAL_SMTP_PORT", str(server.port))
        monkeypatch.setenv("REPORTING_PORTAL_SMTP_STARTTLS", "false")
        lost = CliRunner().invoke(main, ["send-notices"])
        again = run_cli("send-notices")
    assert lost.exit_code == 1
    assert "1 mail(s) left unmarked by a stopped run: marked failed, not resent." in lost.output
    assert again.exit_code == 0
    assert again.output == ("Sent 0, retrying 0, failed 0, dropped 0; 0 deadline reminder(s) "
                            "queued.\n")
    assert server.collector.messages == []
