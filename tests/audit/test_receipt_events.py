"""A report's receipt event: what it may carry, and when its proof is ready (issue 17)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from reporting_portal.audit.events import REPORTER, SYSTEM, AuditAction, Receipt, record_event
from reporting_portal.audit.held import RELEASE_TIME_UTC, release_after
from reporting_portal.web.database import get_database

TIMER = (Path(__file__).resolve().parents[2]
         / "deploy/systemd/reporting-portal-audit-release.timer")


def test_the_release_time_the_reporter_is_told_is_the_timers():
    calendar = re.search(r"^OnCalendar=\*-\*-\* (\d\d):(\d\d):00 UTC$",
                         TIMER.read_text(), re.M)
    assert calendar is not None
    assert (int(calendar.group(1)), int(calendar.group(2))) == (
        RELEASE_TIME_UTC.hour, RELEASE_TIME_UTC.minute)


@pytest.mark.parametrize(("now", "ready"), [
    # Sent in the afternoon: tomorrow's release takes it.
    (datetime(2026, 12, 1, 15, 0, tzinfo=UTC), datetime(2026, 12, 2, 0, 5, tzinfo=UTC)),
    # Just after midnight, the release has not run yet.
    (datetime(2026, 12, 2, 0, 1, tzinfo=UTC), datetime(2026, 12, 2, 0, 5, tzinfo=UTC)),
    # The release was missed (the server was off): the next one.
    (datetime(2026, 12, 2, 9, 0, tzinfo=UTC), datetime(2026, 12, 3, 0, 5, tzinfo=UTC)),
])
def test_when_a_held_receipt_joins_the_log(now, ready):
    assert release_after(date(2026, 12, 1), now) == ready


@pytest.mark.parametrize(("channel", "digests"), [
    ("", ()),
    ("two words", ()),
    ("corruption", ("ABC",)),
    ("corruption", ("a" * 63,)),
])
def test_a_receipt_holds_a_slug_and_hex_digests_only(channel, digests):
    with pytest.raises(ValueError, match="receipt"):
        Receipt(channel=channel, header_sha256=digests)


@pytest.mark.database
def test_only_a_reports_submission_carries_a_receipt(app, installed):
    receipt = Receipt(channel="corruption", header_sha256=("a" * 64,))
    with get_database(app).session_factory() as db:
        with pytest.raises(ValueError, match="only a report's submission"):
            record_event(db, AuditAction.REPORTER_MAILBOX_READ, actor=None,
                         actor_role=REPORTER, receipt=receipt)
        with pytest.raises(ValueError, match="only a report's submission"):
            record_event(db, AuditAction.REPORT_SUBMITTED, actor=None, actor_role=SYSTEM,
                         receipt=receipt)
        db.rollback()
