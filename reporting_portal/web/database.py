"""The request's database session: one transaction per request (STYLE.md 6).

Views and services use :func:`get_session`; the app commits once, after the view
returned, and rolls back on any error. The engine and the session factory are
``reporting_portal.storage.db``'s; this module only ties them to Flask.
"""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from reporting_portal.storage.commit_outcome import commit_in_doubt
from reporting_portal.storage.db import Database


def init_database(app: Flask, database: Database) -> None:
    """Attach ``database`` to ``app``; each request's session closes at its end."""
    app.extensions["database"] = database
    app.teardown_appcontext(_close_session)


def get_database(app: Flask) -> Database:
    database: Database = app.extensions["database"]
    return database


def get_session() -> Session:
    """The session of the current request, opened on first use."""
    if "db_session" not in g:
        g.db_session = get_database(current_app).session_factory()
    session: Session = g.db_session
    return session


def commit_request_session() -> None:
    """Commit the request's transaction, if one was opened."""
    session: Session | None = g.get("db_session")
    if session is not None:
        session.commit()
    g.request_committed = True


def request_may_be_saved() -> bool:
    """After a failure: the request's writes may be stored (its COMMIT was sent and
    its reply lost), or are (a later step, such as saving the session, failed)."""
    session: Session | None = g.get("db_session")
    return bool(g.get("request_committed")) or (
        session is not None and commit_in_doubt(session))


def _close_session(_error: BaseException | None) -> None:
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        session.rollback()
        session.close()


def rollback_request_session() -> None:
    """Throw away the request's writes: an error page must not commit half an action."""
    session: Session | None = g.get("db_session")
    if session is not None:
        session.rollback()
