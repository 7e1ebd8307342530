"""The case handler's dashboard: figures over their own cases, charts without JavaScript."""

from __future__ import annotations

import itertools
import os
import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from reporting_portal.domain.deadlines import acknowledgement_due, feedback_due
from reporting_portal.staff.casework.charts import bar_chart, weekly_chart
from reporting_portal.staff.casework.dashboard import (
    WEEKS_SHOWN,
    dashboard_stats,
    iso_week_label,
    median_from_counts,
)
from reporting_portal.storage.models import (
    AccessGrant,
    AuditEvent,
    Channel,
    Report,
    Role,
    StaffAccount,
)

DASHBOARD = "/staff/cases/dashboard"


# --- Seeding -----------------------------------------------------------------------------


def add_report(db, channel, staff, *, received_ago, status, acknowledged_ago=None):
    today = datetime.now(UTC).date()
    received_on = today - timedelta(days=received_ago)
    acknowledged_on = None if acknowledged_ago is None else today - timedelta(days=acknowledged_ago)
    report = Report(
        channel=channel,
        status=status,
        received_on=received_on,
        acknowledged_on=acknowledged_on,
        acknowledgement_due=acknowledgement_due(received_on),
        feedback_due=feedback_due(received_on, acknowledged_on),
        receipt_lookup=os.urandom(32),
        reporter_recipient="age1placeholder",
        wrapped_reporter_identity=b"wrapped",
    )
    db.add(report)
    db.add(AccessGrant(report=report, staff_id=staff.id))
    return report


def account(db, username):
    return db.scalar(select(StaffAccount).where(StaffAccount.username == username))


@pytest.fixture
def seeded(db, make_staff):
    """Six reports for Hana over two channels, four for Omar that she must not see."""
    members = {"hana": make_staff("hana", Role.CASE_HANDLER),
               "omar": make_staff("omar", Role.CASE_HANDLER)}
    hana, omar = account(db, "hana"), account(db, "omar")
    bribery = Channel(slug="bribery", name="Bribery & fraud")
    procurement = Channel(slug="procurement", name="Procurement <b>tenders</b>")
    db.add_all([bribery, procurement])
    ages = [
        # received 30 days ago, never acknowledged: acknowledgement overdue
        dict(received_ago=30, status="received"),
        # two days old: acknowledgement still due in five days
        dict(received_ago=2, status="received"),
        # acknowledged after 2 days, 4 months ago: feedback overdue
        dict(received_ago=120, acknowledged_ago=118, status="investigation"),
        dict(received_ago=10, acknowledged_ago=6, status="assessment"),
        # closed: no deadline applies any more
        dict(received_ago=200, acknowledged_ago=194, status="closed"),
    ]
    for age in ages:
        add_report(db, bribery, hana, **age)
    add_report(db, procurement, hana, received_ago=3, acknowledged_ago=2, status="acknowledged")
    for _ in range(4):
        add_report(db, bribery, omar, received_ago=1, acknowledged_ago=0, status="investigation")
        add_report(db, procurement, omar, received_ago=300, status="received")
    db.commit()
    return members


def table_rows(page: str, heading: str) -> dict[str, int]:
    """The rows of the figures table in the section under ``heading``."""
    section = page.split(f">{heading}</h2>", 1)[1].split("</section>", 1)[0]
    return {label: int(count) for label, count in re.findall(
        r'<tr><th scope="row">([^<]*)</th><td>(\d+)</td></tr>', section)}


def figure(page: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}">([^<]*)<', page)
    assert match, f"no {element_id} on the page"
    return match.group(1).strip()


# --- The page ----------------------------------------------------------------------------


@pytest.mark.database
def test_dashboard_is_registered(app):
    assert "casework.dashboard" in app.view_functions, (
        "reporting_portal.staff.casework.dashboard_views is not imported by "
        "reporting_portal/staff/casework/__init__.py"
    )


@pytest.mark.database
def test_dashboard_shows_only_the_handlers_own_cases(client, db, seeded, sign_in):
    sign_in(seeded["hana"])
    response = client.get(DASHBOARD)
    assert response.status_code == 200
    page = response.get_data(as_text=True)

    assert table_rows(page, "Reports by status") == {
        "Received": 2, "Acknowledged": 1, "Assessment": 1, "Investigation": 1, "Closed": 1}
    assert table_rows(page, "Reports by channel") == {
        "Bribery &amp; fraud": 5, "Procurement &lt;b&gt;tenders&lt;/b&gt;": 1}
    # One acknowledgement and one feedback deadline missed; Omar's 4 late reports not counted.
    assert figure(page, "overdue-count") == "2"
    # Acknowledged after 2, 4, 6 and 1 days: the median is 3 (Omar's same-day ones ignored).
    assert figure(page, "median-days") == "3"
    assert "Figures over the 6 reports you have access to." in page

    today = datetime.now(UTC).date()
    weeks = table_rows(page, "Reports received per week")
    assert len(weeks) == WEEKS_SHOWN
    assert list(weeks)[-1] == iso_week_label(today)
    expected = Counter(iso_week_label(today - timedelta(days=ago)) for ago in (30, 2, 10, 3))
    assert weeks == {week: expected.get(week, 0) for week in weeks}


@pytest.mark.database
def test_dashboard_draws_accessible_charts_without_script_or_inline_style(
    client, db, seeded, sign_in
):
    sign_in(seeded["hana"])
    page = client.get(DASHBOARD).get_data(as_text=True)
    assert page.count('<svg class="chart" role="img"') == 3
    assert page.count("<figure") == page.count("<figcaption>") == 3
    assert "<b>tenders" not in page
    assert " style=" not in page
    headings = [int(level) for level in re.findall(r"<h([1-6])", page)]
    assert headings[0] == 1
    assert all(b - a <= 1 for a, b in itertools.pairwise(headings))


@pytest.mark.database
def test_dashboard_with_no_cases_says_so(client, make_staff, sign_in):
    sign_in(make_staff("hana", Role.CASE_HANDLER))
    page = client.get(DASHBOARD).get_data(as_text=True)
    assert figure(page, "overdue-count") == "0"
    assert figure(page, "median-days") == "No report acknowledged yet"


@pytest.mark.database
def test_dashboard_is_for_case_handlers_and_a_refusal_is_logged(
    client, db, make_staff, sign_in
):
    assert client.get(DASHBOARD).headers["Location"] == "/staff/sign-in"
    sign_in(make_staff("aida", Role.AUDITOR))
    before = db.scalars(select(AuditEvent.action)).all()
    assert client.get(DASHBOARD).status_code == 403
    db.expire_all()
    after = db.scalars(select(AuditEvent).order_by(AuditEvent.leaf_index)).all()
    assert [(e.action, e.outcome) for e in after[len(before):]] == [
        ("staff.access_denied", "denied")]


@pytest.mark.database
def test_stats_count_both_deadlines_but_each_report_once(db, seeded):
    hana = account(db, "hana")
    bribery = db.scalar(select(Channel).where(Channel.slug == "bribery"))
    # Never acknowledged and received 4 months ago: both deadlines passed.
    add_report(db, bribery, hana, received_ago=120, status="received")
    db.commit()
    stats = dashboard_stats(db, hana.id, datetime.now(UTC).date())
    assert (stats.acknowledgement_overdue, stats.feedback_overdue, stats.overdue) == (2, 2, 3)
    assert stats.total == 7


# --- Charts and helpers ------------------------------------------------------------------


def test_bar_chart_escapes_labels_and_draws_one_bar_each():
    svg = str(bar_chart('Reports "by" <status>', [("<script>alert(1)</script>", 3),
                                                  ("Closed", 0), ("A & B", 7)]))
    assert "<script>" not in svg
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    assert "A &amp; B" in svg
    assert 'aria-label="Reports &quot;by&quot; &lt;status&gt;"' in svg
    assert svg.count('class="chart__bar"') == 3
    assert 'role="img"' in svg
    assert "<title>Reports &quot;by&quot; &lt;status&gt;</title>" in svg
    assert "style=" not in svg
    # The longest bar is the largest value; a zero draws no length.
    widths = [int(w) for w in re.findall(r'class="chart__bar" x="\d+" y="\d+" width="(\d+)"', svg)]
    assert widths[1] == 0
    assert widths[2] == max(widths) > widths[0] > 0


def test_charts_with_nothing_to_show_do_not_fail():
    assert str(bar_chart("Empty", [])).count('class="chart__bar"') == 0
    svg = str(weekly_chart("Weeks", [("2026-W01", 0), ("2026-W02", 0)]))
    assert svg.count('class="chart__bar"') == 2


def test_weekly_chart_shows_short_weeks_and_reads_out_full_ones():
    svg = str(weekly_chart("Per week", [("2025-W52", 4), ("2026-W01", 1)]))
    assert ">W52</text>" in svg
    assert ">W01</text>" in svg
    assert "<desc>2025-W52: 4; 2026-W01: 1</desc>" in svg


@pytest.mark.parametrize(("counts", "median"), [
    ({}, None), ({5: 1}, 5), ({1: 1, 2: 1, 4: 1, 6: 1}, 3), ({0: 3, 10: 1}, 0),
    ({2: 2, 9: 2}, 5.5),
])
def test_median_from_counts(counts, median):
    assert median_from_counts(counts) == median


def test_iso_week_labels_follow_iso_years():
    assert iso_week_label(date(2021, 1, 3)) == "2020-W53"
    assert iso_week_label(date(2024, 12, 30)) == "2025-W01"
