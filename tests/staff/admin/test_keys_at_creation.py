
"""A staff member's key exists from the day the account is made (issue: first run).

An administrator can therefore assign a case handler to a channel before that person has
ever signed in, reporters can use the channel at once, and the handler reads those reports
after choosing a password, which re-wraps the same key.
"""

import re

import pytest
from sqlalchemy import select

from crypto.errors import KeyWrapError
from crypto.keys import parse_identity
from crypto.keywrap import unwrap_with_password
from reporting_portal.audit.events import SYSTEM
from reporting_portal.domain.accounts import create_account
from reporting_portal.domain.actors import Actor
from reporting_portal.domain.passwords import get_passwords
from reporting_portal.storage.models import Channel, Role, StaffAccount
from tests.helpers import csrf_token, first_sign_in, hidden_fields, https_client

pytestmark = pytest.mark.database

NEW_PASSWORD = "granite window orchard signal"
MARKER = "The permit office sold licences for cash (key-at-creation marker)."


def account_named(db, username):
    db.expire_all()
    return db.scalar(select(StaffAccount).where(StaffAccount.username == username))


def test_a_new_account_has_a_key_wrapped_under_its_one_time_password(app, db, installed):
    with app.app_context():
        created = create_account(db, get_passwords(), Actor(None, SYSTEM), username="nadia",
                                 display_name="Nadia", roles=[Role.CASE_HANDLER])
        db.commit()
    account = account_named(db, "nadia")
    assert account.age_recipient.startswith("age1pq1")
    secret = unwrap_with_password(account.wrapped_identity, created.one_time_password)
    assert str(parse_identity(secret.decode()).recipient) == account.age_recipient


def test_a_handler_assigned_before_signing_in_reads_the_report_afterwards(
    app, client, db, installed, make_staff, sign_in
):
    sign_in(make_staff("ada", Role.ADMINISTRATOR))
    page = client.post("/staff/admin/accounts/new", data={
        "csrf_token": csrf_token(client, "/staff/admin/accounts/new"), "username": "nadia",
        "display_name": "Nadia Handler", "email": "", "roles": ["case_handler"]})
    one_time = page.get_data(as_text=True).split('id="one-time-password">')[1].split("<")[0]
    nadia = account_named(db, "nadia")
    channel = db.scalar(select(Channel).where(Channel.slug == installed.channel_slug))
    path = f"/staff/admin/channels/{channel.public_id}"
    assigned = client.post(path, data={
        "csrf_token": csrf_token(client, path), "place_en": "1", "name_en": channel.name,
        "slug": channel.slug, "description_en": channel.description,
        "retention_days": str(channel.retention_days),
        "notify_identity_disclosure": "y", "is_active": "y", "handlers": [nadia.public_id]})
    assert assigned.status_code == 302

    reporter = https_client(app)
    form = f"/report/{installed.channel_slug}"
    sent = reporter.post(form, data={
        **hidden_fields(reporter, form), "q_what": MARKER, "q_when": "2026-11-30",
        "q_where": "Permit office", "q_kind": ["Bribery"], "q_how_known": "I found documents"},
        content_type="multipart/form-data")
    assert sent.status_code == 303, sent.get_data(as_text=True)

    handler = https_client(app)
    first_sign_in(handler, "nadia", one_time, NEW_PASSWORD)
    inbox = handler.get("/staff/cases").get_data(as_text=True)
    case_path = re.search(r'href="/staff/cases/([\w-]{22})"', inbox).group(1)
    case_page = handler.get(f"/staff/cases/{case_path}").get_data(as_text=True)
    assert "The permit office sold licences for cash" in case_page

    account = account_named(db, "nadia")
    assert account.age_recipient == nadia.age_recipient  # the same key, re-wrapped
    assert unwrap_with_password(account.wrapped_identity, NEW_PASSWORD)
    with pytest.raises(KeyWrapError):
        unwrap_with_password(account.wrapped_identity, one_time)
