"""A reporter's proof of receipt, and what the log answers about one later (issue 17).

The proof is the report's receipt event (``report.submitted``, with its channel and its
objects' header digests) and its inclusion proof under the latest signed head, in the
format of :mod:`crypto.proof_of_receipt`. The event is held until the day's release, so
the proof exists only from then on; before, the reporter is told when.

Anyone may later bring the proof back (the reporter app's ``/verify``): it is checked
against this log's key, then the log answers with a consistency proof from the proof's
tree to the current one, which shows the event is still in the log, unchanged. Nothing
about who asked is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto.checkpoint import open_checkpoint
from crypto.errors import ProofError
from crypto.merkle import consistency_proof, verify_consistency
from crypto.proof_of_receipt import ProofOfReceipt, VerifiedReceipt, parse_proof, verify_proof
from reporting_portal.audit.events import AuditAction, ObjectType
from reporting_portal.audit.held import release_after
from reporting_portal.audit.log import canonical_event
from reporting_portal.audit.proofs import (
    HeadCheckError,
    inclusion_proof_for,
    latest_head,
    stored_nodes,
    verifier_key,
)
from reporting_portal.storage.models import AuditEvent, HeldAuditEvent


@dataclass(frozen=True)
class ProofAvailability:
    """Whether the mailbox can offer the proof: ready, or held until ``ready_at``
    (``None`` with ``ready`` false: the log has no receipt for this report)."""

    ready: bool
    ready_at: datetime | None = None


def _receipt_event(db: Session, report_public_id: str) -> AuditEvent | None:
    return db.scalar(
        select(AuditEvent)
        .where(AuditEvent.object_id == report_public_id,
               AuditEvent.object_type == ObjectType.REPORT,
               AuditEvent.action == AuditAction.REPORT_SUBMITTED)
        .order_by(AuditEvent.leaf_index).limit(1))


def _held_receipt_day(db: Session, report_public_id: str) -> date | None:
    return db.scalar(
        select(HeldAuditEvent.occurred_on)
        .where(HeldAuditEvent.object_id == report_public_id,
               HeldAuditEvent.object_type == ObjectType.REPORT,
               HeldAuditEvent.action == AuditAction.REPORT_SUBMITTED).limit(1))


def proof_availability(db: Session, report_public_id: str, now: datetime) -> ProofAvailability:
    if _receipt_event(db, report_public_id) is not None:
        return ProofAvailability(ready=True)
    held_on = _held_receipt_day(db, report_public_id)
    if held_on is None:
        return ProofAvailability(ready=False)
    return ProofAvailability(ready=False, ready_at=release_after(held_on, now))


def proof_of_receipt(db: Session, report_public_id: str) -> ProofOfReceipt | None:
    """The report's proof under the latest signed head, checked as an outsider would
    check it before it is handed out; ``None`` while its receipt is still held."""
    event = _receipt_event(db, report_public_id)
    if event is None:
        return None
    key = verifier_key(db)
    inclusion = inclusion_proof_for(db, event.leaf_index)
    head = open_checkpoint(inclusion.head.checkpoint, key)
    proof = ProofOfReceipt(
        origin=head.origin, verifier_key=key, checkpoint=inclusion.head.checkpoint,
        leaf_index=event.leaf_index, leaf=canonical_event(event),
        inclusion=tuple(inclusion.hashes))
    verify_proof(proof, key)
    return proof


@dataclass(frozen=True)
class StillInLog:
    """A proof that checked out under this log's key, and the log's answer today: its
    current signed head and the consistency proof from the proof's head to it."""

    verified: VerifiedReceipt
    current_checkpoint: str
    current_size: int
    consistency: list[bytes]


def check_receipt(db: Session, data: bytes) -> StillInLog:
    """Verify an untrusted proof file against this log, as ``/verify`` does.

    Raises :class:`~crypto.errors.ProofOfReceiptError` when the file is no proof, or no
    proof under this log's key, and :class:`~reporting_portal.audit.proofs.HeadCheckError`
    (reason "shrunk" or "rewritten") when the log today no longer extends the proof's head.
    """
    verified = verify_proof(parse_proof(data), verifier_key(db))
    old_size, old_root = verified.checkpoint.size, verified.checkpoint.root_hash
    head = latest_head(db)
    current_size = head.tree_size if head is not None else 0
    if head is None or old_size > current_size:
        raise HeadCheckError(
            f"The log holds {current_size} entries, fewer than the {old_size} this proof's "
            "head signed: entries were removed.",
            reason="shrunk", saved_size=old_size, current_size=current_size)
    try:
        hashes = consistency_proof(old_size, current_size, stored_nodes(db))
        verify_consistency(old_size, current_size, old_root, head.root_hash, hashes)
    except ProofError:
        raise HeadCheckError(
            f"The first {old_size} entries are not the ones this proof's head signed: the "
            "log was rewritten.", reason="rewritten", saved_size=old_size,
            current_size=current_size) from None
    return StillInLog(verified=verified, current_checkpoint=head.checkpoint,
                      current_size=current_size, consistency=hashes)
