"""One typed, frozen settings object, built from TOML files and the environment.

Order of precedence (last wins): ``config/default.toml``, the TOML file named by
``REPORTING_PORTAL_CONFIG``, environment variables ``REPORTING_PORTAL_<KEY>`` (and
``DATABASE_URL``). A bad value stops start-up with one line that names the setting.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Environment = Literal["development", "test", "production"]
ENVIRONMENTS: tuple[str, ...] = get_args(Environment)

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_FILE = Path(__file__).resolve().parent / "default.toml"
ENV_PREFIX = "REPORTING_PORTAL_"

# Values that must never protect a production installation.
_PLACEHOLDER_SECRETS = frozenset({"", "CHANGE-ME", "changeme", "secret", "dev", "development"})
_MIN_SECRET_KEY_LENGTH = 32
_NIST_MIN_PASSWORD_LENGTH = 8  # NIST SP 800-63B
_OWASP_MIN_ARGON2_MEMORY_KIB = 19456  # OWASP Password Storage Cheat Sheet


class SettingsError(ValueError):
    """A setting is missing or invalid; the message names it."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Every knob of the application. Built only by :func:`load_settings` or tests."""

    environment: Environment
    # Secrets are kept out of the settings' repr, so a logged or printed object cannot leak
    # them; tests/test_settings.py walks the fields to hold every secret to that.
    secret_key: str = field(repr=False)
    instance_dir: Path
    # May carry the database password (postgresql://user:password@host/...).
    database_url: str = field(repr=False)
    # "local" (a folder, the embedded default) or "s3" (any S3-compatible object store).
    blob_store: str
    blob_dir: Path
    # S3: credentials come from the standard AWS variables or a profile, never from here.
    s3_endpoint_url: str = field(repr=False)  # a URL may carry credentials
    s3_bucket: str
    s3_region: str
    s3_prefix: str
    # Signs the audit log's tree heads; outside the database on purpose.
    audit_key_file: Path
    organisation_name: str
    password_min_length: int
    password_max_length: int
    password_hash_time_cost: int
    password_hash_memory_kib: int
    password_hash_parallelism: int
    identity_wrap_time_cost: int
    identity_wrap_memory_kib: int
    receipt_kdf_time_cost: int
    receipt_kdf_memory_kib: int
    receipt_plain_attempts_per_minute: int
    receipt_pow_attempts_per_minute: int
    receipt_pow_top_attempts_per_minute: int
    receipt_pow_first_bits: int
    receipt_pow_levels: int
    submission_max_bytes: int
    submission_max_files: int
    answer_max_chars: int
    message_max_chars: int
    sign_in_max_failures: int
    sign_in_window_minutes: int
    sign_in_device_max_failures: int
    device_cookie_days: int
    password_check_max_failures: int
    staff_idle_minutes: int
    staff_absolute_hours: int
    reporter_idle_minutes: int
    totp_issuer: str
    # Passkeys (WebAuthn): the relying party's id (the staff host's domain) and the exact
    # origin the staff pages are served from; an assertion for another is refused.
    webauthn_rp_id: str
    webauthn_origin: str
    # Whether a passkey with PRF may unlock the member's key alone (a second wrapped
    # copy); when false, the password-derived wrapping is the only one, asked after a
    # passkey sign-in.
    passkey_key_unlock: bool
    max_form_bytes: int
    log_level: str
    smtp_host: str
    smtp_port: int
    smtp_from: str
    # Staff notices are written off any request, so the installation names their language.
    mail_language: str
    # The IANA zone the staff pages show times in (a case's timeline); one per installation.
    staff_time_zone: str
    smtp_starttls: bool
    smtp_username: str
    notification_window_minutes: int
    smtp_password: str = field(repr=False)
    # PostgreSQL's connection pool, per process (config/default.toml sizes it).
    database_pool_size: int
    database_max_overflow: int
    database_pool_timeout_seconds: int
    database_pool_recycle_seconds: int
    database_connect_timeout_seconds: int

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    def replace(self, **changes: Any) -> Settings:
        """A copy with some values changed (tests use it to lower costs)."""
        return dataclasses.replace(self, **changes)


_POSITIVE_INTS = {
    "password_min_length",
    "password_max_length",
    "password_hash_time_cost",
    "password_hash_memory_kib",
    "password_hash_parallelism",
    "identity_wrap_time_cost",
    "identity_wrap_memory_kib",
    "receipt_kdf_time_cost",
    "receipt_kdf_memory_kib",
    "receipt_plain_attempts_per_minute",
    "receipt_pow_attempts_per_minute",
    "receipt_pow_top_attempts_per_minute",
    "receipt_pow_first_bits",
    "receipt_pow_levels",
    "submission_max_bytes",
    "submission_max_files",
    "answer_max_chars",
    "message_max_chars",
    "sign_in_max_failures",
    "sign_in_window_minutes",
    "sign_in_device_max_failures",
    "device_cookie_days",
    "password_check_max_failures",
    "staff_idle_minutes",
    "staff_absolute_hours",
    "reporter_idle_minutes",
    "max_form_bytes",
    "smtp_port",
    "database_pool_size",
    "database_pool_timeout_seconds",
    "database_pool_recycle_seconds",
    "database_connect_timeout_seconds",
}
# Zero is allowed here (notices sent at once; no overflow connections beyond the pool).
_NON_NEGATIVE_INTS = {"notification_window_minutes", "database_max_overflow"}
_MAX_PORT = 65535
_TRUE_WORDS = frozenset({"true", "1", "yes"})
_FALSE_WORDS = frozenset({"false", "0", "no"})
_BLOB_STORES = ("local", "s3")
_LOG_LEVELS = {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}
# The six UN languages, as reporting_portal/web/languages.py names them (config imports no app
# code; tests/i18n/test_catalogues.py holds the two lists together).
MAIL_LANGUAGES = ("ar", "zh_Hans", "en", "fr", "ru", "es")


def _read_toml(path: Path, name: str) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise SettingsError(f"{name}: file not found: {path}") from None
    except tomllib.TOMLDecodeError as error:
        raise SettingsError(f"{name}: not valid TOML ({error})") from None


def _coerce(name: str, raw: object, field_type: str) -> object:
    """Turn a TOML or environment value into the field's type, or explain why not."""
    if field_type == "int":
        if isinstance(raw, bool):
            raise SettingsError(f"setting {name!r}: expected a whole number, got {raw!r}")
        try:
            value = int(cast(Any, raw))
        except (TypeError, ValueError):
            raise SettingsError(f"setting {name!r}: expected a whole number, got {raw!r}") from None
        if name in _POSITIVE_INTS and value <= 0:
            raise SettingsError(f"setting {name!r}: must be greater than zero, got {value}")
        if name in _NON_NEGATIVE_INTS and value < 0:
            raise SettingsError(f"setting {name!r}: must not be negative, got {value}")
        return value
    if field_type == "bool":
        return _coerce_bool(name, raw)
    if not isinstance(raw, str):
        raise SettingsError(f"setting {name!r}: expected text, got {raw!r}")
    return raw


def _coerce_bool(name: str, raw: object) -> bool:
    """A TOML boolean, or true/false/1/0/yes/no in any case (environment variables)."""
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int | str):
        word = str(raw).strip().lower()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
    raise SettingsError(f"setting {name!r}: expected true or false, got {raw!r}")


def _resolve_path(value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else PROJECT_DIR / path


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Build the settings from the default file, an optional file and the environment.

    Raises :class:`SettingsError` with a one-line message naming the bad setting.
    """
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = _read_toml(DEFAULT_FILE, "config/default.toml")
    extra_file = environ.get(f"{ENV_PREFIX}CONFIG")
    if extra_file:
        values.update(_read_toml(Path(extra_file), f"{ENV_PREFIX}CONFIG"))

    fields = {field.name: str(field.type) for field in dataclasses.fields(Settings)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise SettingsError(f"unknown setting {unknown[0]!r} in a settings file")
    if environ.get("DATABASE_URL"):
        values["database_url"] = environ["DATABASE_URL"]
    for name in fields:
        env_value = environ.get(f"{ENV_PREFIX}{name.upper()}")
        if env_value is not None:
            values[name] = env_value
    values.update(overrides)

    missing = sorted(set(fields) - set(values))
    if missing:
        raise SettingsError(f"setting {missing[0]!r} is missing")

    typed: dict[str, Any] = {}
    for name, field_type in fields.items():
        if field_type == "Path" or name == "environment":
            typed[name] = _coerce(name, values[name], "str")
        else:
            typed[name] = _coerce(name, values[name], field_type)
    return _validate(typed)


def _check_choice(typed: dict[str, Any], name: str, choices: tuple[str, ...]) -> None:
    if typed[name] not in choices:
        raise SettingsError(
            f"setting {name!r}: expected one of {', '.join(choices)}, got {typed[name]!r}"
        )


def _check_time_zone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(
            f"setting 'staff_time_zone': unknown time zone {name!r} (an IANA name such as "
            "'Europe/Paris' or 'UTC')") from None


def _check_webauthn(typed: dict[str, Any]) -> None:
    rp_id, origin = typed["webauthn_rp_id"], typed["webauthn_origin"]
    if not rp_id or "/" in rp_id or ":" in rp_id:
        raise SettingsError("setting 'webauthn_rp_id': a host name such as 'example.org'")
    host = origin.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0]
    if not origin.startswith(("https://", "http://")) or not (
            host == rp_id or host.endswith("." + rp_id)):
        raise SettingsError("setting 'webauthn_origin': an http(s) origin on the host "
                            "'webauthn_rp_id' names, or a subdomain of it")


def _validate(typed: dict[str, Any]) -> Settings:
    _check_choice(typed, "environment", ENVIRONMENTS)
    typed["log_level"] = typed["log_level"].upper()
    if typed["log_level"] not in _LOG_LEVELS:
        raise SettingsError(f"setting 'log_level': unknown level {typed['log_level']!r}")
    if typed["smtp_port"] > _MAX_PORT:
        raise SettingsError(f"setting 'smtp_port': must be at most {_MAX_PORT}")
    _check_choice(typed, "mail_language", MAIL_LANGUAGES)
    _check_time_zone(typed["staff_time_zone"])
    if typed["password_min_length"] < _NIST_MIN_PASSWORD_LENGTH:
        raise SettingsError("setting 'password_min_length': must be at least 8")
    if typed["password_max_length"] < max(64, typed["password_min_length"]):
        raise SettingsError("setting 'password_max_length': must allow at least 64 characters")
    for name in ("password_hash_memory_kib", "identity_wrap_memory_kib", "receipt_kdf_memory_kib"):
        if typed[name] < _OWASP_MIN_ARGON2_MEMORY_KIB:
            raise SettingsError(f"setting {name!r}: must be at least 19456")

    _check_webauthn(typed)
    _check_choice(typed, "blob_store", _BLOB_STORES)
    if typed["blob_store"] == "s3" and not typed["s3_bucket"]:
        raise SettingsError("setting 's3_bucket': the s3 blob store needs a bucket")
    instance_dir = _resolve_path(typed["instance_dir"])
    typed["instance_dir"] = instance_dir
    typed["blob_dir"] = (
        _resolve_path(typed["blob_dir"]) if typed["blob_dir"] else instance_dir / "blobs"
    )
    typed["audit_key_file"] = (
        _resolve_path(typed["audit_key_file"]) if typed["audit_key_file"]
        else instance_dir / "audit-signing.key"
    )
    if not typed["database_url"]:
        typed["database_url"] = f"sqlite:///{instance_dir / 'reporting-portal.db'}"
    if typed["database_url"].startswith("postgresql://"):
        # SQLAlchemy would pick psycopg2; the project ships psycopg 3.
        typed["database_url"] = "postgresql+psycopg://" + typed["database_url"][13:]

    secret = typed["secret_key"]
    if typed["environment"] == "production" and (
        secret in _PLACEHOLDER_SECRETS or len(secret) < _MIN_SECRET_KEY_LENGTH
    ):
        raise SettingsError(
            "setting 'secret_key': production needs a random value of at least "
            f"{_MIN_SECRET_KEY_LENGTH} characters, not a default"
        )
    return Settings(**typed)
