"""Two handlers editing one case at once: the second change is refused, never lost.

Runs on SQLite and PostgreSQL (``--database=postgresql``): the version check is one
compare-and-set UPDATE whose atomicity each database provides in its own way.
"""

import html

import pytest
from sqlalchemy import func, select

from reporting_portal.domain.actors import Actor
from reporting_portal.staff.casework.services import open_case, set_priority, set_status
from reporting_portal.staff.casework.versions import CaseConflictError, SeenCase, case_snapshot
from reporting_portal.storage.models import AuditEvent, Label, Report, Role, StaffAccount
from reporting_portal.web.database import get_database
from tests.helpers import hidden_fields
from tests.helpers.staff import signed_in

pytestmark = pytest.mark.database


def account(session, username):
    return session.scalar(select(StaffAccount).where(StaffAccount.username == username))


def events(db, action, outcome):
    return db.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == action, AuditEvent.outcome == outcome))


def test_of_two_sessions_editing_one_case_the_second_changes_nothing(app, case_with_file):
    factory = get_database(app).session_factory
    with app.app_context(), factory() as first, factory() as second:
        hana, omar = account(first, "hana"), account(second, "omar")
        hanas_case = open_case(first, hana, case_with_file)
        omars_case = open_case(second, omar, case_with_file)
        version = hanas_case.version
        omars_view = case_snapshot(second, omars_case).encode()
        set_priority(first, Actor.member(hana), hanas_case, "high",
                     seen=SeenCase(version, case_snapshot(first, hanas_case).encode()))
        first.commit()
        # Omar's session still holds the case as it was when he opened it.
        with pytest.raises(CaseConflictError) as conflict:
            set_status(second, Actor.member(omar), omars_case, "assessment",
                       seen=SeenCase(version, omars_view))
        second.commit()  # whatever the refused request still commits must not carry it
        assert conflict.value.seen is not None
        assert (conflict.value.seen.priority, conflict.value.current.priority) == ("normal",
                                                                                   "high")
    with factory() as check:
        report = check.scalar(select(Report).where(Report.public_id == case_with_file))
        assert (report.status, report.priority, report.version) == ("received", "high",
                                                                    version + 1)


def test_the_second_handler_is_told_what_changed_and_can_resubmit(app, db, case_with_file,
                                                                   channel_with_handlers):
    db.add(Label(name="procurement"))
    db.commit()
    hana = signed_in(app, channel_with_handlers["hana"])
    omar = signed_in(app, channel_with_handlers["omar"], 1)
    path = f"/staff/cases/{case_with_file}"
    hanas_form, omars_form = hidden_fields(hana, path), hidden_fields(omar, path)
    assert hana.post(f"{path}/priority", data={**hanas_form, "priority": "high"}
                     ).status_code == 302
    hanas_form = hidden_fields(hana, path)
    assert hana.post(f"{path}/labels", data={**hanas_form, "labels": ["procurement"]}
                     ).status_code == 302

    refused = omar.post(f"{path}/status", data={**omars_form, "status": "assessment"})
    assert refused.status_code == 409
    page = html.unescape(refused.get_data(as_text=True))
    assert ("While you were editing, this case changed: priority is now 'High' (was "
            "'Normal'); labels are now 'procurement' (was 'none'). Your change was not saved. "
            "Check and submit it again.") in page
    db.expire_all()
    report = db.scalar(select(Report))
    assert report.status == "received"
    assert events(db, "case.status_changed", "success") == 0
    assert events(db, "case.status_changed", "failure") == 1  # the attempt is on record

    # The case page shown with the refusal carries the current version.
    again = omar.post(f"{path}/status", data={**hidden_fields(omar, path),
                                              "status": "assessment"})
    assert again.status_code == 302
    db.expire_all()
    assert db.scalar(select(Report.status)) == "assessment"
    assert events(db, "case.priority_changed", "success") == 1
    assert events(db, "case.labels_changed", "success") == 1
    assert events(db, "case.status_changed", "success") == 1


def test_a_conflict_on_assignment_names_the_handlers(app, db, case_with_file,
                                                     channel_with_handlers, make_staff):
    zoe = make_staff("zoe", Role.CASE_HANDLER)
    hana = signed_in(app, channel_with_handlers["hana"])
    omar = signed_in(app, channel_with_handlers["omar"], 1)
    path = f"/staff/cases/{case_with_file}"
    omars_form = hidden_fields(omar, path)
    assert hana.post(f"{path}/handlers", data={**hidden_fields(hana, path),
                                               "handler": zoe.public_id}).status_code == 302
    refused = omar.post(f"{path}/priority", data={**omars_form, "priority": "urgent"})
    assert refused.status_code == 409
    assert ("case handlers are now 'Hana, Omar, Zoe' (was 'Hana, Omar')"
            in html.unescape(refused.get_data(as_text=True)))
    db.expire_all()
    assert db.scalar(select(Report.priority)) == "normal"


def test_a_change_without_the_version_is_refused(app, db, case_with_file,
                                                 channel_with_handlers):
    hana = signed_in(app, channel_with_handlers["hana"])
    path = f"/staff/cases/{case_with_file}"
    form = hidden_fields(hana, path)
    del form["version"]
    assert hana.post(f"{path}/priority", data={**form, "priority": "high"}).status_code == 400
    db.expire_all()
    assert db.scalar(select(Report.priority)) == "normal"
