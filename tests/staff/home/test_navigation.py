"""The staff header and home page: each role sees the links its access rules allow, the
current page is marked, and the home cards count new and overdue cases and waiting
identity requests."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from reporting_portal.storage.models import (
    IdentityAccessRequest,
    Report,
    ReportStatus,
    Role,
    StaffAccount,
)
from reporting_portal.web.database import get_database
from tests.helpers.staff import signed_in

pytestmark = pytest.mark.database

ALL_LINKS = ["Cases", "Dashboard", "Identity requests", "Access log", "Accounts",
             "Channels", "Labels", "Authorities", "Your account"]


def header_links(page: str) -> list[str]:
    nav = re.search(r'<nav class="staff-nav".*?</nav>', page, re.S)
    assert nav, "no staff navigation"
    return [re.sub(r"\s+", " ", text).strip()
            for text in re.findall(r"<a [^>]*>(.*?)</a>", nav.group(0), re.S)]


@pytest.mark.parametrize(("roles", "links"), [
    ((Role.CASE_HANDLER,), ["Cases", "Dashboard", "Your account"]),
    ((Role.IDENTITY_CUSTODIAN,), ["Identity requests", "Your account"]),
    ((Role.AUDITOR,), ["Access log", "Your account"]),
    ((Role.ADMINISTRATOR,), ["Accounts", "Channels", "Labels", "Authorities", "Your account"]),
    ((Role.CASE_HANDLER, Role.AUDITOR), ["Cases", "Dashboard", "Access log", "Your account"]),
])
def test_each_role_sees_exactly_the_pages_it_may_open(app, installed, make_staff, roles, links):
    member = make_staff("pat", *roles)
    browser = signed_in(app, member)
    home = browser.get("/staff/").get_data(as_text=True)
    assert header_links(home) == links
    # Every link offered opens; every other destination is refused.
    hrefs = dict(zip(header_links(home), re.findall(
        r'<a href="([^"]+)"', re.search(r'<nav class="staff-nav".*?</nav>', home, re.S)[0]),
        strict=True))
    for name in links:
        assert browser.get(hrefs[name]).status_code == 200, name
    for path, name in [("/staff/cases", "Cases"), ("/staff/cases/dashboard", "Dashboard"),
                       ("/staff/identity-requests", "Identity requests"),
                       ("/staff/audit", "Access log"), ("/staff/admin/accounts", "Accounts")]:
        if name not in links:
            assert browser.get(path).status_code == 403, name
    # The home page offers the same destinations as cards.
    cards = re.findall(r'<section class="card" id="card-[^"]+">\s*<h2><a [^>]*>([^<]+)</a>', home)
    assert cards == links


def test_the_current_page_is_marked(app, make_staff):
    browser = signed_in(app, make_staff("pat", Role.CASE_HANDLER))
    dashboard = browser.get("/staff/cases/dashboard").get_data(as_text=True)
    assert re.search(r'aria-current="page">Dashboard</a>', dashboard)
    assert len(re.findall(r'aria-current="page"', dashboard)) == 1
    assert 'aria-current="page">Your account' in browser.get("/staff/account").get_data(
        as_text=True)
    # A page inside a destination marks it, though not as that very page.
    password = browser.get("/staff/account/password").get_data(as_text=True)
    assert 'aria-current="true">Your account' in password
    assert 'aria-current="page"' not in password.split("</nav>")[0].split("staff-nav")[1]
    # The identity file sits under the cases' addresses but belongs to one's own account.
    identity = browser.get("/staff/cases/my-identity").get_data(as_text=True)
    assert 'aria-current="true">Your account' in identity
    assert 'aria-current="true">Cases' not in identity
    inbox = browser.get("/staff/cases?status=received").get_data(as_text=True)
    assert 'aria-current="page">Cases' in inbox


def _new_report(app, installed, **columns) -> str:
    from reporting_portal.reporter.intake.services import Submission, submit_report
    from reporting_portal.reporter.intake.views import receipt_params
    from reporting_portal.storage.models import Channel
    from reporting_portal.web.extensions import get_blob_store

    with app.app_context(), get_database(app).session_factory() as db:
        channel = db.scalar(select(Channel).where(Channel.slug == installed.channel_slug))
        report, _code = submit_report(
            db, get_blob_store(), channel=channel,
            submission=Submission(excluded_ids=set(), files=[], answers={"what": "Bribes."}),
            receipt_params=receipt_params())
        for name, value in columns.items():
            setattr(report, name, value)
        db.commit()
        return report.public_id


def test_home_counts_new_and_overdue_cases_the_handler_can_open(
        app, installed, channel_with_handlers, make_staff, db):
    today = datetime.now(UTC).date()
    long_ago = today - timedelta(days=200)
    _new_report(app, installed)  # new, not late
    _new_report(app, installed, acknowledgement_due=today - timedelta(days=1))  # new, late
    _new_report(app, installed, status=ReportStatus.INVESTIGATION, acknowledged_on=long_ago,
                feedback_due=today - timedelta(days=3))  # late feedback
    _new_report(app, installed, status=ReportStatus.CLOSED, feedback_due=long_ago)
    hana = channel_with_handlers["hana"]
    browser = signed_in(app, hana)
    home = browser.get("/staff/").get_data(as_text=True)
    assert re.search(r'id="count-new">2 new cases<', home)
    assert re.search(r'id="count-overdue" class="card__count--late">2 overdue cases<', home)
    # The figures lead to the inbox showing as many cases.
    assert "2 cases" in browser.get("/staff/cases?status=received").get_data(as_text=True)
    assert "2 cases" in browser.get("/staff/cases?overdue=1").get_data(as_text=True)

    # A handler of no case counts none, whatever exists elsewhere.
    outsider = signed_in(app, make_staff("zed", Role.CASE_HANDLER), step=1)
    page = outsider.get("/staff/").get_data(as_text=True)
    assert 'id="count-new">0 new cases<' in page
    assert 'id="count-overdue">0 overdue cases<' in page


def test_home_counts_identity_requests_waiting_for_custodians(
        app, installed, channel_with_handlers, db):
    public_id = _new_report(app, installed)
    report = db.scalar(select(Report).where(Report.public_id == public_id))
    hana = db.scalar(select(StaffAccount).where(StaffAccount.username == "hana"))
    db.add(IdentityAccessRequest(report=report, requester=hana, sealed_justification=b"x"))
    db.commit()
    custodian = signed_in(app, channel_with_handlers["cleo"])
    home = custodian.get("/staff/").get_data(as_text=True)
    assert 'id="count-identity-requests">1 request waiting<' in home
    assert "new case" not in home
    handler_home = signed_in(app, channel_with_handlers["hana"], step=1).get("/staff/")
    assert "request waiting" not in handler_home.get_data(as_text=True)

