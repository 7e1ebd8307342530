"""Installation-wide values, rate limits and server-side sessions."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from reporting_portal.storage.db import Base
from reporting_portal.storage.models.types import UTCDateTime, utc_now


class Installation(Base):
    """The one row made by ``init``: public keys and salts, never a secret key."""

    __tablename__ = "installation"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Every object is also encrypted to it; its identity is held offline by the operator.
    recovery_recipient: Mapped[str] = mapped_column(Text)
    # Argon2id salt for receipt-code lookups, the same for every report by necessity.
    receipt_salt: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_on: Mapped[date] = mapped_column(Date)
    # The public half of the key that signs the audit log's tree heads (its name is the
    # log's origin), shown to auditors. The secret half is a file outside the database,
    # so whoever holds only the database cannot sign a rewritten log.
    audit_verifier_key: Mapped[str | None] = mapped_column(Text)
    # The day an administrator confirmed the recovery identity is stored offline; until
    # then the administrator's home page keeps asking (it is shown only once, at init).
    recovery_confirmed_on: Mapped[date | None] = mapped_column(Date)


class RateLimitCounter(Base):
    """How much of one budget was spent in one fixed window (security/rate_limit.py).

    ``key`` is an HMAC under the secret key of what is counted (an account name typed, a
    device, a difficulty level): never a raw name, address or code. No address or
    session is ever a key: every Tor client reaches an onion service from the same one.
    """

    __tablename__ = "rate_limit_counter"

    bucket: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime(), primary_key=True, index=True)
    count: Mapped[int]


class StoredSession(Base):
    """A server-side session, encrypted under a key that only the browser's cookie holds.

    The row is found by a hash of the cookie's token; its contents (including the times
    that drive the timeouts) are sealed under a key derived from the same token. A dump
    of this table alone opens nothing.
    """

    __tablename__ = "stored_session"

    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    # Set for staff sessions, so a password change can end every other session.
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_account.id", ondelete="CASCADE"), index=True
    )
    sealed_data: Mapped[bytes] = mapped_column(LargeBinary)
    # Coarse (rounded up to the hour) so a reporter's activity is not timed precisely;
    # only used to sweep away abandoned rows.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now, index=True)
