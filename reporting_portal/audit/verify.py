"""Verify the whole log from the stored events: ``reporting-portal audit verify``.

The tree is rebuilt from the events alone, in memory, and then compared with what the
database claims: each event's recorded leaf hash, the numbering (no gaps, nothing past
the last signed head), the latest signed tree head and, when it fails, the earlier
heads by binary search for the first that no longer matches (heads are signed as the
log grows, so once an entry is altered every later head disagrees: the first failing
head brackets it), every stored subtree, and, if the auditor kept one, an earlier head
(RFC 9162 consistency). The report names the first entry that does not match. Older
heads are not each re-checked when the latest holds: at a million heads that would cost
a minute, and the latest head's signature already covers every entry.

What this cannot see: someone holding both the database and the signing key can rewrite
the log and re-sign every head. Only a head saved outside the server catches that,
which is why auditors download heads.
"""

from __future__ import annotations

import bisect
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from crypto.checkpoint import Checkpoint, open_checkpoint
from crypto.errors import CheckpointError, ProofError
from crypto.merkle import MerkleTree, leaf_hash, verify_consistency
from reporting_portal.audit.log import encode_stored_event
from reporting_portal.storage.models import AuditLogState, AuditTreeHead

_BATCH = 20_000


@dataclass(frozen=True)
class Problem:
    """Something that does not match; ``leaf_index`` is the first entry it concerns, or
    ``None`` when it points at no entry (a saved head that is not this log's, or that only
    tells the log was rewritten somewhere before it)."""

    leaf_index: int | None
    message: str


@dataclass
class Verification:
    tree_size: int = 0
    root_hash: bytes = b""
    heads_checked: int = 0
    saved_head: Checkpoint | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems

    @property
    def ordered_problems(self) -> list[Problem]:
        """Problems at an entry first, by entry; then those that name none, as found."""
        return sorted(self.problems, key=lambda problem: (
            problem.leaf_index is None, problem.leaf_index or 0))

    @property
    def first_problem(self) -> Problem | None:
        return next(iter(self.ordered_problems), None)


def verify_log(db: Session, verifier_key: str, saved_head: str | None = None) -> Verification:
    """Recompute the log and check it against its own records and, optionally, a saved head."""
    result = Verification()
    with _collector_paused():
        tree = _rebuild(db, result)
    result.tree_size, result.root_hash = tree.size, tree.root()
    _check_heads(db, tree, verifier_key, result)
    if result.intact:
        # Stored subtrees can be judged only against events known to be good; an altered
        # event makes the subtrees above it differ, and that is already reported.
        _check_nodes(db, tree, result)
    if saved_head is not None:
        _check_saved_head(tree, verifier_key, saved_head, result)
    return result


@contextmanager
def _collector_paused() -> Iterator[None]:
    # The rebuild makes millions of small objects, none of them in a cycle; the cyclic
    # garbage collector would walk them again and again (an eighth of the time at 1M).
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def stored_time_text(value: str | datetime) -> str:
    """The canonical time of a stored event, straight from the database's own value.

    SQLite keeps "YYYY-MM-DD HH:MM:SS.ffffff" and PostgreSQL a naive datetime, both UTC;
    formatting them directly costs a tenth of a typed column's parsing at a million rows.
    """
    if isinstance(value, str):
        return f"{value[:10]}T{value[11:19]}Z"
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _receipt_columns(db: Session) -> str:
    """The receipt's columns, or NULLs in a schema from before them: a restore verifies a
    backup's log before it upgrades the schema (operations/restore.py)."""
    present = {column["name"] for column in inspect(db.connection()).get_columns("audit_event")}
    if {"receipt_channel", "receipt_headers"} <= present:
        return "receipt_channel, receipt_headers"
    return "NULL AS receipt_channel, NULL AS receipt_headers"


def _rebuild(db: Session, result: Verification) -> MerkleTree:
    tree = MerkleTree()
    # Raw rows: this loop runs once per event, so every microsecond counts a second at 1M.
    # The one interpolation is one of _receipt_columns' two constant column lists.
    rows = db.connection().execution_options(yield_per=_BATCH).exec_driver_sql(
        f"SELECT leaf_index, leaf_hash, occurred_at, {_receipt_columns(db)}, "  # noqa: S608  # nosec B608
        "actor_id, actor_role, action, object_type, object_id, outcome "
        "FROM audit_event ORDER BY leaf_index")
    for index, stored_hash, occurred_at, receipt_channel, receipt_headers, *fields in rows:
        if index != tree.size:
            result.problems.append(Problem(tree.size, (
                f"entries {tree.size} to {index - 1} are missing: deleted"
                if index > tree.size else f"entry {index} appears more than once: inserted")))
        recomputed = leaf_hash(encode_stored_event(index, stored_time_text(occurred_at),
                                                   tuple(fields), receipt_channel,
                                                   receipt_headers))
        if recomputed != bytes(stored_hash):
            result.problems.append(Problem(index, (
                f"entry {index} ({fields[2]}) does not match the hash recorded when it was "
                "written: changed or moved afterwards")))
        tree.append(recomputed)
    state_size = db.scalar(select(AuditLogState.tree_size)) or 0
    if tree.size > state_size:
        result.problems.append(Problem(state_size, (
            f"entries from {state_size} on were not appended by the application: inserted")))
    return tree


def _head_problem(tree: MerkleTree, head: AuditTreeHead, verifier_key: str) -> str | None:
    try:
        signed = open_checkpoint(head.checkpoint, verifier_key)
    except CheckpointError:
        return f"the tree head of size {head.tree_size} is not signed by the log's key"
    if signed.size != head.tree_size or signed.root_hash != head.root_hash:
        return f"the tree head of size {head.tree_size} differs from what was signed"
    if signed.size > tree.size:
        return (f"the signed head covers {signed.size} entries but only {tree.size} "
                "remain: entries were removed")
    if tree.root(signed.size) != signed.root_hash:
        return f"the entries do not match the signed tree head of size {signed.size}"
    return None


def _check_heads(db: Session, tree: MerkleTree, verifier_key: str,
                 result: Verification) -> None:
    sizes = list(db.scalars(select(AuditTreeHead.tree_size).order_by(AuditTreeHead.tree_size)))
    if not sizes:
        if tree.size:
            result.problems.append(Problem(0, "no signed tree head covers the log"))
        return

    def head(position: int) -> AuditTreeHead:
        found = db.get(AuditTreeHead, sizes[position])
        if found is None:  # listed a moment ago; heads are never deleted
            raise LookupError(f"tree head {sizes[position]} vanished during verification")
        result.heads_checked += 1
        return found

    latest = head(len(sizes) - 1)
    if _head_problem(tree, latest, verifier_key) is None:
        if tree.size > latest.tree_size:
            result.problems.append(Problem(latest.tree_size, (
                f"entries from {latest.tree_size} on are covered by no signed tree head: "
                "inserted")))
        return
    # Heads were signed as the log grew, so they match up to the first altered entry and
    # disagree from then on: the first failing head brackets it.
    first_bad = bisect.bisect_left(
        range(len(sizes)), True,
        key=lambda position: _head_problem(tree, head(position), verifier_key) is not None)
    start = sizes[first_bad - 1] if first_bad else 0
    message = _head_problem(tree, head(first_bad), verifier_key) or ""
    end = sizes[first_bad] - 1
    where = f"entry {start}" if start == end else f"an entry from {start} to {end}"
    result.problems.append(Problem(start, f"{where} was altered: {message}"))


def _check_nodes(db: Session, tree: MerkleTree, result: Verification) -> None:
    rows = db.connection().execution_options(yield_per=_BATCH).exec_driver_sql(
        'SELECT level, "index", hash FROM audit_tree_node')
    with rows:  # closes the server-side cursor when the loop stops early
        for level, index, digest in rows:
            first_leaf, end = index << level, (index + 1) << level
            if end > tree.size or tree.perfect_node(level, index) != bytes(digest):
                result.problems.append(Problem(first_leaf, (
                    f"the stored subtree over entries {first_leaf} to {end - 1} does not "
                    "match them: proofs for those entries would be wrong")))
                return


def _check_saved_head(tree: MerkleTree, verifier_key: str, note: str,
                      result: Verification) -> None:
    try:
        saved = open_checkpoint(note, verifier_key)
    except CheckpointError as error:
        # The head is foreign (another log's, another key's, or not a head): that says
        # nothing about entry 0 or any other, so none is named (issue 15).
        result.problems.append(Problem(None, f"the saved head does not check out: {error}"))
        return
    result.saved_head = saved
    if saved.size > tree.size:
        result.problems.append(Problem(tree.size, (
            f"the saved head covers {saved.size} entries but only {tree.size} remain: "
            f"entries from {tree.size} on were removed")))
        return
    try:
        proof = tree.consistency_proof(saved.size, tree.size)
        verify_consistency(saved.size, tree.size, saved.root_hash, tree.root(), proof)
    except ProofError:
        result.problems.append(Problem(None, (
            f"the first {saved.size} entries are not the ones the saved head signed: "
            "the log was rewritten and re-signed (entry 0 onwards cannot be trusted)")))
