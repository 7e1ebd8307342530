"""``python -m crypto verify-proof``: check a reporter's proof of receipt offline.

Loaded only for this subcommand (see :mod:`crypto.cli`), so encrypting or decrypting a
file does not pay for importing the log's code.
"""

from __future__ import annotations

import argparse
import base64
import sys

from crypto.errors import ProofOfReceiptError
from crypto.proof_of_receipt import MAX_PROOF_BYTES, VerifiedReceipt, parse_proof, verify_proof

PROG = "python -m crypto"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{PROG} verify-proof",
        description="Verify a proof of receipt (reporting-portal/proof-of-receipt/v1) offline.",
    )
    parser.add_argument("file", help="the proof file (JSON)")
    parser.add_argument(
        "--key", help="the verifier key the organisation published (default: the file's own, "
        "which proves only that the file is consistent with itself)")
    return parser


def verify(arguments: argparse.Namespace) -> None:
    with open(arguments.file, "rb") as source:
        data = source.read(MAX_PROOF_BYTES + 1)
    try:
        verified = verify_proof(parse_proof(data), arguments.key)
    except ProofOfReceiptError as error:
        raise ProofOfReceiptError(f"proof of receipt REJECTED: {error}",
                                  reason=error.reason) from None
    sys.stdout.write(describe_verified(verified))


def describe_verified(verified: VerifiedReceipt) -> str:
    """What a check established, in the words an outsider needs."""
    checkpoint, event = verified.checkpoint, verified.event
    if verified.key_was_pinned:
        key_line = f"Checked with the verifier key given with --key: {verified.verifier_key}"
    else:
        key_line = (f"Checked with the verifier key written in the file: "
                    f"{verified.verifier_key}\n  (pin the organisation's published key with "
                    "--key to know the log is theirs)")
    lines = [
        "Proof of receipt: VALID",
        key_line,
        *(["  The file names another key; it was not used."] if verified.file_key_differs
          else []),
        f"Log: {checkpoint.origin}",
        f"Signed tree head: {checkpoint.size} entries, root "
        f"{base64.b64encode(checkpoint.root_hash).decode('ascii')}",
        f"Entry {event.leaf_index}, leaf hash "
        f"{base64.b64encode(verified.leaf_hash).decode('ascii')}, is included in it.",
        "The event says:",
        f"  action:    {event.action}",
        f"  reference: {event.reference}",
        f"  channel:   {event.channel if event.channel is not None else '(not recorded)'}",
        f"  day:       {event.day.isoformat()} (UTC)",
        f"  objects:   {len(event.header_sha256)} (SHA-256 of each age header below)",
        *(f"    {digest}" for digest in event.header_sha256),
        "It shows the log received a report with this reference on this day; it does not "
        "show the report's content.",
    ]
    return "\n".join(lines) + "\n"
