"""The browser's words come from the server, translated (issue 14): a French reader never
sees report.js's English defaults."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from reporting_portal.reporter.intake import script_messages
from reporting_portal.reporter.intake.script_messages import report_script_messages

REPORT_JS = Path(__file__).resolve().parents[3] / "web" / "src" / "report.js"


def script_defaults() -> dict[str, str]:
    """DEFAULT_MESSAGES at the top of report.js, string literals joined as JS joins them."""
    block = re.search(r"const DEFAULT_MESSAGES = \{(.*?)\n\};", REPORT_JS.read_text(), re.S)
    assert block is not None
    entries = re.findall(r'(\w+):\s*((?:"[^"]*"\s*\+?\s*)+),', block.group(1))
    return {key: "".join(re.findall(r'"([^"]*)"', literals)) for key, literals in entries}


def recipients_json(page: str) -> dict[str, object]:
    found = re.search(r'<script type="application/json" id="report-recipients"[^>]*>(.*?)'
                      r"</script>", page, re.S)
    assert found is not None
    return json.loads(found.group(1))


def test_the_server_names_every_string_of_the_script_in_the_same_english(app):
    defaults = script_defaults()
    assert len(defaults) >= 8  # the parser found the block
    with app.test_request_context():
        assert report_script_messages() == defaults


@pytest.mark.database
@pytest.mark.parametrize("page", ["/report/corruption", "/followup/mailbox"])
def test_the_pages_hand_the_script_its_words_translated(client, in_mailbox, page,
                                                        monkeypatch):
    monkeypatch.setattr(script_messages, "_", lambda text: f"«{text}»")
    messages = recipients_json(client.get(page).get_data(as_text=True))["messages"]
    assert messages == {key: f"«{text}»" for key, text in script_defaults().items()}
