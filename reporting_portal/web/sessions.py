"""Server-side sessions sealed under a key that only the browser holds.

The cookie carries a random 256-bit token. The database row is found by one hash of the
token and its contents are sealed (crypto.keywrap: ChaCha20-Poly1305) under a key from
another hash of it, so a dump of the session table, or of the whole database, opens no
session and reveals none of the values kept in one (a staff member's unwrapped age
identity).
The times that drive the idle and absolute timeouts live inside the sealed data, so
even a reporter's session row says nothing precise about when they were active.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, Request, Response, g
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.datastructures import CallbackDict

from crypto.errors import KeyWrapError
from crypto.keywrap import unwrap_with_key, wrap_with_key
from reporting_portal.storage.faults import is_database_unavailable
from reporting_portal.storage.models import StoredSession
from reporting_portal.web.database import get_database

COOKIE_NAME = "__Host-session"
_TOKEN_BYTES = 32
_MAX_COOKIE_LENGTH = 64
# Rewriting the row on every request costs a write; the idle clock is coarse enough.
_TOUCH_INTERVAL = timedelta(seconds=60)

_CREATED = "_created"
_SEEN = "_seen"
_KIND = "_kind"


def _hash(token: bytes, purpose: bytes) -> bytes:
    return hashlib.blake2b(token, digest_size=32, person=purpose).digest()


def _token_hash(token: bytes) -> bytes:
    return _hash(token, b"rp-session-id")


def _token_key(token: bytes) -> bytes:
    return _hash(token, b"rp-session-key")


class ServerSession(CallbackDict[str, Any], SessionMixin):
    """A session dict that remembers whether it changed, and whether to rotate its token."""

    def __init__(self, initial: dict[str, Any] | None = None, token: bytes | None = None):
        def on_update(_self: CallbackDict[str, Any]) -> None:
            self.modified = True

        super().__init__(initial or {}, on_update)
        self.token = token
        self.modified = False
        self.rotate = False
        self.touched = False
        self.discarded = False

    def discard_changes(self) -> None:
        """Keep the session as stored: this request's changes are not saved.

        For a request that failed after changing it (a server error rolls the database
        back, so a receipt code or a consumed one-time token in the session would
        describe a report that was never stored).
        """
        self.discarded = True

    def regenerate(self) -> None:
        """Issue a new token at the next save (ASVS 7.2.4: renew at sign-in)."""
        self.rotate = True
        self.modified = True

    def set_kind(self, kind: str) -> None:
        """'staff' or 'reporter': decides the idle timeout."""
        self[_KIND] = kind

    @property
    def kind(self) -> str:
        """'staff', 'reporter', or '' for a session nobody signed in to."""
        return str(self.get(_KIND, ""))


def seal(token: bytes, data: dict[str, Any]) -> bytes:
    """The session's data, sealed under the token's key and bound to its row's id."""
    plaintext = json.dumps(data, separators=(",", ":")).encode()
    return wrap_with_key(plaintext, _token_key(token), context=_token_hash(token))


def unseal(token: bytes, sealed: bytes) -> dict[str, Any] | None:
    """The data :func:`seal` sealed for this token, or ``None`` (wrong token, damaged,
    or sealed by a version of this code from before sessions used ``crypto.keywrap``)."""
    try:
        plaintext = unwrap_with_key(sealed, _token_key(token), context=_token_hash(token))
    except KeyWrapError:
        return None
    data: dict[str, Any] = json.loads(plaintext)
    return data


class ServerSessionInterface(SessionInterface):
    """Flask's session, kept in the ``stored_session`` table."""

    def __init__(
        self,
        *,
        staff_idle: timedelta,
        staff_absolute: timedelta,
        reporter_idle: timedelta,
        anonymous_idle: timedelta = timedelta(hours=2),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.idle = {"staff": staff_idle, "reporter": reporter_idle, "": anonymous_idle}
        self.absolute = staff_absolute
        # Injectable so tests can let time pass.
        self.clock = clock

    def _decode_cookie(self, value: str | None) -> bytes | None:
        if not value or len(value) > _MAX_COOKIE_LENGTH:
            return None
        try:
            token = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        except (binascii.Error, ValueError):
            return None
        return token if len(token) == _TOKEN_BYTES else None

    def idle_timeout(self, session: SessionMixin) -> timedelta:
        """How long ``session`` lasts without a request, for its kind."""
        return self.idle.get(session.get(_KIND, ""), self.idle[""])

    def seconds_left(self, session: ServerSession) -> int:
        """Seconds until ``session`` ends without another request, counting this one
        as activity when it will be saved (new, changed, or due for a touch)."""
        idle = self.idle_timeout(session)
        if session.token is None or session.modified or session.touched:
            return int(idle.total_seconds())
        seen = datetime.fromtimestamp(session.get(_SEEN, 0), UTC)
        return max(0, int((seen + idle - self.clock()).total_seconds()))

    def _expired(self, data: dict[str, Any], now: datetime) -> bool:
        created = datetime.fromtimestamp(data.get(_CREATED, 0), UTC)
        seen = datetime.fromtimestamp(data.get(_SEEN, 0), UTC)
        idle = self.idle.get(data.get(_KIND, ""), self.idle[""])
        return now - seen > idle or now - created > self.absolute

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        token = self._decode_cookie(request.cookies.get(COOKIE_NAME))
        if token is None:
            return ServerSession()
        try:
            return self._load(app, token)
        except SQLAlchemyError as error:
            if not is_database_unavailable(error):
                raise
            # The database is down. The request goes on with an empty session that is
            # never saved, and its first step raises the error again, inside the
            # request, where web/errors.py answers it with the "try again later" page.
            g.session_fault = error
            unavailable = ServerSession()
            unavailable.discard_changes()
            return unavailable

    def _load(self, app: Flask, token: bytes) -> ServerSession:
        with get_database(app).session_factory() as db:
            row = db.get(StoredSession, _token_hash(token))
            data = unseal(token, row.sealed_data) if row is not None else None
            if data is None:
                return ServerSession()
            if self._expired(data, self.clock()):
                db.delete(row)
                db.commit()
                return ServerSession()
        session = ServerSession(data, token)
        seen = datetime.fromtimestamp(data.get(_SEEN, 0), UTC)
        session.touched = self.clock() - seen > _TOUCH_INTERVAL
        return session

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not isinstance(session, ServerSession):
            raise TypeError("sessions come from ServerSessionInterface.open_session")
        if session.discarded:
            return
        database = get_database(app)
        if not session:
            if session.token is not None:
                with database.session_factory() as db:
                    db.execute(
                        delete(StoredSession).where(
                            StoredSession.token_hash == _token_hash(session.token)
                        )
                    )
                    db.commit()
                response.delete_cookie(COOKIE_NAME, path="/", secure=True, httponly=True)
            return
        if not (session.modified or session.touched or session.rotate):
            return
        now = self.clock()
        data = dict(session)
        data.setdefault(_CREATED, int(now.timestamp()))
        data[_SEEN] = int(now.timestamp())
        idle = self.idle.get(data.get(_KIND, ""), self.idle[""])
        # Rounded up to the hour: the row's clear-text expiry must not time the reporter.
        expires_at = (now + idle + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)

        old_token = session.token
        token = session.token
        if token is None or session.rotate:
            token = secrets.token_bytes(_TOKEN_BYTES)
            data[_CREATED] = int(now.timestamp())
        with database.session_factory() as db:
            if old_token is not None and token != old_token:
                db.execute(
                    delete(StoredSession).where(StoredSession.token_hash == _token_hash(old_token))
                )
            row = db.get(StoredSession, _token_hash(token))
            if row is None:
                row = StoredSession(token_hash=_token_hash(token))
                db.add(row)
            row.sealed_data = seal(token, data)
            row.staff_id = data.get("staff_pk")
            row.expires_at = expires_at
            db.commit()
        session.token = token
        session.rotate = False
        response.set_cookie(
            COOKIE_NAME,
            base64.urlsafe_b64encode(token).rstrip(b"=").decode(),
            path="/",
            secure=True,
            httponly=True,
            samesite="Strict",
        )


# Another request of the same browser changing the row between our read and our write
# is rare (two tabs, a double click); a few rounds settle it.
_UPDATE_ATTEMPTS = 5


class SessionBusyError(RuntimeError):
    """The stored session kept changing under an atomic update (never in practice)."""


def update_stored_session(
    db: Any, session: ServerSession, change: Callable[[dict[str, Any]], None]
) -> None:
    """Apply ``change`` to the session as stored, atomically with respect to the other
    requests of the same browser, inside the caller's transaction (it lands with the
    caller's commit, or not at all).

    The row is read, ``change`` edits the freshest data (or raises to refuse), and the
    row is written only if nobody rewrote it meanwhile (compare-and-swap on the sealed
    bytes; on PostgreSQL a concurrent writer waits for our commit, then finds the row
    changed and reads again). Either way ``session`` then holds what is stored, so this
    request's own save cannot undo what the other request stored (a receipt code).
    """
    if session.token is None:  # not stored yet: nobody else can hold it
        _change_in_memory(session, change)
        return
    key = _token_hash(session.token)
    for _ in range(_UPDATE_ATTEMPTS):
        sealed = db.scalar(select(StoredSession.sealed_data).where(
            StoredSession.token_hash == key))
        stored = unseal(session.token, sealed) if sealed is not None else None
        if stored is None:  # ended meanwhile: only this request holds the data now
            _change_in_memory(session, change)
            return
        data = stored
        try:
            change(data)
        except Exception:
            _replace_contents(session, data)
            raise
        result: CursorResult[Any] = db.execute(
            update(StoredSession)
            .where(StoredSession.token_hash == key, StoredSession.sealed_data == sealed)
            .values(sealed_data=seal(session.token, data))
        )
        if result.rowcount == 1:
            _replace_contents(session, data)
            return
    raise SessionBusyError("the session changed under every attempt")


def _change_in_memory(session: ServerSession, change: Callable[[dict[str, Any]], None]) -> None:
    data = dict(session)
    change(data)
    _replace_contents(session, data)


def _replace_contents(session: ServerSession, data: dict[str, Any]) -> None:
    session.clear()
    session.update(data)


def end_staff_sessions(db: Any, staff_pk: int, *, keep_token: bytes | None = None) -> None:
    """End every session of a staff member (password change, 2FA reset, deactivation)."""
    statement = delete(StoredSession).where(StoredSession.staff_id == staff_pk)
    if keep_token is not None:
        statement = statement.where(StoredSession.token_hash != _token_hash(keep_token))
    db.execute(statement)


def sweep_expired_sessions(db: Any) -> int:
    """Delete rows past their coarse expiry; returns how many."""
    now = datetime.now(UTC)
    stale = list(db.scalars(select(StoredSession.token_hash).where(StoredSession.expires_at < now)))
    if stale:
        db.execute(delete(StoredSession).where(StoredSession.token_hash.in_(stale)))
    return len(stale)
