"""The ``reporting-portal`` command: set up, serve and administer an installation."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from werkzeug.serving import run_simple

from config.logging import configure_logging
from config.settings import SettingsError
from reporting_portal.admin.services import AccountError, Actor, create_account
from reporting_portal.app import create_app
from reporting_portal.audit.events import SYSTEM
from reporting_portal.bootstrap import settings_from_environment
from reporting_portal.db import get_database
from reporting_portal.extensions import get_passwords, get_settings
from reporting_portal.installation import initialise_installation, write_secret_file
from reporting_portal.migrate import upgrade_database
from reporting_portal.models import Role

CLI_ACTOR = Actor(account=None, role=SYSTEM)
Command = TypeVar("Command", bound=Callable[..., Any])


def _closing_database(command: Command) -> Command:
    """Run a command in the app context, then close its database connections."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
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
            db, get_passwords(), CLI_ACTOR, admin_username=admin_username
        )
        db.commit()
    if result.recovery_identity is None and result.admin is None:
        click.echo("Already initialised: nothing to do.")
        return
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


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=None, help="Default: $PORT or 5000.")
@_closing_database
def serve_command(host: str, port: int | None) -> None:
    """Serve with the development server. Production: gunicorn -c config/gunicorn.conf.py."""
    port = port or int(os.environ.get("PORT", "5000"))
    get_database(current_app).refresh_statistics()
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
