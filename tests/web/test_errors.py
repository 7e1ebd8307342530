"""Error pages by surface: staff addresses get the staff layout and a way back to the
staff home page; reporter addresses keep the reporter's page, with no staff link."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from reporting_portal.storage.models import Role
from reporting_portal.web.security.access import public, staff
from tests.helpers.staff import signed_in

pytestmark = pytest.mark.database

STAFF_LAYOUT = '<body class="staff">'
STAFF_HOME_LINK = '<a href="/staff/">Go to the staff home page</a>'


def test_a_staff_404_wears_the_staff_layout_and_leads_home(app, make_staff):
    browser = signed_in(app, make_staff("pat", Role.CASE_HANDLER))
    response = browser.get("/staff/no-such-page")
    body = response.get_data(as_text=True)
    assert response.status_code == 404
    assert STAFF_LAYOUT in body
    assert STAFF_HOME_LINK in body
    assert "There is nothing at this address." in body
    # The person's own links stay in the header, and the reporter's start page is not offered.
    assert ">Cases</a>" in body
    assert "Go to the start page" not in body


def test_a_staff_403_wears_the_staff_layout(app, make_staff):
    browser = signed_in(app, make_staff("pat", Role.CASE_HANDLER))
    response = browser.get("/staff/admin/accounts")
    body = response.get_data(as_text=True)
    assert response.status_code == 403
    assert STAFF_LAYOUT in body
    assert STAFF_HOME_LINK in body
    assert "You do not have access to this page." in body


def test_a_reporter_404_keeps_the_reporter_page(client):
    response = client.get("/report/no-such-channel")
    body = response.get_data(as_text=True)
    assert response.status_code == 404
    assert STAFF_LAYOUT not in body
    assert "/staff/" not in body
    assert '<a href="/">Go to the start page</a>' in body


def test_every_address_of_the_staff_app_gets_the_staff_page(make_app):
    from tests.helpers.client import https_client

    staff_app = make_app("staff")
    body = https_client(staff_app).get("/no-such-page").get_data(as_text=True)
    assert STAFF_LAYOUT in body
    assert STAFF_HOME_LINK in body


def test_the_reporter_app_never_shows_the_staff_page(make_app):
    from tests.helpers.client import https_client

    reporter_app = make_app("reporter")
    response = https_client(reporter_app).get("/staff/")
    body = response.get_data(as_text=True)
    assert response.status_code == 404
    assert STAFF_LAYOUT not in body
    assert "Go to the start page" in body


def test_a_staff_500_wears_the_staff_layout(app, make_staff):
    @staff()
    def explode():
        raise RuntimeError("secret detail")

    app.add_url_rule("/staff/explode", "explode", explode)
    browser = signed_in(app, make_staff("pat", Role.CASE_HANDLER))
    response = browser.get("/staff/explode")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert STAFF_LAYOUT in body
    assert STAFF_HOME_LINK in body
    assert "Something went wrong on our side" in body
    assert "secret detail" not in body


def test_a_staff_503_wears_the_staff_layout(app, make_staff):
    @staff()
    def database_gone():
        raise PoolTimeoutError("no connection in time")

    app.add_url_rule("/staff/database-gone", "database_gone", database_gone)
    browser = signed_in(app, make_staff("pat", Role.CASE_HANDLER))
    response = browser.get("/staff/database-gone")
    body = response.get_data(as_text=True)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "60"
    assert STAFF_LAYOUT in body
    assert STAFF_HOME_LINK in body


def test_a_reporter_500_keeps_the_reporter_page(app, client):
    @public
    def explode():
        raise RuntimeError("secret detail")

    app.add_url_rule("/report-explode", "report_explode", explode)
    body = client.get("/report-explode").get_data(as_text=True)
    assert STAFF_LAYOUT not in body
    assert "Go to the start page" in body
