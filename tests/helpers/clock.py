"""A clock for the app's session and rate-limit code that only a test moves."""

from __future__ import annotations

from datetime import UTC, datetime


class StoppedClock:
    """A clock that moves only when a test moves it (``clock.now += timedelta(...)``)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now
