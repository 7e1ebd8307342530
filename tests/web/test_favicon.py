"""The site's icon: linked from every page and served from this site, under its old name too."""

import pytest

pytestmark = pytest.mark.database


def test_every_page_links_an_icon_from_this_site(client):
    page = client.get("/report").get_data(as_text=True)
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page


def test_favicon_ico_answers_with_the_svg_icon_and_the_security_headers(client):
    with client.get("/favicon.ico") as response:
        assert response.status_code == 200
        assert response.mimetype == "image/svg+xml"
        assert response.get_data().startswith(b"<svg")
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_permissions_policy_names_only_features_chromium_knows(client):
    policy = client.get("/report").headers["Permissions-Policy"]
    assert "camera=()" in policy
    for unknown in ("ambient-light-sensor", "battery", "document-domain"):
        assert unknown not in policy
