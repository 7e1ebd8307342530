"""RFC 9162 Merkle trees and proofs (crypto.merkle).

Known answers come from transparency-dev/merkle, the reference Go implementation behind
Trillian and the C2SP tlog ecosystem; the property tests check that the in-memory tree,
the compact range and the span-planning API agree with each other and with the verifiers
for every size up to 300.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto.errors import ProofError
from crypto.merkle import (
    EMPTY_ROOT,
    CompactRange,
    MerkleTree,
    NodeId,
    consistency_proof,
    consistency_proof_spans,
    inclusion_proof,
    inclusion_proof_spans,
    leaf_hash,
    node_hash,
    perfect_cover,
    span_hash,
    verify_consistency,
    verify_inclusion,
)

# --- Known-answer vectors -----------------------------------------------------------
# Source: github.com/transparency-dev/merkle, testonly/constants.go (LeafInputs,
# NodeHashes, RootHashes, CompactTrees) and proof/verify_test.go (inclusionProofs,
# consistencyProofs). verify_test.go numbers leaves from 1; the indices below are the
# 0-based leaf indices it verifies (p.leaf - 1).

LEAF_INPUTS = [
    bytes.fromhex(value)
    for value in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]

# NODE_HASHES[level][index]: every complete subtree of the 8-leaf tree.
NODE_HASHES = [
    [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    [
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    [
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    ["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
]

# ROOT_HASHES[size] for the first `size` leaves, from the empty tree up.
ROOT_HASHES = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]

# COMPACT_TREES[size]: the compact range of each prefix, as (level, index) into NODE_HASHES.
COMPACT_TREES: list[list[NodeId]] = [
    [],
    [(0, 0)],
    [(1, 0)],
    [(1, 0), (0, 2)],
    [(2, 0)],
    [(2, 0), (0, 4)],
    [(2, 0), (1, 2)],
    [(2, 0), (1, 2), (0, 6)],
    [(3, 0)],
]

# (leaf index, tree size, proof)
INCLUSION_VECTORS = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]

# (old size, new size, proof)
CONSISTENCY_VECTORS = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]

# A 32-byte value that is no hash in these trees (verify_test.go's sha256SomeHash).
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


def _hashes(values: Sequence[str]) -> list[bytes]:
    return [bytes.fromhex(value) for value in values]


def _reference_tree() -> MerkleTree:
    return MerkleTree(leaf_hash(data) for data in LEAF_INPUTS)


def _numbered_tree(size: int) -> MerkleTree:
    return MerkleTree(leaf_hash(number.to_bytes(8, "big")) for number in range(size))


@functools.cache
def _shared_tree() -> MerkleTree:
    # Read-only across examples; big enough for every "other size" a test draws.
    return _numbered_tree(600)


def _ceil_log2(size: int) -> int:
    return (size - 1).bit_length()


def _flip_bit(proof: Sequence[bytes], position: int, bit: int) -> list[bytes]:
    altered = list(proof)
    value = bytearray(altered[position])
    value[bit // 8] ^= 1 << (bit % 8)
    altered[position] = bytes(value)
    return altered


class DictFetcher:
    """A node store in a dict, as a database caller would serve it; records each call."""

    def __init__(self, nodes: Mapping[NodeId, bytes]) -> None:
        self.nodes = nodes
        self.calls: list[set[NodeId]] = []

    def __call__(self, needed: set[NodeId]) -> dict[NodeId, bytes]:
        self.calls.append(set(needed))
        return {node: self.nodes[node] for node in needed}


def _stored_nodes(leaf_hashes: Sequence[bytes]) -> dict[NodeId, bytes]:
    # What a log writer would store: each leaf, plus the nodes CompactRange.append reports.
    compact = CompactRange()
    nodes: dict[NodeId, bytes] = {}
    for index, value in enumerate(leaf_hashes):
        nodes[(0, index)] = value
        for level, node_index, digest in compact.append(value):
            nodes[(level, node_index)] = digest
    return nodes


# --- Hashing and roots ----------------------------------------------------------------


def test_empty_root_is_sha256_of_nothing() -> None:
    assert hashlib.sha256(b"").digest() == EMPTY_ROOT
    assert MerkleTree().root() == EMPTY_ROOT
    assert CompactRange().root() == EMPTY_ROOT


def test_leaf_and_node_hashes_are_domain_separated() -> None:
    left, right = leaf_hash(b"a"), leaf_hash(b"b")
    assert leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert node_hash(left, right) == hashlib.sha256(b"\x01" + left + right).digest()
    # A leaf whose data is two hashes must not collide with the node above them.
    assert leaf_hash(left + right) != node_hash(left, right)


def test_every_perfect_subtree_matches_reference() -> None:
    tree = _reference_tree()
    for level, row in enumerate(NODE_HASHES):
        for index, expected in enumerate(row):
            assert tree.perfect_node(level, index).hex() == expected


@pytest.mark.parametrize("size", range(len(ROOT_HASHES)))
def test_root_of_every_prefix_matches_reference(size: int) -> None:
    compact = CompactRange()
    for data in LEAF_INPUTS[:size]:
        compact.append(leaf_hash(data))
    assert _reference_tree().root(size).hex() == ROOT_HASHES[size]
    assert compact.root().hex() == ROOT_HASHES[size]
    expected_edge = [
        bytes.fromhex(NODE_HASHES[level][index]) for level, index in COMPACT_TREES[size]
    ]
    assert list(compact.hashes) == expected_edge


# --- Known proofs -------------------------------------------------------------------


@pytest.mark.parametrize(("index", "size", "expected"), INCLUSION_VECTORS)
def test_inclusion_proof_matches_reference(index: int, size: int, expected: list[str]) -> None:
    tree = _reference_tree()
    expected_proof = _hashes(expected)
    fetcher = DictFetcher(_stored_nodes([leaf_hash(data) for data in LEAF_INPUTS]))
    assert tree.inclusion_proof(index, size) == expected_proof
    assert inclusion_proof(index, size, fetcher) == expected_proof
    assert len(fetcher.calls) == (1 if expected_proof else 0)
    verify_inclusion(leaf_hash(LEAF_INPUTS[index]), index, size, expected_proof, tree.root(size))


@pytest.mark.parametrize(("old_size", "new_size", "expected"), CONSISTENCY_VECTORS)
def test_consistency_proof_matches_reference(
    old_size: int, new_size: int, expected: list[str]
) -> None:
    tree = _reference_tree()
    expected_proof = _hashes(expected)
    fetcher = DictFetcher(_stored_nodes([leaf_hash(data) for data in LEAF_INPUTS]))
    assert tree.consistency_proof(old_size, new_size) == expected_proof
    assert consistency_proof(old_size, new_size, fetcher) == expected_proof
    assert len(fetcher.calls) == (1 if expected_proof else 0)
    verify_consistency(old_size, new_size, tree.root(old_size), tree.root(new_size), expected_proof)


InclusionProbe = tuple[str, int, int, list[bytes], bytes, bytes]
ConsistencyProbe = tuple[str, int, int, bytes, bytes, list[bytes]]


def _inclusion_probes(
    index: int, size: int, proof: list[bytes], root: bytes, leaf: bytes
) -> list[InclusionProbe]:
    # The corruptions of verify_test.go's corruptInclusionProof.
    probes: list[InclusionProbe] = [
        ("index - 1", index - 1, size, proof, root, leaf),
        ("index + 1", index + 1, size, proof, root, leaf),
        ("index ^ 2", index ^ 2, size, proof, root, leaf),
        ("size * 2", index, size * 2, proof, root, leaf),
        ("size // 2", index, size // 2, proof, root, leaf),
        ("wrong leaf", index, size, proof, root, b"WrongLeaf"),
        ("other leaf", index, size, proof, root, SOME_HASH),
        ("empty root", index, size, proof, EMPTY_ROOT, leaf),
        ("random root", index, size, proof, SOME_HASH, leaf),
        ("trailing garbage", index, size, [*proof, b""], root, leaf),
        ("trailing root", index, size, [*proof, root], root, leaf),
        ("preceding garbage", index, size, [b"", *proof], root, leaf),
        ("preceding root", index, size, [root, *proof], root, leaf),
    ]
    for position in range(len(proof)):
        flipped = _flip_bit(proof, position, 3)
        probes.append((f"flipped proof[{position}]", index, size, flipped, root, leaf))
    if proof:
        probes.append(("removed component", index, size, proof[:-1], root, leaf))
    if len(proof) > 1:
        inserted = [proof[0], SOME_HASH, *proof[1:]]
        probes.append(("inserted component", index, size, inserted, root, leaf))
    return probes


def _accepts_inclusion(probe: InclusionProbe) -> bool:
    _, index, size, proof, root, leaf = probe
    try:
        verify_inclusion(leaf, index, size, proof, root)
    except ProofError:
        return False
    return True


@pytest.mark.parametrize(("index", "size", "expected"), INCLUSION_VECTORS)
def test_corrupted_inclusion_proofs_fail(index: int, size: int, expected: list[str]) -> None:
    tree = _reference_tree()
    leaf = leaf_hash(LEAF_INPUTS[index])
    probes = _inclusion_probes(index, size, _hashes(expected), tree.root(size), leaf)
    assert [probe[0] for probe in probes if _accepts_inclusion(probe)] == []


def _consistency_probes(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: list[bytes]
) -> list[ConsistencyProbe]:
    # The corruptions of verify_test.go's corruptConsistencyProof.
    sizes, roots = (old_size, new_size), (old_root, new_root)
    probes: list[ConsistencyProbe] = [
        ("old - 1", old_size - 1, new_size, *roots, proof),
        ("old + 1", old_size + 1, new_size, *roots, proof),
        ("old ^ 2", old_size ^ 2, new_size, *roots, proof),
        ("new * 2", old_size, new_size * 2, *roots, proof),
        ("new // 2", old_size, new_size // 2, *roots, proof),
        ("wrong old root", *sizes, b"WrongRoot", new_root, proof),
        ("wrong new root", *sizes, old_root, b"WrongRoot", proof),
        ("other old root", *sizes, SOME_HASH, new_root, proof),
        ("other new root", *sizes, old_root, SOME_HASH, proof),
        ("swapped roots", *sizes, new_root, old_root, proof),
        ("empty proof", *sizes, *roots, []),
        ("trailing garbage", *sizes, *roots, [*proof, b""]),
        ("trailing old root", *sizes, *roots, [*proof, old_root]),
        ("trailing new root", *sizes, *roots, [*proof, new_root]),
        ("preceding garbage", *sizes, *roots, [b"", *proof]),
        ("preceding old root", *sizes, *roots, [old_root, *proof]),
        ("preceding new root", *sizes, *roots, [new_root, *proof]),
        ("preceding proof[0]", *sizes, *roots, [proof[0], *proof]),
        ("truncated", *sizes, *roots, proof[:-1]),
    ]
    for position in range(len(proof)):
        flipped = _flip_bit(proof, position, 4)
        probes.append((f"flipped proof[{position}]", *sizes, *roots, flipped))
    return probes


def _accepts_consistency(probe: ConsistencyProbe) -> bool:
    _, old_size, new_size, old_root, new_root, proof = probe
    try:
        verify_consistency(old_size, new_size, old_root, new_root, proof)
    except ProofError:
        return False
    return True


@pytest.mark.parametrize(
    ("old_size", "new_size", "expected"), [vector for vector in CONSISTENCY_VECTORS if vector[2]]
)
def test_corrupted_consistency_proofs_fail(
    old_size: int, new_size: int, expected: list[str]
) -> None:
    tree = _reference_tree()
    old_root, new_root = tree.root(old_size), tree.root(new_size)
    probes = _consistency_probes(old_size, new_size, old_root, new_root, _hashes(expected))
    assert [probe[0] for probe in probes if _accepts_consistency(probe)] == []


# --- Edge cases ---------------------------------------------------------------------

ROOT_A = leaf_hash(b"a")
ROOT_B = leaf_hash(b"b")


@pytest.mark.parametrize(
    ("old_size", "new_size", "old_root", "new_root", "proof"),
    [
        (0, 0, EMPTY_ROOT, EMPTY_ROOT, []),
        (0, 5, EMPTY_ROOT, ROOT_B, []),
        (1, 1, ROOT_A, ROOT_A, []),
        (7, 7, ROOT_B, ROOT_B, []),
    ],
)
def test_trivially_consistent_sizes(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: list[bytes]
) -> None:
    verify_consistency(old_size, new_size, old_root, new_root, proof)


@pytest.mark.parametrize(
    ("old_size", "new_size", "old_root", "new_root", "proof"),
    [
        (0, 0, EMPTY_ROOT, ROOT_B, []),  # same size, different roots
        (1, 1, ROOT_A, ROOT_B, []),
        (0, 5, ROOT_A, ROOT_B, []),  # the empty tree has exactly one root
        (0, 5, EMPTY_ROOT, ROOT_B, [EMPTY_ROOT]),  # nothing to prove, so no proof
        (0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT]),
        (1, 1, ROOT_A, ROOT_A, [EMPTY_ROOT]),
        (1, 0, ROOT_A, ROOT_B, []),  # time travel to the past
        (2, 1, ROOT_A, ROOT_B, []),
        (-1, 1, ROOT_A, ROOT_B, []),
        (1, 2, ROOT_A, ROOT_B, []),  # a real proof is needed and missing
        (1, 2, ROOT_A[:31], ROOT_B, [SOME_HASH]),  # not a hash
    ],
)
def test_inconsistent_edge_cases_fail(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: list[bytes]
) -> None:
    with pytest.raises(ProofError):
        verify_consistency(old_size, new_size, old_root, new_root, proof)


@pytest.mark.parametrize(("index", "size"), [(0, 0), (1, 0), (1, 1), (2, 1), (-1, 1)])
def test_inclusion_outside_the_tree_fails(index: int, size: int) -> None:
    with pytest.raises(ProofError):
        verify_inclusion(SOME_HASH, index, size, [], SOME_HASH)


def test_single_leaf_tree_proves_itself_with_empty_proof() -> None:
    leaf = leaf_hash(b"data")
    verify_inclusion(leaf, 0, 1, [], leaf)
    with pytest.raises(ProofError):
        verify_inclusion(leaf, 0, 1, [], EMPTY_ROOT)
    with pytest.raises(ProofError):
        verify_inclusion(b"", 0, 1, [], leaf)


def test_impossible_proof_requests_are_caller_errors() -> None:
    tree = _numbered_tree(4)
    with pytest.raises(ValueError, match="inside the tree"):
        tree.inclusion_proof(4, 4)
    with pytest.raises(ValueError, match="between 0 and the tree size"):
        tree.inclusion_proof(0, 5)
    with pytest.raises(ValueError, match="old_size <= new_size"):
        tree.consistency_proof(3, 2)
    with pytest.raises(ValueError, match="between 0 and the tree size"):
        tree.root(5)
    with pytest.raises(ValueError, match="complete subtree"):
        tree.perfect_node(2, 1)


def test_perfect_cover_follows_rfc_splits() -> None:
    assert perfect_cover(0, 0) == []
    assert perfect_cover(0, 7) == [(2, 0), (1, 2), (0, 6)]
    assert perfect_cover(8, 13) == [(2, 2), (0, 12)]
    assert perfect_cover(4, 6) == [(1, 2)]
    with pytest.raises(ValueError, match="aligned"):
        perfect_cover(2, 6)  # [2, 6) is not one of RFC 9162's subtrees


def test_span_hash_needs_every_node() -> None:
    nodes = _stored_nodes([leaf_hash(data) for data in LEAF_INPUTS])
    assert span_hash(0, 7, nodes).hex() == ROOT_HASHES[7]
    assert span_hash(3, 3, nodes) == EMPTY_ROOT
    del nodes[(1, 2)]
    with pytest.raises(ProofError, match="missing"):
        span_hash(0, 7, nodes)


def test_compact_range_serialisation_checks_the_count() -> None:
    compact = CompactRange()
    for number in range(13):
        compact.append(leaf_hash(bytes([number])))
    restored = CompactRange.from_bytes(13, compact.to_bytes())
    assert restored.hashes == compact.hashes
    assert restored.root() == compact.root()
    for size, data in [(12, compact.to_bytes()), (13, compact.to_bytes()[:-32]), (13, b"\x00")]:
        with pytest.raises(ProofError):
            CompactRange.from_bytes(size, data)
    with pytest.raises(ProofError):
        CompactRange(-1, [])


# --- Properties over many sizes -----------------------------------------------------

sizes = st.integers(min_value=1, max_value=300)


@settings(max_examples=40, deadline=None)
@given(size=sizes)
def test_compact_range_agrees_with_tree_on_every_prefix(size: int) -> None:
    tree = _numbered_tree(size)
    compact = CompactRange()
    for index in range(size):
        for level, node_index, digest in compact.append(tree.perfect_node(0, index)):
            assert level >= 1
            assert digest == tree.perfect_node(level, node_index)
        assert compact.size == index + 1
        assert len(compact.hashes) == compact.size.bit_count()
        assert compact.root() == tree.root(index + 1)
        resumed = CompactRange.from_bytes(compact.size, compact.to_bytes())
        assert resumed.root() == compact.root()


@settings(max_examples=40, deadline=None)
@given(size=sizes)
def test_every_inclusion_proof_verifies(size: int) -> None:
    tree = _numbered_tree(size)
    nodes = _stored_nodes([tree.perfect_node(0, index) for index in range(size)])
    root = tree.root()
    for index in range(size):
        fetcher = DictFetcher(nodes)
        proof = tree.inclusion_proof(index)
        assert inclusion_proof(index, size, fetcher) == proof
        assert len(fetcher.calls) <= 1
        assert len(proof) == len(inclusion_proof_spans(index, size)) <= _ceil_log2(size)
        verify_inclusion(tree.perfect_node(0, index), index, size, proof, root)


@settings(max_examples=40, deadline=None)
@given(size=sizes)
def test_every_consistency_proof_verifies(size: int) -> None:
    tree = _numbered_tree(size)
    nodes = _stored_nodes([tree.perfect_node(0, index) for index in range(size)])
    root = tree.root()
    for old_size in range(size + 1):
        fetcher = DictFetcher(nodes)
        proof = tree.consistency_proof(old_size)
        assert consistency_proof(old_size, size, fetcher) == proof
        assert len(fetcher.calls) <= 1
        assert len(proof) == len(consistency_proof_spans(old_size, size)) <= _ceil_log2(size) + 1
        verify_consistency(old_size, size, tree.root(old_size), root, proof)


@st.composite
def inclusion_cases(draw: st.DrawFn) -> tuple[int, int, int]:
    size = draw(st.integers(min_value=2, max_value=300))
    index = draw(st.integers(min_value=0, max_value=size - 1))
    other_size = draw(st.integers(min_value=index + 1, max_value=600).filter(lambda s: s != size))
    return size, index, other_size


@settings(max_examples=150, deadline=None)
@given(case=inclusion_cases(), data=st.data())
def test_altered_inclusion_proofs_fail(case: tuple[int, int, int], data: st.DataObject) -> None:
    size, index, other_size = case
    tree = _shared_tree()
    leaf = tree.perfect_node(0, index)
    proof = tree.inclusion_proof(index, size)
    root = tree.root(size)
    position = data.draw(st.integers(0, len(proof) - 1))
    bit = data.draw(st.integers(0, 255))
    other_index = data.draw(st.integers(0, size - 1).filter(lambda i: i != index))
    with pytest.raises(ProofError):
        verify_inclusion(leaf, index, size, _flip_bit(proof, position, bit), root)
    with pytest.raises(ProofError):
        verify_inclusion(leaf, other_index, size, proof, root)
    with pytest.raises(ProofError):
        verify_inclusion(tree.perfect_node(0, other_index), other_index, size, proof, root)
    # A proof is bound to its tree size: it proves nothing about another size's root.
    with pytest.raises(ProofError):
        verify_inclusion(leaf, index, other_size, proof, tree.root(other_size))


@st.composite
def consistency_cases(draw: st.DrawFn) -> tuple[int, int, int, int]:
    new_size = draw(st.integers(min_value=2, max_value=300))
    old_size = draw(st.integers(min_value=1, max_value=new_size - 1))
    other_new = draw(st.integers(min_value=1, max_value=600))
    other_old = draw(st.integers(min_value=1, max_value=other_new))
    return old_size, new_size, other_old, other_new


@settings(max_examples=150, deadline=None)
@given(case=consistency_cases(), data=st.data())
def test_altered_consistency_proofs_fail(
    case: tuple[int, int, int, int], data: st.DataObject
) -> None:
    old_size, new_size, other_old, other_new = case
    tree = _shared_tree()
    proof = tree.consistency_proof(old_size, new_size)
    old_root, new_root = tree.root(old_size), tree.root(new_size)
    position = data.draw(st.integers(0, len(proof) - 1))
    bit = data.draw(st.integers(0, 255))
    with pytest.raises(ProofError):
        verify_consistency(old_size, new_size, old_root, new_root, _flip_bit(proof, position, bit))
    with pytest.raises(ProofError):
        verify_consistency(old_size, new_size, old_root, new_root, proof[:-1])
    with pytest.raises(ProofError):
        verify_consistency(old_size, new_size, old_root, new_root, [*proof, SOME_HASH])
    if (other_old, other_new) != (old_size, new_size):
        with pytest.raises(ProofError):
            verify_consistency(
                other_old, other_new, tree.root(other_old), tree.root(other_new), proof
            )
