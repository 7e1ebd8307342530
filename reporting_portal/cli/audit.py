"""The tamper-evident access log: verify, release held events, save a signed head."""

from __future__ import annotations

import base64
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

import click
from flask import current_app

from crypto.checkpoint import MAX_NOTE_BYTES
from reporting_portal.audit.events import SYSTEM, AuditAction, record_event
from reporting_portal.audit.held import release_held_events
from reporting_portal.audit.log import TreeHeadSigner
from reporting_portal.audit.proofs import latest_head, verifier_key
from reporting_portal.audit.verify import Problem, verify_log
from reporting_portal.cli.group import closing_database, main
from reporting_portal.web.database import get_database
from reporting_portal.web.extensions import get_settings


@main.group("audit")
def audit_group() -> None:
    """The tamper-evident access log."""


@audit_group.command("verify")
@click.option("--head", "head_file", type=click.File("r", encoding="utf-8"),
              help="A signed tree head saved earlier: check the log only grew since.")
@click.option("--key", "given_key", default=None,
              help="The log's verifier key as you recorded it (default: the one recorded "
                   "at init).")
@closing_database
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
        if problem.leaf_index is None and saved is not None and result.saved_head is None:
            # Only the head given is at fault: the log is not called altered for it.
            click.echo(f"SAVED HEAD REFUSED: {problem.message}. It is not a head this log "
                       "signed, so it proves nothing about the log; the log's own checks "
                       "found no altered entry.", err=True)
            sys.exit(1)
        click.echo(f"NOT INTACT: {_where(problem)}{problem.message}", err=True)
        for other in result.ordered_problems[1:]:
            click.echo(f"  also: {_where(other, first=False)}{other.message}", err=True)
        sys.exit(1)
    root = base64.b64encode(result.root_hash).decode("ascii")
    click.echo(f"Intact: {result.tree_size} entries, root {root}, "
               f"{result.heads_checked} signed head(s) checked.")
    if result.saved_head is not None:
        click.echo(f"The log only grew since the saved head of size {result.saved_head.size}.")


def _where(problem: Problem, *, first: bool = True) -> str:
    if problem.leaf_index is None:
        return ""
    return f"first bad entry {problem.leaf_index}: " if first else f"entry {problem.leaf_index}: "


def release_held(*, include_today: bool) -> int:
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
@closing_database
def audit_release_command(include_today: bool) -> None:
    """Append the reporter events held from earlier days, in random order (run daily)."""
    released = release_held(include_today=include_today)
    click.echo(f"Released {released} held reporter event(s) into the access log.")


@audit_group.command("head")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path),
              required=True, help="Where to save the signed tree head.")
@closing_database
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
