"""PNG, cleaned chunk by chunk (PNG specification, third edition, 5.3 and 11).

Critical chunks (the first letter upper case: IHDR, PLTE, IDAT, IEND) are kept, and of
the ancillary ones only those that change how the picture looks: transparency, colour
space and profile, physical size, animation frames. Everything else goes: tEXt, zTXt and
iTXt (author, software, comments, often a whole XMP packet), tIME (the last edit), eXIf
(a camera's EXIF with GPS), and private chunks such as C2PA's caBX provenance manifest.
Bytes after IEND are dropped too.
"""

from __future__ import annotations

import zlib

from reporting_portal.domain.metadata_cleaning.errors import CannotClean, Reason

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

_RENDERING_CHUNKS = frozenset({
    b"tRNS", b"cHRM", b"gAMA", b"iCCP", b"sBIT", b"sRGB", b"cICP", b"mDCV", b"cLLI",
    b"bKGD", b"pHYs", b"sPLT", b"hIST", b"acTL", b"fcTL", b"fdAT",
})


def _kept(chunk_type: bytes) -> bool:
    critical = chunk_type[:1].isupper()
    return critical or chunk_type in _RENDERING_CHUNKS


def clean_png(data: bytes) -> bytes:
    """The PNG without its text, time, EXIF and private chunks; pixels untouched."""
    if not data.startswith(PNG_SIGNATURE):
        raise CannotClean(Reason.DAMAGED)
    out = bytearray(PNG_SIGNATURE)
    position = len(PNG_SIGNATURE)
    while True:
        if position + 12 > len(data):
            raise CannotClean(Reason.DAMAGED)  # no IEND: a cut file
        length = int.from_bytes(data[position:position + 4], "big")
        chunk_type = data[position + 4:position + 8]
        end = position + 12 + length
        if end > len(data) or not chunk_type.isalpha():
            raise CannotClean(Reason.DAMAGED)
        crc = int.from_bytes(data[end - 4:end], "big")
        if zlib.crc32(data[position + 4:end - 4]) != crc:
            raise CannotClean(Reason.DAMAGED)
        if _kept(chunk_type):
            out += data[position:end]
        position = end
        if chunk_type == b"IEND":
            return bytes(out)
