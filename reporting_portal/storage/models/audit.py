"""The access log: events as the leaves of an RFC 9162 Merkle tree, and its signed heads.

Rows here are only ever inserted: triggers refuse UPDATE and DELETE on both databases,
and on PostgreSQL the application's role is granted SELECT and INSERT only
(deploy/postgresql/roles.sql). The one row that changes, :class:`AuditLogState`, holds
nothing that verification trusts: it is the append cursor, recomputed by ``audit verify``.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    null,
)
from sqlalchemy.orm import Mapped, mapped_column

from reporting_portal.storage.db import Base
from reporting_portal.storage.models.types import UTCDateTime, utc_now


class AuditEvent(Base):
    """Who did what to which object, and how it ended. Never content, never an address.

    ``leaf_index`` is the event's position in the log (0, 1, 2, ... without gaps) and
    ``leaf_hash`` the RFC 9162 hash of its canonical encoding (reporting_portal.audit.log).
    """

    __tablename__ = "audit_event"
    # The auditor's filters, each with the leaf index so a page is read newest first
    # straight off the index, whatever the size of the log.
    __table_args__ = (
        Index("ix_audit_event_action_leaf", "action", "leaf_index"),
        Index("ix_audit_event_actor_leaf", "actor_id", "leaf_index"),
        Index("ix_audit_event_role_leaf", "actor_role", "leaf_index"),
        Index("ix_audit_event_object_leaf", "object_id", "leaf_index"),
    )
    # The receipt's columns default to NULL on the server; fetching them back after each
    # insert would cost a RETURNING for nothing (the encoding was made before the insert)
    # and name columns that a schema from before 0021 lacks.
    __mapper_args__ = {"eager_defaults": False}  # noqa: RUF012 -- SQLAlchemy's own form

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    leaf_index: Mapped[int] = mapped_column(BigInteger, unique=True)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now, index=True)
    # The staff member's public id, kept as text so events outlive the account.
    actor_id: Mapped[str | None] = mapped_column(String(32))
    actor_role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    # A report's receipt only (crypto/proof_of_receipt.py): the channel's slug and the
    # hex SHA-256 of each object's age header, space-separated. With them the event is
    # encoded as a receipt event; without, in the log's first encoding. DEFAULT NULL makes
    # the ORM leave them out of an insert that does not set them, so every other event is
    # written as before (and a schema from before 0021, a backup's, still accepts it).
    receipt_channel: Mapped[str | None] = mapped_column(String(64), server_default=null())
    receipt_headers: Mapped[str | None] = mapped_column(Text, server_default=null())


class AuditTreeNode(Base):
    """A perfect subtree's hash (level >= 1), kept so proofs need no recomputation."""

    __tablename__ = "audit_tree_node"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditTreeHead(Base):
    """A signed tree head: a C2SP checkpoint over the first ``tree_size`` events."""

    __tablename__ = "audit_tree_head"

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    # The whole signed note, as an auditor downloads it.
    checkpoint: Mapped[str] = mapped_column(Text)


class AuditLogState(Base):
    """The append cursor: the log's size and its right edge (RFC 9162 compact range).

    One row. Appending takes its row lock for the few milliseconds of the commit, so
    leaf indexes are handed out in commit order without gaps.
    """

    __tablename__ = "audit_log_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    tree_size: Mapped[int] = mapped_column(BigInteger, default=0)
    compact_range: Mapped[bytes] = mapped_column(LargeBinary, default=b"")


class HeldAuditEvent(Base):
    """An event caused by a reporter, held back until the day's release (audit.held).

    Appended at once, a reporter's event would take a place in the log between staff
    events whose times are exact, and so be dated to the minute. Held here, such events
    join the log once a day in random order. The key is random, so not even the table's
    physical order says which came first. A trigger refuses UPDATE; rows leave only
    when they are released into the log.
    """

    __tablename__ = "audit_held_event"

    id: Mapped[bytes] = mapped_column(LargeBinary(16), primary_key=True)
    occurred_on: Mapped[date] = mapped_column(Date, index=True)
    actor_role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    # As on AuditEvent: a receipt's channel and header digests, released with it.
    receipt_channel: Mapped[str | None] = mapped_column(String(64), server_default=null())
    receipt_headers: Mapped[str | None] = mapped_column(Text, server_default=null())
