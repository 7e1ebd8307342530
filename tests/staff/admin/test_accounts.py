"""Administrators create accounts and reset second factors; each act is an audit event."""

import re

import pytest
from sqlalchemy import select

from reporting_portal.storage.models import AuditEvent, Role, StaffAccount
from tests.helpers import csrf_token, https_client

pytestmark = pytest.mark.database


def test_admin_creates_an_account_and_sees_the_one_time_password_once(
    client, make_staff, sign_in, db
):
    admin = make_staff("ada", Role.ADMINISTRATOR)
    sign_in(admin)
    response = client.post(
        "/staff/admin/accounts/new",
        data={"csrf_token": csrf_token(client, "/staff/admin/accounts/new"),
              "username": "Bea.Lopez", "display_name": "Bea López",
              "roles": ["case_handler", "identity_custodian"]},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    one_time = re.search(r'id="one-time-password">([^<]+)<', page).group(1)
    assert len(one_time) >= 20
    listing = client.get("/staff/admin/accounts").get_data(as_text=True)
    assert "Bea López" in listing
    assert "bea.lopez" in listing
    assert one_time not in listing

    account = db.scalar(select(StaffAccount).where(StaffAccount.username == "bea.lopez"))
    assert account.role_set == {Role.CASE_HANDLER, Role.IDENTITY_CUSTODIAN}
    assert account.must_change_password
    assert one_time not in account.password_hash
    created = db.scalars(select(AuditEvent).where(AuditEvent.action == "account.created")).all()
    assert [(e.actor_id, e.object_id) for e in created][-1] == (admin.public_id, account.public_id)


def test_account_without_role_or_with_bad_name_is_refused(client, make_staff, sign_in, db):
    sign_in(make_staff("ada", Role.ADMINISTRATOR))
    token = csrf_token(client, "/staff/admin/accounts/new")
    no_role = client.post("/staff/admin/accounts/new",
                          data={"csrf_token": token, "username": "x1y", "display_name": "X"})
    assert "Choose at least one role." in no_role.get_data(as_text=True)
    bad_name = client.post("/staff/admin/accounts/new",
                           data={"csrf_token": token, "username": "../etc",
                                 "display_name": "X", "roles": ["auditor"]})
    assert "Account names are 3 to 64 characters" in bad_name.get_data(as_text=True)
    taken = client.post("/staff/admin/accounts/new",
                        data={"csrf_token": token, "username": "ada",
                              "display_name": "X", "roles": ["auditor"]})
    assert "That account name is taken" in taken.get_data(as_text=True)
    assert db.scalar(select(StaffAccount).where(StaffAccount.username == "x1y")) is None


def test_reset_two_factor_makes_the_person_enrol_again(app, client, make_staff, sign_in, db):
    sign_in(make_staff("ada", Role.ADMINISTRATOR))
    hana = make_staff("hana")
    response = client.post(
        f"/staff/admin/accounts/{hana.public_id}/reset-two-factor",
        data={"csrf_token": csrf_token(client, "/staff/admin/accounts")},
    )
    assert response.status_code == 302
    assert "enrols again" in client.get("/staff/admin/accounts").get_data(as_text=True)
    events = db.scalars(select(AuditEvent).where(AuditEvent.action == "account.totp_reset"))
    assert [e.object_id for e in events] == [hana.public_id]

    browser = https_client(app)
    browser.post("/staff/sign-in", data={
        "csrf_token": csrf_token(browser, "/staff/sign-in"), "username": "hana",
        "password": hana.password, "code": ""})
    assert browser.get("/staff/sign-in/continue").headers["Location"] == (
        "/staff/sign-in/two-factor")
    # The enrolment page offers a new secret.
    assert "<svg" in browser.get("/staff/sign-in/two-factor").get_data(as_text=True)


def test_deactivated_account_is_signed_out_and_cannot_return(app, client, make_staff, sign_in):
    sign_in(make_staff("ada", Role.ADMINISTRATOR))
    hana = make_staff("hana")
    other = https_client(app)
    other.post("/staff/sign-in", data={
        "csrf_token": csrf_token(other, "/staff/sign-in"), "username": "hana",
        "password": hana.password, "code": hana.code()})
    other.get("/staff/sign-in/continue")
    assert other.get("/staff/").status_code == 200
    client.post(f"/staff/admin/accounts/{hana.public_id}/deactivate",
                data={"csrf_token": csrf_token(client, "/staff/admin/accounts")})
    assert other.get("/staff/").status_code == 302


def test_account_actions_need_post_and_a_known_action(client, make_staff, sign_in):
    sign_in(make_staff("ada", Role.ADMINISTRATOR))
    hana = make_staff("hana")
    assert client.get(f"/staff/admin/accounts/{hana.public_id}/deactivate").status_code == 405
    token = csrf_token(client, "/staff/admin/accounts")
    response = client.post(f"/staff/admin/accounts/{hana.public_id}/delete-everything",
                           data={"csrf_token": token})
    assert response.status_code == 404
