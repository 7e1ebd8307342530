"""Staff members in tests: the account a test made, and signing it in through the forms."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import pyotp
from flask import Flask
from flask.testing import FlaskClient

from tests.helpers.client import csrf_token, https_client

STRONG_PASSWORD = "correct horse battery staple harbour"


@dataclass
class StaffMember:
    """A staff account made for a test, with everything needed to sign in as it."""

    username: str
    password: str
    totp_secret: str
    public_id: str
    identity: str | None = None  # the age identity's secret string, for decrypting in tests

    def code(self, offset_steps: int = 0) -> str:
        return str(pyotp.TOTP(self.totp_secret).at(int(time.time()) + 30 * offset_steps))


def first_sign_in(client: FlaskClient, username: str, one_time_password: str,
                  new_password: str) -> str:
    """A new staff member's first sign-in: one-time password, authenticator, own password.

    Returns the TOTP secret they enrolled.
    """
    client.post("/staff/sign-in", data={
        "csrf_token": csrf_token(client, "/staff/sign-in"), "username": username,
        "password": one_time_password, "code": ""})
    enrol = client.get("/staff/sign-in/two-factor").get_data(as_text=True)
    # Shown in groups of four, for reading aloud or typing.
    match = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', enrol)
    assert match, "no authenticator secret on the enrolment page"
    secret = match.group(1).replace(" ", "")
    client.post("/staff/sign-in/two-factor", data={
        "csrf_token": csrf_token(client, "/staff/sign-in/two-factor"),
        "code": pyotp.TOTP(secret).now()})
    done = client.post("/staff/sign-in/new-password", data={
        "csrf_token": csrf_token(client, "/staff/sign-in/new-password"),
        "new_password": new_password, "confirm_password": new_password})
    assert done.status_code == 302, done.get_data(as_text=True)
    assert client.get("/staff/sign-in/continue").headers["Location"] == "/staff/"
    return secret


def signed_in(app: Flask, member: StaffMember, step: int = 0) -> FlaskClient:
    """A separate browser, signed in as ``member`` (its own TOTP step, so codes differ)."""
    browser = https_client(app)
    response = browser.post("/staff/sign-in", data={
        "csrf_token": csrf_token(browser, "/staff/sign-in"), "username": member.username,
        "password": member.password, "code": member.code(step)})
    assert response.status_code == 302
    assert browser.get("/staff/sign-in/continue").headers["Location"] == "/staff/"
    return browser
