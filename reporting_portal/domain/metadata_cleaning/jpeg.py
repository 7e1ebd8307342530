"""JPEG, cleaned losslessly: segments filtered byte by byte, the image data never decoded.

A JPEG is a run of marker segments (ITU T.81, B.1). Kept: every segment that draws the
picture (tables, frame and scan headers, the entropy-coded data), a JFIF header with its
thumbnail cut, an ICC profile (APP2 "ICC_PROFILE", for colours), Adobe's APP14 (how a
CMYK image's colours are transformed). Dropped: APP1 (EXIF with camera, serial number,
GPS and times; XMP), APP13 (Photoshop's IPTC: author, captions), comments, every other
application segment (MPF previews, maker data), and anything after the end marker, where
phones append further images.
"""

from __future__ import annotations

from reporting_portal.domain.metadata_cleaning.errors import CannotClean, Reason

_MARKER = 0xFF
_SOI = 0xD8
_EOI = 0xD9
_SOS = 0xDA
_APP0 = 0xE0
_APP2 = 0xE2
_APP14 = 0xEE
_APPLICATION = range(0xE0, 0xF0)
_COMMENT = 0xFE
_LENGTH_BYTES = 2
_RESTART = range(0xD0, 0xD8)
_STANDALONE = {0x01, *_RESTART}
_JFIF_HEADER_BYTES = 12  # "JFIF\0", version, units, densities; then thumbnail size


def _kept_segment(marker: int, payload: bytes) -> bytes | None:
    """The segment's payload as it should be written, or None to drop it."""
    if marker == _APP0:
        if not payload.startswith(b"JFIF\x00") or len(payload) < _JFIF_HEADER_BYTES + 2:
            return None
        return payload[:_JFIF_HEADER_BYTES] + b"\x00\x00"  # no thumbnail: a second photo
    if marker == _APP2:
        return payload if payload.startswith(b"ICC_PROFILE\x00") else None
    if marker == _APP14:
        return payload if payload.startswith(b"Adobe") else None
    if marker in _APPLICATION or marker == _COMMENT:  # other APPn, and COM
        return None
    return payload


def _end_of_entropy_data(data: bytes, start: int) -> int:
    """Where the scan's coded data ends: at the first marker that is not a restart."""
    position = start
    while True:
        position = data.find(b"\xff", position)
        if position < 0 or position + 1 >= len(data):
            return len(data)
        following = data[position + 1]
        if following == 0x00 or following in _RESTART or following == _MARKER:
            position += 1
            continue
        return position


def clean_jpeg(data: bytes) -> bytes:
    """The JPEG without its metadata segments, its image data byte for byte the same."""
    if data[:2] != bytes([_MARKER, _SOI]):
        raise CannotClean(Reason.DAMAGED)
    out = bytearray(data[:2])
    position = 2
    while position < len(data):
        if data[position] != _MARKER:
            raise CannotClean(Reason.DAMAGED)
        while position < len(data) and data[position] == _MARKER:  # fill bytes
            position += 1
        if position >= len(data):
            break
        marker = data[position]
        position += 1
        if marker == _EOI:
            out += b"\xff\xd9"
            break
        if marker in _STANDALONE:
            out += bytes([_MARKER, marker])
            continue
        if position + _LENGTH_BYTES > len(data):
            raise CannotClean(Reason.DAMAGED)
        length = int.from_bytes(data[position:position + _LENGTH_BYTES], "big")
        if length < _LENGTH_BYTES or position + length > len(data):
            raise CannotClean(Reason.DAMAGED)
        payload = data[position + _LENGTH_BYTES:position + length]
        position += length
        kept = _kept_segment(marker, payload)
        if kept is not None:
            out += (bytes([_MARKER, marker]) + (len(kept) + _LENGTH_BYTES).to_bytes(2, "big")
                    + kept)
        if marker == _SOS:
            end = _end_of_entropy_data(data, position)
            out += data[position:end]
            position = end
    return bytes(out)
