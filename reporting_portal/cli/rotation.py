"""Rotating the organisation's recovery key (a staff member rotates their own key in the
staff app)."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import current_app

from reporting_portal.cli.group import closing_database, main
from reporting_portal.domain.key_rotation import RotationError, stale_page_grace
from reporting_portal.operations.rotation import (
    RecoveryRotationError,
    read_identity_file,
    recovery_progress,
    run_recovery_rotation,
    start_recovery_rotation,
)
from reporting_portal.storage.secret_files import write_secret_file
from reporting_portal.web.database import get_database
from reporting_portal.web.extensions import get_settings


@main.command("rotate-recovery")
@click.option("--old-identity", "old_identity_file", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The current recovery identity, brought from offline.")
@click.option("--new-identity-out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the new recovery identity to this new file (mode 0600) instead of "
                   "printing it.")
@closing_database
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


def _wait_for_stale_pages(complete_after: datetime, completed: bool) -> None:
    """Sleep until reporters' pages from before the switch have timed out."""
    if completed:
        return
    click.echo(f"\nEverything is re-granted so far. Pages reporters opened before the switch "
               f"can send to the old key until {complete_after:%H:%M} UTC: waiting to take "
               "those in too. Ctrl-C is safe; then run the same command again later.")
    while (left := (complete_after - datetime.now(UTC)).total_seconds()) > 0:
        time.sleep(min(left, 10))
