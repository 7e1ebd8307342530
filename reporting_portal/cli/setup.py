"""Setting up and serving an installation: init, serve, create-user, db upgrade."""

from __future__ import annotations

import os
from pathlib import Path

import click
from flask import current_app
from werkzeug.serving import run_simple

from reporting_portal.cli.audit import release_held
from reporting_portal.cli.group import CLI_ACTOR, closing_database, main
from reporting_portal.domain.accounts import AccountError, create_account
from reporting_portal.domain.installation import initialise_installation
from reporting_portal.domain.passwords import get_passwords
from reporting_portal.storage.migrate import upgrade_database
from reporting_portal.storage.models import Role
from reporting_portal.storage.secret_files import write_secret_file
from reporting_portal.web.database import get_database
from reporting_portal.web.extensions import get_settings


@main.command("init")
@click.option("--admin-username", default="admin", show_default=True)
@click.option(
    "--recovery-identity-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the recovery identity to this new file instead of printing it.",
)
@closing_database
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
@closing_database
def serve_command(host: str, port: int | None) -> None:
    """Serve with the development server. Production: gunicorn -c config/gunicorn.conf.py."""
    port = port or int(os.environ.get("PORT", "5000"))
    get_database(current_app).refresh_statistics()
    # A development server has no daily timer: release what earlier days held back.
    released = release_held(include_today=False)
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
@closing_database
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
@closing_database
def db_upgrade_command() -> None:
    """Apply every Alembic revision up to the newest."""
    upgrade_database(get_database(current_app).engine)
    click.echo("Database schema is up to date.")
