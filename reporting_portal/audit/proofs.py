"""Proofs from the stored log: an event's inclusion, a saved head's consistency.

Both are RFC 9162 proofs built from the stored perfect subtrees (a few dozen rows at
most), checked here against the latest signed tree head before anyone sees them, so a
damaged store shows up as an error instead of a proof that does not verify elsewhere.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from crypto.checkpoint import Checkpoint, has_checkpoint_shape, open_checkpoint
from crypto.errors import CheckpointError, ProofError
from crypto.merkle import (
    NodeFetcher,
    NodeId,
    consistency_proof,
    inclusion_proof,
    verify_consistency,
    verify_inclusion,
)
from reporting_portal.audit.log import canonical_event, event_leaf_hash
from reporting_portal.storage.models import AuditEvent, AuditTreeHead, AuditTreeNode, Installation


class EventNotFoundError(LookupError):
    """No event at this position of the log."""


class HeadCheckError(ValueError):
    """A head an auditor saved does not check out; the message says how.

    ``reason`` ("not_a_head", "unsigned", "shrunk", "rewritten") and the sizes let a page say it in
    the reader's language: this layer may not import the translation machinery.
    """

    def __init__(self, message: str, *, reason: str, saved_size: int = 0,
                 current_size: int = 0) -> None:
        super().__init__(message)
        self.reason = reason
        self.saved_size = saved_size
        self.current_size = current_size


def verifier_key(db: Session) -> str:
    """The public key auditors check tree heads with, as recorded at ``init``."""
    key = db.scalar(select(Installation.audit_verifier_key).limit(1))
    if not key:
        raise LookupError("not initialised: run `reporting-portal init`")
    return key


def latest_head(db: Session) -> AuditTreeHead | None:
    return db.scalar(select(AuditTreeHead).order_by(AuditTreeHead.tree_size.desc()).limit(1))


def stored_nodes(db: Session) -> NodeFetcher:
    """Fetch perfect-subtree hashes: leaves from the events, the rest from the node table."""

    def fetch(needed: set[NodeId]) -> dict[NodeId, bytes]:
        found: dict[NodeId, bytes] = {}
        leaves = sorted(index for level, index in needed if level == 0)
        inner = sorted(node for node in needed if node[0] > 0)
        if leaves:
            for index, digest in db.execute(
                select(AuditEvent.leaf_index, AuditEvent.leaf_hash)
                .where(AuditEvent.leaf_index.in_(leaves))
            ):
                found[(0, index)] = digest
        if inner:
            # Pairs spelled out: SQLite plans a row-value IN as a full scan of the table,
            # and these few dozen primary-key lookups as index seeks.
            wanted = or_(*(and_(AuditTreeNode.level == level, AuditTreeNode.index == index)
                           for level, index in inner))
            for level, index, digest in db.execute(
                select(AuditTreeNode.level, AuditTreeNode.index, AuditTreeNode.hash)
                .where(wanted)
            ):
                found[(level, index)] = digest
        return found

    return fetch


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@dataclass(frozen=True)
class InclusionProof:
    """An event, the signed head it is proven under, and the audit path between them."""

    event: AuditEvent
    head: AuditTreeHead
    hashes: list[bytes]

    @property
    def size_in_bytes(self) -> int:
        return sum(len(h) for h in self.hashes)

    def as_document(self) -> dict[str, Any]:
        """The proof as an auditor downloads it: enough to check it with any RFC 9162 tool."""
        return {
            "format": "reporting-portal/inclusion-proof/v1",
            "leaf_index": self.event.leaf_index,
            "tree_size": self.head.tree_size,
            "event": canonical_event(self.event).decode("ascii"),
            "leaf_hash": _b64(self.event.leaf_hash),
            "proof": [_b64(h) for h in self.hashes],
            "checkpoint": self.head.checkpoint,
        }


def inclusion_proof_for(db: Session, leaf_index: int) -> InclusionProof:
    """Prove the event at ``leaf_index`` is in the log under the latest signed head."""
    head = latest_head(db)
    # Checked before the query: an index from a URL may not even fit the column.
    if head is None or not 0 <= leaf_index < head.tree_size:
        raise EventNotFoundError(leaf_index)
    event = db.scalar(select(AuditEvent).where(AuditEvent.leaf_index == leaf_index))
    if event is None:
        raise EventNotFoundError(leaf_index)
    hashes = inclusion_proof(leaf_index, head.tree_size, stored_nodes(db))
    verify_inclusion(event_leaf_hash(event), leaf_index, head.tree_size, hashes, head.root_hash)
    return InclusionProof(event=event, head=head, hashes=hashes)


@dataclass(frozen=True)
class HeadCheck:
    """A saved head checked against today's log."""

    saved: Checkpoint
    current_size: int
    proof_hashes: int


def check_saved_head(db: Session, note: str) -> HeadCheck:
    """Is the log today an extension of the one this saved head signed? (RFC 9162 2.1.4)"""
    try:
        saved = open_checkpoint(note, verifier_key(db))
    except CheckpointError as error:
        if not has_checkpoint_shape(note):
            raise HeadCheckError("This file is not a signed tree head.",
                                 reason="not_a_head") from None
        raise HeadCheckError(
            f"This is not a tree head signed by this log's key ({error}).",
            reason="unsigned") from None
    head = latest_head(db)
    current_size = head.tree_size if head is not None else 0
    if saved.size > current_size:
        raise HeadCheckError(
            f"The log holds {current_size} entries, fewer than the {saved.size} this head "
            "signed: entries were removed.",
            reason="shrunk", saved_size=saved.size, current_size=current_size)
    if head is None:
        return HeadCheck(saved=saved, current_size=0, proof_hashes=0)
    try:
        proof = consistency_proof(saved.size, current_size, stored_nodes(db))
        verify_consistency(saved.size, current_size, saved.root_hash, head.root_hash, proof)
    except ProofError:
        raise HeadCheckError(
            f"The first {saved.size} entries are not the ones this head signed: the log was "
            "rewritten. Run `reporting-portal audit verify --head` on the server to locate "
            "it.", reason="rewritten", saved_size=saved.size, current_size=current_size) from None
    return HeadCheck(saved=saved, current_size=current_size, proof_hashes=len(proof))
