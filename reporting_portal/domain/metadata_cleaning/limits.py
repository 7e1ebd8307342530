"""How much cleaning the server does in memory."""

from __future__ import annotations

# The whole file is held in memory while it is cleaned (plaintext never touches the disk),
# so the server bounds that work; a larger file is refused with Reason.TOO_LARGE and the
# handler is told to clean the original on an offline computer. The browser's bound is
# the same (web/src/metadata/index.js).
MAX_CLEANABLE_BYTES = 64 * 1024 * 1024

# What a ZIP container (Office, ODF) may unpack to: a ZIP bomb is refused, not expanded.
MAX_UNPACKED_BYTES = 4 * MAX_CLEANABLE_BYTES
