"""The access log as a test needs it: held reporter events released at once."""

from __future__ import annotations

from flask import Flask


def release_held_events_now(app: Flask) -> int:
    """Release every held reporter event into the access log, today's included, as
    `reporting-portal audit release --include-today` does; returns how many."""
    from datetime import UTC, datetime, timedelta

    from reporting_portal.audit.held import release_held_events
    from reporting_portal.web.database import get_database

    with get_database(app).session_factory() as db:
        released = release_held_events(db, before=datetime.now(UTC).date() + timedelta(days=1))
        db.commit()
    return released
