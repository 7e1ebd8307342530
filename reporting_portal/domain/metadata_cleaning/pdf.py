"""PDF, cleaned with pikepdf (qpdf): the metadata removed, the whole file rewritten.

Removed: the trailer's Info dictionary (author, title, subject, keywords, creator
application, producer, creation and modification dates), every XMP ``/Metadata`` stream
(the document's and those attached to pages, images and fonts), ``/PieceInfo`` (an
application's private data about the file), and in annotations (comments, highlights)
the author ``/T`` and the dates ``/M`` and ``/CreationDate``. The file is written anew,
so earlier versions kept by incremental updates and objects nothing refers to are gone;
its ``/ID`` is derived from the new content, not carried over from the original.

An encrypted PDF is refused: its objects cannot be rewritten without the password.
"""

from __future__ import annotations

import io

import pikepdf

from reporting_portal.domain.metadata_cleaning.errors import CannotClean, Reason

_OBJECT_KEYS = ("/Metadata", "/PieceInfo")
_ANNOTATION_KEYS = ("/T", "/M", "/CreationDate")


def _strip(dictionary: pikepdf.Dictionary | pikepdf.Stream, keys: tuple[str, ...]) -> None:
    for key in keys:
        if key in dictionary:
            del dictionary[key]


def _is_annotation(obj: pikepdf.Dictionary | pikepdf.Stream) -> bool:
    return obj.get("/Type") == pikepdf.Name.Annot or ("/Subtype" in obj and "/Rect" in obj)


def clean_pdf(data: bytes) -> bytes:
    """The PDF without Info, XMP, private application data or annotation authors."""
    try:
        pdf = pikepdf.open(io.BytesIO(data))
    except pikepdf.PasswordError as error:
        raise CannotClean(Reason.ENCRYPTED) from error
    except pikepdf.PdfError as error:
        raise CannotClean(Reason.DAMAGED) from error
    with pdf:
        if pdf.is_encrypted:
            raise CannotClean(Reason.ENCRYPTED)
        if "/Info" in pdf.trailer:
            del pdf.trailer["/Info"]
        for obj in pdf.objects:
            if not isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
                continue
            _strip(obj, _OBJECT_KEYS)
            if _is_annotation(obj):
                _strip(obj, _ANNOTATION_KEYS)
        out = io.BytesIO()
        try:
            # Streams are written exactly as they were: the pages' content byte for byte.
            pdf.save(out, deterministic_id=True, fix_metadata_version=False,
                     compress_streams=False, stream_decode_level=pikepdf.StreamDecodeLevel.none)
        except pikepdf.PdfError as error:
            raise CannotClean(Reason.DAMAGED) from error
    return out.getvalue()
