"""Settings for the processes that run the application (CLI, gunicorn).

Outside production an empty ``secret_key`` is filled from ``<instance>/secret-key``,
made once with 0600 permissions, so ``make run`` needs no configuration and never uses a
default secret. Production refuses to start without a configured one (config.settings).
"""

from __future__ import annotations

import secrets
from pathlib import Path

from config.settings import Settings, load_settings
from reporting_portal.storage.secret_files import read_or_create_secret_file

SECRET_KEY_FILE = "secret-key"  # noqa: S105  # nosec B105 -- a file name


def development_secret_key(instance_dir: Path) -> str:
    instance_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    return read_or_create_secret_file(instance_dir / SECRET_KEY_FILE,
                                      lambda: secrets.token_urlsafe(48))


def settings_from_environment() -> Settings:
    settings = load_settings()
    if not settings.secret_key and not settings.is_production:
        settings = settings.replace(secret_key=development_secret_key(settings.instance_dir))
    return settings
