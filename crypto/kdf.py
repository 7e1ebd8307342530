"""Argon2id key derivation with explicit, validated cost parameters.

Every password- or code-derived key in the portal goes through :func:`derive`. The cost is
an :class:`Argon2Params` value passed in by the caller, never a module-level setting, so
production code names its policy (:meth:`Argon2Params.staff_key_wrapping`,
:meth:`Argon2Params.receipt_derivation`) and tests inject a cheap one
(:meth:`Argon2Params.insecure_for_tests`) without any global "testing" flag that could be
left switched on in production.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Final

from argon2.exceptions import HashingError
from argon2.low_level import ARGON2_VERSION, Type, error_to_str, hash_secret_raw

from crypto.errors import KdfParameterError
from crypto.kdf_memory import WorkingMemoryPool, argon2id_with_memory

__all__ = [
    "MAX_MEMORY_COST_KIB",
    "MAX_PARALLELISM",
    "MAX_TIME_COST",
    "MIN_SECURE_MEMORY_COST_KIB",
    "MIN_SECURE_TIME_COST",
    "Argon2Params",
    "derive",
]

# Security floor for any parameters built through the public constructor: the OWASP
# Password Storage Cheat Sheet minimum for Argon2id (m = 19 MiB, t = 2, p = 1).
MIN_SECURE_MEMORY_COST_KIB: Final = 19 * 1024
MIN_SECURE_TIME_COST: Final = 2

# Ceilings apply to every parameter set, test ones included. Parameters are read back
# from stored blobs (see crypto.keywrap), so a tampered blob must not be able to make the
# server allocate gigabytes or spin for minutes before the MAC check fails.
MAX_MEMORY_COST_KIB: Final = 1024 * 1024  # 1 GiB
MAX_TIME_COST: Final = 16
MAX_PARALLELISM: Final = 16

# RFC 9106 section 3.1: salt at least 8 bytes (16 recommended; callers use 16),
# tag at least 4 bytes. We never want keys shorter than 128 bits or longer than a block.
MIN_SALT_BYTES: Final = 8
MAX_SALT_BYTES: Final = 64
MIN_OUTPUT_BYTES: Final = 16
MAX_OUTPUT_BYTES: Final = 64
MAX_SECRET_BYTES: Final = 4096

_MIB: Final = 1024

# Working memory lent to derivations (crypto.kdf_memory): one 64 MiB buffer per core, at
# most four, per process, made the first time that many derive at once and kept, wiped, for
# the next. A derivation that finds them all lent waits for one (up to POOL_WAIT_SECONDS,
# then libargon2 allocates as before), so a gunicorn worker derives on at most that many
# threads at once while its other threads serve pages: more at once would finish no
# sooner on those cores, and cost more CPU each (bench/README.md).
POOLED_BUFFERS: Final = max(1, min(os.cpu_count() or 1, 4))
POOLED_BUFFER_BYTES: Final = 64 * _MIB * 1024
POOL_WAIT_SECONDS: Final = 5.0
_working_memory = WorkingMemoryPool(
    POOLED_BUFFERS, POOLED_BUFFER_BYTES, wait_seconds=POOL_WAIT_SECONDS
)


@dataclass(frozen=True, slots=True)
class Argon2Params:
    """Argon2id cost: passes (``time_cost``), memory in KiB and lanes (``parallelism``).

    The constructor refuses parameters below the security floor. Only
    :meth:`insecure_for_tests` (for tests) and :meth:`from_stored` (for values read back
    from an authenticated envelope, which must stay readable after the floor rises) skip it.
    """

    time_cost: int
    memory_cost_kib: int
    parallelism: int
    _enforce_floor: bool = field(default=True, kw_only=True, compare=False, repr=False)

    def __post_init__(self) -> None:
        for name in ("time_cost", "memory_cost_kib", "parallelism"):
            value = getattr(self, name)
            # bool is an int subclass; True as a cost is always a bug.
            if not isinstance(value, int) or isinstance(value, bool):
                raise KdfParameterError(f"{name} must be an int")
        if not 1 <= self.parallelism <= MAX_PARALLELISM:
            raise KdfParameterError(f"parallelism must be between 1 and {MAX_PARALLELISM}")
        if not 1 <= self.time_cost <= MAX_TIME_COST:
            raise KdfParameterError(f"time_cost must be between 1 and {MAX_TIME_COST}")
        # Argon2 needs at least 8 KiB per lane (RFC 9106 section 3.1).
        if not 8 * self.parallelism <= self.memory_cost_kib <= MAX_MEMORY_COST_KIB:
            raise KdfParameterError(
                f"memory_cost_kib must be between 8 * parallelism and {MAX_MEMORY_COST_KIB}"
            )
        if self._enforce_floor and (
            self.memory_cost_kib < MIN_SECURE_MEMORY_COST_KIB
            or self.time_cost < MIN_SECURE_TIME_COST
        ):
            raise KdfParameterError(
                "Argon2id parameters below the security floor "
                f"(memory >= {MIN_SECURE_MEMORY_COST_KIB} KiB, time_cost >= "
                f"{MIN_SECURE_TIME_COST}); tests use Argon2Params.insecure_for_tests()"
            )

    @classmethod
    def staff_key_wrapping(cls) -> Argon2Params:
        """Production cost for wrapping a staff identity with a password.

        DESIGN.md asks for at least 64 MiB and t=3; p=1 because the server handles many
        requests at once and extra lanes would only trade one login's latency for another's.
        """
        return cls(time_cost=3, memory_cost_kib=64 * _MIB, parallelism=1)

    @classmethod
    def receipt_derivation(cls) -> Argon2Params:
        """Production cost for deriving the lookup value and wrapping key from a receipt code.

        Same cost as staff passwords, on purpose. A receipt code carries ~89.7 bits, so
        offline guessing is infeasible even with a fast hash; the cost is there because the
        salt is installation-wide (one guess is tested against every report at once) and
        because this derivation, not application code, is meant to be what limits receipt
        login attempts per second: ~0.2 s of one core and 64 MiB per attempt. A reporter
        logs in rarely, so that latency is acceptable; the memory per concurrent attempt is
        bounded by the number of workers.
        """
        return cls(time_cost=3, memory_cost_kib=64 * _MIB, parallelism=1)

    @classmethod
    def insecure_for_tests(
        cls, time_cost: int = 1, memory_cost_kib: int = 8, parallelism: int = 1
    ) -> Argon2Params:
        """Cheap parameters for tests only; never use in production code.

        The name is the guard: it stands out in review and in a grep of non-test code.
        """
        return cls(time_cost, memory_cost_kib, parallelism, _enforce_floor=False)

    @classmethod
    def from_stored(cls, time_cost: int, memory_cost_kib: int, parallelism: int) -> Argon2Params:
        """Rebuild parameters recorded alongside existing ciphertext.

        The floor is not enforced: blobs written under an older, lower policy must still
        open so they can be re-wrapped. The ceilings still apply.
        """
        return cls(time_cost, memory_cost_kib, parallelism, _enforce_floor=False)

    def meets(self, target: Argon2Params) -> bool:
        """True if this cost is at least ``target`` in both time and memory."""
        return self.time_cost >= target.time_cost and self.memory_cost_kib >= target.memory_cost_kib


def derive(secret: bytes, salt: bytes, params: Argon2Params, length: int = 32) -> bytes:
    """Derive ``length`` bytes from ``secret`` and ``salt`` with Argon2id version 1.3.

    Raises :class:`~crypto.errors.KdfParameterError` for an out-of-range salt, output
    length or secret size. The cost is whatever ``params`` says: choose it with one of the
    :class:`Argon2Params` factories.
    """
    if not isinstance(params, Argon2Params):
        raise KdfParameterError("params must be an Argon2Params")
    if not MIN_SALT_BYTES <= len(salt) <= MAX_SALT_BYTES:
        raise KdfParameterError(f"salt must be {MIN_SALT_BYTES} to {MAX_SALT_BYTES} bytes")
    if not MIN_OUTPUT_BYTES <= length <= MAX_OUTPUT_BYTES:
        raise KdfParameterError(
            f"output length must be {MIN_OUTPUT_BYTES} to {MAX_OUTPUT_BYTES} bytes"
        )
    if len(secret) > MAX_SECRET_BYTES:
        raise KdfParameterError(f"secret must be at most {MAX_SECRET_BYTES} bytes")
    with _working_memory.borrow(params.memory_cost_kib * 1024) as buffer:
        if buffer is not None:
            status, tag = argon2id_with_memory(
                buffer,
                password=secret,
                salt=salt,
                time_cost=params.time_cost,
                memory_cost_kib=params.memory_cost_kib,
                parallelism=params.parallelism,
                length=length,
            )
            if status != 0:
                raise KdfParameterError(f"Argon2id failed: {error_to_str(status)}")
            return tag
    try:
        return hash_secret_raw(
            secret=secret,
            salt=salt,
            time_cost=params.time_cost,
            memory_cost=params.memory_cost_kib,
            parallelism=params.parallelism,
            hash_len=length,
            type=Type.ID,
            version=ARGON2_VERSION,
        )
    except HashingError as error:
        # Only reachable if the C library refuses something validation let through
        # (e.g. it cannot allocate the memory); the message carries no secret.
        raise KdfParameterError(f"Argon2id failed: {error}") from None
