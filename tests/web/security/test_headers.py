"""The security baseline, on every page a person can reach."""

import re

import pytest
from sqlalchemy import select

from reporting_portal.storage.models import Role

pytestmark = pytest.mark.database

PUBLIC_PAGES = ["/", "/staff/sign-in", "/healthz", "/no-such-page"]
STAFF_PAGES = ["/staff/", "/staff/admin/accounts", "/staff/admin/accounts/new", "/staff/cases",
               "/staff/admin/labels", "/staff/cases/my-identity",
               "/staff/account/password", "/staff/admin/channels", "/staff/admin/channels/new"]
REPORTER_PAGES = ["/report", "/followup"]


def assert_baseline(response, *, secure=True):
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    for directive in ("default-src 'self'", "frame-ancestors 'none'", "form-action 'self'",
                      "base-uri 'none'", "object-src 'none'"):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert re.search(r"script-src 'self' 'nonce-[\w-]{20,}'", csp)
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "camera=()" in headers["Permissions-Policy"]
    assert "geolocation=()" in headers["Permissions-Policy"]
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["Cross-Origin-Resource-Policy"] == "same-origin"
    assert headers["Cache-Control"] == "no-store"
    if secure:
        assert headers["Strict-Transport-Security"].startswith("max-age=63072000")
    else:
        assert "Strict-Transport-Security" not in headers


@pytest.mark.parametrize("path", PUBLIC_PAGES + REPORTER_PAGES)
def test_public_pages_carry_every_header(client, path):
    assert_baseline(client.get(path))


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_staff_pages_carry_every_header(client, make_staff, sign_in, path):
    sign_in(make_staff("ada", Role.ADMINISTRATOR, Role.CASE_HANDLER))
    response = client.get(path)
    assert response.status_code == 200
    assert_baseline(response)


def test_hsts_only_over_tls(app):
    app.test_client_class = None
    plain = app.test_client()
    assert_baseline(plain.get("/"), secure=False)


def test_each_response_gets_a_fresh_nonce(client):
    first = client.get("/").headers["Content-Security-Policy"]
    second = client.get("/").headers["Content-Security-Policy"]
    assert first != second


def test_static_files_are_cacheable_but_still_locked_down(client):
    with client.get("/static/css/portal.css") as response:
        assert response.status_code == 200
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "no-store" not in response.headers["Cache-Control"]


def test_session_cookie_is_host_prefixed_secure_httponly_strict(client):
    client.get("/staff/sign-in")  # the CSRF token starts a session
    cookie = client.get_cookie("__Host-session")
    assert cookie is not None
    assert cookie.secure
    assert cookie.http_only
    assert cookie.same_site == "Strict"
    assert cookie.path == "/"
    assert cookie.domain in ("", "localhost")


def test_landing_page_sets_no_cookie(client):
    response = client.get("/")
    assert "Set-Cookie" not in response.headers


ERROR_PROBES = {
    "/no-such-page": 404,
    "/report/no-such-channel": 404,
    "/static/../../etc/passwd": 404,
    "/static/js/no-such-file.js": 404,
    "/healthz?x=%ff%fe": 200,
}


@pytest.mark.parametrize(("path", "status"), sorted(ERROR_PROBES.items()))
def test_error_pages_reveal_nothing(client, installed, path, status):
    response = client.get(path)
    body = response.get_data(as_text=True)
    assert response.status_code == status
    if status == 404:
        assert "There is nothing at this address." in body
    for leak in ("Traceback", "werkzeug", "Werkzeug", "sqlalchemy", "/work/", "etc/passwd"):
        assert leak not in body


def test_unexpected_error_shows_generic_page_and_rolls_back(app, client, db):
    from reporting_portal.storage.models import Label
    from reporting_portal.web.database import get_session
    from reporting_portal.web.security.access import public

    @public
    def explode():
        get_session().add(Label(name="half-way"))
        get_session().flush()  # written to the database, inside the request's transaction
        raise RuntimeError("secret detail /etc/shadow")

    app.add_url_rule("/explode", "explode", explode)
    response = client.get("/explode")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Something went wrong on our side" in body
    assert "secret detail" not in body
    assert "RuntimeError" not in body
    assert db.scalars(select(Label.name)).all() == []


def test_a_response_that_sets_its_own_policy_keeps_it(app, client):
    from flask import Response

    from reporting_portal.web.security.access import public
    from reporting_portal.web.security.headers import DOWNLOAD_CSP, as_download

    @public
    def download():
        return as_download(Response(b"<script>alert(1)</script>", mimetype="text/html"),
                           "evidence.html")

    app.add_url_rule("/a-download", "a_download", download)
    response = client.get("/a-download")
    assert response.headers["Content-Security-Policy"] == DOWNLOAD_CSP
    assert response.headers["Content-Disposition"] == 'attachment; filename="evidence.html"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"  # the rest still applies


def assert_download(response, filename_start):
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith(
        f'attachment; filename="{filename_start}')
    assert response.headers["Content-Security-Policy"] == "sandbox; default-src 'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


def test_the_auditors_downloads_keep_their_sandbox(client, installed, make_staff, sign_in):
    sign_in(make_staff("aude", Role.AUDITOR))
    assert_download(client.get("/staff/audit/head"), "audit-head-")
    assert_download(client.get("/staff/audit/events/0?format=json"), "audit-proof-0.json")
    assert_download(client.get("/staff/audit/export"), "audit-")


def test_the_case_handlers_downloads_keep_their_sandbox(client, db, channel_with_handlers,
                                                        sign_in):
    import io

    from reporting_portal.storage.models import Report
    from tests.helpers import csrf_token, hidden_fields

    form = "/report/corruption"
    sent = client.post(form, data={
        **hidden_fields(client, form), "q_what": "The tender was rigged.",
        "q_when": "2026-11-02", "q_where": "Ministry", "q_kind": ["Fraud"],
        "q_how_known": "I found documents",
        "q_evidence": [(io.BytesIO(b"<html><script>alert(1)</script>"), "page.html",
                        "text/html")]}, content_type="multipart/form-data")
    assert sent.status_code == 303
    client.delete_cookie("__Host-session", domain="localhost")
    hana = channel_with_handlers["hana"]
    sign_in(hana)
    case = db.scalar(select(Report.public_id))
    page = client.get(f"/staff/cases/{case}").get_data(as_text=True)
    file_path = re.search(rf'href="(/staff/cases/{case}/files/[^"]+)"', page).group(1)
    assert_download(client.get(file_path), "page.html")
    token = csrf_token(client, f"/staff/cases/{case}")
    assert_download(client.post(f"/staff/cases/{case}/export", data={"csrf_token": token}),
                    f"case-{case}")
    identity = client.post("/staff/cases/my-identity", data={
        "csrf_token": csrf_token(client, "/staff/cases/my-identity"),
        "password": hana.password})
    assert_download(identity, "identity-hana.txt")
