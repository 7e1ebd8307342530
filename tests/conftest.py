"""Shared fixtures: settings, app, client, database backends, domain factories and cases.

Database tests run on SQLite by default. ``--database=postgresql`` runs them against the
PostgreSQL server at ``TEST_POSTGRES_URL`` (default: the local one), each test in a
schema of its own; CI runs both. ``--blob-store=s3`` puts the app's blobs in a bucket of
moto's S3 server (started once per session) instead of a local folder.
"""

from __future__ import annotations

import io
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from config.settings import Settings, load_settings
from crypto.kdf import Argon2Params
from crypto.keys import generate_identity
from crypto.keywrap import wrap_with_password
from reporting_portal.app import Surface, create_app
from reporting_portal.audit.events import SYSTEM
from reporting_portal.audit.log import create_signing_key
from reporting_portal.domain.accounts import create_account
from reporting_portal.domain.actors import Actor
from reporting_portal.domain.passwords import get_passwords
from reporting_portal.storage.migrate import upgrade_database
from reporting_portal.storage.models import Report, Role, StaffAccount
from reporting_portal.web.database import get_database
from tests.helpers.client import csrf_token, https_client
from tests.helpers.clock import StoppedClock
from tests.helpers.interop import age_encryption_node
from tests.helpers.reporting import (
    CASE_FILE,
    CASE_FILE_NAME,
    REPORT_FORM,
    REPORTER_CONTACT,
    REPORTER_NAME,
    plaintext_form,
    receipt_code_from,
)
from tests.helpers.s3 import Bucket, moto_server, new_bucket, use_fake_aws_credentials
from tests.helpers.staff import STRONG_PASSWORD, StaffMember

# The machine that runs CI is shared and noisy: a property test's examples are the same on
# a busy machine, only slower, so neither per-example deadlines nor "generation is slow"
# may fail a run. Each test still sets its own max_examples.
hypothesis_settings.register_profile(
    "portal", deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("portal")

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``starts_first`` go first. pytest-xdist hands tests out in collection
    order: the crash test alone runs five minutes on a busy machine, and collected where
    its folder sorts, it kept one worker busy long after the others had finished."""
    items.sort(key=lambda item: item.get_closest_marker("starts_first") is None)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--database",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="backend for the database tests",
    )
    parser.addoption(
        "--blob-store",
        choices=("local", "s3"),
        default="local",
        help="blob store of the app and settings fixtures (s3: moto's server over HTTP)",
    )


@pytest.fixture(scope="session")
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.config.getoption("--database")
    return name


@pytest.fixture
def database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    base_url = os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    schema = f"t_{secrets.token_hex(6)}"
    admin_engine = create_engine(base_url, isolation_level="AUTOCOMMIT")
    try:
        with admin_engine.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as error:
        admin_engine.dispose()
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL at {base_url} is required in CI: {error}")
        pytest.skip(f"PostgreSQL not reachable at {base_url}")
    separator = "&" if "?" in base_url else "?"
    yield f"{base_url}{separator}options=-csearch_path%3D{schema}"
    with admin_engine.connect() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin_engine.dispose()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's standalone S3 server, one process for the session: its endpoint URL."""
    with moto_server() as endpoint_url:
        yield endpoint_url


@pytest.fixture
def s3_bucket(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Bucket:
    """A fresh bucket of the test's own, with fake credentials in this test's environment."""
    use_fake_aws_credentials(monkeypatch)
    return new_bucket(moto_endpoint)


@pytest.fixture
def settings(tmp_path: Path, database_url: str, request: pytest.FixtureRequest) -> Settings:
    """Test settings: real algorithms, the cheapest costs the settings allow; the blob
    store that ``--blob-store`` names."""
    built = load_settings(
        environ={},
        environment="test",
        secret_key=secrets.token_urlsafe(40),
        instance_dir=str(tmp_path / "instance"),
        database_url=database_url,
        password_hash_time_cost=1,
        password_hash_memory_kib=19456,
        identity_wrap_time_cost=2,
        identity_wrap_memory_kib=19456,
        receipt_kdf_time_cost=2,
        receipt_kdf_memory_kib=19456,
        notification_window_minutes=0,  # at once; tests of the window set their own
        # Some tests start a dozen requests at once on a busy machine: a pool for all of
        # them (the pool's own settings are tested in tests/storage/test_pool_settings.py).
        database_pool_size=16,
        database_pool_timeout_seconds=60,
    )
    if request.config.getoption("--blob-store") == "s3":
        bucket: Bucket = request.getfixturevalue("s3_bucket")
        return bucket.settings_for(built)
    return built


def build_app(settings: Settings, surface: Surface = "combined") -> Flask:
    app = create_app(settings, surface)
    # Rate-limit windows stand still, so no budget resets at the turn of a minute in the
    # middle of a test; a test that needs a window to pass moves this clock.
    app.extensions["rate_limits"].clock = StoppedClock()
    upgrade_database(get_database(app).engine)
    if not settings.audit_key_file.exists():
        # As `init` would: the audit log signs a tree head at every commit.
        create_signing_key(settings.audit_key_file, "reporting-portal.test/audit")
    return app


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database at the newest revision, made once per test process. A test's
    own database starts as a copy of it: migrating from nothing took 0.2-0.4 s a test,
    bringing a copy to the head (as build_app still does) takes 0.03 s."""
    path = tmp_path_factory.mktemp("schema") / "migrated.db"
    engine = create_engine(f"sqlite:///{path}")
    upgrade_database(engine)
    engine.dispose()
    return path


@pytest.fixture
def make_app(settings: Settings, migrated_sqlite: Path) -> Iterator[Callable[[Surface], Flask]]:
    """Build apps of any surface on the test's database; their engines close afterwards."""
    built: list[Flask] = []
    sqlite_file = settings.database_url.removeprefix("sqlite:///")
    if sqlite_file != settings.database_url and not Path(sqlite_file).exists():
        shutil.copyfile(migrated_sqlite, sqlite_file)

    def factory(surface: Surface = "combined") -> Flask:
        built.append(build_app(settings, surface))
        return built[-1]

    yield factory
    for application in built:
        get_database(application).engine.dispose()


@pytest.fixture
def app(make_app: Callable[[Surface], Flask]) -> Flask:
    return make_app("combined")


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return https_client(app)


@pytest.fixture
def db(app: Flask) -> Iterator[Session]:
    with get_database(app).session_factory() as session:
        yield session


@pytest.fixture
def make_staff(app: Flask) -> Callable[..., StaffMember]:
    """A factory for fully set-up staff accounts (password chosen, TOTP enrolled)."""

    def factory(username: str, *roles: Role, with_keys: bool = True) -> StaffMember:
        with app.app_context(), get_database(app).session_factory() as session:
            created = create_account(
                session,
                get_passwords(),
                Actor(account=None, role=SYSTEM),
                username=username,
                display_name=username.title(),
                roles=roles or (Role.CASE_HANDLER,),
            )
            account: StaffAccount = created.account
            account.password_hash = get_passwords().hash(STRONG_PASSWORD)
            account.must_change_password = False
            account.totp_secret = pyotp.random_base32(32)
            account.totp_enrolled_at = datetime.now(UTC)
            # A key of the test's own, wrapped under the test password; or none, as for an
            # account made before keys came with the account.
            identity = generate_identity(post_quantum=True) if with_keys else None
            account.age_recipient = str(identity.recipient) if identity is not None else None
            account.wrapped_identity = wrap_with_password(
                identity.to_string().encode(), STRONG_PASSWORD,
                Argon2Params.insecure_for_tests(),
            ) if identity is not None else None
            session.commit()
            return StaffMember(
                username=username,
                password=STRONG_PASSWORD,
                totp_secret=account.totp_secret,
                public_id=account.public_id,
                identity=identity.to_string() if identity is not None else None,
            )

    return factory


@pytest.fixture
def sign_in(client: FlaskClient) -> Callable[[StaffMember], None]:
    """Sign the test client in as a staff member, through the real sign-in form."""

    def do_sign_in(member: StaffMember) -> None:
        response = client.post(
            "/staff/sign-in",
            data={
                "csrf_token": csrf_token(client, "/staff/sign-in"),
                "username": member.username,
                "password": member.password,
                "code": member.code(),
            },
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        assert client.get("/staff/sign-in/continue").headers["Location"] == "/staff/"

    return do_sign_in


@dataclass
class Installed:
    """An initialised installation: its recovery identity and the default channel."""

    recovery_identity: str
    channel_slug: str


@pytest.fixture
def installed(app: Flask) -> Installed:
    from reporting_portal.domain.installation import initialise_installation

    with app.app_context(), get_database(app).session_factory() as session:
        result = initialise_installation(
            session, get_passwords(), Actor(account=None, role=SYSTEM), admin_username="admin"
        )
        session.commit()
    assert result.recovery_identity is not None
    return Installed(recovery_identity=result.recovery_identity, channel_slug="corruption")


@pytest.fixture
def channel_with_handlers(app: Flask, installed: Installed, make_staff) -> dict[str, StaffMember]:
    """The default channel with two case handlers and one identity custodian."""
    from reporting_portal.storage.models import Channel

    members = {
        "hana": make_staff("hana", Role.CASE_HANDLER),
        "omar": make_staff("omar", Role.CASE_HANDLER),
        "cleo": make_staff("cleo", Role.IDENTITY_CUSTODIAN),
    }
    with get_database(app).session_factory() as session:
        channel = session.scalar(select(Channel).where(Channel.slug == installed.channel_slug))
        for name in ("hana", "omar"):
            channel.handlers.append(
                session.scalar(select(StaffAccount).where(StaffAccount.username == name))
            )
        session.commit()
    return members


@pytest.fixture
def receipt_code(app, installed, channel_with_handlers) -> str:
    """A report stored through the service (no page involved); returns its receipt code
    as the receipt page shows it."""
    from crypto.receipt import format_receipt_code
    from reporting_portal.reporter.intake.services import Submission, submit_report
    from reporting_portal.reporter.intake.views import receipt_params
    from reporting_portal.storage.models import Channel
    from reporting_portal.web.extensions import get_blob_store

    with app.app_context(), get_database(app).session_factory() as db:
        channel = db.scalar(select(Channel).where(Channel.slug == installed.channel_slug))
        _report, code = submit_report(
            db, get_blob_store(), channel=channel,
            submission=Submission(excluded_ids=set(), files=[], answers={"what": "Bribes."}),
            receipt_params=receipt_params())
        db.commit()
    return format_receipt_code(code)


@pytest.fixture
def submit_case(client: FlaskClient, db: Session, channel_with_handlers) -> Callable[..., str]:
    """A factory: a report sent through the form without JavaScript, with or without the
    reporter's identity (:data:`REPORTER_NAME`) and a file (:data:`CASE_FILE`); returns the
    case's reference. The client keeps the receipt code as ``client.receipt_code`` and then
    forgets its session, as a browser closed after writing the code down."""

    def submit(*, identity: bool = False, file: bool = False) -> str:
        fields: dict[str, object] = {}
        if identity:
            fields.update(identity_name=REPORTER_NAME, identity_contact=REPORTER_CONTACT)
        if file:
            fields["q_evidence"] = [(io.BytesIO(CASE_FILE), CASE_FILE_NAME)]
        response = client.post(REPORT_FORM, data=plaintext_form(client, **fields),
                               content_type="multipart/form-data")
        assert response.status_code == 303
        client.receipt_code = receipt_code_from(  # type: ignore[attr-defined]
            client.get("/report/receipt").get_data(as_text=True))
        client.delete_cookie("__Host-session", domain="localhost")
        public_id: str = db.scalar(select(Report.public_id))
        return public_id

    return submit


@pytest.fixture
def case_with_file(submit_case: Callable[..., str]) -> str:
    """A case whose report carries one file, :data:`CASE_FILE`, and no identity."""
    return submit_case(file=True)


@pytest.fixture
def case_with_identity(submit_case: Callable[..., str]) -> str:
    """A case whose reporter gave their identity, :data:`REPORTER_NAME`; no file."""
    return submit_case(identity=True)


@pytest.fixture
def full_case(submit_case: Callable[..., str]) -> str:
    """A case with all a reporter can give: their identity and one file."""
    return submit_case(identity=True, file=True)


@pytest.fixture(scope="module")
def node() -> str:
    """``node`` with the pinned ``age-encryption`` package, the independent age
    implementation that opens what the portal encrypts (crypto interop, case exports)."""
    return age_encryption_node()
