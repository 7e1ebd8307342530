"""Who is asking: the staff member behind the current session, if any."""

from __future__ import annotations

from dataclasses import dataclass

from flask import g, session
from sqlalchemy import select

from crypto.keys import FallbackIdentity, Identity, parse_identity
from reporting_portal.storage.models import StaffAccount
from reporting_portal.web.database import get_session
from reporting_portal.web.languages import clear_keeping_language
from reporting_portal.web.sessions import ServerSession

IDENTITY_KEY = "staff_identity"
# The old identity while a rotation of the person's key is in progress (auth/key_rotation).
PREVIOUS_IDENTITY_KEY = "staff_previous_identity"
SIGNED_IN = "signed_in"
SIGNING_IN = "signing_in"


@dataclass(frozen=True)
class StaffViewer:
    account: StaffAccount
    stage: str


def load_staff_viewer() -> None:
    """Before each request: find the session's staff member (active accounts only)."""
    public_id = session.get("staff_id")
    if not isinstance(public_id, str):
        return
    account = get_session().scalar(
        select(StaffAccount).where(
            StaffAccount.public_id == public_id, StaffAccount.is_active.is_(True)
        )
    )
    if account is None:
        session.clear()
        return
    g.staff_viewer = StaffViewer(account=account, stage=session.get("staff_stage", SIGNING_IN))


def current_viewer() -> StaffViewer:
    viewer: StaffViewer = g.staff_viewer
    return viewer


def start_staff_session(account: StaffAccount, *, stage: str) -> None:
    """A fresh session, under a new token, for this staff member."""
    server_session = _server_session()
    # The unwrapped identity survives a new token for the same person only.
    same_person = server_session.get("staff_id") == account.public_id
    identity = server_session.get(IDENTITY_KEY) if same_person else None
    previous = server_session.get(PREVIOUS_IDENTITY_KEY) if same_person else None
    clear_keeping_language(server_session)
    server_session.regenerate()
    server_session.set_kind("staff")
    server_session["staff_id"] = account.public_id
    server_session["staff_pk"] = account.id
    server_session["staff_stage"] = stage
    if isinstance(identity, str):
        server_session[IDENTITY_KEY] = identity
    if isinstance(previous, str):
        server_session[PREVIOUS_IDENTITY_KEY] = previous
    g.staff_viewer = StaffViewer(account=account, stage=stage)


def promote_to_signed_in(account: StaffAccount) -> None:
    """Sign-in completed: a new token again, so nothing from the half-way stage carries on."""
    start_staff_session(account, stage=SIGNED_IN)


def session_token() -> bytes | None:
    return _server_session().token


def _server_session() -> ServerSession:
    if not isinstance(session, ServerSession):
        raise TypeError("the app must use ServerSessionInterface")
    return session


def keep_identity(identity: str) -> None:
    """Hold the unwrapped age identity for this session only.

    It lives in the server-side session, sealed under a key that only this browser's
    cookie holds: a dump of the database or of the session table opens nothing
    (DESIGN.md, Staff sessions). Sign-out and time-out delete it.
    """
    _server_session()[IDENTITY_KEY] = identity
    g.pop("staff_identity_parsed", None)


def keep_previous_identity(identity: str | None) -> None:
    """Hold (or, with ``None``, drop) the old identity of a key rotation in progress,
    sealed in the session like the current one."""
    server_session = _server_session()
    if identity is None:
        server_session.pop(PREVIOUS_IDENTITY_KEY, None)
    else:
        server_session[PREVIOUS_IDENTITY_KEY] = identity
    g.pop("staff_identity_parsed", None)


def current_identity() -> Identity | None:
    """The signed-in staff member's age identity, or None if they have no keys yet.

    During a rotation of their key it opens what either the new or the old key opens.
    """
    if "staff_identity_parsed" not in g:
        text = session.get(IDENTITY_KEY)
        previous = session.get(PREVIOUS_IDENTITY_KEY)
        parsed: Identity | None = parse_identity(text) if isinstance(text, str) else None
        if parsed is not None and isinstance(previous, str):
            parsed = FallbackIdentity(parsed, parse_identity(previous))
        g.staff_identity_parsed = parsed
    identity: Identity | None = g.staff_identity_parsed
    return identity
