"""Metadata-free copies of evidence: what a file says about who made it, removed (issue 18).

Photos and documents carry what betrays a reporter beside what they show: a GPS position
and a camera's serial number in a JPEG's EXIF, an author and a company in a Word file's
``docProps/``, the names of everyone who tracked a change. :func:`clean_file` removes that
from a whole file held in memory and keeps the content, by the rules the browser applies
before encryption (web/src/metadata/). It imports no Flask, touches no disk, and decides
the format from the bytes, never from a name a reporter chose.

What each format's cleaning removes and what it cannot is in SECURITY.md, "Metadata in
evidence".
"""

from __future__ import annotations

from reporting_portal.domain.metadata_cleaning.errors import CannotClean, Reason
from reporting_portal.domain.metadata_cleaning.formats import FileFormat, clean_file, detect_format
from reporting_portal.domain.metadata_cleaning.limits import MAX_CLEANABLE_BYTES

__all__ = [
    "MAX_CLEANABLE_BYTES",
    "CannotClean",
    "FileFormat",
    "Reason",
    "clean_file",
    "detect_format",
]
