"""An expired staff form (CSRF failure, or the session ended while typing) keeps what
was typed in the page, never a password or a code, stores nothing, and asks the person
to sign in again."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select
from wtforms import TextAreaField

from reporting_portal.storage.models import ObjectKind, ReportObject
from reporting_portal.web.expired_form import _label
from tests.helpers.client import csrf_token
from tests.helpers.staff import signed_in

pytestmark = pytest.mark.database

NOTE = "A long note <about> the tender, typed for twenty minutes.\nSecond line."


def kept(body: str) -> dict[str, str]:
    return {label: html.unescape(text) for label, text in re.findall(
        r'<label class="field__label" for="kept-\d+">([^<]+)</label>\s*'
        r'<textarea[^>]*>(.*?)</textarea>', body, re.S)}


def test_a_session_that_ended_while_typing_keeps_the_note(
        app, db, channel_with_handlers, case_with_file):
    browser = signed_in(app, channel_with_handlers["hana"])
    token = csrf_token(browser, f"/staff/cases/{case_with_file}")
    browser.delete_cookie("__Host-session", domain="localhost")  # the session ended
    response = browser.post(f"/staff/cases/{case_with_file}/notes",
                            data={"csrf_token": token, "note": NOTE})
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert '<body class="staff">' in body
    assert "your session ended" in body
    assert 'href="/staff/sign-in" target="_blank" rel="noopener">Sign in again in a new tab' in body
    assert kept(body) == {"Internal note (case handlers only)": NOTE}
    assert "<about>" not in body  # escaped, as any text
    assert db.scalars(select(ReportObject).where(ReportObject.kind == ObjectKind.NOTE)).all() == []


def test_a_stale_token_keeps_the_text_but_never_a_password_or_code(app, make_staff):
    browser = signed_in(app, make_staff("pat"))
    response = browser.post("/staff/account/password", data={
        "csrf_token": "stale", "current_password": "old secret words here",
        "new_password": "NEW-SECRET", "confirm_password": "NEW-SECRET", "code": "123456",
        "case_seen": "b64snapshot", "reply": "Dear reporter, thank you."})
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert kept(body) == {"Message to the reporter": "Dear reporter, thank you."}
    for secret in ("old secret words here", "NEW-SECRET", "123456", "b64snapshot", "stale"):
        assert secret not in body
    # Still signed in: asked to open the page again, not to sign in.
    assert "Open the page again" in body
    assert "Sign in again in a new tab" not in body


def test_a_reporter_form_keeps_the_reporter_page(client, installed):
    response = client.post("/followup", data={"csrf_token": "stale",
                                                      "receipt_code": "1234"})
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert '<body class="staff">' not in body
    assert "This form has expired or was not sent from this site." in body


def _staff_form_classes():
    import reporting_portal.staff.admin.forms as admin_forms
    import reporting_portal.staff.casework.forms as casework_forms
    import reporting_portal.staff.custody.forms as custody_forms

    for module in (admin_forms, casework_forms, custody_forms):
        for value in vars(module).values():
            if isinstance(value, type) and value.__module__ == module.__name__:
                yield value


def test_every_free_text_area_of_the_staff_forms_is_kept():
    areas = [name for form in _staff_form_classes() for name in dir(form)
             if getattr(getattr(form, name, None), "field_class", None) is TextAreaField]
    assert areas, "no text area found: the check is looking in the wrong place"
    assert [name for name in areas if _label(name) is None] == []
