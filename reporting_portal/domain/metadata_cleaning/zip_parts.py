"""Rewriting a ZIP container part by part, in memory, for the Office and ODF rules.

The copy keeps every part's name, order and compression (ODF needs ``mimetype`` first
and stored), but none of the archive's own metadata: each entry's date becomes
1980-01-01 (a ZIP date is when the part was last saved), and extra fields (Unix owners,
precise times), file comments and the archive comment are not written.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable

from reporting_portal.domain.metadata_cleaning.errors import CannotClean, Reason

_NO_DATE = (1980, 1, 1, 0, 0, 0)

# A part's new bytes, or None to leave the part out of the copy.
PartRule = Callable[[str, bytes], bytes | None]


def rewrite_parts(data: bytes, rule: PartRule, *, max_unpacked_bytes: int) -> bytes:
    """The archive with each part passed through ``rule``; a ZIP bomb is refused."""
    try:
        source = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as error:
        raise CannotClean(Reason.DAMAGED) from error
    out = io.BytesIO()
    with source, zipfile.ZipFile(out, "w") as copy:
        if sum(info.file_size for info in source.infolist()) > max_unpacked_bytes:
            raise CannotClean(Reason.TOO_LARGE)
        for info in source.infolist():
            if info.flag_bits & 0x1:
                raise CannotClean(Reason.ENCRYPTED)
            try:
                content = source.read(info)
            except (zipfile.BadZipFile, NotImplementedError, ValueError) as error:
                raise CannotClean(Reason.DAMAGED) from error
            cleaned = rule(info.filename, content)
            if cleaned is None:
                continue
            entry = zipfile.ZipInfo(info.filename, date_time=_NO_DATE)
            entry.compress_type = info.compress_type
            entry.external_attr = 0o644 << 16 if not info.is_dir() else 0o755 << 16 | 0x10
            copy.writestr(entry, cleaned)
    return out.getvalue()


def _attribute(name: str) -> re.Pattern[bytes]:
    """An XML attribute ``name`` with its value in either kind of quotes."""
    return re.compile(rb"""\s""" + re.escape(name.encode()) + rb"""\s*=\s*("[^"]*"|'[^']*')""")


def blank_attributes(xml: bytes, names: tuple[str, ...], value: bytes = b"") -> bytes:
    """Each attribute in ``names`` kept (where the schema needs it), its value ``value``."""
    for name in names:
        xml = _attribute(name).sub(b" " + name.encode() + b'="' + value + b'"', xml)
    return xml


def drop_attributes(xml: bytes, names: tuple[str, ...]) -> bytes:
    """Each attribute in ``names`` removed (where the schema makes it optional)."""
    for name in names:
        xml = _attribute(name).sub(b"", xml)
    return xml


def drop_elements(xml: bytes, names: tuple[str, ...]) -> bytes:
    """Each element in ``names`` removed with what it holds (elements that never nest)."""
    for name in names:
        tag = re.escape(name.encode())
        xml = re.sub(rb"<" + tag + rb"(?:\s[^>]*)?/>", b"", xml)
        xml = re.sub(rb"<" + tag + rb"(?:\s[^>]*)?>.*?</" + tag + rb"\s*>", b"", xml, flags=re.S)
    return xml
