"""The inbox's query string is the handler's to type: odd values are ignored, never a 500."""

import pytest

from reporting_portal.storage.models import Role

pytestmark = pytest.mark.database


@pytest.mark.parametrize("query", ["channel=%00", "label=a%00b", "channel=" + "x" * 5000,
                                   "page=" + "9" * 5000, "sort=%00", "status=%00"])
def test_odd_inbox_filters_are_ignored(client, make_staff, sign_in, installed, query):
    sign_in(make_staff("hana", Role.CASE_HANDLER))
    response = client.get(f"/staff/cases?{query}")
    assert response.status_code == 200
    assert "Sorry" not in response.get_data(as_text=True)
