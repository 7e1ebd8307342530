"""Every route names who may reach it, and the rules hold."""

import pytest

from reporting_portal.storage.models import Role
from reporting_portal.web.security.access import rule_for

pytestmark = pytest.mark.database


@pytest.mark.parametrize("surface", ["combined", "reporter", "staff"])
def test_every_route_has_an_access_rule(make_app, surface):
    app = make_app(surface)
    missing = [rule.endpoint for rule in app.url_map.iter_rules()
               if rule_for(app, rule.endpoint) is None]
    assert missing == []


REPORTER_BLUEPRINTS = {"reporter", "intake", "followup"}
STAFF_BLUEPRINTS = {"auth", "staff_home", "admin", "casework", "custody", "audit"}


def blueprints_of(app):
    """The blueprint of every endpoint (``None`` for the app's own, such as ``static``)."""
    return {rule.endpoint.rpartition(".")[0] or None for rule in app.url_map.iter_rules()}


def test_the_combined_app_has_both_zones(make_app):
    # Guards the two tests below: they mean something only if these names are right.
    assert blueprints_of(make_app("combined")) >= REPORTER_BLUEPRINTS | STAFF_BLUEPRINTS


def test_reporter_surface_has_no_staff_route(make_app):
    app = make_app("reporter")
    assert blueprints_of(app) & STAFF_BLUEPRINTS == set()
    staff_routes = [r.rule for r in app.url_map.iter_rules() if r.rule.startswith("/staff")]
    assert staff_routes == []
    assert app.test_client().get("/staff/sign-in").status_code == 404


def test_staff_surface_has_no_reporter_pages(make_app):
    app = make_app("staff")
    assert blueprints_of(app) & REPORTER_BLUEPRINTS == set()
    reporter_routes = [r.rule for r in app.url_map.iter_rules()
                       if r.rule.startswith(("/report", "/followup"))]
    assert reporter_routes == []
    client = app.test_client()
    assert client.get("/report/corruption").status_code == 404
    assert client.get("/followup").status_code == 404


def test_a_route_without_a_rule_is_refused(app, client):
    app.add_url_rule("/forgotten", "forgotten", lambda: "should never be seen")
    response = client.get("/forgotten")
    assert response.status_code == 403
    assert "should never be seen" not in response.get_data(as_text=True)


def test_staff_pages_send_anonymous_visitors_to_sign_in(client):
    for path in ("/staff/", "/staff/admin/accounts", "/staff/account/password"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"] == "/staff/sign-in"


def test_admin_pages_refuse_other_roles(client, make_staff, sign_in):
    sign_in(make_staff("carl", Role.CASE_HANDLER, Role.AUDITOR))
    assert client.get("/staff/admin/accounts").status_code == 403
    assert client.get("/staff/admin/accounts/new").status_code == 403


def test_half_signed_in_person_reaches_only_the_sign_in_steps(app, client, db):
    from reporting_portal.domain.accounts import create_account
    from reporting_portal.domain.actors import Actor
    from reporting_portal.domain.passwords import get_passwords
    from tests.helpers import csrf_token

    with app.app_context():
        created = create_account(db, get_passwords(), Actor(None, "system"),
                                 username="newbie", display_name="New",
                                 roles=[Role.ADMINISTRATOR])
        db.commit()
    client.post("/staff/sign-in", data={
        "csrf_token": csrf_token(client, "/staff/sign-in"), "username": "newbie",
        "password": created.one_time_password, "code": ""})
    assert client.get("/staff/sign-in/two-factor").status_code == 200
    for path in ("/staff/", "/staff/admin/accounts"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"] == "/staff/sign-in/continue"
