"""Bulk triage from the inbox: each ticked case changed on its own terms, with its own
audit event; a case changed meanwhile is skipped and named; other cases are out of reach."""

import html
import re

import pytest
from sqlalchemy import func, select

from reporting_portal.audit.events import AuditAction, Outcome
from reporting_portal.storage.models import AuditEvent, Label, Report, Role, StaffAccount
from tests.helpers import hidden_fields
from tests.helpers.inbox import submit_reports

pytestmark = pytest.mark.database

INBOX = "/staff/cases"


@pytest.fixture
def cases(app, db, installed, channel_with_handlers):
    db.add_all([Label(name="urgent"), Label(name="fraud")])
    db.commit()
    return submit_reports(app, installed.channel_slug, 3)


def bulk(client, change, public_ids, fields=None):
    """Tick ``public_ids`` in the inbox and apply ``change``, as the browser would."""
    data = {**(fields or hidden_fields(client, INBOX)), "change": change, "case": public_ids}
    return client.post(f"{INBOX}/bulk", data=data, follow_redirects=True)


def report(db, public_id):
    db.expire_all()
    return db.scalar(select(Report).where(Report.public_id == public_id))


def events(db, action, public_id, outcome=Outcome.SUCCESS):
    return db.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == action, AuditEvent.object_id == public_id,
        AuditEvent.outcome == outcome))


def flashed(page):
    found = re.findall(r'class="notice notice--[^"]*"[^>]*>(.*?)<', page, re.S)
    return html.unescape(" ".join(found))


def test_set_priority_for_the_ticked_cases_each_with_its_event(client, db, sign_in, cases,
                                                               channel_with_handlers):
    sign_in(channel_with_handlers["hana"])
    page = bulk(client, "priority:urgent", cases[:2]).get_data(as_text=True)
    assert "Changed 2 cases" in html.unescape(page)
    assert [report(db, c).priority for c in cases] == ["urgent", "urgent", "normal"]
    assert [events(db, AuditAction.CASE_PRIORITY_CHANGED, c) for c in cases] == [1, 1, 0]


def test_add_and_remove_a_label(client, db, sign_in, cases, channel_with_handlers):
    sign_in(channel_with_handlers["hana"])
    bulk(client, "add-label:urgent", cases)
    assert all([label.name for label in report(db, c).labels] == ["urgent"] for c in cases)
    page = bulk(client, "add-label:urgent", cases[:1]).get_data(as_text=True)
    assert "Already so, left as they were" in html.unescape(page)
    bulk(client, "remove-label:urgent", cases[1:])
    assert [len(report(db, c).labels) for c in cases] == [1, 0, 0]
    assert [events(db, AuditAction.CASE_LABELS_CHANGED, c) for c in cases] == [1, 2, 2]


def test_assign_a_handler_makes_the_cases_theirs(client, db, sign_in, make_staff, cases,
                                                 channel_with_handlers):
    zoe = make_staff("zoe", Role.CASE_HANDLER)
    sign_in(channel_with_handlers["hana"])
    bulk(client, f"assign:{zoe.public_id}", cases[:2])
    assert [events(db, AuditAction.CASE_HANDLER_ADDED, c) for c in cases] == [1, 1, 0]
    zoe_id = db.scalar(select(StaffAccount.id).where(StaffAccount.username == "zoe"))
    assert [zoe_id in {g.staff_id for g in report(db, c).grants} for c in cases] == [
        True, True, False]


def test_a_case_changed_meanwhile_is_skipped_and_named(client, db, sign_in, cases,
                                                        channel_with_handlers):
    sign_in(channel_with_handlers["hana"])
    fields = hidden_fields(client, INBOX)  # the inbox as Hana saw it
    changed = report(db, cases[0])
    changed.priority, changed.version = "low", changed.version + 1  # Omar, meanwhile
    db.commit()
    page = bulk(client, "priority:high", cases, fields).get_data(as_text=True)
    assert [report(db, c).priority for c in cases] == ["low", "high", "high"]
    message = flashed(page)
    assert f"someone changed them after you opened the inbox: {changed.case_reference}" in message
    assert "Changed 2 cases" in message
    assert events(db, AuditAction.CASE_PRIORITY_CHANGED, cases[0], Outcome.FAILURE) == 1


def test_a_case_the_handler_does_not_hold_is_left_alone(client, db, sign_in, make_staff, cases):
    zoe = make_staff("zoe", Role.CASE_HANDLER)
    sign_in(zoe)
    fields = {**hidden_fields(client, INBOX), f"version-{cases[0]}": "1"}
    page = bulk(client, "priority:urgent", cases[:1], fields).get_data(as_text=True)
    assert "1 case was not found." in page
    assert report(db, cases[0]).priority == "normal"
    assert events(db, AuditAction.CASE_READ, cases[0], Outcome.DENIED) == 1


@pytest.mark.parametrize("change", ["priority:extreme", "add-label:nope", "assign:nobody",
                                    "delete:all", ""])
def test_a_change_the_inbox_did_not_offer_changes_nothing(client, db, sign_in, cases,
                                                          channel_with_handlers, change):
    sign_in(channel_with_handlers["hana"])
    response = bulk(client, change, cases)
    assert response.status_code in (200, 400)
    assert [report(db, c).version for c in cases] == [1, 1, 1]


def test_nothing_ticked_says_so(client, sign_in, cases, channel_with_handlers):
    sign_in(channel_with_handlers["hana"])
    assert "Tick at least one case first." in bulk(client, "priority:high", []).get_data(
        as_text=True)


def test_a_handler_the_reporter_excluded_is_not_added_and_the_case_is_named(
        client, db, sign_in, make_staff, cases, channel_with_handlers):
    from reporting_portal.storage.models import ReportExclusion

    zoe = make_staff("zoe", Role.CASE_HANDLER)
    zoe_id = db.scalar(select(StaffAccount.id).where(StaffAccount.username == "zoe"))
    excluded_from = report(db, cases[1])
    db.add(ReportExclusion(report_id=excluded_from.id, staff_id=zoe_id))
    db.commit()
    sign_in(channel_with_handlers["hana"])
    message = flashed(bulk(client, f"assign:{zoe.public_id}", cases[:2]).get_data(as_text=True))
    assert ("Not changed, because the change is not allowed for them: "
            f"{excluded_from.case_reference}.") in message
    assert zoe_id not in {g.staff_id for g in report(db, cases[1]).grants}
    assert zoe_id in {g.staff_id for g in report(db, cases[0]).grants}
    assert events(db, AuditAction.CASE_HANDLER_ADDED, cases[1], Outcome.FAILURE) == 1
