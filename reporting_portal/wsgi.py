"""WSGI entry points for gunicorn (config/gunicorn.conf.py).

``reporting_portal.wsgi:reporter_app`` and ``reporting_portal.wsgi:staff_app`` serve the
two surfaces separately, each behind its own address or onion service;
``reporting_portal.wsgi:app`` serves both (development, small installations).
Each is built on first access, so importing this module for one builds only that one.
"""

from __future__ import annotations

from flask import Flask

from config.logging import configure_logging
from reporting_portal.app import Surface, create_app
from reporting_portal.web.bootstrap import settings_from_environment
from reporting_portal.web.database import get_database

_SURFACES: dict[str, Surface] = {
    "app": "combined",
    "reporter_app": "reporter",
    "staff_app": "staff",
}


def __getattr__(name: str) -> Flask:
    if name not in _SURFACES:
        raise AttributeError(name)
    settings = settings_from_environment()
    configure_logging(settings.log_level)
    application = create_app(settings, _SURFACES[name])
    get_database(application).refresh_statistics()
    globals()[name] = application
    return application
