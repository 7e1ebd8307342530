"""One file for the whole installation: backup and restore."""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager
from pathlib import Path

import click
from flask import current_app

from reporting_portal.cli.group import closing_database, main
from reporting_portal.operations.archive import BackupFileError
from reporting_portal.operations.backup import BackupError, create_backup
from reporting_portal.operations.progress import ProgressBar, ProgressFactory, no_progress
from reporting_portal.operations.restore import (
    RestoreError,
    TargetNotEmptyError,
    restore_backup,
)
from reporting_portal.web.database import get_database
from reporting_portal.web.extensions import get_blob_store, get_settings


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
@closing_database
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
@closing_database
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
