"""Fixtures for the operator's commands: a populated installation and empty targets.

``populated`` fills the test's installation through the app, as people would: a report
with the reporter's identity and a file, an acknowledgement, a handler's reply, triage,
an identity access request and a reporter's follow-up message. ``make_target`` makes a
new, empty installation (its own database, blob folder and key path) on SQLite or on a
fresh PostgreSQL schema.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, text

from config.settings import Settings
from reporting_portal.app import create_app
from reporting_portal.web.database import get_database
from tests.helpers import (
    StoppedClock,
    csrf_token,
    hidden_fields,
    https_client,
    release_held_events_now,
    submission_token,
)
from tests.helpers.custody import ask
from tests.helpers.operations import HANDLER_REPLY, REPORTER_MESSAGE
from tests.helpers.reporting import open_mailbox
from tests.helpers.s3 import new_bucket
from tests.helpers.staff import StaffMember, signed_in

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@dataclass
class Populated:
    app: Flask
    settings: Settings
    case_id: str
    receipt_code: str
    handler: StaffMember


@pytest.fixture
def populated(app: Flask, client, settings: Settings, full_case: str,
              channel_with_handlers: dict[str, StaffMember]) -> Populated:
    code: str = client.receipt_code
    hana = channel_with_handlers["hana"]
    handler = signed_in(app, hana)
    case = f"/staff/cases/{full_case}"

    def act(path: str, **data: object) -> None:
        # The page's hidden fields: the CSRF token and the case's version, as a browser sends.
        response = handler.post(f"{case}/{path}", data={**hidden_fields(handler, case), **data})
        assert response.status_code == 302, response.get_data(as_text=True)

    act("acknowledge", message="We have your report.")
    act("messages", reply=HANDLER_REPLY)
    act("status", status="assessment")
    act("priority", priority="high")
    assert ask(handler, full_case).status_code == 302

    reporter = https_client(app)
    open_mailbox(reporter, code)
    sent = reporter.post("/followup/reply", data={
        "csrf_token": csrf_token(reporter, "/followup/mailbox"),
        "submission_token": submission_token(reporter, "/followup/mailbox"),
        "q_message": REPORTER_MESSAGE}, content_type="multipart/form-data")
    assert sent.status_code == 303
    release_held_events_now(app)
    return Populated(app=app, settings=settings, case_id=full_case, receipt_code=code,
                     handler=hana)


@pytest.fixture
def make_target(settings: Settings, tmp_path: Path,
                request: pytest.FixtureRequest) -> Iterator[Callable[..., Flask]]:
    """A factory: a new, empty installation on ``"sqlite"`` or ``"postgresql"``, its blobs
    in a local folder or (``blob_store="s3"``) a fresh bucket of moto's S3 server."""
    apps: list[Flask] = []
    schemas: list[str] = []
    base_url = os.environ.get("TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)

    def factory(backend: str, blob_store: str = "local") -> Flask:
        folder = tmp_path / f"target-{len(apps)}"
        folder.mkdir()  # as the restore command makes the instance folder
        if backend == "sqlite":
            url = f"sqlite:///{folder / 'restored.db'}"
        else:
            schema = f"t_{secrets.token_hex(6)}"
            _create_schema(base_url, schema)
            schemas.append(schema)
            separator = "&" if "?" in base_url else "?"
            url = f"{base_url}{separator}options=-csearch_path%3D{schema}"
        target_settings = settings.replace(
            blob_store="local", instance_dir=folder, blob_dir=folder / "blobs",
            audit_key_file=folder / "audit-signing.key", database_url=url)
        if blob_store == "s3":
            # A bucket of its own: the source may be on S3 too (--blob-store=s3).
            endpoint = request.getfixturevalue("s3_bucket").endpoint_url
            target_settings = new_bucket(endpoint).settings_for(target_settings)
        target = create_app(target_settings)
        target.extensions["rate_limits"].clock = StoppedClock()
        apps.append(target)
        return target

    yield factory
    for target in apps:
        get_database(target).engine.dispose()
    if schemas:
        engine = create_engine(base_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            for schema in schemas:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def _create_schema(base_url: str, schema: str) -> None:
    engine = create_engine(base_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as error:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL at {base_url} is required in CI: {error}")
        pytest.skip(f"PostgreSQL not reachable at {base_url}")
    finally:
        engine.dispose()
