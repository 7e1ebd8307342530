"""The ``reporting-portal`` command: set up, serve and administer an installation."""

from __future__ import annotations

import base64
import functools
import os
import sys
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO, TypeVar

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from werkzeug.serving import run_simple

from config.logging import configure_logging
from config.settings import SettingsError
from crypto.checkpoint import MAX_NOTE_BYTES
from reporting_portal.app import create_app
from reporting_portal.audit.events import SYSTEM, AuditAction, record_event
from reporting_portal.audit.held import release_held_events
from reporting_portal.audit.log import AuditLogError, TreeHeadSigner
from reporting_portal.audit.proofs import latest_head, verifier_key
from reporting_portal.audit.verify import verify_log
from reporting_portal.domain.accounts import AccountError, create_account
from reporting_portal.domain.actors import Actor
from reporting_portal.domain.installation import initialise_installation
from reporting_portal.domain.key_rotation import RotationError, stale_page_grace
from reporting_portal.domain.notice_runs import BATCH_SIZE, send_due_notices
from reporting_portal.domain.passwords import get_passwords
from reporting_portal.domain.retention import delete_blobs, purge_expired_reports
from reporting_portal.operations import fsck
from reporting_portal.operations.archive import BackupFileError
from reporting_portal.operations.backup import BackupError, create_backup
from reporting_portal.operations.progress import ProgressBar, ProgressFactory, no_progress
from reporting_portal.operations.restore import (
    RestoreError,
    TargetNotEmptyError,
    restore_backup,
)
from reporting_portal.operations.rotation import (
    RecoveryRotationError,
    read_identity_file,
    recovery_progress,
    run_recovery_rotation,
    start_recovery_rotation,
)
from reporting_portal.storage.migrate import upgrade_database
from reporting_portal.storage.models import Role
from reporting_portal.storage.secret_files import write_secret_file
from reporting_portal.web.bootstrap import settings_from_environment
from reporting_portal.web.database import get_database
from reporting_portal.web.extensions import get_blob_store, get_settings

CLI_ACTOR = Actor(account=None, role=SYSTEM)
Command = TypeVar("Command", bound=Callable[..., Any])


def _closing_database(command: Command) -> Command:
    """Run a command in the app context, then close its database connections."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except AuditLogError as error:
            raise click.ClickException(str(error)) from None
        finally:
            get_database(current_app).engine.dispose()

    return with_appcontext(wrapper)  # type: ignore[return-value]


def _make_app() -> Flask:
    try:
        settings = settings_from_environment()
    except SettingsError as error:
        raise click.ClickException(str(error)) from None
    configure_logging(settings.log_level)
    return create_app(settings)


@click.group(cls=FlaskGroup, create_app=_make_app, add_default_commands=False)
def main() -> None:
    """Reporting Portal: protected reporting for anti-corruption bodies."""


@main.command("init")
@click.option("--admin-username", default="admin", show_default=True)
@click.option(
    "--recovery-identity-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the recovery identity to this new file instead of printing it.",
)
@_closing_database
def init_command(admin_username: str, recovery_identity_file: Path | None) -> None:
    """Create the database and keys, and the first administrator. Safe to run again."""
    settings = get_settings()
    settings.instance_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    settings.blob_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    database = get_database(current_app)
    upgrade_database(database.engine)
    with database.session_factory() as db:
        result = initialise_installation(
            db, get_passwords(), CLI_ACTOR, admin_username=admin_username,
            demo_staff=settings.environment == "development",
        )
        db.commit()
    if result.recovery_identity is None and result.admin is None \
            and result.audit_verifier_key is None:
        click.echo("Already initialised: nothing to do.")
        return
    if result.audit_verifier_key is not None:
        click.echo(f"\nACCESS LOG - tree heads are signed with {settings.audit_key_file}")
        click.echo("(back it up apart from the database). Auditors record this verifier key:")
        click.echo(f"  {result.audit_verifier_key}")
    if result.recovery_identity is not None:
        click.echo("\nRECOVERY IDENTITY - every report is also encrypted to it.")
        if recovery_identity_file is not None:
            write_secret_file(recovery_identity_file, result.recovery_identity + "\n")
            click.echo(f"Written to {recovery_identity_file}. Move it offline now.")
        else:
            click.echo("Store it offline (paper, a safe). It is shown once and never kept here:")
            click.echo(result.recovery_identity)
    if result.admin is not None:
        click.echo("\nFIRST ADMINISTRATOR - shown once:")
        click.echo(f"  account name:       {result.admin.account.username}")
        click.echo(f"  one-time password:  {result.admin.one_time_password}")
        click.echo("At the first sign-in you set up two-factor sign-in and choose a password.")
    if result.demo_accounts:
        click.echo("\nDEMO STAFF - development only, shown once. Each sets up two-factor "
                   "sign-in and a password at the first sign-in; demo-handler receives the "
                   "default channel's reports:")
        for demo in result.demo_accounts:
            click.echo(f"  {demo.account.username:<16} one-time password: "
                       f"{demo.one_time_password}")


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=None, help="Default: $PORT or 5000.")
@_closing_database
def serve_command(host: str, port: int | None) -> None:
    """Serve with the development server. Production: gunicorn -c config/gunicorn.conf.py."""
    port = port or int(os.environ.get("PORT", "5000"))
    get_database(current_app).refresh_statistics()
    # A development server has no daily timer: release what earlier days held back.
    released = _release_held(include_today=False)
    if released:
        click.echo(f"Released {released} held reporter event(s) into the access log.")
    click.echo(f"Serving on http://{host}:{port}  (staff: http://{host}:{port}/staff/)")
    # Werkzeug directly: Flask ignores app.run() inside its own command line. Its request
    # log is silenced by config.logging, as a reporter's address must never be logged.
    run_simple(host, port, current_app._get_current_object(),  # type: ignore[attr-defined]
               use_reloader=False, use_debugger=False, threaded=True)


@main.command("create-user")
@click.option("--username", required=True)
@click.option("--name", "display_name", default="", help="Full name (default: the username).")
@click.option("--email", default=None)
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice([str(role) for role in Role]),
    help="Repeat for several roles.",
)
@_closing_database
def create_user_command(
    username: str, display_name: str, email: str | None, roles: tuple[str, ...]
) -> None:
    """Create a staff account and print its one-time password."""
    with get_database(current_app).session_factory() as db:
        try:
            created = create_account(
                db,
                get_passwords(),
                CLI_ACTOR,
                username=username,
                display_name=display_name,
                email=email,
                roles=[Role(role) for role in roles],
            )
        except AccountError as error:
            raise click.ClickException(str(error)) from None
        db.commit()
    click.echo(f"Created {created.account.username}. One-time password (shown once):")
    click.echo(created.one_time_password)


@main.group("db")
def db_group() -> None:
    """Database schema."""


@db_group.command("upgrade")
@_closing_database
def db_upgrade_command() -> None:
    """Apply every Alembic revision up to the newest."""
    upgrade_database(get_database(current_app).engine)
    click.echo("Database schema is up to date.")


@main.group("audit")
def audit_group() -> None:
    """The tamper-evident access log."""


@audit_group.command("verify")
@click.option("--head", "head_file", type=click.File("r", encoding="utf-8"),
              help="A signed tree head saved earlier: check the log only grew since.")
@click.option("--key", "given_key", default=None,
              help="The log's verifier key as you recorded it (default: the one recorded "
                   "at init).")
@_closing_database
def audit_verify_command(head_file: TextIO | None, given_key: str | None) -> None:
    """Recompute the log from its events and check every signed head. Exit 1 if altered."""
    saved = head_file.read(MAX_NOTE_BYTES + 1) if head_file is not None else None
    with get_database(current_app).session_factory() as db:
        try:
            recorded_key = verifier_key(db)
        except LookupError as error:
            raise click.ClickException(str(error)) from None
        key = given_key or recorded_key
        result = verify_log(db, key, saved)
    signer = TreeHeadSigner(get_settings().audit_key_file)
    if given_key is None and signer.key_file.exists() and signer.verifier_key() != key:
        raise click.ClickException(
            "the verifier key recorded in the database is not the signing key's: one of "
            "them was replaced. Verify with --key and the key you recorded.")
    problem = result.first_problem
    if problem is not None:
        click.echo(f"NOT INTACT: first bad entry {problem.leaf_index}: {problem.message}",
                   err=True)
        for other in sorted(result.problems)[1:]:
            click.echo(f"  also: entry {other.leaf_index}: {other.message}", err=True)
        sys.exit(1)
    root = base64.b64encode(result.root_hash).decode("ascii")
    click.echo(f"Intact: {result.tree_size} entries, root {root}, "
               f"{result.heads_checked} signed head(s) checked.")
    if result.saved_head is not None:
        click.echo(f"The log only grew since the saved head of size {result.saved_head.size}.")


def _release_held(*, include_today: bool) -> int:
    today = datetime.now(UTC).date()
    with get_database(current_app).session_factory() as db:
        released = release_held_events(
            db, before=today + timedelta(days=1) if include_today else today)
        if released:
            record_event(db, AuditAction.AUDIT_HELD_RELEASED, actor=None, actor_role=SYSTEM)
        db.commit()
    return released


@audit_group.command("release")
@click.option("--include-today", is_flag=True,
              help="Also release today's events. This dates them to before now: leave it to "
                   "tests and demonstrations.")
@_closing_database
def audit_release_command(include_today: bool) -> None:
    """Append the reporter events held from earlier days, in random order (run daily)."""
    released = _release_held(include_today=include_today)
    click.echo(f"Released {released} held reporter event(s) into the access log.")


@audit_group.command("head")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path),
              required=True, help="Where to save the signed tree head.")
@_closing_database
def audit_head_command(output: Path) -> None:
    """Save the current signed tree head (keep it off the server; verify against it later)."""
    with get_database(current_app).session_factory() as db:
        head = latest_head(db)
        if head is None:
            raise click.ClickException("the log is empty: no tree head yet")
        record_event(db, AuditAction.AUDIT_HEAD_DOWNLOADED, actor=None, actor_role=SYSTEM)
        db.commit()
    output.write_text(head.checkpoint, encoding="utf-8")
    click.echo(f"Saved the signed head of size {head.tree_size} to {output}.")


@main.command("purge")
@_closing_database
def purge_command() -> None:
    """Delete closed reports whose retention period has ended (run daily)."""
    store = get_blob_store()
    with get_database(current_app).session_factory() as db:
        purged = purge_expired_reports(db, datetime.now(UTC).date())
        db.commit()
    delete_blobs(store, purged.blob_names)
    click.echo(f"Purged {len(purged.report_ids)} report(s).")


@main.command("send-notices")
@click.option("--batch-size", type=click.IntRange(1, 1000), default=BATCH_SIZE,
              show_default=True, help="Notices claimed per transaction.")
@_closing_database
def send_notices_command(batch_size: int) -> None:
    """Send the e-mail notices that are due and queue deadline reminders (run every 5
    minutes). Exit 1 if a mail was given up, so the timer's failure shows."""
    settings = get_settings()
    if not settings.smtp_host:
        click.echo("E-mail is off (smtp_host is empty): nothing sent.")
        return
    summary = send_due_notices(get_database(current_app).session_factory, settings,
                               batch_size=batch_size)
    click.echo(f"Sent {summary.sent}, retrying {summary.retrying}, failed {summary.failed}, "
               f"dropped {summary.dropped}; {summary.reminders_queued} deadline reminder(s) "
               "queued.")
    if summary.abandoned:
        click.echo(f"{summary.abandoned} mail(s) left unmarked by a stopped run: marked "
                   "failed, not resent.", err=True)
    if summary.failed or summary.abandoned:
        sys.exit(1)

def _progress_bar(quiet: bool) -> ProgressFactory:
    """click's progress bar on a terminal, nothing otherwise (logs, tests, --quiet)."""
    if quiet or not sys.stderr.isatty():
        return no_progress

    def bar(label: str, length: int) -> AbstractContextManager[ProgressBar]:
        return click.progressbar(length=length, label=label, file=sys.stderr)

    return bar


class _TargetNotEmpty(click.ClickException):
    exit_code = 3


class _DamagedBackup(click.ClickException):
    exit_code = 4


@main.command("backup")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              required=True, help="The new backup file (it must not exist yet).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@_closing_database
def backup_command(output: Path, quiet: bool) -> None:
    """Write one file: the database, every blob (ciphertext) and the signed audit head.

    The audit signing key is not in it: keep a copy of that key apart from the backups.
    """
    try:
        summary = create_backup(get_database(current_app), get_blob_store(), output,
                                _progress_bar(quiet))
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Backed up {summary.rows} rows and {summary.blobs} blobs to {output} "
               f"({summary.size} bytes); the access log's head covers "
               f"{summary.audit_tree_size} entries.")
    if summary.missing_blobs:
        click.echo(f"{len(summary.missing_blobs)} blob(s) were purged while the backup ran: "
                   "their reports are in it and go again at the next purge.", err=True)


@main.command("restore")
@click.argument("backup_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--audit-key", "audit_key", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The access log's signing key, kept apart from the backup.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@_closing_database
def restore_command(backup_file: Path, audit_key: Path, quiet: bool) -> None:
    """Restore a backup into this new, empty installation (database and blob store).

    Exit status 3: the installation is not empty; 4: the file is damaged or incomplete;
    1: any other refusal. Nothing is written in any of these cases.
    """
    # As init does: the SQLite file and the key live here.
    get_settings().instance_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        summary = restore_backup(get_database(current_app), get_blob_store(),
                                 get_settings().audit_key_file, backup_file, audit_key,
                                 _progress_bar(quiet))
    except TargetNotEmptyError as error:
        raise _TargetNotEmpty(str(error)) from None
    except BackupFileError as error:
        raise _DamagedBackup(f"{backup_file} cannot be restored: {error}") from None
    except RestoreError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Restored {summary.rows} rows and {summary.blobs} blobs (schema "
               f"{summary.schema_revision}); the access log verified against the backup's "
               f"head of size {summary.audit_tree_size}.")
    if summary.missing_blobs:
        click.echo(f"{len(summary.missing_blobs)} report object(s) have no payload (purged "
                   "while the backup ran): run `reporting-portal purge`.", err=True)

@main.command("rotate-recovery")
@click.option("--old-identity", "old_identity_file", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The current recovery identity, brought from offline.")
@click.option("--new-identity-out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the new recovery identity to this new file (mode 0600) instead of "
                   "printing it.")
@_closing_database
def rotate_recovery_command(old_identity_file: Path, new_identity_out: Path | None) -> None:
    """Replace the recovery key and re-grant every object to it. Resumable: run again."""
    if new_identity_out is not None and new_identity_out.exists():
        raise click.ClickException(f"{new_identity_out} exists: give a new file name")

    def deliver(identity: str) -> None:
        click.echo("\nNEW RECOVERY IDENTITY - every object is re-granted to it now.")
        if new_identity_out is not None:
            write_secret_file(new_identity_out, identity + "\n")
            click.echo(f"Written to {new_identity_out}. Move it offline now.")
        else:
            click.echo("Store it offline (paper, a safe). It is shown once and never kept here:")
            click.echo(identity)

    factory = get_database(current_app).session_factory
    try:
        identities = read_identity_file(old_identity_file)
        with factory() as db:
            started = start_recovery_rotation(
                db, identities, deliver,
                grace=stale_page_grace(get_settings().reporter_idle_minutes))
            db.commit()
    except RecoveryRotationError as error:
        raise click.ClickException(str(error)) from None
    if started.resumed:
        click.echo("Resuming the rotation in progress. Its new identity was given when it "
                   "started" + ("; no file is written." if new_identity_out else "."))
    progress = recovery_progress(factory, started.rotation_id)
    try:
        with click.progressbar(length=max(progress.total, 1), label="Re-granting") as bar:
            bar.update(progress.examined)
            shown = progress.examined
            while not progress.completed:
                for progress in run_recovery_rotation(factory, started):
                    # The sweep starts over: the bar stays full while it checks again.
                    bar.update(max(progress.examined - shown, 0))
                    shown = max(shown, progress.examined)
                _wait_for_stale_pages(progress.complete_after, progress.completed)
    except KeyboardInterrupt:
        click.echo("\nInterrupted. Run the same command with the same old identity to "
                   "continue.", err=True)
        sys.exit(130)
    except RotationError as error:
        raise click.ClickException(f"{error}. Run the same command again once it is "
                                   "repaired.") from None
    click.echo(f"Done: {progress.objects_regranted} object(s) and {progress.texts_regranted} "
               "sealed text(s) re-granted to the new recovery key.")
    click.echo("Once the new identity is stored offline, destroy the old one and confirm it "
               "on the administrator's home page.")

@main.command("fsck")
@click.option("--repair", "repair_requested", is_flag=True,
              help="Remove what is listed: orphan blobs, rows without payload, unfinished "
                   "uploads; release overdue held audit events.")
@click.option("--grace", type=click.IntRange(min=0, max=fsck.MAX_GRACE_SECONDS),
              default=int(fsck.DEFAULT_GRACE.total_seconds()), show_default=True,
              help="Seconds a repair waits between its two listings, and the age an "
                   "unfinished upload needs to be aborted: longer than the longest request. "
                   "0 only when no server runs.")
@_closing_database
def fsck_command(repair_requested: bool, grace: int) -> None:
    """Check the database against the blob store. Exit 1 if findings were not repaired."""
    store = get_blob_store()
    session_factory = get_database(current_app).session_factory
    if not repair_requested:
        with session_factory() as db:
            findings = fsck.find_problems(db, store, today=datetime.now(UTC).date())
        for line in [*fsck.finding_lines(findings), fsck.summary_line(findings)]:
            click.echo(line)
        if not findings.clean:
            sys.exit(1)
        return
    if grace:
        click.echo(f"Listing now and again in {grace} s: only what is wrong both times is "
                   "repaired.")
    findings, done = fsck.repair(session_factory, store, grace=timedelta(seconds=grace),
                                 wait=time.sleep)
    for line in [*fsck.finding_lines(findings), fsck.summary_line(findings),
                 *fsck.repair_lines(done)]:
        click.echo(line)


def _wait_for_stale_pages(complete_after: datetime, completed: bool) -> None:
    """Sleep until reporters' pages from before the switch have timed out."""
    if completed:
        return
    click.echo(f"\nEverything is re-granted so far. Pages reporters opened before the switch "
               f"can send to the old key until {complete_after:%H:%M} UTC: waiting to take "
               "those in too. Ctrl-C is safe; then run the same command again later.")
    while (left := (complete_after - datetime.now(UTC)).total_seconds()) > 0:
        time.sleep(min(left, 10))
