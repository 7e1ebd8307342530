"""What timers run: purge, send-notices, fsck."""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime, timedelta

import click
from flask import current_app

from reporting_portal.cli.group import closing_database, main
from reporting_portal.domain.notice_runs import BATCH_SIZE, send_due_notices
from reporting_portal.domain.retention import delete_blobs, purge_expired_reports
from reporting_portal.operations import fsck
from reporting_portal.web.database import get_database
from reporting_portal.web.extensions import get_blob_store, get_settings


@main.command("purge")
@closing_database
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
@closing_database
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


@main.command("fsck")
@click.option("--repair", "repair_requested", is_flag=True,
              help="Remove what is listed: orphan blobs, rows without payload, unfinished "
                   "uploads; release overdue held audit events.")
@click.option("--grace", type=click.IntRange(min=0, max=fsck.MAX_GRACE_SECONDS),
              default=int(fsck.DEFAULT_GRACE.total_seconds()), show_default=True,
              help="Seconds a repair waits between its two listings, and the age an "
                   "unfinished upload needs to be aborted: longer than the longest request. "
                   "0 only when no server runs.")
@closing_database
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
