import pytest

pytestmark = pytest.mark.database


def test_landing_page_explains_anonymity(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "How your anonymity is protected" in response.get_data(as_text=True)


def test_healthz_says_ok_and_nothing_else(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ok\n"
