"""The inbox finds a case by its number or reference, and filters by label, channel,
day received and assignment. Nothing of it opens encrypted content."""

from datetime import date

import pytest
from sqlalchemy import select

from reporting_portal.storage.models import AccessGrant, Channel, Label, Report, Role, StaffAccount
from tests.helpers.inbox import submit_reports

pytestmark = pytest.mark.database

INBOX = "/staff/cases"


@pytest.fixture
def cases(app, db, installed, channel_with_handlers):
    """Three reports in the default channel: their public ids, oldest first."""
    return submit_reports(app, installed.channel_slug, 3)


def listed(client, query=""):
    return client.get(f"{INBOX}?{query}").get_data(as_text=True)


def report(db, public_id):
    return db.scalar(select(Report).where(Report.public_id == public_id))


def test_the_inbox_and_case_page_show_the_case_number(client, db, sign_in, cases,
                                                      channel_with_handlers):
    sign_in(channel_with_handlers["hana"])
    year = date.today().year
    page = listed(client)
    for number in (1, 2, 3):
        assert f"{year}-{number:04d}" in page
    case_page = client.get(f"{INBOX}/{cases[1]}").get_data(as_text=True)
    assert f"<h1>Case <code>{year}-0002</code>" in case_page
    assert cases[1][:8] in case_page  # the reference is still there to read out


@pytest.mark.parametrize("typed", ["{year}-0002", "{year}-2", "{year}0002", " {year} 2 "])
def test_search_finds_a_case_by_its_number(client, sign_in, cases, channel_with_handlers, typed):
    sign_in(channel_with_handlers["hana"])
    page = listed(client, "q=" + typed.format(year=date.today().year).replace(" ", "+"))
    assert "1 case<" in page
    assert cases[1][:8] in page
    assert cases[0][:8] not in page


def test_search_finds_a_case_by_the_start_of_its_reference(client, sign_in, cases,
                                                           channel_with_handlers):
    sign_in(channel_with_handlers["hana"])
    page = listed(client, f"q={cases[2][:6]}")
    assert cases[2][:8] in page
    assert cases[0][:8] not in page


def test_too_short_a_reference_or_an_unknown_number_finds_nothing(client, sign_in, cases,
                                                                  channel_with_handlers):
    sign_in(channel_with_handlers["hana"])
    assert "No cases match." in listed(client, f"q={cases[0][:3]}")
    assert "No cases match." in listed(client, "q=1999-0001")


def test_search_never_finds_another_handlers_case(client, sign_in, make_staff, cases):
    sign_in(make_staff("zoe", Role.CASE_HANDLER))
    assert "No cases match." in listed(client, f"q={cases[0][:8]}")


def test_the_label_and_channel_filters(client, db, sign_in, cases, channel_with_handlers):
    urgent = Label(name="urgent")
    db.add(urgent)
    report(db, cases[0]).labels = [urgent]
    other = Channel(slug="fraud", name="Fraud", description="", questionnaire=[])
    db.add(other)
    db.flush()
    report(db, cases[1]).channel_id = other.id
    db.commit()
    sign_in(channel_with_handlers["hana"])
    by_label = listed(client, "label=urgent")
    assert cases[0][:8] in by_label
    assert cases[1][:8] not in by_label
    by_channel = listed(client, "channel=fraud")
    assert cases[1][:8] in by_channel
    assert cases[0][:8] not in by_channel


def test_the_date_range_filter_counts_both_ends(client, db, sign_in, cases,
                                                channel_with_handlers):
    for public_id, day in zip(cases, (date(2026, 1, 10), date(2026, 2, 1), date(2026, 2, 20)),
                              strict=True):
        report(db, public_id).received_on = day
    db.commit()
    sign_in(channel_with_handlers["hana"])
    page = listed(client, "from=2026-02-01&to=2026-02-20")
    assert "2 cases<" in page
    assert cases[0][:8] not in page
    assert "1 case<" in listed(client, "to=2026-01-10")
    assert "3 cases<" in listed(client, "from=not-a-day")  # ignored, not a 500


def test_assigned_to_me_lists_the_cases_a_person_gave_the_handler(client, db, sign_in, cases,
                                                                    channel_with_handlers):
    hana = db.scalar(select(StaffAccount).where(StaffAccount.username == "hana"))
    omar = db.scalar(select(StaffAccount).where(StaffAccount.username == "omar"))
    grant = db.get(AccessGrant, (report(db, cases[2]).id, hana.id))
    grant.granted_by_id = omar.id
    db.commit()
    sign_in(channel_with_handlers["hana"])
    page = listed(client, "mine=1")
    assert "1 case<" in page
    assert cases[2][:8] in page
