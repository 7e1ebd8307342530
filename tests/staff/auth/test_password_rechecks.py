"""Every password check is throttled (issue 11, item 13).

A stolen session must not become an online oracle for the password: the re-checks on
``/staff/cases/my-identity`` and ``/staff/account/password`` spend a per-account budget,
and a refused check is an audit event.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from reporting_portal.storage.models import AuditEvent, StaffAccount
from tests.helpers import csrf_token, https_client

pytestmark = pytest.mark.database

REFUSED = "Too many wrong passwords. Try again in"
IDENTITY = "/staff/cases/my-identity"
PASSWORD = "/staff/account/password"


def download_identity(client, password):
    return client.post(IDENTITY, data={"csrf_token": csrf_token(client, IDENTITY),
                                       "password": password})


def change_password(client, current, new="a brand new long passphrase"):
    return client.post(PASSWORD, data={
        "csrf_token": csrf_token(client, PASSWORD), "current_password": current,
        "new_password": new, "confirm_password": new})


def throttled_events(db):
    return db.scalars(select(AuditEvent).where(
        AuditEvent.action == "staff.password_check_throttled")).all()


def test_identity_download_stops_guessing_after_five_wrong_passwords(
    client, make_staff, sign_in, db
):
    member = make_staff("hana")
    sign_in(member)
    for _ in range(5):
        wrong = download_identity(client, "a guess at the password")
        assert "That password is not right." in wrong.get_data(as_text=True)
    refused = download_identity(client, member.password)
    assert REFUSED in refused.get_data(as_text=True)
    assert "Content-Disposition" not in refused.headers  # no identity file
    assert [event.actor_id is not None for event in throttled_events(db)] == [True]


def test_a_right_password_does_not_use_up_identity_downloads(client, make_staff, sign_in):
    member = make_staff("hana")
    sign_in(member)
    for _ in range(8):
        assert download_identity(client, member.password).headers[
            "Content-Disposition"].startswith("attachment")


def test_password_change_stops_guessing_after_five_wrong_passwords(
    client, make_staff, sign_in, db
):
    member = make_staff("hana")
    sign_in(member)
    for _ in range(5):
        wrong = change_password(client, "a guess at the password")
        assert "The current password is not right." in wrong.get_data(as_text=True)
    refused = change_password(client, member.password)
    assert REFUSED in refused.get_data(as_text=True)
    db.expire_all()
    account = db.scalar(select(StaffAccount).where(StaffAccount.username == "hana"))
    # The password did not change: the old one still signs in elsewhere.
    elsewhere = https_client(client.application)
    response = elsewhere.post("/staff/sign-in", data={
        "csrf_token": csrf_token(elsewhere, "/staff/sign-in"), "username": "hana",
        "password": member.password, "code": member.code(1)})
    assert response.status_code == 302
    assert account.must_change_password is False
    assert len(throttled_events(db)) == 1


def test_the_budget_is_per_account(client, make_staff, sign_in, app):
    hana = make_staff("hana")
    omar = make_staff("omar")
    sign_in(hana)
    for _ in range(5):
        download_identity(client, "a guess at the password")
    other = https_client(app)
    other.post("/staff/sign-in", data={
        "csrf_token": csrf_token(other, "/staff/sign-in"), "username": "omar",
        "password": omar.password, "code": omar.code()})
    other.get("/staff/sign-in/continue")
    assert download_identity(other, omar.password).headers[
        "Content-Disposition"].startswith("attachment")
