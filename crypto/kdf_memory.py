"""Reused working memory for Argon2id: the same derivation without a fresh 64 MiB each time.

Left to itself, libargon2 mallocs its memory matrix for every derivation, and glibc serves
64 MiB straight from ``mmap``: 16,384 page faults, each a 4 KiB page the kernel zeroes, then
``munmap`` and, in a process with many threads (a gunicorn worker), a TLB shootdown to every
core the process runs on. Measured on the 2-core reference machine that is a quarter to a
third of a receipt derivation's CPU. argon2's C API lets the caller supply the memory
(``allocate_cbk``/``free_cbk`` of ``argon2_context``), so this module keeps a few mappings,
asks for transparent huge pages on them, and lends one to each derivation.

What stays the same: the computation (``argon2_ctx`` with the flags ``argon2_hash`` uses,
so the output is byte-identical; tests compare with ``hash_secret_raw`` and the RFC 9106
vector) and the wiping. libargon2 wipes the whole matrix (``clear_internal_memory``, with
a compiler-proof memset) before it calls ``free_cbk``; that callback then checks, at no
cost beyond a few pages, that the buffer came back wiped, and the buffer is only lent again
after that. The pool is bounded: at most ``buffers`` mappings per process, each lent to one
derivation at a time. A derivation that finds none free waits up to ``wait_seconds`` for
one, then runs exactly as before, with libargon2's own allocation. Waiting is the point:
more derivations at once than there are cores finish no sooner, each one's 64 MiB pushes
the others' out of the caches, and on the reference VM every fresh mapping costs a host
fault per page (``bench/README.md``).
"""

from __future__ import annotations

import mmap
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

from argon2 import low_level
from argon2.low_level import ARGON2_VERSION, ffi

# The bindings' compiled library (argon2_ctx, the flags); argon2-cffi imports it into
# low_level without listing it as public.
lib: Any = low_level.lib  # type: ignore[attr-defined]

__all__ = ["ARGON2_MEMORY_ALLOCATION_ERROR", "WorkingMemoryPool", "argon2id_with_memory"]

# argon2.h: ARGON2_MEMORY_ALLOCATION_ERROR. Returned by the allocation callback when it has
# no buffer for this thread or the request is larger than the buffer; argon2_ctx then fails
# with it and allocates nothing.
ARGON2_MEMORY_ALLOCATION_ERROR: Final = -22

# Pages of a returned buffer checked for the wipe: first, middle and last. libargon2 clears
# every block; a sample catches a library built without clearing (FLAG_clear_internal_memory
# off) without re-reading 64 MiB.
_CHECKED_BYTES: Final = 4096

# The buffer lent to the derivation running on this thread, read by the allocation callback
# (argon2_ctx calls it on the calling thread, with no argument that could carry it).
_lent = threading.local()


class _Buffer:
    """One anonymous private mapping and the C pointer argon2 writes through."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.mapping = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        if hasattr(mmap, "MADV_HUGEPAGE"):
            # 2 MiB pages where the kernel has them (THP "madvise" mode): 32 TLB entries for
            # the matrix instead of 16,384. Only a hint; 4 KiB pages work the same.
            self.mapping.madvise(mmap.MADV_HUGEPAGE)
        self.pointer = ffi.cast("uint8_t *", ffi.from_buffer(self.mapping))
        self.wiped = True

    def is_wiped(self, used: int) -> bool:
        """True if the checked samples of the first ``used`` bytes are all zero."""
        samples = {0, max(0, used // 2 - _CHECKED_BYTES // 2), max(0, used - _CHECKED_BYTES)}
        return all(
            not any(self.mapping[start : start + min(_CHECKED_BYTES, used - start)])
            for start in samples
        )


class WorkingMemoryPool:
    """At most ``buffers`` reusable mappings of ``buffer_bytes`` each, lent one per derivation.

    Resident memory after use is at most ``buffers * buffer_bytes`` per process (mappings are
    made the first time that many derivations run at once, and kept). Thread-safe.
    """

    def __init__(self, buffers: int, buffer_bytes: int, *, wait_seconds: float = 0.0) -> None:
        if buffers < 0 or buffer_bytes <= 0 or wait_seconds < 0:
            raise ValueError("a pool needs a non-negative count and wait, a positive size")
        self.max_buffers = buffers
        self.buffer_bytes = buffer_bytes
        self.wait_seconds = wait_seconds
        self._lock = threading.Condition()
        self._free: list[_Buffer] = []
        self._made = 0
        # A child process gets its own mappings: a buffer another thread of the parent was
        # using at fork time would hold that derivation's state, so none is inherited as free.
        os.register_at_fork(after_in_child=self._forget_after_fork)

    @property
    def mapped(self) -> int:
        """How many mappings this pool has made (each ``buffer_bytes``)."""
        with self._lock:
            return self._made

    def _forget_after_fork(self) -> None:
        self._lock = threading.Condition()
        self._free = []
        self._made = 0

    @contextmanager
    def borrow(self, needed_bytes: int) -> Iterator[_Buffer | None]:
        """Lend a wiped buffer of at least ``needed_bytes``, or ``None`` if none is free.

        ``None`` also when ``needed_bytes`` exceeds the pool's buffers: the caller then
        lets libargon2 allocate as it would without a pool.
        """
        buffer = self._take(needed_bytes)
        try:
            yield buffer
        finally:
            if buffer is not None and buffer.wiped:
                with self._lock:
                    self._free.append(buffer)
                    self._lock.notify()
            elif buffer is not None:
                # Not wiped (the derivation failed before libargon2 freed it, or the library
                # skipped the wipe): never lend it again; closing the mapping returns its
                # pages to the kernel, which zeroes them before any other use.
                buffer.mapping.close()
                with self._lock:
                    self._made -= 1
                    self._lock.notify()

    def _take(self, needed_bytes: int) -> _Buffer | None:
        if needed_bytes > self.buffer_bytes:
            return None
        with self._lock:
            available = self._lock.wait_for(
                lambda: self._free or self._made < self.max_buffers, timeout=self.wait_seconds
            )
            if not available:
                return None
            if self._free:
                return self._free.pop()
            self._made += 1
        try:
            return _Buffer(self.buffer_bytes)
        except OSError:
            with self._lock:
                self._made -= 1
            return None


def _allocate(memory: Any, size: int) -> int:
    buffer: _Buffer | None = getattr(_lent, "buffer", None)
    if buffer is None or size > buffer.size:
        return ARGON2_MEMORY_ALLOCATION_ERROR
    buffer.wiped = False
    memory[0] = buffer.pointer
    return 0


def _free(memory: Any, size: int) -> None:
    buffer: _Buffer | None = getattr(_lent, "buffer", None)
    if buffer is not None and memory == buffer.pointer:
        buffer.wiped = buffer.is_wiped(size)


# C entry points for argon2_context; cffi keeps them alive as long as these names.
_ALLOCATE_CALLBACK: Any = ffi.callback(
    "int(uint8_t **, size_t)", _allocate, error=ARGON2_MEMORY_ALLOCATION_ERROR
)
_FREE_CALLBACK: Any = ffi.callback("void(uint8_t *, size_t)", _free)


def argon2id_with_memory(  # noqa: PLR0913 -- argon2_context's inputs, by keyword
    buffer: _Buffer,
    *,
    password: bytes,
    salt: bytes,
    time_cost: int,
    memory_cost_kib: int,
    parallelism: int,
    length: int,
    secret: bytes = b"",
    associated_data: bytes = b"",
) -> tuple[int, bytes]:
    """Run Argon2id version 1.3 in ``buffer``; return argon2's status code and the tag.

    The context is the one ``argon2_hash`` builds (default flags, one thread per call) plus
    the two callbacks. ``secret`` and ``associated_data`` exist for the RFC 9106 vector.
    """
    out = ffi.new("uint8_t[]", length)
    # Kept referenced until argon2_ctx returns: the context holds bare pointers into them.
    c_password = ffi.new("uint8_t[]", password)
    c_salt = ffi.new("uint8_t[]", salt)
    c_secret = ffi.new("uint8_t[]", secret) if secret else ffi.NULL
    c_ad = ffi.new("uint8_t[]", associated_data) if associated_data else ffi.NULL
    context = ffi.new(
        "argon2_context *",
        {
            "out": out,
            "outlen": length,
            "pwd": c_password,
            "pwdlen": len(password),
            "salt": c_salt,
            "saltlen": len(salt),
            "secret": c_secret,
            "secretlen": len(secret),
            "ad": c_ad,
            "adlen": len(associated_data),
            "t_cost": time_cost,
            "m_cost": memory_cost_kib,
            "lanes": parallelism,
            "threads": parallelism,
            "version": ARGON2_VERSION,
            "allocate_cbk": _ALLOCATE_CALLBACK,
            "free_cbk": _FREE_CALLBACK,
            "flags": lib.ARGON2_DEFAULT_FLAGS,
        },
    )
    _lent.buffer = buffer
    try:
        status = int(lib.argon2_ctx(context, lib.Argon2_id))
    finally:
        _lent.buffer = None
    return status, bytes(ffi.buffer(out, length))
