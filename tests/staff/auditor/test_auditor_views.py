"""The auditor's pages: filter events, prove one, keep and check heads, export."""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import zipfile

import pytest
from sqlalchemy import select

from crypto.checkpoint import open_checkpoint
from crypto.merkle import leaf_hash, verify_inclusion
from reporting_portal.storage.models import AuditEvent, Role
from tests.helpers import csrf_token, release_held_events_now
from tests.helpers.custody import ask
from tests.helpers.reporting import CONTENT_MARKER, REPORTER_NAME
from tests.helpers.staff import signed_in

pytestmark = pytest.mark.database


@pytest.fixture
def auditor(app, installed, make_staff):
    return make_staff("aude", Role.AUDITOR)


def new_actions(db, before):
    db.expire_all()
    return [e.action for e in db.scalars(select(AuditEvent).where(AuditEvent.leaf_index >= before)
                                          .order_by(AuditEvent.leaf_index))]


def events_table(browser, query=""):
    """The events table of the log page (the filter's drop-downs list every action)."""
    page = browser.get(f"/staff/audit{query}").get_data(as_text=True)
    return page.split('id="events"')[1].split("</table>")[0]


def test_only_auditors_reach_the_log(app, channel_with_handlers, make_staff, auditor):
    for member in (channel_with_handlers["hana"], channel_with_handlers["cleo"],
                   make_staff("ines", Role.ADMINISTRATOR)):
        browser = signed_in(app, member)
        for path in ("/staff/audit", "/staff/audit/head", "/staff/audit/export",
                     "/staff/audit/check-head", "/staff/audit/events/0"):
            assert browser.get(path).status_code == 403, (member.username, path)
    assert signed_in(app, auditor).get("/staff/audit").status_code == 200


def test_events_filter_by_actor_action_object_and_date(app, db, case_with_identity,
                                                      channel_with_handlers, auditor):
    hana = channel_with_handlers["hana"]
    signed_in(app, hana).get(f"/staff/cases/{case_with_identity}")
    release_held_events_now(app)  # the reporter's submission joins the log
    browser = signed_in(app, auditor)
    page = browser.get("/staff/audit").get_data(as_text=True)
    everything = events_table(browser)
    assert "report.submitted" in everything
    assert "case.read" in everything
    by_actor = events_table(browser, f"?actor={hana.public_id}")
    assert "staff.sign_in" in by_actor
    assert "report.submitted" not in by_actor
    by_action = events_table(browser, "?action=case.read")
    assert "case.read" in by_action
    assert "staff.sign_in" not in by_action
    by_object = events_table(browser, f"?object_type=report&object_id={case_with_identity}")
    assert "report.submitted" in by_object
    assert "case.read" in by_object
    assert "staff.sign_in" not in by_object
    reporters = events_table(browser, "?actor=reporter")
    assert "report.submitted" in reporters
    assert "case.read" not in reporters
    assert "No events match." in events_table(browser, "?since=2001-01-01&until=2001-01-31")
    assert "staff.sign_in" in events_table(browser, "?since=2001-01-01")
    # Nothing of the report or of the reporter's identity, anywhere on the auditor's page.
    assert CONTENT_MARKER not in page
    assert REPORTER_NAME not in page


def test_the_log_pages_newest_first_without_gaps(app, db, auditor):
    browser = signed_in(app, auditor)
    for _ in range(60):
        browser.get("/staff/audit")  # each view is itself an event
    assert "Older events" in browser.get("/staff/audit").get_data(as_text=True)
    older = events_table(browser, "?before=10")
    assert "<td>9</td>" in older
    assert "<td>10</td>" not in older


def test_an_events_proof_verifies_under_the_signed_head(app, db, auditor, settings):
    browser = signed_in(app, auditor)
    page = browser.get("/staff/audit/events/1")
    assert page.status_code == 200
    assert "Verified: this event is entry 1" in page.get_data(as_text=True)
    # The proof's size in a person's units ("64 B"), the count of hashes agreeing with it.
    assert re.search(r"RFC 9162, (1 hash, 32 B|\d+ hashes, \d+ B)\)",
                     page.get_data(as_text=True))
    document = json.loads(browser.get("/staff/audit/events/1?format=json").get_data())
    verifier = browser.get("/staff/audit").get_data(as_text=True).split(
        'id="verifier-key">')[1].split("<")[0]
    head = open_checkpoint(document["checkpoint"], verifier)
    assert leaf_hash(document["event"].encode()) == base64.b64decode(document["leaf_hash"])
    verify_inclusion(base64.b64decode(document["leaf_hash"]), document["leaf_index"],
                     head.size, [base64.b64decode(h) for h in document["proof"]],
                     head.root_hash)
    assert browser.get("/staff/audit/events/999999").status_code == 404
    assert "audit.proof_viewed" in new_actions(db, 0)


def test_a_downloaded_head_checks_out_and_a_forged_one_does_not(app, db, auditor):
    browser = signed_in(app, auditor)
    response = browser.get("/staff/audit/head")
    assert response.headers["Content-Disposition"].startswith("attachment;")
    saved = response.get_data()
    browser.get("/staff/audit")  # the log grows

    def upload(content):
        return browser.post("/staff/audit/check-head", data={
            "csrf_token": csrf_token(browser, "/staff/audit/check-head"),
            "head": (io.BytesIO(content), "audit-head.txt")},
            content_type="multipart/form-data")

    good = upload(saved)
    assert good.status_code == 200
    assert "Consistent: the log has only grown since this head" in good.get_data(as_text=True)
    forged = saved.replace(saved.split(b"\n")[2], base64.b64encode(b"\1" * 32))
    bad = upload(forged)
    assert bad.status_code == 422
    assert "Not consistent." in bad.get_data(as_text=True)
    not_text = upload(b"\xff\xfe not text")
    assert not_text.status_code == 422
    assert "This file is not a signed tree head." in not_text.get_data(as_text=True)
    notes = upload(b"Notes from the audit of March\n")
    assert notes.status_code == 422
    assert "This file is not a signed tree head." in notes.get_data(as_text=True)
    assert upload(b"x" * (100 * 1024)).status_code == 400  # larger than any head
    outcomes = [e.outcome for e in db.scalars(select(AuditEvent).where(
        AuditEvent.action == "audit.head_checked").order_by(AuditEvent.leaf_index))]
    assert outcomes == ["success", "failure", "failure", "failure"]


def test_export_holds_the_filtered_events_and_the_signed_head(app, db, case_with_identity,
                                                             channel_with_handlers, auditor):
    ask(signed_in(app, channel_with_handlers["hana"]), case_with_identity)
    browser = signed_in(app, auditor)
    response = browser.get("/staff/audit/export?action=identity.access_requested")
    assert response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    assert sorted(archive.namelist()) == ["README.txt", "events.csv", "events.json", "head.txt",
                                          "verifier-key.txt"]
    exported = json.loads(archive.read("events.json"))
    [event] = exported["events"]
    assert event["action"] == "identity.access_requested"
    assert event["actor_id"] == channel_with_handlers["hana"].public_id
    assert leaf_hash(event["encoded"].encode()) == base64.b64decode(event["leaf_hash"])
    head = open_checkpoint(archive.read("head.txt").decode(),
                           archive.read("verifier-key.txt").decode().strip())
    assert head.size > event["leaf_index"]
    rows = list(csv.DictReader(io.StringIO(archive.read("events.csv").decode())))
    assert [row["action"] for row in rows] == ["identity.access_requested"]
    everything = b"".join(archive.read(name) for name in archive.namelist()).decode()
    assert CONTENT_MARKER not in everything
    assert "prosecutor" not in everything  # the justification stays with the custodians
    assert "audit.exported" in new_actions(db, 0)


def test_out_of_range_numbers_and_dates_are_refused_cleanly(app, auditor):
    browser = signed_in(app, auditor)
    huge = "9" * 30  # beyond any BIGINT
    assert browser.get(f"/staff/audit/events/{huge}").status_code == 404
    assert "staff.sign_in" in events_table(browser, f"?before={huge}")
    assert "No events match." in events_table(browser, "?before=-5")
    assert "staff.sign_in" in events_table(browser, "?until=9999-12-31")
