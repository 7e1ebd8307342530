"""Every act in the access log's scope, done through the app, logs exactly its own event.

Each test prepares what the act needs (sign-ins, CSRF tokens, a submitted case), reads
the log, does the one act through the test client, and reads the log again after the
request's transaction committed. The new events must be exactly the expected ones: a
missing event hides an act from the auditor, and an extra or wrong one misleads them
(DESIGN.md, Access log). Events are compared on what they say, never on row ids.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import NamedTuple

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from crypto.keys import generate_identity
from reporting_portal.domain.retention import delete_blobs, purge_expired_reports
from reporting_portal.storage.models import (
    AuditEvent,
    Authority,
    Channel,
    Label,
    ProtectionMeasure,
    Referral,
    Report,
    Role,
    StaffAccount,
)
from reporting_portal.web.database import get_database
from reporting_portal.web.extensions import get_blob_store
from tests.helpers import STRONG_PASSWORD, StaffMember, csrf_token
from tests.helpers.custody import JUSTIFICATION, REASON, the_request
from tests.helpers.reporting import CASE_FILE
from tests.helpers.staff import signed_in

pytestmark = pytest.mark.database

HANDLER, CUSTODIAN, ADMIN = "case_handler", "identity_custodian", "administrator"


class Event(NamedTuple):
    action: str
    actor_id: str | None
    actor_role: str
    object_type: str | None
    object_id: str | None
    outcome: str = "success"


def logged(app: Flask) -> list[Event]:
    """The whole log, in order, read in a session of its own (so after any commit)."""
    with get_database(app).session_factory() as session:
        return [Event(e.action, e.actor_id, e.actor_role, e.object_type, e.object_id, e.outcome)
                for e in session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


@contextmanager
def new_events(app: Flask) -> Iterator[list[Event]]:
    """The events the block adds; the log before it must be left as it was."""
    added: list[Event] = []
    before = logged(app)
    yield added
    after = logged(app)
    assert after[:len(before)] == before, "the log only grows"
    added.extend(after[len(before):])


class Browser:
    """A signed-in staff member's browser, holding a CSRF token fetched beforehand.

    The token comes from the staff home page, which logs nothing, so fetching it never
    adds an event to the act under test.
    """

    def __init__(self, app: Flask, member: StaffMember, step: int = 0) -> None:
        self.app = app
        self.member = member
        self.client: FlaskClient = signed_in(app, member, step)
        self.token = csrf_token(self.client, "/staff/")

    def post(self, path: str, **data: object):
        edit = _CASE_EDIT.fullmatch(path)
        if edit is not None:
            # A triage form carries the case's version; read from the database here, as
            # fetching the case page would add a read event to the act under test.
            with get_database(self.app).session_factory() as session:
                data.setdefault("version", session.scalar(
                    select(Report.version).where(Report.public_id == edit.group(1))))
        return self.client.post(path, data={"csrf_token": self.token, **data})


_CASE_EDIT = re.compile(r"/staff/cases/([^/]+)/(?:status|priority|labels|acknowledge|handlers"
                        r"|handlers/[^/]+/remove|reopen)")


@pytest.fixture
def hana(app, channel_with_handlers) -> Browser:
    return Browser(app, channel_with_handlers["hana"])


@pytest.fixture
def cleo(app, channel_with_handlers) -> Browser:
    return Browser(app, channel_with_handlers["cleo"])


@pytest.fixture
def ada(app, make_staff) -> Browser:
    return Browser(app, make_staff("ada", Role.ADMINISTRATOR))


def case_event(action: str, member: StaffMember, case_id: str, role: str = HANDLER, *,
               outcome: str = "success") -> Event:
    return Event(action, member.public_id, role, "report", case_id, outcome)


# --- signing in ---------------------------------------------------------------------------


def test_sign_in(app, client, channel_with_handlers):
    hana = channel_with_handlers["hana"]
    token = csrf_token(client, "/staff/sign-in")
    with new_events(app) as added:
        response = client.post("/staff/sign-in", data={
            "csrf_token": token, "username": hana.username, "password": hana.password,
            "code": hana.code()})
        assert response.status_code == 302
        assert client.get("/staff/sign-in/continue").headers["Location"] == "/staff/"
    assert added == [Event("staff.sign_in", hana.public_id, HANDLER, "account", hana.public_id)]


@pytest.mark.parametrize("wrong", ["password", "code", "account name"])
def test_failed_sign_in(app, client, channel_with_handlers, wrong):
    hana = channel_with_handlers["hana"]
    typed = {"username": hana.username, "password": hana.password, "code": hana.code()}
    typed |= {"password": {"password": "not the password"},
              "code": {"code": "000000" if typed["code"] != "000000" else "111111"},
              "account name": {"username": "nobody-here"}}[wrong]
    token = csrf_token(client, "/staff/sign-in")
    with new_events(app) as added:
        response = client.post("/staff/sign-in", data={"csrf_token": token, **typed})
        assert "Sign-in failed" in response.get_data(as_text=True)
    # An unknown name is named by nothing: the log must not hold what someone typed.
    named = (None, None) if wrong == "account name" else ("account", hana.public_id)
    assert added == [Event("staff.sign_in_failed", None, "anonymous", *named, "failure")]


def test_password_change(app, hana):
    with new_events(app) as added:
        response = hana.post("/staff/account/password", current_password=STRONG_PASSWORD,
                             new_password="lighthouse keeper orchard violin",
                             confirm_password="lighthouse keeper orchard violin")
        assert response.status_code == 302
    assert added == [Event("staff.password_changed", hana.member.public_id, HANDLER,
                           "account", hana.member.public_id)]


# --- casework -----------------------------------------------------------------------------


def test_reading_a_case(app, full_case, hana):
    with new_events(app) as added:
        assert "The mayor&#39;s office" in hana.client.get(f"/staff/cases/{full_case}").get_data(
            as_text=True)
    assert added == [case_event("case.read", hana.member, full_case)]


def test_downloading_a_file(app, full_case, hana):
    page = hana.client.get(f"/staff/cases/{full_case}").get_data(as_text=True)
    link = re.search(r'href="(/staff/cases/[^"]+/files/([^"/?]+)[^"]*)"', page)
    with new_events(app) as added:
        assert hana.client.get(link.group(1).replace("&amp;", "&")).data == CASE_FILE
    assert added == [Event("case.file_downloaded", hana.member.public_id, HANDLER, "file",
                           link.group(2))]


def test_downloading_a_cleaned_copy_even_when_refused(app, full_case, hana):
    page = hana.client.get(f"/staff/cases/{full_case}").get_data(as_text=True)
    link = re.search(r'href="(/staff/cases/[^"]+/files/([^"/?]+)/cleaned)"', page)
    with new_events(app) as added:
        # CASE_FILE only starts like a PDF: the file is read, found damaged, not cleaned.
        assert hana.client.get(link.group(1)).status_code == 422
    assert added == [Event("case.cleaned_file_downloaded", hana.member.public_id, HANDLER,
                           "file", link.group(2), "failure")]


def test_writing_a_note(app, full_case, hana):
    with new_events(app) as added:
        assert hana.post(f"/staff/cases/{full_case}/notes", note="Ask for the minutes."
                         ).status_code == 302
    assert added == [case_event("case.note_written", hana.member, full_case)]


def test_the_protection_record(app, db, full_case, hana):
    """Each change of the record is its own event; what it says stays encrypted."""
    measure = {"measure": "interim_relief", "state": "requested", "on": "2026-11-30",
               "responsible": "Legal office", "share": "y"}
    with new_events(app) as added:
        assert hana.post(f"/staff/cases/{full_case}/protection/measures", **measure
                         ).status_code == 302
    assert added == [case_event("case.protection_measure_recorded", hana.member, full_case)]
    measure_id = db.scalar(select(ProtectionMeasure.public_id))
    prefixed = {f"m-{measure_id}-{name}": value for name, value in measure.items()}
    with new_events(app) as added:
        assert hana.post(f"/staff/cases/{full_case}/protection/measures/{measure_id}",
                         **{**prefixed, f"m-{measure_id}-state": "granted"}).status_code == 302
    assert added == [case_event("case.protection_measure_changed", hana.member, full_case)]
    with new_events(app) as added:
        assert hana.post(f"/staff/cases/{full_case}/protection/review",
                         review_on="2099-01-01").status_code == 400
        assert hana.post(f"/staff/cases/{full_case}/protection/close",
                         outcome="Relief granted by the court.").status_code == 302
    assert added == [
        # The refusal is logged, then the case page it shows again is a read.
        case_event("case.protection_review_set", hana.member, full_case, outcome="failure"),
        case_event("case.read", hana.member, full_case),
        case_event("case.protection_record_closed", hana.member, full_case),
    ]


def test_status_change_and_closing(app, full_case, hana):
    path = f"/staff/cases/{full_case}/status"
    with new_events(app) as moved:
        assert hana.post(path, status="investigation").status_code == 302
    with new_events(app) as closed:
        assert hana.post(path, status="closed", outcome="not_substantiated",
                         close_anyway="y").status_code == 302
    assert moved == [case_event("case.status_changed", hana.member, full_case)]
    assert closed == [case_event("case.closed", hana.member, full_case)]


def test_reopening(app, full_case, hana):
    path = f"/staff/cases/{full_case}"
    hana.post(f"{path}/status", status="closed", outcome="not_substantiated", close_anyway="y")
    with new_events(app) as reopened:
        assert hana.post(f"{path}/reopen", reason="New minutes arrived.").status_code == 302
    with new_events(app) as refused:
        assert hana.post(f"{path}/reopen", reason="Again.").status_code == 400
    # The reason is kept as an internal note; the reopening is its own event.
    assert reopened == [case_event("case.note_written", hana.member, full_case),
                        case_event("case.reopened", hana.member, full_case)]
    # Refused (the case is open now): the attempt, then the case page shown again.
    assert refused == [Event("case.reopened", hana.member.public_id, HANDLER, "report",
                             full_case, "failure"),
                       case_event("case.read", hana.member, full_case)]


def test_adding_and_removing_a_handler(app, full_case, hana, make_staff):
    zoe = make_staff("zoe", Role.CASE_HANDLER)
    with new_events(app) as added:
        assert hana.post(f"/staff/cases/{full_case}/handlers", handler=zoe.public_id
                         ).status_code == 302
    with new_events(app) as removed:
        assert hana.post(f"/staff/cases/{full_case}/handlers/{zoe.public_id}/remove"
                         ).status_code == 302
    zoe_account = ("account", zoe.public_id)
    assert added == [case_event("case.handler_added", hana.member, full_case),
                     Event("account.case_access_granted", hana.member.public_id, HANDLER,
                           *zoe_account)]
    assert removed == [case_event("case.handler_removed", hana.member, full_case),
                       Event("account.case_access_revoked", hana.member.public_id, HANDLER,
                             *zoe_account)]


def test_export(app, full_case, hana):
    with new_events(app) as added:
        response = hana.post(f"/staff/cases/{full_case}/export")
        assert response.headers["Content-Type"] == "application/zip"
        assert response.data.startswith(b"PK")
    assert added == [case_event("case.exported", hana.member, full_case)]


# --- the reporter's identity --------------------------------------------------------------


def test_identity_request_approval_and_viewing(app, db, full_case, hana, cleo):
    with new_events(app) as requested:
        assert hana.post(f"/staff/cases/{full_case}/identity-requests",
                         justification=JUSTIFICATION).status_code == 302
    decision_path = f"/staff/identity-requests/{the_request(db).public_id}"
    with new_events(app) as approved:
        assert cleo.post(decision_path, decision="approve", reason=REASON).status_code == 302
    with new_events(app) as viewed:
        assert "Ada Whistle" in hana.client.get(f"/staff/cases/{full_case}/identity").get_data(
            as_text=True)
    assert requested == [case_event("identity.access_requested", hana.member, full_case)]
    assert approved == [case_event("identity.access_approved", cleo.member, full_case, CUSTODIAN)]
    # The identity is shown on the case page, so the case is read too.
    assert viewed == [case_event("identity.viewed", hana.member, full_case),
                      case_event("case.read", hana.member, full_case)]


def test_identity_denial(app, db, full_case, hana, cleo):
    hana.post(f"/staff/cases/{full_case}/identity-requests", justification=JUSTIFICATION)
    decision_path = f"/staff/identity-requests/{the_request(db).public_id}"
    with new_events(app) as denied:
        assert cleo.post(decision_path, decision="deny", reason=REASON).status_code == 302
    assert denied == [case_event("identity.access_denied", cleo.member, full_case, CUSTODIAN)]


# --- administration -----------------------------------------------------------------------


def test_account_creation(app, db, ada):
    with new_events(app) as added:
        response = ada.post("/staff/admin/accounts/new", username="bea.lopez",
                            display_name="Bea Lopez", roles=["case_handler"])
        assert 'id="one-time-password"' in response.get_data(as_text=True)
    bea = db.scalar(select(StaffAccount.public_id).where(StaffAccount.username == "bea.lopez"))
    assert added == [Event("account.created", ada.member.public_id, ADMIN, "account", bea)]


@pytest.mark.parametrize(("action", "event"), [
    ("deactivate", "account.deactivated"), ("reset-two-factor", "account.totp_reset")])
def test_account_actions(app, ada, make_staff, action, event):
    vic = make_staff("vic", Role.CASE_HANDLER)
    with new_events(app) as added:
        assert ada.post(f"/staff/admin/accounts/{vic.public_id}/{action}").status_code == 302
    assert added == [Event(event, ada.member.public_id, ADMIN, "account", vic.public_id)]


def test_channel_change(app, db, ada, channel_with_handlers):
    channel = db.scalar(select(Channel).where(Channel.slug == "corruption"))
    handlers = [channel_with_handlers[name].public_id for name in ("hana", "omar")]
    with new_events(app) as added:
        response = ada.post(f"/staff/admin/channels/{channel.public_id}",
                            place_en="1", name_en="Report corruption", slug="corruption",
                            description_en="Tell us.", retention_days="730",
                            notify_identity_disclosure="y", is_active="y", handlers=handlers)
        assert response.status_code == 302
    db.expire_all()
    assert db.get(Channel, channel.id).retention_days == 730
    assert added == [Event("channel.changed", ada.member.public_id, ADMIN, "channel",
                           channel.public_id)]


def test_label_creation(app, db, ada):
    with new_events(app) as added:
        assert ada.post("/staff/admin/labels", name="procurement").status_code == 302
    label_id = db.scalar(select(Label.id).where(Label.name == "procurement"))
    assert added == [Event("label.created", ada.member.public_id, ADMIN, "label", str(label_id))]


# --- referral to another authority ------------------------------------------------------


def test_authority_directory_changes(app, db, ada):
    recipient = str(generate_identity(post_quantum=False).recipient)
    with new_events(app) as added:
        assert ada.post("/staff/admin/authorities/new", name="Prosecutor",
                        age_recipient=recipient, is_active="y").status_code == 302
    authority = db.scalar(select(Authority))
    with new_events(app) as changed:
        assert ada.post(f"/staff/admin/authorities/{authority.public_id}", name="Prosecutor",
                        age_recipient=recipient).status_code == 302
    assert added == [Event("authority.added", ada.member.public_id, ADMIN, "authority",
                           authority.public_id)]
    assert changed == [Event("authority.changed", ada.member.public_id, ADMIN, "authority",
                             authority.public_id)]


def test_referral_preview_referral_and_package(app, db, full_case, hana, ada):
    ada.post("/staff/admin/authorities/new", name="Prosecutor", is_active="y",
             age_recipient=str(generate_identity(post_quantum=False).recipient))
    choice = {"authority": db.scalar(select(Authority.public_id)), "include_answers": "y",
              "marked_what": "The [[mayor's office]] took a bribe for the bridge contract."}
    with new_events(app) as previewed:
        assert hana.post(f"/staff/cases/{full_case}/referral/preview",
                         **choice).status_code == 200
    with new_events(app) as referred:
        assert hana.post(f"/staff/cases/{full_case}/referral", **choice).status_code == 302
    referral_id = db.scalar(select(Referral.public_id))
    with new_events(app) as downloaded:
        package = hana.post(f"/staff/cases/{full_case}/referrals/{referral_id}/package")
        assert package.data.startswith(b"age-encryption.org/v1")
    assert previewed == [case_event("case.referral_previewed", hana.member, full_case)]
    # The channel tells the reporter (its default): the notice is a message of the case.
    assert referred == [case_event("case.referred", hana.member, full_case),
                        case_event("report.message_sent", hana.member, full_case)]
    assert downloaded == [case_event("case.referral_downloaded", hana.member, full_case)]


def test_identity_request_for_a_referral(app, full_case, hana):
    with new_events(app) as requested:
        assert hana.post(f"/staff/cases/{full_case}/referral/identity-request",
                         justification=JUSTIFICATION).status_code == 302
    assert requested == [case_event("identity.access_requested", hana.member, full_case)]


# --- retention ----------------------------------------------------------------------------


def test_purge(app, db, full_case, hana):
    hana.post(f"/staff/cases/{full_case}/status", status="closed", outcome="not_substantiated",
              close_anyway="y")
    purge_day = db.scalar(select(Report.purge_after))
    with new_events(app) as added, app.app_context():
        with get_database(app).session_factory() as session:
            purged = purge_expired_reports(session, purge_day)
            session.commit()
        delete_blobs(get_blob_store(), purged.blob_names)
    assert purged.report_ids == (full_case,)
    assert added == [Event("report.purged", None, "system", "report", full_case)]


def test_a_case_opened_without_a_grant_is_logged_as_denied(app, full_case, make_staff):
    outsider = Browser(app, make_staff("zoe", Role.CASE_HANDLER))
    who = (outsider.member.public_id, HANDLER)
    with new_events(app) as added:
        assert outsider.client.get(f"/staff/cases/{full_case}").status_code == 404
        assert outsider.client.get("/staff/cases/no-such-case").status_code == 404
    assert added == [Event("case.read", *who, "report", full_case, "denied"),
                     Event("case.read", *who, "report", None, "denied")]


def test_a_page_beyond_ones_role_is_logged_as_denied(app, hana):
    with new_events(app) as added:
        assert hana.client.get("/staff/admin/accounts").status_code == 403
    assert added == [Event("staff.access_denied", hana.member.public_id, HANDLER, None, None,
                           "denied")]


def test_a_refused_change_is_logged_as_failed(app, full_case, hana):
    path = f"/staff/cases/{full_case}/status"
    hana.post(path, status="investigation")
    with new_events(app) as added:
        assert hana.post(path, status="assessment").status_code == 400  # backwards
    # The attempt, then the case page that explains the refusal (itself a read).
    assert added == [case_event("case.status_changed", hana.member, full_case)._replace(
                         outcome="failure"),
                     case_event("case.read", hana.member, full_case)]
