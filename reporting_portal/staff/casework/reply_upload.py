"""Reading a handler's message with files as it streams in (issue 15, item 5).

The message form is multipart: Werkzeug would spool its files to temporary files, and a
handler's attachment for the reporter is case content like any other, so the view never
touches ``request.form`` or ``request.files``. Each file is encrypted into the blob store
as it arrives (web/uploads.py), within the limits a reporter has; its header is sealed by
the service once the message is filed. Every blob started is tracked on the request's
transaction, so a refusal or a failure leaves nothing behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO

from flask import g, request
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.http import parse_options_header

from reporting_portal.domain.objects import track_new_blobs
from reporting_portal.storage.blobstore import BlobWriter
from reporting_portal.web.database import get_session
from reporting_portal.web.extensions import get_blob_store, get_settings
from reporting_portal.web.uploads import (
    EncryptingSink,
    MultipartReader,
    Sink,
    StoredUpload,
    UploadError,
    UploadLimits,
    check_csrf_first,
)

# The field of the case page's message form that holds the files.
ATTACHMENTS_FIELD = "attachments"
# Room for the multipart framing and the message text on top of the file limit.
_FORM_OVERHEAD_BYTES = 1024 * 1024
_DRAIN_LIMIT_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class HandlerReply:
    """The message form as sent: its text and its files, encrypted but not yet sealed."""

    text: str
    files: list[StoredUpload]



def _open_sink(name: str, filename: str, content_type: str, writer: BlobWriter) -> Sink | None:
    if name != ATTACHMENTS_FIELD:
        return None  # refused by the reader: "The form contains an unexpected file."
    return EncryptingSink(writer, field_name=name, filename=filename,
                          content_type=content_type)


def read_handler_reply(max_text_chars: int,
                       typed: MultiDict[str, str] | None = None) -> HandlerReply:
    """Parse the message form's body; raises ``UploadError`` (400) for a malformed form
    and ``RequestEntityTooLarge`` (413) beyond the limits a reporter's upload has.
    Text fields go into ``typed`` as they arrive, so a refusal can show them again."""
    settings = get_settings()
    request.max_content_length = settings.submission_max_bytes + _FORM_OVERHEAD_BYTES
    mimetype, options = parse_options_header(request.headers.get("Content-Type", ""))
    if mimetype == "application/x-www-form-urlencoded":
        return _text_only(max_text_chars)
    if mimetype != "multipart/form-data" or not options.get("boundary"):
        raise UploadError(_("The form was not sent as expected. Reload it and try again."))
    created: list[str] = []
    track_new_blobs(get_session(), created)
    reader = MultipartReader(
        store=get_blob_store(), open_sink=_open_sink, on_first_field=check_csrf_first,
        created=created,
        limits=UploadLimits(max_field_chars=max_text_chars,
                            max_parts=settings.submission_max_files + 20,
                            max_files=settings.submission_max_files,
                            max_file_bytes=settings.submission_max_bytes),
        fields=typed,
    )
    g.reply_bytes_read = 0
    parsed = reader.read(_CountingStream(request.stream),
                         options["boundary"].encode("ascii", "replace"))
    return HandlerReply(text=parsed.fields.get("reply", ""), files=parsed.uploads)


def _text_only(max_text_chars: int) -> HandlerReply:
    """A message without files, sent as a plain form (no file can be in such a body, so
    Werkzeug's parser is safe here); the CSRF token is checked as the stream's would be."""
    request.max_content_length = 4 * max_text_chars + _FORM_OVERHEAD_BYTES
    check_csrf_first("csrf_token", request.form.get("csrf_token", ""))
    text = request.form.get("reply", "")
    if len(text) > max_text_chars:
        raise RequestEntityTooLarge()
    return HandlerReply(text=text, files=[])


class _CountingStream:
    """Counts what was read, so that a refusal can drain exactly the rest of the body."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream

    def read(self, size: int = -1, /) -> bytes:
        data: bytes = self._stream.read(size)
        g.reply_bytes_read += len(data)
        return data


def drain_rest() -> None:
    """Read (and drop) what the browser is still sending after a refusal, so that it
    shows the case page's explanation rather than a reset connection. Bounded by the
    declared length, and skipped when the rest is absurdly large."""
    remaining = (request.content_length or 0) - g.get("reply_bytes_read", 0)
    if not 0 < remaining <= _DRAIN_LIMIT_BYTES:
        return
    source = request.environ["wsgi.input"]
    try:
        while remaining > 0 and (chunk := source.read(min(remaining, 65536))):
            remaining -= len(chunk)
    except (OSError, ValueError):
        return
