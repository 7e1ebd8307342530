"""Staff password hashing and policy.

Hashes: Argon2id through argon2-cffi, parameters from the settings (above OWASP's floor,
m >= 19 MiB), rehashed at sign-in when the parameters change. Policy (NIST SP 800-63B,
ASVS 6.2): a minimum length, a generous maximum, no composition rules, and a refusal of
common or easily guessed passwords, judged by zxcvbn's password list and estimator.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from functools import cached_property

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from config.settings import Settings
from crypto.kdf import Argon2Params

# zxcvbn's score runs 0-4; below 3 is "guessable within about 10^8 attempts".
_MIN_ZXCVBN_SCORE = 3
# zxcvbn's matching grows with length; nothing past this changes its verdict.
_ZXCVBN_MAX_LENGTH = 72
_COMMON_PASSWORDS = frozenset(FREQUENCY_LISTS["passwords"])


class WeakPasswordError(ValueError):
    """The password breaks the policy; the message tells the person why."""


@dataclass(frozen=True)
class PasswordService:
    """Hashing and policy with one installation's parameters."""

    settings: Settings

    @cached_property
    def hasher(self) -> PasswordHasher:
        return PasswordHasher(
            time_cost=self.settings.password_hash_time_cost,
            memory_cost=self.settings.password_hash_memory_kib,
            parallelism=self.settings.password_hash_parallelism,
        )

    @cached_property
    def identity_wrap_params(self) -> Argon2Params:
        """Argon2id cost for wrapping staff age identities with the password."""
        return Argon2Params(
            time_cost=self.settings.identity_wrap_time_cost,
            memory_cost_kib=self.settings.identity_wrap_memory_kib,
            parallelism=1,
        )

    @cached_property
    def dummy_hash(self) -> str:
        """A hash of nothing anyone knows, verified for unknown accounts so that
        unknown and known names take the same time (ASVS 6.3.8)."""
        return self.hasher.hash(secrets.token_urlsafe(32))

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """Check a password in constant time; ``None`` burns the same time and fails."""
        try:
            return self.hasher.verify(password_hash or self.dummy_hash, password) and (
                password_hash is not None
            )
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self.hasher.check_needs_rehash(password_hash)

    def check_policy(self, password: str, *, username: str) -> None:
        """Raise :class:`WeakPasswordError` unless the password is acceptable."""
        if len(password) < self.settings.password_min_length:
            raise WeakPasswordError(ngettext("Use at least %(num)d character.",
                                             "Use at least %(num)d characters.",
                                             self.settings.password_min_length))
        if len(password) > self.settings.password_max_length:
            raise WeakPasswordError(ngettext("Use at most %(num)d character.",
                                             "Use at most %(num)d characters.",
                                             self.settings.password_max_length))
        lowered = password.lower()
        if lowered in _COMMON_PASSWORDS:
            raise WeakPasswordError(_l("This password is on a list of common passwords."))
        if username and username.lower() in lowered:
            raise WeakPasswordError(_l("The password must not contain the account name."))
        verdict = zxcvbn(password[:_ZXCVBN_MAX_LENGTH], user_inputs=[username])
        if verdict["score"] < _MIN_ZXCVBN_SCORE:
            raise WeakPasswordError(
                _l("This password is too easy to guess. A few unrelated words work well.")
            )


def get_passwords() -> PasswordService:
    """The current application's password service (made by the factory)."""
    passwords: PasswordService = current_app.extensions["passwords"]
    return passwords
