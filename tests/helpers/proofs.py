"""Proofs of receipt as a test needs them: a small signed log with a receipt in it, the
``python -m crypto`` command in a subprocess, and a proof changed in each way that must
make it fail."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from crypto.checkpoint import (
    Checkpoint,
    generate_signer_key,
    parse_signer_key,
    sign_checkpoint,
    verifier_key_for,
)
from crypto.merkle import MerkleTree, leaf_hash
from crypto.proof_of_receipt import ProofOfReceipt, encode_receipt_event

REPO = Path(__file__).resolve().parents[2]
ORIGIN = "reporting-portal/audit/0a1b2c3d"
DIGESTS = ("a" * 64, "0123456789abcdef" * 4)


def receipt_leaf(index: int, *, reference: str = "r3f3r3nc3", day: str = "2026-12-01") -> bytes:
    return encode_receipt_event(
        index, f"{day}T00:00:00Z",
        (None, "reporter", "report.submitted", "report", reference, "success"),
        "corruption", DIGESTS)


def signed_log_proof(size: int = 7, index: int = 4,
                     signer_key: str | None = None) -> tuple[ProofOfReceipt, str]:
    """A log of ``size`` entries whose entry ``index`` is a receipt; its proof and signer."""
    signer_key = signer_key or generate_signer_key(ORIGIN)
    origin = parse_signer_key(signer_key).name  # a log's key is named after it
    leaves = [receipt_leaf(i) if i == index else f"other event {i}".encode() for i in range(size)]
    tree = MerkleTree(leaf_hash(leaf) for leaf in leaves)
    checkpoint = sign_checkpoint(Checkpoint(origin, size, tree.root()), signer_key)
    proof = ProofOfReceipt(origin=origin, verifier_key=verifier_key_for(signer_key),
                           checkpoint=checkpoint, leaf_index=index, leaf=leaves[index],
                           inclusion=tuple(tree.inclusion_proof(index)))
    return proof, signer_key


def _flip_bit(text: str, bit: int = 0) -> str:
    raw = bytearray(base64.b64decode(text))
    raw[bit // 8 % len(raw)] ^= 1 << (bit % 8)
    return base64.b64encode(bytes(raw)).decode("ascii")


def tampered(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The proof with one bit of its leaf changed, one inclusion hash changed, and its
    checkpoint's signature changed: each must be refused."""
    body, _blank, signature_line = document["checkpoint"].rstrip("\n").rpartition("\n")
    prefix, _space, signature = signature_line.rpartition(" ")
    # The last bytes are the Ed25519 signature proper (the first four are the key ID).
    changed_signature = f"{body}\n{prefix} {_flip_bit(signature, bit=8 * 20)}\n"
    return {
        "leaf": {**document, "leaf": _flip_bit(document["leaf"], bit=8 * 30 + 2)},
        "inclusion": {**document, "inclusion": [_flip_bit(document["inclusion"][0]),
                                                *document["inclusion"][1:]]},
        "signature": {**document, "checkpoint": changed_signature},
    }


def run_crypto(*arguments: str | Path) -> subprocess.CompletedProcess[str]:
    """``python -m crypto`` as anyone runs it, from the repository, in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "crypto", *map(str, arguments)], capture_output=True,
        text=True, env={**os.environ, "PYTHONPATH": str(REPO)}, check=False, timeout=60)


def write_proof(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path
