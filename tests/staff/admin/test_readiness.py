"""The administrator's home page says what stops the installation being ready."""

import pytest
from sqlalchemy import select

from reporting_portal.storage.models import AuditEvent, Channel, Installation, Role, StaffAccount
from tests.helpers import csrf_token

pytestmark = pytest.mark.database


def checklist(client):
    page = client.get("/staff/").get_data(as_text=True)
    if 'id="readiness"' not in page:
        return None
    return page.split('id="readiness"')[1].split("</section>")[0]


def test_the_checklist_names_each_missing_step_until_all_are_done(
        client, db, installed, make_staff, sign_in):
    sign_in(make_staff("ada", Role.ADMINISTRATOR))
    steps = checklist(client)
    assert "Assign a case handler to “Report corruption”" in steps
    assert "Create an identity custodian" in steps
    assert "Create an auditor" in steps
    assert "It is stored offline" in steps

    hana = make_staff("hana", Role.CASE_HANDLER)
    channel = db.scalar(select(Channel))
    channel.handlers.append(db.scalar(select(StaffAccount).where(
        StaffAccount.username == hana.username)))
    db.commit()
    make_staff("cleo", Role.IDENTITY_CUSTODIAN)
    steps = checklist(client)
    assert "Every open channel has a case handler." in steps
    assert "An identity custodian can decide identity requests." in steps
    assert "Create an auditor" in steps

    make_staff("aude", Role.AUDITOR)
    confirmed = client.post("/staff/admin/recovery-stored",
                            data={"csrf_token": csrf_token(client, "/staff/")})
    assert confirmed.status_code == 302
    assert checklist(client) is None  # ready: the home page is back to its cards
    db.expire_all()
    assert db.scalar(select(Installation.recovery_confirmed_on)) is not None
    assert "installation.recovery_storage_confirmed" in db.scalars(
        select(AuditEvent.action)).all()


def test_only_administrators_see_it_or_confirm(client, installed, make_staff, sign_in):
    sign_in(make_staff("hana", Role.CASE_HANDLER))
    assert checklist(client) is None
    refused = client.post("/staff/admin/recovery-stored",
                          data={"csrf_token": csrf_token(client, "/staff/")})
    assert refused.status_code == 403

