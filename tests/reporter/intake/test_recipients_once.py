"""A submission's recipients are read once per request (issue 12): the page, the checks
and the encryption then cannot disagree about who may read the report."""

import pytest

import reporting_portal.domain.recipients as recipients_module
import reporting_portal.reporter.intake.services as intake_services
import reporting_portal.reporter.intake.views as intake_views
from tests.helpers import hidden_fields

pytestmark = pytest.mark.database


def test_a_submission_reads_the_channels_recipients_once(client, channel_with_handlers,
                                                         monkeypatch):
    form = "/report/corruption"
    data = {**hidden_fields(client, form), "q_what": "Cash for permits.", "q_when": "2026-11-02",
            "q_where": "Permit office", "q_kind": ["Bribery"], "q_how_known": "I found documents"}
    calls = []
    real = recipients_module.channel_recipients

    def counting(db, channel):
        calls.append(channel.slug)
        return real(db, channel)

    for module in (intake_views, intake_services):
        monkeypatch.setattr(module, "channel_recipients", counting)
    response = client.post(form, data=data, content_type="multipart/form-data")
    assert response.status_code == 303
    assert calls == ["corruption"]
