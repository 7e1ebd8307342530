"""``python -m crypto``: an ``age``-compatible command line for operators.

    python -m crypto [-e] (-r RECIPIENT | -R FILE | -i FILE)... [-a] [-o OUTPUT] [INPUT]
    python -m crypto -d -i FILE... [-o OUTPUT] [INPUT]
    python -m crypto keygen [--pq] [-o FILE]
    python -m crypto verify-referral PACKAGE -i FILE [--key VERIFIER_KEY]
    python -m crypto verify-proof FILE [--key VERIFIER_KEY]

It lets an operator open an exported case offline with the organisation's recovery
identity even where the ``age`` tool is not installed. On failure it prints one line
to stderr and exits non-zero; an output file named with ``-o`` is written under a
temporary name and only renamed into place once the whole input was authenticated,
so a failed decryption never leaves partial or unauthenticated plaintext behind.

``verify-proof`` checks a reporter's proof of receipt offline (crypto.proof_of_receipt)
and prints what the proven event says; it exits 1 with the reason if any check fails.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from crypto import age
from crypto.errors import AgeError
from crypto.keys import (
    AnyRecipient,
    generate_identity,
    parse_recipient,
    parse_recipients,
    read_identity_files,
)

PROG = "python -m crypto"


class UsageError(Exception):
    """The command line itself is wrong (not the data)."""


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Encrypt and decrypt age files (age-encryption.org/v1).",
        epilog=f"Generate a key with: {PROG} keygen [--pq] [-o FILE]. Check a referral "
               f"package with: {PROG} verify-referral PACKAGE -i IDENTITY [--key KEY], and a "
               f"proof of receipt with: {PROG} verify-proof FILE [--key KEY]",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("-e", "--encrypt", action="store_true", help="encrypt (the default)")
    mode.add_argument("-d", "--decrypt", action="store_true", help="decrypt")
    parser.add_argument(
        "-r", "--recipient", action="append", default=[], help="encrypt to this recipient"
    )
    parser.add_argument(
        "-R", "--recipients-file", action="append", default=[], help="encrypt to these recipients"
    )
    parser.add_argument(
        "-i", "--identity", action="append", default=[], help="identity file to decrypt with"
    )
    parser.add_argument("-a", "--armor", action="store_true", help="write PEM-armored output")
    parser.add_argument("-o", "--output", help="output file (default: standard output)")
    parser.add_argument("input", nargs="?", help="input file (default: standard input)")
    return parser


def _build_keygen_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{PROG} keygen", description="Generate an age identity file."
    )
    parser.add_argument(
        "--pq", action="store_true", help="generate a post-quantum hybrid identity (age1pq1…)"
    )
    parser.add_argument("-o", "--output", help="identity file to create (default: stdout)")
    return parser


def _recipients(arguments: argparse.Namespace) -> list[AnyRecipient]:
    recipients = [parse_recipient(text) for text in arguments.recipient]
    for path in arguments.recipients_file:
        try:
            recipients.extend(parse_recipients(Path(path).read_text(encoding="utf-8")))
        except AgeError as error:
            raise AgeError(f"{path}: {error}") from None
    recipients.extend(identity.recipient for identity in read_identity_files(arguments.identity))
    if not recipients:
        raise UsageError("missing recipients: give -r, -R or -i")
    return recipients


@contextlib.contextmanager
def _input(path: str | None) -> Iterator[BinaryIO]:
    if path is None or path == "-":
        yield sys.stdin.buffer
        return
    with open(path, "rb") as source:
        yield source


@contextlib.contextmanager
def _output(path: str | None) -> Iterator[BinaryIO]:
    """Yield the destination; a named file appears only when the block succeeds."""
    if path is None or path == "-":
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
        return
    target = Path(path)
    if target.exists() and not target.is_file():
        # A device or a named pipe (/dev/null, a FIFO): write to it directly.
        with target.open("wb") as destination:
            yield destination
        return
    # Same directory, so the final rename is atomic; mode 0600 from mkstemp, since
    # the content may be plaintext that only its owner should read.
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(descriptor, "wb") as destination:
            yield destination
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _run(arguments: argparse.Namespace) -> None:
    if arguments.decrypt:
        if arguments.recipient or arguments.recipients_file:
            raise UsageError("-r/-R cannot be used with -d")
        if arguments.armor:
            raise UsageError("-a is for encryption; armored input is detected automatically")
        if not arguments.identity:
            raise UsageError("missing identity: give -i FILE")
        identities = read_identity_files(arguments.identity)
        with _input(arguments.input) as source, _output(arguments.output) as destination:
            age.decrypt(source, destination, identities)
        return
    recipients = _recipients(arguments)
    if arguments.output in (None, "-") and not arguments.armor and sys.stdout.isatty():
        raise UsageError("refusing to write binary output to a terminal; use -a or -o")
    with _input(arguments.input) as source, _output(arguments.output) as destination:
        age.encrypt(source, destination, recipients, armor=arguments.armor)


def _keygen(arguments: argparse.Namespace) -> None:
    identity = generate_identity(post_quantum=arguments.pq)
    created = datetime.now().astimezone().isoformat(timespec="seconds")
    content = f"# created: {created}\n# public key: {identity.recipient}\n{identity.to_string()}\n"
    if arguments.output in (None, "-"):
        sys.stdout.write(content)
        sys.stdout.flush()
        if not sys.stdout.isatty():
            print(f"Public key: {identity.recipient}", file=sys.stderr)
        return
    # O_EXCL: never overwrite an existing identity file (that would destroy a key).
    descriptor = os.open(arguments.output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as destination:
        destination.write(content)
    print(f"Public key: {identity.recipient}", file=sys.stderr)


def _verify_proof_command() -> tuple[argparse.ArgumentParser, Action]:
    # Imported here: encrypting a file should not pay for loading the log's code.
    from crypto import proof_cli  # noqa: PLC0415

    return proof_cli.build_parser(), proof_cli.verify


def _keygen_command() -> tuple[argparse.ArgumentParser, Action]:
    return _build_keygen_parser(), _keygen


Action = Callable[[argparse.Namespace], None]
_SUBCOMMANDS = {"keygen": _keygen_command, "verify-proof": _verify_proof_command}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (0 on success)."""
    arguments_list = list(sys.argv[1:] if argv is None else argv)
    if arguments_list[:1] == ["verify-referral"]:
        from crypto import referral_cli  # noqa: PLC0415 -- as for verify-proof

        return referral_cli.main(arguments_list[1:])
    subcommand = _SUBCOMMANDS.get(arguments_list[0]) if arguments_list else None
    if subcommand is not None:
        parser, action = subcommand()
        arguments = parser.parse_args(arguments_list[1:])
    else:
        parser, action = _build_parser(), _run
        arguments = parser.parse_args(arguments_list)
    try:
        action(arguments)
    except UsageError as error:
        parser.print_usage(sys.stderr)
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    except AgeError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"{PROG}: error: {error.strerror or error}: {error.filename or ''}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0
