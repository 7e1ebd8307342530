"""One-time submission tokens: each rendered report or reply form can be sent once.

Going Back after sending shows the filled form again on many browsers, and sending it
then would file a second report (or message) the reporter never meant to write. Every
rendered form therefore carries a fresh random token, kept in the reporter's sealed
server-side session (never in the page's address, never in the database in clear) and
taken out when a submission carrying it is accepted. A form whose token is not (or no
longer) in the session is refused and nothing is stored.

Only the most recent :data:`MAX_KEPT` tokens are kept, so opening many pages cannot grow
a session without bound; a form older than that is refused in the same way and the
reporter is told to reload it.

A double click sends the same form twice at the same moment, in two requests that each
loaded the session before the other changed it. :func:`claim_submission_token` therefore
takes the token out of the *stored* session, atomically, in the transaction that stores
the submission: of two such requests exactly one commits, and the other is refused.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Mapping, MutableMapping
from typing import Any

from sqlalchemy.orm import Session

from reporting_portal.web.sessions import ServerSession, update_stored_session

FIELD_NAME = "submission_token"
SESSION_KEY = "submission_tokens"
MAX_KEPT = 16
_TOKEN_BYTES = 16


class SubmissionReplayedError(Exception):
    """The form's token is unknown to this session: it was already sent, or is too old."""


def _kept(session: Mapping[str, Any]) -> list[str]:
    tokens = session.get(SESSION_KEY)
    if not isinstance(tokens, list):
        return []
    return [token for token in tokens if isinstance(token, str)]


def issue_submission_token(session: MutableMapping[str, Any]) -> str:
    """A new token for a form about to be rendered, remembered in ``session``."""
    token = secrets.token_urlsafe(_TOKEN_BYTES)
    session[SESSION_KEY] = [*_kept(session)[-(MAX_KEPT - 1):], token]
    return token


def _matches(session: Mapping[str, Any], presented: str | None) -> list[str]:
    candidate = (presented or "").encode()
    # Each kept token is compared in constant time, and all of them every time.
    found = [token for token in _kept(session) if hmac.compare_digest(token.encode(), candidate)]
    if not presented or not found:
        raise SubmissionReplayedError
    return found


def check_submission_token(session: Mapping[str, Any], presented: str | None) -> None:
    """Raise :class:`SubmissionReplayedError` at once when ``presented`` is not in this
    request's session, before any work is done for a form sent again."""
    _matches(session, presented)


def consume_submission_token(session: MutableMapping[str, Any], presented: str | None) -> None:
    """Take ``presented`` out of ``session``; raise :class:`SubmissionReplayedError`
    when it is not there. Call only once the submission is otherwise accepted, so a form
    refused for another reason (a missing answer) can be corrected and sent."""
    found = _matches(session, presented)
    session[SESSION_KEY] = [token for token in _kept(session) if token not in found]


def claim_submission_token(
    db: Session, session: ServerSession, presented: str | None,
    *, keep: Mapping[str, Any] | None = None,
) -> None:
    """Consume ``presented`` in the stored session, in ``db``'s transaction, so that of
    two requests sending the same form at once exactly one succeeds; store ``keep`` (the
    receipt code) with it, so that the one refused meanwhile finds it. Raises
    :class:`SubmissionReplayedError`; ``session`` then holds what is stored."""

    def change(data: dict[str, Any]) -> None:
        consume_submission_token(data, presented)
        data.update(keep or {})

    update_stored_session(db, session, change)
