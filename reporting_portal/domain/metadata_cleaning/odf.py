"""OpenDocument (ODT, ODS, ODP, ODG; OASIS ODF 1.3), cleaned part by part.

``meta.xml`` is replaced by an empty one (initial author, last author, dates, editing
time and cycles, generator, template, statistics, user fields). In the content and
styles, comments (``office:annotation``, with their authors and dates) are removed, and
tracked changes keep their text but lose who made them and when (``dc:creator`` emptied,
``dc:date`` set to 1970). LibreOffice's revision session ids (``officeooo:rsid``) and the
printer's name and driver settings in ``settings.xml`` are dropped. A password-protected
document is refused: its parts are encrypted and cannot be read here.
"""

from __future__ import annotations

import re

from reporting_portal.domain.metadata_cleaning.errors import CannotClean, Reason
from reporting_portal.domain.metadata_cleaning.limits import MAX_UNPACKED_BYTES
from reporting_portal.domain.metadata_cleaning.zip_parts import (
    drop_attributes,
    drop_elements,
    rewrite_parts,
)

ODF_MIMETYPE_PREFIX = b"application/vnd.oasis.opendocument."

_META = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
         b'<office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:'
         b'office:1.0" office:version="1.3"><office:meta/></office:document-meta>')
_CHANGE_AUTHOR = re.compile(rb"<dc:creator\s*>[^<]*</dc:creator\s*>")
_CHANGE_DATE = re.compile(rb"<dc:date\s*>[^<]*</dc:date\s*>")
_PRIVATE_SETTINGS = re.compile(
    rb'<config:config-item\s+config:name="(?:PrinterName|PrinterSetup|PrinterPaperFromSetup'
    rb'|Rsid|RsidRoot)"[^>]*>[^<]*</config:config-item\s*>')
_DOCUMENT_PARTS = re.compile(r"(?:.+/)?(?:content|styles)\.xml")


def _clean_part(name: str, content: bytes) -> bytes:
    if name == "META-INF/manifest.xml" and b"encryption-data" in content:
        raise CannotClean(Reason.ENCRYPTED)
    if name == "meta.xml" or name.endswith("/meta.xml"):
        return _META
    if name == "settings.xml":
        return _PRIVATE_SETTINGS.sub(b"", content)
    if not _DOCUMENT_PARTS.fullmatch(name):  # embedded objects have their own content.xml
        return content
    content = drop_elements(content, ("office:annotation", "office:annotation-end"))
    content = _CHANGE_AUTHOR.sub(b"<dc:creator></dc:creator>", content)
    content = _CHANGE_DATE.sub(b"<dc:date>1970-01-01T00:00:00</dc:date>", content)
    return drop_attributes(content, ("officeooo:rsid", "officeooo:paragraph-rsid"))


def clean_odf(data: bytes) -> bytes:
    """The OpenDocument file without its metadata, comments and change authors."""
    return rewrite_parts(data, _clean_part, max_unpacked_bytes=MAX_UNPACKED_BYTES)
