"""Pages past the middle are read from the other end of the order, and Next and Previous
links start a page from the case at the edge of the one they leave (casework/inbox.py):
every page, in every sort, must hold exactly the rows the plain walk from the start gives,
ties and empty deadlines included."""

from datetime import date

import pytest
from sqlalchemy import select

from reporting_portal.staff.casework import inbox
from reporting_portal.staff.casework.inbox import InboxFilter, Sort, inbox_page
from reporting_portal.storage.models import Priority, Report, Role, StaffAccount
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


def page_from_edge(db, staff_id, sort, number, **edge):
    page = inbox_page(db, staff_id, InboxFilter(sort=sort, page=number, **edge), TODAY)
    return [row.report.public_id for row in page.rows], page


@pytest.mark.parametrize("sort", [Sort.NEWEST, Sort.OLDEST])
def test_next_and_previous_start_from_the_edge_case_and_give_the_same_pages(db, seven_cases,
                                                                           sort):
    by_number = [page_of(db, seven_cases, sort, number)[0] for number in (1, 2, 3, 4)]
    rows, page = page_from_edge(db, seven_cases, sort, 1)
    walked = [rows]
    for number in (2, 3, 4):  # Next, as the links carry it
        rows, page = page_from_edge(db, seven_cases, sort, number, after=page.last_case)
        walked.append(rows)
    assert walked == by_number
    back = [rows]
    for number in (3, 2, 1):  # and Previous
        rows, page = page_from_edge(db, seven_cases, sort, number, before=page.first_case)
        back.append(rows)
    assert back == by_number[::-1]


def test_an_edge_that_is_not_the_handlers_case_is_ignored(db, seven_cases, make_staff):
    zoe = make_staff("zoe", Role.CASE_HANDLER)
    by_number = page_of(db, seven_cases, Sort.NEWEST, 2)[0]
    other = db.scalar(select(StaffAccount.id).where(StaffAccount.username == zoe.username))
    rows, _page = page_from_edge(db, other, Sort.NEWEST, 1, after=by_number[0])
    assert rows == []  # zoe holds no case: hana's case as an edge shows her none of hana's
    rows, _page = page_from_edge(db, seven_cases, Sort.NEWEST, 2, after="nobody-has-this-id")
    assert rows == by_number  # an unknown edge: the page number decides


def test_the_next_link_names_the_last_case_and_leads_to_the_next_page(
        client, db, sign_in, seven_cases, channel_with_handlers):
    sign_in(channel_with_handlers["hana"])
    first, second = (page_of(db, seven_cases, Sort.NEWEST, number)[0] for number in (1, 2))
    html = client.get("/staff/cases").get_data(as_text=True)
    next_link = f'href="/staff/cases?page=2&amp;after={first[-1]}"'
    assert next_link in html
    html = client.get(f"/staff/cases?page=2&after={first[-1]}").get_data(as_text=True)
    assert all(f'href="/staff/cases/{public_id}"' in html for public_id in second)
    assert not any(f'href="/staff/cases/{public_id}"' in html for public_id in first)
    assert f'href="/staff/cases?page=1&amp;before={second[0]}"' in html
    assert "Page 2 of 4" in html
