"""Proofs of receipt: a report's receipt event, proven to be in a signed access log.

A reporter downloads one from the mailbox and can show it to anyone (a court, an
ombudsman, a journalist). It is a JSON object, UTF-8, at most :data:`MAX_PROOF_BYTES`::

    {"format": "reporting-portal/proof-of-receipt/v1",
     "origin": the log's origin line,
     "verifier_key": the log's C2SP signed-note verifier key,
     "checkpoint": a C2SP tlog-checkpoint signed by that key, as text,
     "leaf_index": the event's position in the log,
     "leaf": base64 of the exact event bytes (RFC 9162 leaf hash: SHA-256(0x00 || leaf)),
     "inclusion": [base64 of each 32-byte hash of the RFC 9162 inclusion proof]}

The leaf is the receipt event, compact ASCII JSON (:func:`encode_receipt_event`)::

    ["reporting-portal/receipt-event/v1", leaf index, "YYYY-MM-DDT00:00:00Z",
     null, "reporter", "report.submitted", "report", reference, "success",
     channel, [hex SHA-256 of each object's age header, ...]]

Events recorded before receipts carried a channel and header digests have the log's
first encoding (:data:`PLAIN_EVENT_TAG`, the same fields without the last two); they
prove the reference and the day only.

Verifying needs nothing but this file and, ideally, the verifier key obtained elsewhere
(the organisation publishes it): the checkpoint's signature, the leaf hash, and the
inclusion proof up to the signed root. Every failure raises
:class:`~crypto.errors.ProofOfReceiptError`. The proof shows that the log held this
event when the checkpoint was signed; a later checkpoint consistent with it shows the
event is still there. It says nothing about the report's content, which stays encrypted.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from crypto.checkpoint import Checkpoint, open_checkpoint, parse_verifier_key
from crypto.errors import CheckpointError, ProofError, ProofOfReceiptError
from crypto.merkle import HASH_SIZE, leaf_hash, verify_inclusion

__all__ = [
    "FORMAT",
    "MAX_PROOF_BYTES",
    "PLAIN_EVENT_TAG",
    "RECEIPT_EVENT_TAG",
    "ProofOfReceipt",
    "ReceiptEvent",
    "VerifiedReceipt",
    "encode_receipt_event",
    "parse_proof",
    "parse_receipt_event",
    "verify_proof",
]

FORMAT: Final = "reporting-portal/proof-of-receipt/v1"
RECEIPT_EVENT_TAG: Final = "reporting-portal/receipt-event/v1"
# The access log's first encoding, which every other event keeps (audit/log.py).
PLAIN_EVENT_TAG: Final = "reporting-portal/audit-event/v1"
RECEIPT_ACTION: Final = "report.submitted"

# Our proofs are about 2 KiB: a checkpoint of a few hundred bytes, one leaf, at most 63
# hashes. 64 KiB leaves room for witnesses' signature lines and keeps a hostile file cheap.
MAX_PROOF_BYTES: Final = 64 * 1024
MAX_LEAF_BYTES: Final = 16 * 1024
# A tree of 2**63 leaves needs 63 hashes; the log's leaf index is a signed 64-bit column.
MAX_INCLUSION_HASHES: Final = 63
MAX_LEAF_INDEX: Final = 2**63 - 1

_FIELDS: Final = frozenset(
    {"format", "origin", "verifier_key", "checkpoint", "leaf_index", "leaf", "inclusion"})
_DIGEST: Final = re.compile(r"[0-9a-f]{64}")
_MIDNIGHT: Final = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})T00:00:00Z")
_PLAIN_FIELDS: Final = 9
_RECEIPT_FIELDS: Final = 11


@dataclass(frozen=True)
class ProofOfReceipt:
    """A parsed proof file: well formed, not yet verified."""

    origin: str
    verifier_key: str
    checkpoint: str
    leaf_index: int
    leaf: bytes
    inclusion: tuple[bytes, ...]

    def to_json(self) -> str:
        """The file, exactly as :func:`parse_proof` reads it back."""
        return json.dumps({
            "format": FORMAT, "origin": self.origin, "verifier_key": self.verifier_key,
            "checkpoint": self.checkpoint, "leaf_index": self.leaf_index,
            "leaf": _b64(self.leaf), "inclusion": [_b64(h) for h in self.inclusion],
        }, indent=1) + "\n"


@dataclass(frozen=True)
class ReceiptEvent:
    """What the proven event says. ``channel`` is ``None`` and ``header_sha256`` empty
    for an event in the log's first encoding."""

    leaf_index: int
    day: date
    action: str
    reference: str
    channel: str | None
    header_sha256: tuple[str, ...]


@dataclass(frozen=True)
class VerifiedReceipt:
    """A proof that checked out: under which key, which signed head, which event."""

    verifier_key: str
    key_was_pinned: bool
    # The file named another key than the pinned one (which alone was used).
    file_key_differs: bool
    checkpoint: Checkpoint
    leaf_hash: bytes
    event: ReceiptEvent


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _refuse(message: str, reason: str = "malformed") -> ProofOfReceiptError:
    return ProofOfReceiptError(message, reason=reason)


def _canonical_base64(text: object, what: str) -> bytes:
    if not isinstance(text, str):
        raise _refuse(f"{what} must be a base64 string")
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        raise _refuse(f"{what} is not base64") from None
    # One spelling per value, so two files cannot differ while saying the same thing.
    if _b64(raw) != text:
        raise _refuse(f"{what} is not canonical base64")
    return raw


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise _refuse(f"the field {key!r} appears twice")
        found[key] = value
    return found


def _text(document: dict[str, Any], key: str) -> str:
    value = document[key]
    if not isinstance(value, str) or not value:
        raise _refuse(f"{key} must be a non-empty string")
    return value


def parse_proof(data: bytes) -> ProofOfReceipt:
    """Read an untrusted proof file strictly: the exact fields, their types and bounds."""
    if len(data) > MAX_PROOF_BYTES:
        raise _refuse(f"the file is larger than {MAX_PROOF_BYTES} bytes: not a proof of receipt")
    try:
        document = json.loads(data.decode("utf-8"), object_pairs_hook=_unique_keys)
    except (UnicodeDecodeError, ValueError, RecursionError):
        # ValueError covers JSONDecodeError; RecursionError a hostile nesting depth.
        raise _refuse("the file is not JSON: not a proof of receipt") from None
    if not isinstance(document, dict):
        raise _refuse("the file is not a JSON object: not a proof of receipt")
    if document.get("format") != FORMAT:
        raise _refuse(f"the file's format is not {FORMAT}")
    if set(document) != _FIELDS:
        missing, extra = sorted(_FIELDS - set(document)), sorted(set(document) - _FIELDS)
        raise _refuse("the file's fields are not those of a proof of receipt"
                      + (f" (missing: {', '.join(missing)})" if missing else "")
                      + (f" (unknown: {', '.join(extra)})" if extra else ""))
    index = document["leaf_index"]
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index <= MAX_LEAF_INDEX:
        raise _refuse("leaf_index must be a non-negative integer")
    leaf = _canonical_base64(document["leaf"], "leaf")
    if not 0 < len(leaf) <= MAX_LEAF_BYTES:
        raise _refuse(f"leaf must hold 1 to {MAX_LEAF_BYTES} bytes")
    hashes = document["inclusion"]
    if not isinstance(hashes, list) or len(hashes) > MAX_INCLUSION_HASHES:
        raise _refuse(f"inclusion must be a list of at most {MAX_INCLUSION_HASHES} hashes")
    inclusion = tuple(_canonical_base64(h, "an inclusion hash") for h in hashes)
    if any(len(h) != HASH_SIZE for h in inclusion):
        raise _refuse(f"every inclusion hash must be {HASH_SIZE} bytes")
    return ProofOfReceipt(
        origin=_text(document, "origin"), verifier_key=_text(document, "verifier_key"),
        checkpoint=_text(document, "checkpoint"), leaf_index=index, leaf=leaf,
        inclusion=inclusion)


def encode_receipt_event(leaf_index: int, time_text: str, fields: tuple[str | None, ...],
                         channel: str, header_sha256: tuple[str, ...]) -> bytes:
    """A receipt event's leaf bytes: the log's fields (actor id, actor role, action,
    object type, object id, outcome), then the channel and the header digests.

    Compact JSON of strings, integers, nulls and one list has a single form, so the
    bytes are canonical (:func:`parse_receipt_event` insists on it).
    """
    return json.dumps([RECEIPT_EVENT_TAG, leaf_index, time_text, *fields, channel,
                       list(header_sha256)],
                      separators=(",", ":"), ensure_ascii=True).encode("ascii")


def parse_receipt_event(leaf: bytes) -> ReceiptEvent:
    """What a leaf says, if it is a report's receipt event; refuses any other event."""
    not_receipt = _refuse("the proven event is not a report's receipt", "not_a_receipt")
    try:
        fields = json.loads(leaf.decode("ascii"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise not_receipt from None
    if not isinstance(fields, list) or not fields or not isinstance(fields[0], str):
        raise not_receipt
    tag = fields[0]
    expected = {PLAIN_EVENT_TAG: _PLAIN_FIELDS, RECEIPT_EVENT_TAG: _RECEIPT_FIELDS}.get(tag)
    if expected is None or len(fields) != expected:
        raise not_receipt
    index, time_text, actor_id, _role, action, object_type, reference, outcome = fields[1:9]
    channel, digests = (fields[9], fields[10]) if tag == RECEIPT_EVENT_TAG else (None, [])
    day = _MIDNIGHT.fullmatch(time_text) if isinstance(time_text, str) else None
    if (isinstance(index, bool) or not isinstance(index, int) or day is None
            or actor_id is not None or action != RECEIPT_ACTION or object_type != "report"
            or not isinstance(reference, str) or not reference or outcome != "success"
            or (tag == RECEIPT_EVENT_TAG and not isinstance(channel, str))
            or not isinstance(digests, list)
            or not all(isinstance(d, str) and _DIGEST.fullmatch(d) for d in digests)):
        raise not_receipt
    # The one canonical spelling: a leaf re-spelled would hash differently anyway, but
    # refusing it here keeps "what the event says" and "what was hashed" the same bytes.
    if json.dumps(fields, separators=(",", ":"), ensure_ascii=True).encode("ascii") != leaf:
        raise not_receipt
    try:
        on = date.fromisoformat(day.group(1))
    except ValueError:
        raise not_receipt from None
    return ReceiptEvent(leaf_index=index, day=on, action=action, reference=reference,
                        channel=channel, header_sha256=tuple(digests))


def verify_proof(proof: ProofOfReceipt, verifier_key: str | None = None) -> VerifiedReceipt:
    """Check a proof under ``verifier_key`` (pinned), else under the key the file names.

    A key from the file only shows the proof is consistent with itself: whoever made the
    file could have made the key. Pin the organisation's published key to know it is theirs.
    """
    key = verifier_key if verifier_key is not None else proof.verifier_key
    try:
        parse_verifier_key(key)
    except CheckpointError as error:
        raise _refuse(f"the verifier key is malformed ({error})", "signature") from None
    try:
        checkpoint = open_checkpoint(proof.checkpoint, key)
    except CheckpointError as error:
        raise _refuse(f"the checkpoint is not signed by the verifier key ({error})",
                      "signature") from None
    if proof.origin != checkpoint.origin:
        raise _refuse("the file's origin is not the signed checkpoint's", "origin")
    digest = leaf_hash(proof.leaf)
    try:
        verify_inclusion(digest, proof.leaf_index, checkpoint.size, proof.inclusion,
                         checkpoint.root_hash)
    except ProofError as error:
        raise _refuse(f"the leaf is not in the signed tree: {error} (the leaf, its index "
                      "or an inclusion hash was changed)", "inclusion") from None
    event = parse_receipt_event(proof.leaf)
    if event.leaf_index != proof.leaf_index:
        raise _refuse("the event names another position in the log than the proof",
                      "not_a_receipt")
    return VerifiedReceipt(
        verifier_key=key, key_was_pinned=verifier_key is not None,
        file_key_differs=verifier_key is not None and verifier_key != proof.verifier_key,
        checkpoint=checkpoint, leaf_hash=digest, event=event)
