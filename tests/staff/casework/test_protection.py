"""The protection record on the case page: encrypted measures, shared with the reporter
only when a handler chooses, counted on the dashboard, kept by the case's handlers only."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from crypto import NoMatchError
from reporting_portal.storage.models import (
    AuditEvent,
    ObjectKind,
    ProtectionMeasure,
    ProtectionRecord,
    Report,
    ReportObject,
    Role,
)
from tests.helpers import hidden_fields
from tests.helpers.reporting import blob_files, decrypt_object, open_mailbox
from tests.helpers.staff import signed_in

pytestmark = pytest.mark.database

RESPONSIBLE = "Marta Ilves, HR legal office"
DETAIL = "Her manager may not see the new roster: kept by HR only"


def today() -> str:
    return datetime.now(UTC).date().isoformat()


@pytest.fixture
def case(submit_case) -> str:
    return submit_case()


@pytest.fixture
def hana(app, channel_with_handlers):
    return signed_in(app, channel_with_handlers["hana"])


def record(browser, case_id: str, **fields):
    data = {**hidden_fields(browser, f"/staff/cases/{case_id}"), "measure": "transfer",
            "state": "requested", "on": today(), "responsible": RESPONSIBLE,
            "detail": DETAIL, **fields}
    return browser.post(f"/staff/cases/{case_id}/protection/measures", data=data)


def measure_rows(db) -> list[ProtectionMeasure]:
    db.expire_all()
    return list(db.scalars(select(ProtectionMeasure).order_by(ProtectionMeasure.id)))


def test_a_measure_is_recorded_encrypted_and_shown_to_the_cases_handlers(
        hana, db, case, settings, channel_with_handlers):
    response = record(hana, case)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/staff/cases/{case}#protection")
    [measure] = measure_rows(db)
    assert measure.is_open
    assert measure.shared_object_id is None
    assert measure.object.kind == ObjectKind.PROTECTION
    document = json.loads(decrypt_object(settings, measure.object,
                                         channel_with_handlers["hana"].identity))
    assert document == {"version": 1, "measure": "transfer", "state": "requested",
                        "on": today(), "responsible": RESPONSIBLE, "detail": DETAIL}
    # Nothing of it in the clear: the blobs hold ciphertext, the row only flags.
    for path in blob_files(settings):
        assert RESPONSIBLE.encode() not in path.read_bytes()
    page = hana.get(f"/staff/cases/{case}").get_data(as_text=True)
    assert "Transfer — Requested" in page
    assert RESPONSIBLE in page
    assert "not shown to the reporter" in page
    # The other handler of the case reads it too (sealed to the case's recipients).
    omar = json.loads(decrypt_object(settings, measure.object,
                                     channel_with_handlers["omar"].identity))
    assert omar["responsible"] == RESPONSIBLE


def test_only_a_shared_measure_reaches_the_reporter_and_without_the_person(
        client, hana, db, case, settings):
    assert record(hana, case, measure="legal_aid", share="y").status_code == 302
    assert record(hana, case, measure="transfer").status_code == 302
    shared, private = measure_rows(db)
    assert shared.shared_object is not None
    assert private.shared_object_id is None
    reporter_identity = reporter_key(client)
    seen = json.loads(decrypt_object(settings, shared.shared_object, reporter_identity))
    assert seen == {"version": 1, "measure": "legal_aid", "state": "requested",
                    "on": today(), "detail": ""}
    # The full objects are not sealed to the reporter at all.
    for obj in (shared.object, private.object):
        with pytest.raises(NoMatchError):
            decrypt_object(settings, obj, reporter_identity)
    mailbox = client.get("/followup/mailbox").get_data(as_text=True)
    assert 'id="shared-measures"' in mailbox
    assert "Referral to legal aid — Requested" in mailbox
    assert "Transfer" not in mailbox
    assert RESPONSIBLE not in mailbox


def reporter_key(client) -> str:
    """The reporter's identity, from signing in to the mailbox as they would."""
    assert open_mailbox(client, client.receipt_code).status_code == 302
    with client.session_transaction() as session:
        return str(session["reporter_identity"])


def test_a_measure_changes_state_and_sharing_and_its_history_stays(
        hana, db, case, settings, channel_with_handlers):
    assert record(hana, case, share="y").status_code == 302
    [measure] = measure_rows(db)
    first_object, first_shared = measure.object_id, measure.shared_object_id
    fields = hidden_fields(hana, f"/staff/cases/{case}")
    prefix = f"m-{measure.public_id}-"
    response = hana.post(f"/staff/cases/{case}/protection/measures/{measure.public_id}", data={
        **fields, f"{prefix}measure": "transfer", f"{prefix}state": "refused",
        f"{prefix}on": today(), f"{prefix}responsible": RESPONSIBLE, f"{prefix}detail": ""})
    assert response.status_code == 302
    [measure] = measure_rows(db)
    assert not measure.is_open
    assert measure.object_id != first_object
    # Unshared: the reporter's copy is gone (its header with it); the old state is kept.
    assert measure.shared_object_id is None
    assert db.get(ReportObject, first_shared) is None
    assert db.get(ReportObject, first_object) is not None
    page = hana.get(f"/staff/cases/{case}").get_data(as_text=True)
    assert "Transfer — Refused" in page


@pytest.mark.parametrize(("fields", "said"), [
    ({"responsible": ""}, "Person responsible"),
    ({"measure": "exile"}, "Measure"),
    ({"state": "maybe"}, "State"),
    ({"on": "31/12/2026"}, "Day"),
    ({"on": "1900-01-01"}, "Check the day of the measure."),
    ({"measure": "other", "detail": ""}, "Say what the other measure is"),
    ({"responsible": "x" * 201}, "Person responsible"),
])
def test_a_bad_measure_is_refused_logged_and_nothing_filed(hana, db, case, fields, said):
    objects_before = db.scalar(select(ReportObject.id).order_by(ReportObject.id.desc()).limit(1))
    response = record(hana, case, **fields)
    assert response.status_code == 400
    assert said in response.get_data(as_text=True)
    assert measure_rows(db) == []
    assert db.scalar(select(ReportObject.id).order_by(ReportObject.id.desc()).limit(1)) \
        == objects_before
    failed = db.scalar(select(AuditEvent).where(
        AuditEvent.action == "case.protection_measure_recorded"))
    assert failed is not None
    assert failed.outcome == "failure"


def test_the_review_day_and_the_closing_outcome(hana, db, case, settings,
                                                channel_with_handlers):
    assert record(hana, case).status_code == 302
    page = f"/staff/cases/{case}"
    future = (datetime.now(UTC).date() + timedelta(days=60)).isoformat()
    assert hana.post(f"{page}/protection/review", data={
        **hidden_fields(hana, page), "review_on": future}).status_code == 302
    assert "Review on" in hana.get(page).get_data(as_text=True)
    assert hana.post(f"{page}/protection/review", data={
        **hidden_fields(hana, page), "review_on": "2001-01-01"}).status_code == 400
    outcome = "Transfer reversed; the reporter is back in their post."
    assert hana.post(f"{page}/protection/close", data={
        **hidden_fields(hana, page), "outcome": outcome}).status_code == 302
    db.expire_all()
    record_row = db.scalar(select(ProtectionRecord))
    assert record_row.closed_on == datetime.now(UTC).date()
    opened = json.loads(decrypt_object(settings, record_row.object,
                                       channel_with_handlers["hana"].identity))
    assert opened["outcome"] == outcome
    assert [m.is_open for m in measure_rows(db)] == [False]
    shown = hana.get(page).get_data(as_text=True)
    assert outcome in shown
    assert 'id="protection-closed"' in shown
    # A closed record takes no new measure.
    assert record(hana, case).status_code == 400


def test_only_the_cases_handlers_reach_the_record(app, db, case, make_staff, hana):
    outsider = signed_in(app, make_staff("zoe", Role.CASE_HANDLER))
    fields = hidden_fields(outsider, "/staff/")
    response = outsider.post(f"/staff/cases/{case}/protection/measures", data={
        **fields, "measure": "transfer", "state": "requested", "on": today(),
        "responsible": RESPONSIBLE})
    assert response.status_code == 404
    assert record(hana, case).status_code == 302
    [measure] = measure_rows(db)
    changed = outsider.post(f"/staff/cases/{case}/protection/measures/{measure.public_id}",
                            data=fields)
    assert changed.status_code == 404
    for path in ("review", "close"):
        assert outsider.post(f"/staff/cases/{case}/protection/{path}",
                             data=fields).status_code == 404
    custodian = signed_in(app, make_staff("ivo", Role.IDENTITY_CUSTODIAN))
    assert custodian.post(f"/staff/cases/{case}/protection/measures",
                          data=hidden_fields(custodian, "/staff/")).status_code == 403


def test_the_dashboard_counts_retaliation_reports_and_open_measures(hana, db, case):
    report = db.scalar(select(Report))
    report.retaliation_reports = 2
    report.retaliation_reported_on = datetime.now(UTC).date()
    db.commit()
    assert record(hana, case, share="y").status_code == 302
    assert record(hana, case, state="granted").status_code == 302
    assert record(hana, case, state="refused").status_code == 302
    page = hana.get("/staff/cases/dashboard").get_data(as_text=True)
    assert re.search(r'id="retaliation-count">2<', page)
    assert "On 1 case." in page
    assert re.search(r'id="open-measures-count">2<', page)


def test_taking_a_handler_off_the_case_keeps_the_reporter_on_a_shared_measure(
        client, hana, db, case, settings, channel_with_handlers):
    assert record(hana, case, share="y").status_code == 302
    omar = channel_with_handlers["omar"]
    page = f"/staff/cases/{case}"
    assert hana.post(f"{page}/handlers/{omar.public_id}/remove",
                     data=hidden_fields(hana, page)).status_code == 302
    [measure] = measure_rows(db)
    reporter_identity = reporter_key(client)
    assert json.loads(decrypt_object(settings, measure.shared_object,
                                     reporter_identity))["measure"] == "transfer"
    for obj in (measure.object, measure.shared_object):
        with pytest.raises(NoMatchError):
            decrypt_object(settings, obj, omar.identity)


def test_the_record_stays_open_when_the_case_is_closed(hana, db, case):
    """Protection lasts as long as the retaliation, not as long as the case."""
    report = db.scalar(select(Report))
    report.status = "closed"
    report.closing_outcome = "dealt_with_internally"
    db.commit()
    assert record(hana, case, state="granted").status_code == 302
    [measure] = measure_rows(db)
    assert measure.is_open
    page = hana.get(f"/staff/cases/{case}").get_data(as_text=True)
    assert "Transfer — Granted" in page
    assert 'id="new-measure"' in page
