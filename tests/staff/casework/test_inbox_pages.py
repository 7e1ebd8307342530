"""Pages past the middle are read from the other end of the order (casework/inbox.py):
every page, in every sort, must hold exactly the rows the plain walk from the start gives,
ties and empty deadlines included."""

from datetime import date

import pytest
from sqlalchemy import select

from reporting_portal.staff.casework import inbox
from reporting_portal.staff.casework.inbox import InboxFilter, Sort, inbox_page
from reporting_portal.storage.models import Priority, Report, StaffAccount
from tests.helpers.inbox import submit_reports

pytestmark = pytest.mark.database

TODAY = date(2026, 12, 2)


@pytest.fixture
def seven_cases(app, db, installed, channel_with_handlers, monkeypatch):
    """Seven cases on three days (ties), mixed priorities, one without a deadline, with
    two rows a page: pages 1 and 2 are walked forwards, 3 and 4 backwards."""
    public_ids = submit_reports(app, installed.channel_slug, 7)
    days = [date(2026, 3, 1), date(2026, 3, 1), date(2026, 2, 1), date(2026, 4, 1),
            date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)]
    priorities = [Priority.HIGH, Priority.LOW, Priority.HIGH, Priority.URGENT,
                  Priority.NORMAL, Priority.HIGH, Priority.LOW]
    for public_id, day, priority in zip(public_ids, days, priorities, strict=True):
        case = db.scalar(select(Report).where(Report.public_id == public_id))
        case.received_on, case.priority = day, priority
        case.acknowledgement_due = None if public_id == public_ids[4] else day
    db.commit()
    monkeypatch.setattr(inbox, "PAGE_SIZE", 2)
    return db.scalar(select(StaffAccount.id).where(StaffAccount.username == "hana"))


def page_of(db, staff_id, sort, number):
    page = inbox_page(db, staff_id, InboxFilter(sort=sort, page=number), TODAY)
    return [row.report.public_id for row in page.rows], page.pages


@pytest.mark.parametrize("sort", list(Sort))
def test_every_page_holds_the_rows_of_the_plain_order(db, seven_cases, sort):
    ordered = list(db.scalars(
        inbox._ordered(select(Report.public_id), sort)))  # the walk from the start, whole
    pages = [page_of(db, seven_cases, sort, number) for number in (1, 2, 3, 4)]
    assert all(count == 4 for _rows, count in pages)
    assert [rows for rows, _count in pages] == [ordered[0:2], ordered[2:4], ordered[4:6],
                                                 ordered[6:7]]
