"""Which format a file is, from its first bytes, and the cleaning rule for it."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from enum import StrEnum

from reporting_portal.domain.metadata_cleaning.errors import CannotClean, Reason
from reporting_portal.domain.metadata_cleaning.jpeg import clean_jpeg
from reporting_portal.domain.metadata_cleaning.limits import MAX_CLEANABLE_BYTES
from reporting_portal.domain.metadata_cleaning.odf import ODF_MIMETYPE_PREFIX, clean_odf
from reporting_portal.domain.metadata_cleaning.ooxml import clean_ooxml
from reporting_portal.domain.metadata_cleaning.pdf import clean_pdf
from reporting_portal.domain.metadata_cleaning.png import PNG_SIGNATURE, clean_png


class FileFormat(StrEnum):
    JPEG = "jpeg"
    PNG = "png"
    PDF = "pdf"
    OOXML = "ooxml"  # DOCX, XLSX, PPTX
    ODF = "odf"  # ODT, ODS, ODP and the rest of OpenDocument


def _zip_format(data: bytes) -> FileFormat | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "[Content_Types].xml" in names:
                return FileFormat.OOXML
            if "mimetype" in names:
                mimetype = archive.read("mimetype")[:100]
                if mimetype.startswith(ODF_MIMETYPE_PREFIX):
                    return FileFormat.ODF
    except (zipfile.BadZipFile, KeyError, ValueError):
        return None
    return None


def detect_format(data: bytes) -> FileFormat | None:
    """The format the bytes are in, or None when no rule here knows it."""
    if data.startswith(b"\xff\xd8\xff"):
        return FileFormat.JPEG
    if data.startswith(PNG_SIGNATURE):
        return FileFormat.PNG
    # A PDF reader accepts the header anywhere in the first kilobyte.
    if b"%PDF-" in data[:1024]:
        return FileFormat.PDF
    if data.startswith(b"PK\x03\x04"):
        return _zip_format(data)
    return None


_CLEANERS: dict[FileFormat, Callable[[bytes], bytes]] = {
    FileFormat.JPEG: clean_jpeg,
    FileFormat.PNG: clean_png,
    FileFormat.PDF: clean_pdf,
    FileFormat.OOXML: clean_ooxml,
    FileFormat.ODF: clean_odf,
}


def clean_file(data: bytes) -> bytes:
    """A copy of ``data`` without the metadata its format carries.

    Raises :class:`CannotClean` for a file over :data:`MAX_CLEANABLE_BYTES`, of a format
    these rules do not know, encrypted, or damaged; nothing is half-cleaned.
    """
    if len(data) > MAX_CLEANABLE_BYTES:
        raise CannotClean(Reason.TOO_LARGE)
    file_format = detect_format(data)
    if file_format is None:
        raise CannotClean(Reason.UNKNOWN_FORMAT)
    return _CLEANERS[file_format](data)
