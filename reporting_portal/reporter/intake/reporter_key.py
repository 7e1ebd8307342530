"""The reporter's key pair, made when the report form is shown (issue 15, "What I sent").

When a channel lets reporters read back what they sent, the content and files are
encrypted to the reporter's key as well. On the script's path the browser encrypts, so
the key must exist before the form is sent: it is made with the form page, its public
half goes into the page's recipients, and its secret waits in the sealed server-side
session (web/sessions.py) until the report is stored, when it is wrapped under the
receipt code and taken out of the session.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from crypto import generate_identity
from crypto.keys import AnyIdentity, parse_identity
from reporting_portal.storage.models import Channel

# The session key of the secret, kept until a report is stored (or the session ends).
PENDING_IDENTITY = "pending_reporter_identity"


def reporter_key_for_form(session: MutableMapping[str, Any], channel: Channel) -> str | None:
    """The recipient the form's page encrypts to for the reporter, or ``None`` when the
    channel does not let reporters read back. One key per session, so that reloading
    the form, or a refused submission, keeps the key the page already holds."""
    if not channel.reporter_reads_back:
        return None
    return str(_pending_identity(session).recipient)


def reporter_key_for_submission(session: MutableMapping[str, Any],
                                channel: Channel) -> AnyIdentity | None:
    """The identity to encrypt a report to, if the channel lets reporters read back."""
    if not channel.reporter_reads_back:
        return None
    return _pending_identity(session)


def forget_reporter_key(session: MutableMapping[str, Any]) -> None:
    """Once the report is stored, its secret lives only wrapped under the receipt code."""
    session.pop(PENDING_IDENTITY, None)


def _pending_identity(session: MutableMapping[str, Any]) -> AnyIdentity:
    kept = session.get(PENDING_IDENTITY)
    if isinstance(kept, str):
        return parse_identity(kept)
    identity = generate_identity(post_quantum=True)
    session[PENDING_IDENTITY] = identity.to_string()
    return identity
