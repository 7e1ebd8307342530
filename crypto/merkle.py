"""Merkle tree hashing, proofs and their verification, as RFC 9162 (CT v2) defines them.

The audit log is an append-only list of entries under a Merkle tree, so anyone holding a
signed tree head (see :mod:`crypto.checkpoint`) can check that one entry is in the log
(inclusion proof) and that a later log still contains everything an earlier one did
(consistency proof) without trusting the server. Hashing follows RFC 9162 §2.1.1: leaves
are ``SHA-256(0x00 || data)``, interior nodes ``SHA-256(0x01 || left || right)`` and the
empty tree is ``SHA-256("")``; the domain separation stops a leaf passing for a node.

No database here: :class:`CompactRange` keeps the tree's right edge to append leaves and
reports the perfect subtrees each append completes, for a store to keep; proof planning
(:func:`inclusion_proof_spans`, :func:`consistency_proof_spans`, :func:`perfect_cover`)
names the subtrees a proof needs so a caller fetches them in one query; the verifiers run
RFC 9162 §2.1.3.2 and §2.1.4.2 step by step. :class:`MerkleTree` holds a whole tree in
memory, for auditors re-checking an export and for tests.

Nodes are ``(level, index)``: the level-L node with index i covers leaves
``[i * 2**L, (i + 1) * 2**L)``; level 0 is the leaf hashes. A malformed or failing proof
raises :class:`~crypto.errors.ProofError`; asking for an impossible proof (index outside
the tree, old size above new size) is a caller bug and raises :class:`ValueError`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Final, TypeAlias

from crypto.errors import ProofError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompactRange",
    "MerkleTree",
    "NodeFetcher",
    "NodeId",
    "Span",
    "consistency_proof",
    "consistency_proof_spans",
    "inclusion_proof",
    "inclusion_proof_spans",
    "leaf_hash",
    "node_hash",
    "perfect_cover",
    "span_hash",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE: Final = 32
EMPTY_ROOT: Final = hashlib.sha256(b"").digest()
_LEAF_PREFIX: Final = b"\x00"
_NODE_PREFIX: Final = b"\x01"

NodeId: TypeAlias = tuple[int, int]
"""A perfect subtree as ``(level, index)``."""
Span: TypeAlias = tuple[int, int]
"""A half-open range of leaf indices ``(start, end)``."""
NodeFetcher: TypeAlias = Callable[[set[NodeId]], Mapping[NodeId, bytes]]
"""Given every node a proof needs, return their hashes (one database query)."""


def leaf_hash(data: bytes) -> bytes:
    """Return the RFC 9162 leaf hash of ``data``: SHA-256(0x00 || data)."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 9162 interior node hash: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _split_point(size: int) -> int:
    # RFC 9162 §2.1.1: k is the largest power of two smaller than n (n > 1).
    return 1 << ((size - 1).bit_length() - 1)


def _fold_right(hashes: Sequence[bytes]) -> bytes:
    # Perfect subtrees, largest first, combine from the right: MTH splits off the largest
    # power of two at each step, so the last two subtrees are joined first.
    if not hashes:
        return EMPTY_ROOT
    root = hashes[-1]
    for left in reversed(hashes[:-1]):
        root = node_hash(left, root)
    return root


def _require_hashes(values: Iterable[bytes], what: str) -> None:
    if any(len(value) != HASH_SIZE for value in values):
        raise ProofError(f"{what} must be {HASH_SIZE}-byte hashes")


class CompactRange:
    """The right edge of a tree of ``size`` leaves: its perfect subtree roots, largest first.

    One hash per set bit of ``size`` is enough to append leaves and compute the root, so
    a writer keeps this instead of the tree (transparency-dev "compact ranges").
    """

    def __init__(self, size: int = 0, hashes: Iterable[bytes] = ()) -> None:
        """Start empty, or resume from a size and its edge hashes (ProofError if they differ)."""
        self._hashes = list(hashes)
        if size < 0 or len(self._hashes) != size.bit_count():
            raise ProofError("compact range does not match its tree size")
        _require_hashes(self._hashes, "compact range values")
        self._size = size

    @property
    def size(self) -> int:
        """The number of leaves appended so far."""
        return self._size

    @property
    def hashes(self) -> tuple[bytes, ...]:
        """The perfect subtree roots of the right edge, largest first."""
        return tuple(self._hashes)

    def append(self, leaf_hash: bytes) -> list[tuple[int, int, bytes]]:
        """Append one leaf hash; return the interior nodes it completed.

        Each is ``(level, index, hash)`` with ``level >= 1``, lowest first: the nodes a
        store must save so later proofs can be served without recomputing them.
        """
        if len(leaf_hash) != HASH_SIZE:
            raise ValueError(f"leaf hash must be {HASH_SIZE} bytes")
        completed: list[tuple[int, int, bytes]] = []
        current = leaf_hash
        level = 0
        # Each set low bit of the old size is a left sibling now completed on its right.
        while (self._size >> level) & 1:
            current = node_hash(self._hashes.pop(), current)
            level += 1
            completed.append((level, self._size >> level, current))
        self._hashes.append(current)
        self._size += 1
        return completed

    def root(self) -> bytes:
        """Return the RFC 9162 Merkle tree hash of all leaves so far (EMPTY_ROOT if none)."""
        return _fold_right(self._hashes)

    def to_bytes(self) -> bytes:
        """Return the edge hashes concatenated, for storage next to the size."""
        return b"".join(self._hashes)

    @classmethod
    def from_bytes(cls, size: int, data: bytes) -> CompactRange:
        """Rebuild from :meth:`to_bytes` output; ProofError unless it is popcount(size) hashes."""
        if len(data) % HASH_SIZE:
            raise ProofError("compact range data is not a whole number of hashes")
        hashes = [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]
        return cls(size, hashes)


def perfect_cover(start: int, end: int) -> list[NodeId]:
    """Return the perfect subtrees that RFC 9162's split decomposes ``[start, end)`` into.

    Largest first, as ``(level, index)``. Valid for the spans proofs use: ``start`` is a
    multiple of the largest power of two in ``end - start``; anything else raises
    :class:`ValueError`.
    """
    if not 0 <= start <= end:
        raise ValueError("span must satisfy 0 <= start <= end")
    length = end - start
    if length and start % (1 << (length.bit_length() - 1)):
        raise ValueError("span is not aligned as RFC 9162 splits produce")
    cover: list[NodeId] = []
    position = start
    for level in range(length.bit_length() - 1, -1, -1):
        if (length >> level) & 1:
            cover.append((level, position >> level))
            position += 1 << level
    return cover


def span_hash(start: int, end: int, nodes: Mapping[NodeId, bytes]) -> bytes:
    """Return MTH(D[start:end]) from the hashes of its :func:`perfect_cover` nodes.

    Raises :class:`~crypto.errors.ProofError` if a node is missing or not a hash.
    """
    hashes: list[bytes] = []
    for node in perfect_cover(start, end):
        value = nodes.get(node)
        if value is None:
            raise ProofError(f"node {node} is missing")
        _require_hashes([value], "nodes")
        hashes.append(value)
    return _fold_right(hashes)


def inclusion_proof_spans(index: int, size: int) -> list[Span]:
    """Return the leaf spans whose hashes, in order, form PATH(index, D[size]).

    RFC 9162 §2.1.3.1: the sibling of each subtree on the way from the root down to the
    leaf, listed from the leaf up.
    """
    if not 0 <= index < size:
        raise ValueError("leaf index must be inside the tree")
    siblings: list[Span] = []
    low, high = 0, size
    while high - low > 1:
        middle = low + _split_point(high - low)
        if index < middle:
            siblings.append((middle, high))
            high = middle
        else:
            siblings.append((low, middle))
            low = middle
    return siblings[::-1]


def consistency_proof_spans(old_size: int, new_size: int) -> list[Span]:
    """Return the leaf spans whose hashes, in order, form PROOF(old_size, D[new_size]).

    RFC 9162 §2.1.4.1 (SUBPROOF). Empty when the sizes are equal or ``old_size`` is 0:
    the empty tree is a prefix of every tree, so there is nothing to prove.
    """
    if not 0 <= old_size <= new_size:
        raise ValueError("sizes must satisfy 0 <= old_size <= new_size")
    if old_size in (0, new_size):
        return []
    suffix: list[Span] = []
    low, high = 0, new_size
    old_is_whole_subtree = True
    while old_size < high:
        middle = low + _split_point(high - low)
        if old_size <= middle:
            suffix.append((middle, high))
            high = middle
        else:
            suffix.append((low, middle))
            low = middle
            old_is_whole_subtree = False
    # SUBPROOF(m, D[m], true) is empty (the verifier has that root); with false it is
    # MTH(D[m]), the old tree's last subtree.
    head = [] if old_is_whole_subtree else [(low, high)]
    return head + suffix[::-1]


def _assemble(spans: Sequence[Span], fetch: NodeFetcher) -> list[bytes]:
    needed = {node for start, end in spans for node in perfect_cover(start, end)}
    nodes = fetch(needed) if needed else {}
    return [span_hash(start, end, nodes) for start, end in spans]


def inclusion_proof(index: int, size: int, fetch: NodeFetcher) -> list[bytes]:
    """Return the inclusion proof of leaf ``index`` in the tree of ``size`` leaves.

    ``fetch`` is called once with every ``(level, index)`` needed (not at all for a
    one-leaf tree) and must return their hashes.
    """
    return _assemble(inclusion_proof_spans(index, size), fetch)


def consistency_proof(old_size: int, new_size: int, fetch: NodeFetcher) -> list[bytes]:
    """Return the consistency proof from ``old_size`` to ``new_size`` leaves.

    ``fetch`` is called once with every ``(level, index)`` needed (not at all when the
    proof is empty) and must return their hashes.
    """
    return _assemble(consistency_proof_spans(old_size, new_size), fetch)


def _shift_until_odd_or_zero(first: int, second: int) -> tuple[int, int]:
    while not first & 1 and first:
        first >>= 1
        second >>= 1
    return first, second


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``size`` with ``root``.

    The algorithm of RFC 9162 §2.1.3.2, step by step. Raises
    :class:`~crypto.errors.ProofError` on any failure: index out of range, a proof too
    long or too short, a value that is not a hash, or a root mismatch.
    """
    _require_hashes([leaf_hash, root, *proof], "leaf, root and proof")
    if not 0 <= index < size:
        raise ProofError("leaf index is outside the tree")
    fn, sn = index, size - 1
    computed = leaf_hash
    for sibling in proof:
        if sn == 0:
            raise ProofError("inclusion proof is too long")
        if fn & 1 or fn == sn:
            computed = node_hash(sibling, computed)
            fn, sn = _shift_until_odd_or_zero(fn, sn)
        else:
            computed = node_hash(computed, sibling)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is too short")
    if computed != root:
        raise ProofError("inclusion proof does not lead to the root")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of ``old_size`` with ``old_root`` is a prefix of the newer tree.

    The algorithm of RFC 9162 §2.1.4.2, step by step, for ``0 < old_size < new_size``.
    Edge cases: equal sizes need an empty proof and equal roots. An ``old_size`` of 0 is
    accepted only with an empty proof and ``old_root == EMPTY_ROOT``: the empty tree is a
    prefix of every tree, so this proves nothing about ``new_root``. Raises
    :class:`~crypto.errors.ProofError` on any failure.
    """
    _require_hashes([old_root, new_root, *proof], "roots and proof")
    if not 0 <= old_size <= new_size:
        raise ProofError("sizes must satisfy 0 <= old_size <= new_size")
    if old_size in (0, new_size):
        _verify_trivial_consistency(old_size, new_size, old_root, new_root, proof)
        return
    if not proof:
        raise ProofError("consistency proof is empty")
    path = list(proof)
    if old_size.bit_count() == 1:
        # The old tree is one perfect subtree of the new one; the proof omits its root.
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    old_computed = new_computed = path[0]
    for value in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is too long")
        if fn & 1 or fn == sn:
            old_computed = node_hash(value, old_computed)
            new_computed = node_hash(value, new_computed)
            fn, sn = _shift_until_odd_or_zero(fn, sn)
        else:
            new_computed = node_hash(new_computed, value)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is too short")
    if old_computed != old_root or new_computed != new_root:
        raise ProofError("consistency proof does not match the roots")


def _verify_trivial_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    if proof:
        raise ProofError("consistency proof must be empty for these sizes")
    if old_size == 0 and old_root != EMPTY_ROOT:
        raise ProofError("the root of an empty tree must be EMPTY_ROOT")
    if old_size == new_size and old_root != new_root:
        raise ProofError("trees of the same size have different roots")


class MerkleTree:
    """A whole tree in memory: every perfect subtree hash, level by level.

    For auditors re-checking an exported log and for tests. Level L is a list of the
    complete level-L nodes, so a million leaves take about two million 32-byte hashes.
    """

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        """Create a tree, optionally from leaf hashes (not data: hash with :func:`leaf_hash`)."""
        self._edge = CompactRange()
        self._levels: list[list[bytes]] = [[]]
        for value in leaf_hashes:
            self.append(value)

    @property
    def size(self) -> int:
        """The number of leaves."""
        return self._edge.size

    def append(self, leaf_hash: bytes) -> None:
        """Append one leaf hash, keeping the interior nodes it completes."""
        completed = self._edge.append(leaf_hash)
        self._levels[0].append(leaf_hash)
        # Nodes of a level complete left to right, so each lands at its own index.
        for level, _, digest in completed:
            if level == len(self._levels):
                self._levels.append([])
            self._levels[level].append(digest)

    def perfect_node(self, level: int, index: int) -> bytes:
        """Return the hash of the complete subtree ``(level, index)`` (ValueError if none)."""
        if not (0 <= level < len(self._levels) and 0 <= index < len(self._levels[level])):
            raise ValueError("no such complete subtree")
        return self._levels[level][index]

    def root(self, size: int | None = None) -> bytes:
        """Return the Merkle tree hash of the first ``size`` leaves (default: all), in O(log n)."""
        size = self._checked_size(size)
        return _fold_right([self.perfect_node(*node) for node in perfect_cover(0, size)])

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Return the inclusion proof of leaf ``index`` in the first ``size`` leaves."""
        return inclusion_proof(index, self._checked_size(size), self._fetch)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """Return the consistency proof from ``old_size`` to ``new_size`` leaves."""
        return consistency_proof(old_size, self._checked_size(new_size), self._fetch)

    def _checked_size(self, size: int | None) -> int:
        if size is None:
            return self.size
        if not 0 <= size <= self.size:
            raise ValueError("size must be between 0 and the tree size")
        return size

    def _fetch(self, needed: set[NodeId]) -> dict[NodeId, bytes]:
        return {node: self.perfect_node(*node) for node in needed}
