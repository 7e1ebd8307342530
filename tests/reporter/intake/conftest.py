"""Fixtures for the reporter's side: a report sent, and its mailbox open."""

from __future__ import annotations

import pytest

from tests.helpers.reporting import open_mailbox, send_report


@pytest.fixture
def receipt_code(client, channel_with_handlers) -> str:
    """A report sent without JavaScript; the browser then forgets its session."""
    return send_report(client)


@pytest.fixture
def in_mailbox(client, receipt_code) -> str:
    """The reporter signed in to their mailbox with the receipt code."""
    assert open_mailbox(client, receipt_code).headers["Location"] == "/followup/mailbox"
    return receipt_code
