"""``python -m crypto verify-referral PACKAGE -i IDENTITY [--key VERIFIER_KEY]``.

The receiving authority's check of a referral package (crypto/referral.py): it opens the
package with the authority's identity, checks the manifest's signature and every
object's SHA-256, and lists what was received. Nothing is written: the listing goes to
standard output, a failure is one line on standard error and a non-zero exit.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from crypto.errors import AgeError
from crypto.keys import read_identity_files
from crypto.referral import Referral, verify_package

PROG = "python -m crypto verify-referral"


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Open a referral package, check every hash and the "
                               "signature, and list what it holds.")
    parser.add_argument("package", help="the referral package (an age file)")
    parser.add_argument("-i", "--identity", action="append", required=True,
                        help="the receiving authority's age identity file")
    parser.add_argument("--key", help="the referring installation's verifier key, as it "
                                      "publishes it; without it, the key the package states")
    return parser


def listing(referral: Referral, *, pinned: bool) -> str:
    """What the person running the check reads: the case, the signer, each object."""
    lines = [
        f"Referral of case {referral.reference} on {referral.referred_on.isoformat()}"
        f" to {referral.receiver}",
        f"Signed by {referral.verifier_key}"
        + (" (the key given with --key)" if pinned else
           " (the key the package states: compare it with the one the sender publishes)"),
        f"{len(referral.objects)} objects, every SHA-256 checked:",
    ]
    lines += [f"  {item.sha256}  {item.size:>12}  {item.kind:<10} {item.name}"
              for item in referral.objects]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str]) -> int:
    arguments = _build_parser().parse_args(list(argv))
    try:
        identities = read_identity_files(arguments.identity)
        with open(arguments.package, "rb") as source:
            referral = verify_package(source, identities, verifier_key=arguments.key)
    except AgeError as error:
        print(f"{PROG}: verification failed: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"{PROG}: error: {error.strerror or error}: {error.filename or ''}",
              file=sys.stderr)
        return 1
    sys.stdout.write(listing(referral, pinned=arguments.key is not None))
    return 0
