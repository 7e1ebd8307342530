"""The command group, and what every command shares: the application context, a
closed database at the end, the system actor."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from config.logging import configure_logging
from config.settings import SettingsError
from reporting_portal.app import create_app
from reporting_portal.audit.events import SYSTEM
from reporting_portal.audit.log import AuditLogError
from reporting_portal.domain.actors import Actor
from reporting_portal.web.bootstrap import settings_from_environment
from reporting_portal.web.database import get_database

CLI_ACTOR = Actor(account=None, role=SYSTEM)
Command = TypeVar("Command", bound=Callable[..., Any])


def closing_database(command: Command) -> Command:
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
