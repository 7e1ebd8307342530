"""DOCX, XLSX and PPTX (Office Open XML, ECMA-376), cleaned part by part.

Blanked: ``docProps/core.xml`` (author, last editor, title, subject, keywords, dates,
revision count), ``docProps/app.xml`` (organisation, manager, application and version,
editing time, template) and ``docProps/custom.xml``; every comments part (Word's
comments and the people who wrote them, Excel's notes and threaded comments, PowerPoint's
comments and comment authors), with Word's anchors to them. In the remaining parts:
tracked changes keep their text but lose their author (``w:author``, ``w:initials``)
and date (Excel's, which are required, become 1970-01-01), revision session ids
(``w:rsid…``) go, Excel's shared-workbook user names are blanked and the folder the
workbook was saved in (``x15ac:absPath``) removed, and a Word template's path on the
author's computer is dropped.
"""

from __future__ import annotations

import re

from reporting_portal.domain.metadata_cleaning.limits import MAX_UNPACKED_BYTES
from reporting_portal.domain.metadata_cleaning.zip_parts import (
    blank_attributes,
    drop_attributes,
    drop_elements,
    rewrite_parts,
)

_CORE = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
         b'<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
         b'metadata/core-properties"/>')
_APP = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'extended-properties"/>')
_CUSTOM = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
           b'<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
           b'custom-properties"/>')
_BLANK_PROPERTIES = {"docProps/core.xml": _CORE, "docProps/app.xml": _APP,
                     "docProps/custom.xml": _CUSTOM}

_COMMENT_PARTS = re.compile(
    r"word/(comments[A-Za-z]*|people)\.xml|xl/comments\d*\.xml|xl/threadedComments/.+\.xml"
    r"|xl/persons/.+\.xml|ppt/comments/.+\.xml|ppt/(commentAuthors|authors)\.xml")
_ROOT_START = re.compile(rb"<(?!\?)([A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)(\s[^>]*)?>", re.S)
_XL_COMMENTS_CHILDREN = {b"comments": b"<authors/><commentList/>"}

_WORD_ANCHORS = ("w:commentRangeStart", "w:commentRangeEnd", "w:commentReference",
                 "w:attachedTemplate", "w:rsids", "x15ac:absPath")
_RSID = re.compile(rb"""\sw:rsid[A-Za-z]*\s*=\s*("[^"]*"|'[^']*')""")
_NO_TIME = b"1970-01-01T00:00:00"  # Excel's revision times are required: one for all
_TEMPLATE_RELATIONSHIP = re.compile(rb"<Relationship\s[^>]*/attachedTemplate\"[^>]*/>")


def _emptied_root(xml: bytes) -> bytes:
    """The part's root element with its namespaces, holding nothing."""
    start = _ROOT_START.search(xml)
    if start is None:
        return b""
    prefix, name = start.group(1) or b"", start.group(2)
    opening = start.group(0)
    if opening.endswith(b"/>"):
        return b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + opening
    children = _XL_COMMENTS_CHILDREN.get(name, b"") if not prefix else b""
    return (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + opening
            + children + b"</" + prefix + name + b">")


def _clean_part(name: str, content: bytes) -> bytes:
    if name in _BLANK_PROPERTIES:
        return _BLANK_PROPERTIES[name]
    if _COMMENT_PARTS.fullmatch(name):
        return _emptied_root(content)
    if name.endswith(".rels"):
        return _TEMPLATE_RELATIONSHIP.sub(b"", content)
    if not name.endswith(".xml"):
        return content
    content = drop_elements(content, _WORD_ANCHORS)
    content = _RSID.sub(b"", content)
    content = blank_attributes(content, ("w:author", "w:initials", "userName"))
    content = blank_attributes(content, ("dateTime",), value=_NO_TIME)
    return drop_attributes(content, ("w:date",))


def clean_ooxml(data: bytes) -> bytes:
    """The Office document without its properties, comments and revision authors."""
    return rewrite_parts(data, _clean_part, max_unpacked_bytes=MAX_UNPACKED_BYTES)
