"""Reading a reporter's POST body inside a view: the limits the page states, the CSRF
token checked on the stream, and nothing left behind when the body is refused.

The submission views never touch ``request.form`` or ``request.files`` (Werkzeug would
spool uploads to disk); they call :func:`read_upload`, or :func:`read_text_fields` when
only the text is wanted (a form whose session has ended).
"""

from __future__ import annotations

from typing import IO

from flask import current_app, g, request
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict
from werkzeug.http import parse_options_header

from reporting_portal.domain.objects import track_new_blobs
from reporting_portal.storage.blobstore import BlobWriter
from reporting_portal.storage.faults import is_storage_full
from reporting_portal.web.database import get_session, rollback_request_session
from reporting_portal.web.errors import INSUFFICIENT_STORAGE, REPORTER_STORAGE_FULL
from reporting_portal.web.extensions import get_blob_store, get_settings
from reporting_portal.web.uploads import (
    AgeFileSink,
    EncryptingSink,
    MultipartReader,
    ParsedUpload,
    Sink,
    SinkFactory,
    UploadError,
    UploadLimits,
    check_csrf_first,
)

ENCRYPTED_PARTS = {"content", "file", "identity"}
# Parts the script adds once each beside the reporter's files.
SINGLE_PARTS = frozenset({"content", "identity"})
# Room for the multipart framing and the text answers on top of the file limit.
_FORM_OVERHEAD_BYTES = 4 * 1024 * 1024
# After a refusal for size, read (and discard) this much more so the browser can show
# the explanation instead of a reset connection.
_DRAIN_LIMIT_BYTES = 256 * 1024 * 1024



def _sink_factory(file_questions: set[str]) -> SinkFactory:
    def open_sink(name: str, filename: str, content_type: str, writer: BlobWriter) -> Sink | None:
        if name in ENCRYPTED_PARTS:
            return AgeFileSink(writer, field_name=name)
        if name.startswith("q_") and name[2:] in file_questions:
            return EncryptingSink(writer, field_name=name[2:], filename=filename,
                                  content_type=content_type)
        return None

    return open_sink


def read_upload(file_questions: set[str],
                fields: MultiDict[str, str] | None = None) -> ParsedUpload:
    """Parse the request body as it streams in; blobs started are tracked for cleanup.
    Text fields go into ``fields`` as they arrive, so a refusal can show them again."""
    settings = get_settings()
    boundary = _multipart_boundary()
    created: list[str] = []
    track_new_blobs(get_session(), created)
    reader = MultipartReader(
        store=get_blob_store(),
        open_sink=_sink_factory(file_questions),
        on_first_field=check_csrf_first,
        created=created,
        limits=UploadLimits(
            max_field_chars=settings.answer_max_chars,
            max_parts=settings.submission_max_files + 200,
            # Exactly what the page states, on both paths: the reporter's files and their
            # plaintext; the script's encrypted answers and identity are not files.
            max_files=settings.submission_max_files,
            max_file_bytes=settings.submission_max_bytes,
            single_parts=SINGLE_PARTS,
        ),
        fields=fields,
    )
    try:
        return _read_counted(reader, boundary)
    except OSError as error:
        if not is_storage_full(error):
            raise
        # The reader aborted the part being written; the view's refusal rolls back,
        # which deletes the blobs already finished. Nothing of the report stays.
        current_app.logger.error("storage full [%s]", type(error).__name__)
        drain_request_body()
        raise StorageFullError(REPORTER_STORAGE_FULL) from None


class StorageFullError(UploadError):
    """The disk filled up while the report was written (507 Insufficient Storage)."""

    code = INSUFFICIENT_STORAGE


def read_text_fields(max_chars: int) -> ParsedUpload:
    """Only the text fields of a multipart body, in memory and bounded; its files are
    read past and written nowhere. There is no CSRF check (the session that issued the
    token has ended), so the caller must store nothing and change nothing."""
    settings = get_settings()
    boundary = _multipart_boundary()
    reader = MultipartReader(
        store=get_blob_store(),  # never used: files are dropped
        open_sink=lambda *_: None,
        on_first_field=lambda *_: None,
        created=[],
        limits=UploadLimits(max_field_chars=max_chars,
                            max_parts=settings.submission_max_files + 200,
                            max_files=0, max_file_bytes=0),
        drop_files=True,
    )
    return _read_counted(reader, boundary)


def _multipart_boundary() -> bytes:
    """The body's multipart boundary, after bounding the body to the page's limits."""
    request.max_content_length = get_settings().submission_max_bytes + _FORM_OVERHEAD_BYTES
    mimetype, options = parse_options_header(request.headers.get("Content-Type", ""))
    if mimetype != "multipart/form-data" or not options.get("boundary"):
        raise UploadError(_("The form was not sent as expected. Reload it and try again."))
    return options["boundary"].encode("ascii", "replace")


def _read_counted(reader: MultipartReader, boundary: bytes) -> ParsedUpload:
    # Counted, so that a refusal can drain exactly the rest (drain_request_body).
    g.upload_bytes_read = 0
    return reader.read(_CountingStream(request.stream), boundary)


class _CountingStream:
    """Counts what was read, so a refusal can drain exactly the rest of the body."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream

    def read(self, size: int = -1) -> bytes:
        data: bytes = self._stream.read(size)
        g.upload_bytes_read += len(data)
        return data


def refuse_upload() -> None:
    """Nothing of a refused upload stays: no row, and so no blob (objects.track_new_blobs)."""
    rollback_request_session()


def drain_request_body() -> None:
    """Read (and drop) what the browser is still sending, so it can show the refusal
    page instead of a reset connection. Bounded: exactly the rest of the declared body,
    and only when that rest is not absurdly large."""
    length = request.content_length
    remaining = (length or 0) - g.get("upload_bytes_read", 0)
    if length is None or not 0 < remaining <= _DRAIN_LIMIT_BYTES:
        return
    source = request.environ["wsgi.input"]
    try:
        while remaining > 0 and (chunk := source.read(min(remaining, 65536))):
            remaining -= len(chunk)
    except (OSError, ValueError):
        return


def sent_from_this_site() -> bool:
    """Whether the browser says this POST came from one of this site's pages. Text sent
    without a valid token is shown again only then: another site must not be able to
    put words into a reporter's form."""
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site == "same-origin"
    return request.headers.get("Origin") == request.host_url.rstrip("/")
