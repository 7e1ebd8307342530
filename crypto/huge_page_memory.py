"""Buffers on 2 MiB pages, for the payload's batches.

A ``read`` from the page cache into a buffer of 4 KiB pages costs a TLB miss per page, and
in a virtual machine each miss walks the guest's and the host's page tables. On the 2-core
reference VM, reading 1 GiB from tmpfs into a 1 MiB ``bytearray`` took 0.72 s of CPU
(1,400 MiB/s), more than sealing it; into the same 1 MiB on a transparent huge page it took
0.14 s (7,200 MiB/s) (``bench/README.md``). So the payload pipeline keeps each worker's
batch on one huge page where the kernel gives them.

Only a hint: with transparent huge pages off, or without ``MADV_HUGEPAGE`` (not Linux), the
memory is ordinary pages and everything works the same, at the old speed.
"""

from __future__ import annotations

import ctypes
import mmap
from typing import Final

__all__ = ["HUGE_PAGE_SIZE", "huge_page_buffer"]

HUGE_PAGE_SIZE: Final = 2 * 1024 * 1024


def huge_page_buffer(size: int) -> memoryview:
    """``size`` zeroed bytes of private anonymous memory, starting on a 2 MiB boundary.

    The mapping is one huge page longer than the whole pages ``size`` needs, so that an
    aligned start always fits in it; only the pages touched become resident. It is
    unmapped when the last view of it goes.
    """
    if size <= 0:
        raise ValueError("a buffer needs a positive size")
    if not hasattr(mmap, "MADV_HUGEPAGE"):
        return memoryview(bytearray(size))
    span = -(-size // HUGE_PAGE_SIZE) * HUGE_PAGE_SIZE
    mapping = mmap.mmap(-1, span + HUGE_PAGE_SIZE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    # The mapping's address, to find its first 2 MiB boundary; the ctypes view is dropped
    # at once, so it holds no export of the mapping.
    address = ctypes.addressof(ctypes.c_char.from_buffer(mapping))
    offset = -address % HUGE_PAGE_SIZE
    mapping.madvise(mmap.MADV_HUGEPAGE, offset, span)
    return memoryview(mapping)[offset : offset + size]
