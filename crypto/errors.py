"""Errors raised by the ``crypto`` package.

One exception type per failure class, all under :class:`AgeError`, so a caller can
map each to a response (or an exit code) without parsing messages. The classes for
age files follow the failure categories of the C2SP CCTV age test vectors: header,
no match, HMAC, payload and armor failures.

Messages are written for an operator: they say what is wrong with the input, and
never include key material, file keys or plaintext.

New failure classes (key wrapping, receipt codes) are appended at the end of this
module, each deriving from :class:`AgeError` or a sibling base of its own.
"""

from __future__ import annotations


class AgeError(Exception):
    """Base class of every error raised by the ``crypto`` package."""


class KeyFormatError(AgeError):
    """A recipient or identity string (or file of them) is malformed."""


class HeaderError(AgeError):
    """The age header is malformed, non-canonical or uses an unsupported version.

    Also raised for a stanza addressed to one of our identities that breaks its
    recipient type's rules (wrong argument count, low-order share, wrong body size):
    the age spec requires rejecting those instead of skipping them.
    """


class NoMatchError(AgeError):
    """None of the given identities could unwrap the file key."""


class HMACError(AgeError):
    """The header MAC does not match: the header was altered after it was sealed."""


class PayloadError(AgeError):
    """The payload failed authentication or is structurally invalid."""


class TruncatedPayloadError(PayloadError):
    """The payload ends before its final chunk: the file is truncated."""


class ArmorError(AgeError):
    """The ASCII armor is malformed or non-canonical."""


class IncompatibleRecipientsError(AgeError):
    """Post-quantum and classical recipients were mixed in one file.

    age 1.3 refuses this: an X25519 stanza next to an mlkem768x25519 one lets a
    future quantum attacker recover the file key through the X25519 stanza, which
    would silently void the post-quantum protection of the hybrid recipients.
    """


class KdfParameterError(AgeError):
    """Argon2id parameters, salt or output length are out of range or below the floor."""


class KeyWrapError(AgeError):
    """A wrapped secret could not be opened.

    Deliberately one type and one message for a wrong password or key and for a damaged,
    truncated or unknown blob, so nothing downstream can tell which.
    """


class ReceiptCodeError(AgeError):
    """A receipt code is malformed: wrong length or characters other than digits."""


class ReceiptCodeTypo(ReceiptCodeError):
    """A receipt code has the right shape but its check digit fails: a typo.

    Safe to tell the reporter: the check digit is public arithmetic and says nothing
    about whether a report exists.
    """


class ProofError(AgeError):
    """A Merkle inclusion or consistency proof (or a stored compact range) does not verify.

    Raised for a wrong length, an index or size out of range, or a hash mismatch: the log
    cannot show what was claimed, and the reason does not matter to the caller.
    """


class CheckpointError(AgeError):
    """A checkpoint, signed note or note key is malformed, or no trusted signature verifies."""


class ProofOfReceiptError(AgeError):
    """A proof of receipt is malformed or does not verify (crypto.proof_of_receipt).

    ``reason`` says which check failed ("malformed", "signature", "origin", "leaf",
    "inclusion", "not_a_receipt"), so a page can say it in the reader's language.
    """

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason
