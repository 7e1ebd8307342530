"""Appending events to the Merkle log, at commit, in the transaction that acts.

:func:`~reporting_portal.audit.events.record_event` queues an event on the session. Just
before that session commits, :func:`append_queued_events` takes the append cursor's row
lock, gives each queued event the next leaf index, hashes its canonical encoding (RFC
9162 leaf hash), stores the perfect subtrees it completes, and signs a new tree head (a
C2SP checkpoint). A rolled-back transaction leaves no event; a committed action always
has one, and the log is never a step behind the data.

The cursor's lock is the last one a transaction takes and is held only for the commit,
so transactions cannot deadlock on it and wait for each other only briefly.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

from sqlalchemy import event, update
from sqlalchemy.orm import Session, sessionmaker

from crypto.checkpoint import (
    Checkpoint,
    generate_signer_key,
    parse_signer_key,
    sign_checkpoint,
    verifier_key_for,
)
from crypto.merkle import CompactRange, leaf_hash
from crypto.proof_of_receipt import PLAIN_EVENT_TAG, encode_receipt_event
from reporting_portal.storage.models import AuditEvent, AuditLogState, AuditTreeHead, AuditTreeNode
from reporting_portal.storage.secret_files import write_secret_file

# The first field of every encoded event: a later encoding gets a new tag, never a change.
# A report's receipt has its own (crypto.proof_of_receipt.RECEIPT_EVENT_TAG).
ENCODING_TAG = PLAIN_EVENT_TAG
STATE_ROW = 1
_QUEUE = "audit_queue"
_SIGNER = "audit_signer"


class AuditLogError(RuntimeError):
    """The log cannot be appended to (no signing key): the action must not happen."""


def event_time(moment: datetime) -> str:
    """Seconds precision, UTC, as every encoding and export writes it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def encode_event(leaf_index: int, time_text: str, fields: tuple[str | None, ...]) -> bytes:
    """The bytes a leaf hash covers: the tag, the position, the time, then ``fields``
    (actor id, actor role, action, object type, object id, outcome), as compact JSON.

    The leaf index is part of it, so moving an event to another position changes its
    hash. JSON of strings, integers and nulls has one form with these options.
    """
    return json.dumps([ENCODING_TAG, leaf_index, time_text, *fields],
                      separators=(",", ":"), ensure_ascii=True).encode("ascii")


def encode_stored_event(leaf_index: int, time_text: str, fields: tuple[str | None, ...],
                        receipt_channel: str | None, receipt_headers: str | None) -> bytes:
    """A stored event's encoding: a receipt event when it carries a receipt's channel
    (its header digests space-separated), else the first encoding (:func:`encode_event`)."""
    if receipt_channel is None:
        return encode_event(leaf_index, time_text, fields)
    digests = tuple(receipt_headers.split()) if receipt_headers else ()
    return encode_receipt_event(leaf_index, time_text, fields, receipt_channel, digests)


def canonical_event(entry: AuditEvent) -> bytes:
    """An event's encoding (see :func:`encode_stored_event`)."""
    return encode_stored_event(
        entry.leaf_index, event_time(entry.occurred_at),
        (entry.actor_id, entry.actor_role, entry.action, entry.object_type, entry.object_id,
         entry.outcome), entry.receipt_channel, entry.receipt_headers)


def event_leaf_hash(entry: AuditEvent) -> bytes:
    return leaf_hash(canonical_event(entry))


class TreeHeadSigner:
    """The tree-head signing key, read from its file (made by ``init``) when first needed.

    The key lives outside the database: whoever steals or edits the database alone cannot
    sign a rewritten log.
    """

    def __init__(self, key_file: Path) -> None:
        self.key_file = key_file
        self._signer_key: str | None = None

    def signer_key(self) -> str:
        if self._signer_key is None:
            try:
                self._signer_key = self.key_file.read_text(encoding="ascii").strip()
            except FileNotFoundError:
                raise AuditLogError(
                    f"the audit log's signing key {self.key_file} is missing: "
                    "run `reporting-portal init`") from None
        return self._signer_key

    def verifier_key(self) -> str:
        return verifier_key_for(self.signer_key())

    @cached_property
    def origin(self) -> str:
        """The log's name in every checkpoint: the key is named after the log."""
        return parse_signer_key(self.signer_key()).name


def create_signing_key(key_file: Path, origin: str) -> str:
    """Write a new signing key (owner-only file); return its verifier key for auditors."""
    signer_key = generate_signer_key(origin)
    key_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # An existing key is never overwritten: the heads it signed must stay verifiable.
    write_secret_file(key_file, signer_key + "\n")
    return verifier_key_for(signer_key)


def ensure_signing_key(db: Session) -> str:
    """Make the log's signing key if there is none yet; return its verifier key."""
    signer: TreeHeadSigner = db.info[_SIGNER]
    if not signer.key_file.exists():
        # The origin names this log in every checkpoint; random, so two installations'
        # logs can never be confused.
        create_signing_key(signer.key_file, f"reporting-portal/audit/{secrets.token_hex(4)}")
    return signer.verifier_key()


def installation_signer(db: Session) -> TreeHeadSigner:
    """The log's signing key, which also signs what the installation states to others
    (a referral package's manifest): one key for auditors and receivers to pin."""
    signer: TreeHeadSigner = db.info[_SIGNER]
    return signer


def queue_event(db: Session, entry: AuditEvent) -> None:
    if not db.in_transaction():
        # The queue belongs to a transaction: begin one, so a rollback (which fires no
        # event on a session without one) is seen and drops the queue.
        db.begin()
    db.info.setdefault(_QUEUE, []).append(entry)


def install_audit_log(factory: sessionmaker[Session], signer: TreeHeadSigner) -> None:
    """Make every session from ``factory`` append its queued events when it commits."""
    factory.configure(info={_SIGNER: signer})
    event.listen(factory, "before_commit", append_queued_events)
    event.listen(factory, "after_soft_rollback", _drop_queue)


def _drop_queue(db: Session, _previous_transaction: object) -> None:
    # Only when the whole transaction is gone; the app uses no savepoints, and one rolled
    # back inside a transaction that goes on would keep its events queued.
    if not db.in_transaction():
        db.info.pop(_QUEUE, None)


def append_queued_events(db: Session) -> None:
    """Append this transaction's events to the log and sign the new tree head."""
    queued: list[AuditEvent] = db.info.pop(_QUEUE, [])
    if not queued:
        return
    signer: TreeHeadSigner = db.info[_SIGNER]
    signer_key = signer.signer_key()
    new_size, edge = db.execute(
        update(AuditLogState).where(AuditLogState.id == STATE_ROW)
        .values(tree_size=AuditLogState.tree_size + len(queued))
        .returning(AuditLogState.tree_size, AuditLogState.compact_range)
    ).one()
    compact = CompactRange.from_bytes(new_size - len(queued), edge)
    for entry in queued:
        entry.leaf_index = compact.size
        entry.leaf_hash = event_leaf_hash(entry)
        db.add(entry)
        for level, index, node in compact.append(entry.leaf_hash):
            db.add(AuditTreeNode(level=level, index=index, hash=node))
    root = compact.root()
    db.add(AuditTreeHead(
        tree_size=new_size, root_hash=root, signed_at=datetime.now(UTC),
        checkpoint=sign_checkpoint(Checkpoint(signer.origin, new_size, root), signer_key),
    ))
    db.execute(update(AuditLogState).where(AuditLogState.id == STATE_ROW)
               .values(compact_range=compact.to_bytes()))
    db.flush()
