"""The payload's batch buffers: zeroed, writable, and on a 2 MiB boundary where Linux
offers huge pages (the alignment is what lets one huge page hold a worker's batch)."""

from __future__ import annotations

import ctypes
import mmap

import pytest

from crypto.huge_page_memory import HUGE_PAGE_SIZE, huge_page_buffer
from crypto.payload_chunks import CHUNK_SIZE, ENCRYPTED_CHUNK_SIZE
from crypto.payload_pipeline import BATCH_CHUNKS


@pytest.mark.parametrize("size", [1, 4096, HUGE_PAGE_SIZE - 1, HUGE_PAGE_SIZE + 1])
def test_a_buffer_is_zeroed_writable_and_of_the_size_asked(size: int) -> None:
    buffer = huge_page_buffer(size)
    assert len(buffer) == size
    assert not any(buffer)
    buffer[-1] = 0xFF
    assert buffer[-1] == 0xFF


@pytest.mark.skipif(not hasattr(mmap, "MADV_HUGEPAGE"), reason="no transparent huge pages")
def test_a_buffer_starts_on_a_huge_page_boundary() -> None:
    buffer = huge_page_buffer(3 * HUGE_PAGE_SIZE // 2)
    address = ctypes.addressof(ctypes.c_char.from_buffer(buffer))
    assert address % HUGE_PAGE_SIZE == 0


def test_a_batch_and_its_sealed_form_fit_one_huge_page() -> None:
    read_size = BATCH_CHUNKS * CHUNK_SIZE + 1  # the batch and the look-ahead byte
    assert read_size + BATCH_CHUNKS * ENCRYPTED_CHUNK_SIZE <= HUGE_PAGE_SIZE


def test_a_size_of_zero_is_refused() -> None:
    with pytest.raises(ValueError, match="positive size"):
        huge_page_buffer(0)
