"""The inbox's counts per status and priority come from inbox_count, which the database's
triggers keep (migration 0019). Whatever changes grants, statuses or priorities, and by
whichever path (the ORM, a bulk UPDATE, a foreign-key cascade), the counts stay those of
the grants themselves."""

import pytest
from sqlalchemy import delete, func, select, text, update

from reporting_portal.storage.models import (
    AccessGrant,
    InboxCount,
    Priority,
    Report,
    ReportStatus,
    Role,
    StaffAccount,
)
from tests.helpers.inbox import submit_reports

pytestmark = pytest.mark.database


@pytest.fixture
def cases(app, installed, channel_with_handlers):
    """Four reports in the default channel, granted to hana and omar."""
    return submit_reports(app, installed.channel_slug, 4)


def kept_counts(db):
    db.expire_all()
    return {(row.staff_id, row.status, row.priority): row.cases
            for row in db.scalars(select(InboxCount)) if row.cases}


def counted_from_grants(db):
    return {(staff_id, status, priority): cases
            for staff_id, status, priority, cases in db.execute(
                select(AccessGrant.staff_id, Report.status, Report.priority, func.count())
                .join(Report, Report.id == AccessGrant.report_id)
                .group_by(AccessGrant.staff_id, Report.status, Report.priority))}


def staff_id(db, username):
    return db.scalar(select(StaffAccount.id).where(StaffAccount.username == username))


def report(db, public_id):
    return db.scalar(select(Report).where(Report.public_id == public_id))


def test_submissions_count_as_received_for_every_handler(db, cases):
    hana, omar = staff_id(db, "hana"), staff_id(db, "omar")
    assert kept_counts(db) == {(hana, "received", "normal"): 4, (omar, "received", "normal"): 4}


def test_status_and_priority_changes_move_the_counts_by_orm_and_by_bulk_update(db, cases):
    hana = staff_id(db, "hana")
    report(db, cases[0]).status = ReportStatus.INVESTIGATION
    db.commit()
    report(db, cases[0]).priority = Priority.URGENT
    db.commit()
    db.execute(update(Report).where(Report.public_id.in_(cases[1:3]))
               .values(status=ReportStatus.CLOSED))
    db.execute(update(Report).where(Report.public_id == cases[3])
               .values(status=ReportStatus.RECEIVED))  # the same status: nothing moves
    db.commit()
    assert kept_counts(db)[(hana, "investigation", "urgent")] == 1
    assert kept_counts(db)[(hana, "closed", "normal")] == 2
    assert kept_counts(db)[(hana, "received", "normal")] == 1
    assert kept_counts(db) == counted_from_grants(db)


def test_grants_added_and_removed_move_the_handlers_counts(db, make_staff, cases):
    make_staff("zoe", Role.CASE_HANDLER)
    zoe, hana = staff_id(db, "zoe"), staff_id(db, "hana")
    for public_id in cases[:2]:
        db.add(AccessGrant(report_id=report(db, public_id).id, staff_id=zoe))
    db.commit()
    db.execute(delete(AccessGrant).where(AccessGrant.staff_id == hana,
                                         AccessGrant.report_id == report(db, cases[0]).id))
    db.commit()
    assert kept_counts(db)[(zoe, "received", "normal")] == 2
    assert kept_counts(db)[(hana, "received", "normal")] == 3
    assert kept_counts(db) == counted_from_grants(db)


def test_deleted_cases_leave_the_counts_by_orm_and_by_cascade(db, cases):
    hana = staff_id(db, "hana")
    report(db, cases[0]).status = ReportStatus.ASSESSMENT
    db.commit()
    db.delete(report(db, cases[0]))  # the ORM deletes the grants itself, then the case
    db.commit()
    db.execute(text("DELETE FROM report WHERE public_id = :id"), {"id": cases[1]})
    db.commit()
    omar = staff_id(db, "omar")
    assert kept_counts(db) == {(hana, "received", "normal"): 2, (omar, "received", "normal"): 2}
    assert kept_counts(db) == counted_from_grants(db)


def test_a_deleted_account_takes_its_counts_with_it(db, cases):
    omar = staff_id(db, "omar")
    db.execute(delete(StaffAccount).where(StaffAccount.id == omar))
    db.commit()
    assert all(staff != omar for staff, _status, _priority in kept_counts(db))
    assert kept_counts(db) == counted_from_grants(db)


def test_the_inbox_shows_the_kept_counts(client, db, sign_in, cases, channel_with_handlers):
    report(db, cases[0]).status = ReportStatus.INVESTIGATION
    report(db, cases[0]).priority = Priority.HIGH
    report(db, cases[1]).priority = Priority.HIGH
    db.commit()
    sign_in(channel_with_handlers["hana"])
    page = client.get("/staff/cases").get_data(as_text=True)
    assert '<span class="tag">Received: 3</span>' in page
    assert '<span class="tag">Investigation: 1</span>' in page
    assert '<span class="tag">Closed: 0</span>' in page
    assert "4 cases<" in page
    for query, shown in [("status=investigation", "1 case<"), ("priority=high", "2 cases<"),
                         ("status=received&priority=high", "1 case<"),
                         ("status=closed&priority=high", "No cases match.")]:
        assert shown in client.get(f"/staff/cases?{query}").get_data(as_text=True)
