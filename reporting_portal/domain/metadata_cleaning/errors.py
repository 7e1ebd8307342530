"""Why a file could not be cleaned: one error type, with a reason a person can be told."""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    UNKNOWN_FORMAT = "unknown_format"  # not a format these rules know: nothing was removed
    ENCRYPTED = "encrypted"  # a password-protected PDF: its metadata cannot be rewritten
    TOO_LARGE = "too_large"  # over MAX_CLEANABLE_BYTES, the bound of work in memory
    DAMAGED = "damaged"  # the bytes do not follow the format they start as


class CannotClean(Exception):
    """The file was left as it is; ``reason`` says why."""

    def __init__(self, reason: Reason) -> None:
        super().__init__(reason.value)
        self.reason = reason
