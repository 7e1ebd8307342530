"""The access log's object filter takes what a handler reads out: the case number or the
start of the reference the staff pages show."""

from datetime import date

import pytest

from reporting_portal.storage.models import Role
from tests.helpers.inbox import submit_reports
from tests.helpers.staff import signed_in

pytestmark = pytest.mark.database


def events_table(browser, query):
    page = browser.get(f"/staff/audit{query}").get_data(as_text=True)
    return page.split('id="events"')[1].split("</table>")[0]


@pytest.fixture
def read_cases(app, installed, channel_with_handlers):
    """Two cases, each opened once by Hana: their public ids."""
    cases = submit_reports(app, installed.channel_slug, 2)
    hana = signed_in(app, channel_with_handlers["hana"])
    for public_id in cases:
        assert hana.get(f"/staff/cases/{public_id}").status_code == 200
    return cases


@pytest.mark.parametrize("typed", ["{year}-0002", "{year}-2", "{reference}"])
def test_the_log_filters_by_case_number_or_reference(app, make_staff, read_cases, typed):
    browser = signed_in(app, make_staff("aude", Role.AUDITOR))
    typed = typed.format(year=date.today().year, reference=read_cases[1][:8])
    table = events_table(browser, f"?object_id={typed}")
    assert read_cases[1] in table
    assert "case.read" in table
    assert read_cases[0] not in table
    # The field keeps what the auditor typed.
    page = browser.get(f"/staff/audit?object_id={typed}").get_data(as_text=True)
    assert f'value="{typed}"' in page


def test_an_unknown_case_number_matches_no_event(app, make_staff, read_cases):
    browser = signed_in(app, make_staff("aude", Role.AUDITOR))
    assert "No events match." in events_table(browser, "?object_id=1999-0001")
