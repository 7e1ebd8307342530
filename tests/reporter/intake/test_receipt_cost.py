"""Wrong and unknown receipt codes cost the same: one Argon2id derivation each.

DESIGN.md: "Wrong codes and unknown codes are indistinguishable in answer and in time."
Timing a test is unreliable on a shared machine, so a spy counts what sets the time: the
derivations. Every well-formed code costs exactly one, whether or not a report exists
for it; a code whose check digit fails is answered before any.
"""

from __future__ import annotations

import io

import pytest

import reporting_portal.reporter.followup.services as followup_services
from crypto.receipt import generate_receipt_code
from tests.helpers import hidden_fields
from tests.helpers.reporting import receipt_code_from

pytestmark = pytest.mark.database


@pytest.fixture
def derivations(monkeypatch):
    calls: list[str] = []
    real = followup_services.derive_receipt_secrets

    def counting(code, *args, **kwargs):
        calls.append(code)
        return real(code, *args, **kwargs)

    monkeypatch.setattr(followup_services, "derive_receipt_secrets", counting)
    return calls


def sign_in_with(client, code):
    response = client.post("/followup", data={**hidden_fields(client, "/followup"),
                                              "code": code})
    return response.status_code, response.get_data(as_text=True)


def answer_of(page):
    return page.split('role="alert"')[1].split("</p>")[0] if 'role="alert"' in page else ""


def test_each_well_formed_code_costs_one_derivation(app, client, channel_with_handlers,
                                                    derivations):
    form = "/report/corruption"
    client.post(form, data={**hidden_fields(client, form), "q_what": "A bribe was paid.",
                            "q_when": "2026-11-02", "q_where": "Port", "q_kind": ["Bribery"],
                            "q_how_known": "I found documents",
                            "q_evidence": [(io.BytesIO(b""), "")]},
                content_type="multipart/form-data")
    real_code = receipt_code_from(client.get("/report/receipt").get_data(as_text=True))
    client.delete_cookie("__Host-session", domain="localhost")

    unknown = [generate_receipt_code() for _ in range(3)]
    answers = []
    for code in unknown:
        status, page = sign_in_with(client, code)
        answers.append((status, answer_of(page)))
    assert len(derivations) == 3  # one for each unknown code, no more, no less
    assert len(set(answers)) == 1  # and the same answer for each
    assert answers[0][1]

    digits = real_code.replace(" ", "")
    wrong_check_digit = digits[:-1] + str((int(digits[-1]) + 1) % 10)
    status, page = sign_in_with(client, wrong_check_digit)
    assert "typo" in page
    assert len(derivations) == 3  # a typo is caught by the check digit, before any work

    status, _page = sign_in_with(client, real_code)
    assert status == 302
    assert len(derivations) == 4  # the real code costs exactly what an unknown one did
