"""Identity kept apart: a handler learns who reported only after a custodian approves.

Over the real cryptography: each test decrypts (or fails to decrypt) the identity object
with the staff members' own age identities, as an attacker with the database would.
"""

from __future__ import annotations

import pytest
from babel.dates import format_date
from sqlalchemy import select

from crypto import NoMatchError
from reporting_portal.storage.models import (
    AuditEvent,
    Channel,
    IdentityAccessRequest,
    ObjectKind,
    Report,
    ReportObject,
    Role,
)
from tests.helpers import csrf_token, hidden_fields
from tests.helpers.custody import REASON, ask, the_request
from tests.helpers.reporting import (
    CONTENT_MARKER,
    REPORTER_CONTACT,
    REPORTER_NAME,
    decrypt_object,
    objects_of,
    open_mailbox,
)
from tests.helpers.staff import signed_in

pytestmark = pytest.mark.database

def identity_object(db) -> ReportObject:
    db.expire_all()
    [obj] = objects_of(db, db.scalar(select(Report)), ObjectKind.IDENTITY)
    return obj


def opens(settings, db, member_identity: str, obj: ReportObject | None = None) -> bool:
    try:
        decrypt_object(settings, obj or identity_object(db), member_identity)
    except NoMatchError:
        return False
    return True


def decide(browser, request_id, decision, reason=REASON):
    path = f"/staff/identity-requests/{request_id}"
    return browser.post(path, data={"csrf_token": csrf_token(browser, "/staff/identity-requests"),
                                    "decision": decision, "reason": reason})


def actions(db, *tags):
    db.expire_all()
    return [(e.action, e.actor_id, e.outcome) for e in db.scalars(
        select(AuditEvent).where(AuditEvent.action.in_(tags)).order_by(AuditEvent.id))]


def test_identity_is_encrypted_to_custodians_and_recovery_only(
        app, client, db, settings, case_with_identity, installed, channel_with_handlers):
    hana, omar, cleo = (channel_with_handlers[n] for n in ("hana", "omar", "cleo"))
    assert opens(settings, db, cleo.identity)
    assert opens(settings, db, installed.recovery_identity)
    assert not opens(settings, db, hana.identity)
    assert not opens(settings, db, omar.identity)
    page = signed_in(app, hana).get(f"/staff/cases/{case_with_identity}").get_data(as_text=True)
    assert "The reporter gave their identity" in page
    assert CONTENT_MARKER in page  # the handler reads the report...
    assert REPORTER_NAME not in page
    assert REPORTER_CONTACT not in page


def test_approval_lets_only_the_requester_decrypt(
        app, db, settings, case_with_identity, channel_with_handlers):
    hana, omar, cleo = (channel_with_handlers[n] for n in ("hana", "omar", "cleo"))
    hana_browser = signed_in(app, hana)
    header_before = identity_object(db).header
    assert ask(hana_browser, case_with_identity).status_code == 302
    assert identity_object(db).header == header_before  # asking changes nothing
    assert not opens(settings, db, hana.identity)
    assert hana_browser.get(f"/staff/cases/{case_with_identity}/identity").status_code == 403
    assert "waiting for an identity custodian" in hana_browser.get(
        f"/staff/cases/{case_with_identity}").get_data(as_text=True)

    response = decide(signed_in(app, cleo), the_request(db).public_id, "approve")
    assert response.status_code == 302
    assert the_request(db).status == "approved"
    assert opens(settings, db, hana.identity)
    assert not opens(settings, db, omar.identity)
    assert opens(settings, db, cleo.identity)

    page = hana_browser.get(f"/staff/cases/{case_with_identity}/identity").get_data(as_text=True)
    assert REPORTER_NAME in page
    assert REPORTER_CONTACT in page
    assert REPORTER_NAME not in signed_in(app, omar).get(
        f"/staff/cases/{case_with_identity}").get_data(as_text=True)
    assert actions(db, "identity.access_requested", "identity.access_approved",
                   "identity.viewed") == [
        ("identity.access_requested", hana.public_id, "success"),
        ("identity.access_approved", cleo.public_id, "success"),
        ("identity.viewed", hana.public_id, "success"),
    ]


def test_denial_changes_nothing(app, db, settings, case_with_identity, channel_with_handlers,
                                client):
    hana, cleo = channel_with_handlers["hana"], channel_with_handlers["cleo"]
    hana_browser = signed_in(app, hana)
    ask(hana_browser, case_with_identity)
    header_before = identity_object(db).header
    assert decide(signed_in(app, cleo), the_request(db).public_id, "deny",
                  "Not necessary: interview through the case handler.").status_code == 302
    assert identity_object(db).header == header_before
    assert not opens(settings, db, hana.identity)
    assert hana_browser.get(f"/staff/cases/{case_with_identity}/identity").status_code == 403
    page = hana_browser.get(f"/staff/cases/{case_with_identity}").get_data(as_text=True)
    assert "Your request was denied" in page
    assert "interview through the case handler" in page
    assert actions(db, "identity.access_denied") == [
        ("identity.access_denied", cleo.public_id, "success")]
    open_mailbox(client, client.receipt_code)
    assert 'id="identity-disclosed"' not in client.get("/followup/mailbox").get_data(
        as_text=True)


def test_custodian_cannot_read_the_report(app, db, settings, case_with_identity,
                                          channel_with_handlers):
    hana, cleo = channel_with_handlers["hana"], channel_with_handlers["cleo"]
    [content] = objects_of(db, db.scalar(select(Report)), ObjectKind.CONTENT)
    assert not opens(settings, db, cleo.identity, content)
    ask(signed_in(app, hana), case_with_identity)
    custodian = signed_in(app, cleo)
    assert custodian.get(f"/staff/cases/{case_with_identity}").status_code == 403
    listing = custodian.get("/staff/identity-requests").get_data(as_text=True)
    detail = custodian.get(f"/staff/identity-requests/{the_request(db).public_id}").get_data(
        as_text=True)
    for page in (listing, detail):
        assert case_with_identity[:8] in page
        assert "Report corruption" in page
        assert CONTENT_MARKER not in page
        assert REPORTER_NAME not in page
    assert "before the prosecutor" in detail


def test_administrator_who_is_not_a_custodian_cannot_decide(
        app, db, case_with_identity, channel_with_handlers, make_staff):
    ask(signed_in(app, channel_with_handlers["hana"]), case_with_identity)
    admin = signed_in(app, make_staff("ines", Role.ADMINISTRATOR))
    assert admin.get("/staff/identity-requests").status_code == 403
    request_id = the_request(db).public_id
    response = admin.post(f"/staff/identity-requests/{request_id}", data={
        "csrf_token": csrf_token(admin, "/staff/"), "decision": "approve", "reason": REASON})
    assert response.status_code == 403
    assert the_request(db).status == "pending"


def test_a_handler_who_is_a_custodian_cannot_approve_their_own_request(
        app, db, settings, case_with_identity, channel_with_handlers, make_staff):
    vera = make_staff("vera", Role.CASE_HANDLER, Role.IDENTITY_CUSTODIAN)
    hana_browser = signed_in(app, channel_with_handlers["hana"])
    hana_browser.post(f"/staff/cases/{case_with_identity}/handlers", data={
        **hidden_fields(hana_browser, f"/staff/cases/{case_with_identity}"),
        "handler": vera.public_id})
    vera_browser = signed_in(app, vera)
    assert ask(vera_browser, case_with_identity).status_code == 302
    request_id = the_request(db).public_id
    header_before = identity_object(db).header
    listing = vera_browser.get("/staff/identity-requests").get_data(as_text=True)
    assert "Your own request" in listing
    response = decide(vera_browser, request_id, "approve")
    assert response.status_code == 400
    assert "cannot decide your own request" in response.get_data(as_text=True)
    assert the_request(db).status == "pending"
    assert identity_object(db).header == header_before
    assert actions(db, "identity.access_approved") == [
        ("identity.access_approved", vera.public_id, "failure")]
    assert decide(signed_in(app, channel_with_handlers["cleo"]), request_id,
                  "approve").status_code == 302
    assert opens(settings, db, vera.identity)


def test_a_justification_is_required_and_bounded(app, db, case_with_identity,
                                                 channel_with_handlers):
    hana_browser = signed_in(app, channel_with_handlers["hana"])
    for too_short in ("", "I need it.", " " * 60):
        response = ask(hana_browser, case_with_identity, too_short)
        assert response.status_code == 400
        assert "Write at least 40 and at most 4000 characters." in response.get_data(
            as_text=True)
    assert ask(hana_browser, case_with_identity, "x" * 4001).status_code == 400
    assert db.scalars(select(IdentityAccessRequest)).all() == []
    hana = channel_with_handlers["hana"].public_id
    assert actions(db, "identity.access_requested") == [
        ("identity.access_requested", hana, "failure")] * 4  # each attempt, refused


def test_a_decision_needs_a_reason(app, db, case_with_identity, channel_with_handlers):
    ask(signed_in(app, channel_with_handlers["hana"]), case_with_identity)
    custodian = signed_in(app, channel_with_handlers["cleo"])
    response = decide(custodian, the_request(db).public_id, "approve", "ok")
    assert response.status_code == 400
    assert the_request(db).status == "pending"


def test_reporter_is_told_of_the_disclosure_and_when(
        app, client, db, case_with_identity, channel_with_handlers):
    ask(signed_in(app, channel_with_handlers["hana"]), case_with_identity)
    decide(signed_in(app, channel_with_handlers["cleo"]), the_request(db).public_id, "approve")
    open_mailbox(client, client.receipt_code)
    page = client.get("/followup/mailbox").get_data(as_text=True)
    day = the_request(db).decided_at.date()
    assert 'id="identity-disclosed"' in page
    # The day in words of the page's language, and in ISO form for machines.
    written = f'<time datetime="{day.isoformat()}">{format_date(day, "medium", locale="en")}</time>'
    assert f"On {written} an identity custodian allowed a case handler" in page


def test_the_notice_follows_the_channel_setting(app, client, db, case_with_identity,
                                                channel_with_handlers):
    db.scalar(select(Channel)).notify_identity_disclosure = False
    db.commit()
    ask(signed_in(app, channel_with_handlers["hana"]), case_with_identity)
    decide(signed_in(app, channel_with_handlers["cleo"]), the_request(db).public_id, "approve")
    open_mailbox(client, client.receipt_code)
    assert 'id="identity-disclosed"' not in client.get("/followup/mailbox").get_data(
        as_text=True)


def test_a_custodian_who_joined_later_is_told_to_leave_it_to_another(
        app, db, case_with_identity, channel_with_handlers, make_staff):
    ask(signed_in(app, channel_with_handlers["hana"]), case_with_identity)
    nina = make_staff("nina", Role.IDENTITY_CUSTODIAN)
    response = decide(signed_in(app, nina), the_request(db).public_id, "approve")
    assert response.status_code == 400
    assert "Another custodian must decide" in response.get_data(as_text=True)
    assert the_request(db).status == "pending"


def reseal(browser):
    return browser.post("/staff/identity-requests/reseal", data={
        "csrf_token": csrf_token(browser, "/staff/identity-requests")})


def test_resealing_lets_a_later_custodian_decide(app, db, settings, case_with_identity,
                                                channel_with_handlers, make_staff):
    nina = make_staff("nina", Role.IDENTITY_CUSTODIAN)
    assert not opens(settings, db, nina.identity)
    response = reseal(signed_in(app, channel_with_handlers["cleo"]))
    assert response.status_code == 302
    assert opens(settings, db, nina.identity)
    assert opens(settings, db, channel_with_handlers["cleo"].identity)
    assert not opens(settings, db, channel_with_handlers["hana"].identity)
    ask(signed_in(app, channel_with_handlers["hana"]), case_with_identity)
    assert decide(signed_in(app, nina), the_request(db).public_id, "approve").status_code == 302
    assert opens(settings, db, channel_with_handlers["hana"].identity)
    assert actions(db, "identity.resealed") == [
        ("identity.resealed", channel_with_handlers["cleo"].public_id, "success")]


def test_resealing_takes_the_identity_from_a_handler_who_left_the_case(
        app, client, db, settings, case_with_identity, channel_with_handlers):
    hana, omar, cleo = (channel_with_handlers[n] for n in ("hana", "omar", "cleo"))
    ask(signed_in(app, hana), case_with_identity)
    decide(signed_in(app, cleo), the_request(db).public_id, "approve")
    assert opens(settings, db, hana.identity)
    omar_browser = signed_in(app, omar)
    omar_browser.post(f"/staff/cases/{case_with_identity}/handlers/{hana.public_id}/remove", data={
        **hidden_fields(omar_browser, f"/staff/cases/{case_with_identity}")})
    assert opens(settings, db, hana.identity)  # the app no longer shows it; the key still could
    reseal(signed_in(app, cleo, 1))
    assert not opens(settings, db, hana.identity)
    assert opens(settings, db, cleo.identity)
    assert the_request(db).status == "withdrawn"
    open_mailbox(client, client.receipt_code)
    assert 'id="identity-disclosed"' in client.get("/followup/mailbox").get_data(as_text=True)


def every_stored_value(db):
    """Every value of every row of every table, as stored: what a stolen database holds."""
    from reporting_portal.storage.db import Base

    db.expire_all()
    for table in Base.metadata.sorted_tables:
        for row in db.execute(select(table)).all():
            yield from (value for value in row if isinstance(value, str | bytes))


def test_justification_and_reason_are_sealed_for_custodians_requester_and_recovery(
        app, db, case_with_identity, installed, channel_with_handlers, make_staff):
    import io

    from crypto import decrypt
    from crypto.keys import parse_identity

    hana, omar, cleo = (channel_with_handlers[n] for n in ("hana", "omar", "cleo"))
    justification = "The witness named the deputy mayor (justification marker 5d1e); " * 2
    reason = "Not proportionate yet (reason marker 9a7c); interview through the handler."
    hana_browser = signed_in(app, hana)
    ask(hana_browser, case_with_identity, justification)
    custodian = signed_in(app, cleo)
    detail = custodian.get(f"/staff/identity-requests/{the_request(db).public_id}")
    assert "justification marker 5d1e" in detail.get_data(as_text=True)
    decide(custodian, the_request(db).public_id, "deny", reason)
    assert "reason marker 9a7c" in hana_browser.get(f"/staff/cases/{case_with_identity}").get_data(
        as_text=True)

    for value in every_stored_value(db):
        data = value.encode() if isinstance(value, str) else value
        assert b"marker 5d1e" not in data
        assert b"marker 9a7c" not in data

    request = the_request(db)
    for sealed, marker in ((request.sealed_justification, b"marker 5d1e"),
                           (request.sealed_decision_reason, b"marker 9a7c")):
        for reader in (hana.identity, cleo.identity, installed.recovery_identity):
            opened = io.BytesIO()
            decrypt(io.BytesIO(sealed), opened, [parse_identity(reader)])
            assert marker in opened.getvalue()
        with pytest.raises(NoMatchError):
            decrypt(io.BytesIO(sealed), io.BytesIO(), [parse_identity(omar.identity)])

    # A custodian appointed afterwards is told why the text is not shown, not shown nothing.
    later = make_staff("lena", Role.IDENTITY_CUSTODIAN)
    listing = signed_in(app, later).get("/staff/identity-requests").get_data(as_text=True)
    assert "Written before you became a custodian" in listing
