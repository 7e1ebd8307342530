"""Reading a multipart upload as it streams in, without touching the disk.

Werkzeug's form parser spools file parts larger than 500 KiB to temporary files, which
would put plaintext evidence on disk. The submission views therefore never touch
``request.form`` or ``request.files``: :func:`read_multipart` drives Werkzeug's sans-IO
multipart decoder over the request stream and hands each file part to a sink that
encrypts it (plaintext path) or splits its age header from its payload (browser-encrypted
path) on the way into the blob store. Text fields stay in memory, bounded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf.csrf import CSRFError, validate_csrf
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest, ClientDisconnected, RequestEntityTooLarge
from werkzeug.sansio.multipart import (
    Data,
    Epilogue,
    Event,
    Field,
    File,
    MultipartDecoder,
    NeedData,
)
from wtforms import ValidationError

from crypto import FileKey, PayloadEncryptor
from crypto.errors import AgeError
from crypto.header import parse_header
from reporting_portal.storage.blobstore import BlobStore, BlobWriter

_READ_SIZE = 64 * 1024
# The decoder is fed slices of exactly this size, cut at fixed offsets of the body, so
# that what it (and every sink) sees depends on the bytes alone, never on how the socket
# or Tor split them. Its unparsed buffer (a part's headers still arriving) may hold this
# much more: legitimate headers are a few hundred bytes.
_FEED_SIZE = 64 * 1024
_MAX_PENDING_BYTES = 16 * 1024
# An age header of many post-quantum stanzas is ~1.6 KiB a stanza; far below this.
MAX_AGE_HEADER_BYTES = 128 * 1024
_HEADER_END = b"\n--- "
_MAC_LINE_LENGTH = len(b"--- ") + 43 + 1  # base64 of a 32-byte HMAC, unpadded, newline
# age's STREAM payload: a 16-byte nonce, then chunks of up to 64 KiB, each with a 16-byte tag.
_AGE_NONCE_BYTES = 16
_AGE_CHUNK_BYTES = 64 * 1024 + 16
_AGE_TAG_BYTES = 16


class UploadError(BadRequest):
    """The upload is malformed; ``description`` is shown to the reporter."""


class MalformedUploadError(UploadError):
    """The body is not a complete multipart form: cut off (a dropped Tor circuit, a
    closed tab), a part without headers, or not multipart at all."""

    def __init__(self) -> None:
        super().__init__(_l("Your upload was cut off or malformed, so nothing was kept. "
                            "Please send it again."))


def _expired_form() -> UploadError:
    return UploadError(_l("The form expired or was not sent from this site. Reload it."))


def _bad_age_header() -> UploadError:
    return UploadError(_l("An encrypted part has no valid age header."))


@dataclass
class StoredUpload:
    """A file part now in the blob store, with what is needed to describe and seal it."""

    field_name: str
    blob_name: str
    payload_size: int
    plaintext_size: int | None = None
    file_key: FileKey | None = None  # plaintext path: the server made the payload
    header: bytes | None = None  # browser path: the header as uploaded
    filename: str = ""
    content_type: str = ""


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class Sink(Protocol):
    def write(self, data: bytes) -> None: ...

    @property
    def plaintext_bytes(self) -> int:
        """The plaintext this part holds so far: exact once finished, never more before,
        so that a limit on it refuses early and never refuses what the page allows."""
        ...

    def finish(self) -> StoredUpload: ...

    def abort(self) -> None: ...


class EncryptingSink:
    """Encrypts plaintext into an age payload as it arrives; the header is sealed later,
    once every recipient is known (the reporter's exclusions may come after the files)."""

    def __init__(self, writer: BlobWriter, *, field_name: str, filename: str, content_type: str):
        self._writer = writer
        self._encryptor = PayloadEncryptor(writer)
        self._plaintext_size = 0
        self._upload = StoredUpload(
            field_name=field_name,
            blob_name=writer.name,
            payload_size=0,
            plaintext_size=0,
            file_key=self._encryptor.file_key,
            filename=filename,
            content_type=content_type,
        )

    def write(self, data: bytes) -> None:
        self._encryptor.write(data)
        self._plaintext_size += len(data)

    @property
    def plaintext_bytes(self) -> int:
        return self._plaintext_size

    def abort(self) -> None:
        self._writer.abort()

    def finish(self) -> StoredUpload:
        self._encryptor.finish()
        self._upload.plaintext_size = self._plaintext_size
        self._upload.payload_size = self._writer.commit()
        return self._upload


class AgeFileSink:
    """Takes an age file made in the browser: header kept aside, payload to the blob.

    Only the header's structure can be checked here (no key); the stanza count and
    types are checked against the expected recipients by the service.
    """

    def __init__(self, writer: BlobWriter, *, field_name: str) -> None:
        self._writer = writer
        self._field_name = field_name
        self._head = bytearray()
        self._header: bytes | None = None
        self._payload_bytes = 0
        self._header_end = -1  # where "\n--- " starts in _head, once seen
        self._searched = 0  # no "\n--- " starts before this offset of _head

    def write(self, data: bytes) -> None:
        if self._header is not None:
            self._writer.write(data)
            self._payload_bytes += len(data)
            return
        self._head += data
        if self._header_end < 0:
            # Search only what is new (and the few bytes before it), so a header arriving
            # in many small pieces costs linear time.
            self._header_end = self._head.find(_HEADER_END, self._searched)
            self._searched = max(0, len(self._head) - len(_HEADER_END) + 1)
        end = self._header_end
        cut = end + 1 + _MAC_LINE_LENGTH
        # The same refusal however the bytes are split: judged on where the header ends,
        # not on how much happened to arrive at once.
        if (end >= 0 and cut > MAX_AGE_HEADER_BYTES) or (
            end < 0 and len(self._head) > MAX_AGE_HEADER_BYTES
        ):
            raise _bad_age_header()
        if end < 0 or len(self._head) < cut:
            return
        header = bytes(self._head[:cut])
        try:
            parse_header(header)
        except AgeError:
            raise _bad_age_header() from None
        self._header = header
        rest = bytes(self._head[cut:])
        self._writer.write(rest)
        self._payload_bytes += len(rest)
        self._head.clear()

    @property
    def plaintext_bytes(self) -> int:
        """The payload's length so far less the nonce and one tag for each chunk begun:
        never more than the plaintext it will hold, and exact for a whole payload."""
        body = self._payload_bytes - _AGE_NONCE_BYTES
        if body <= 0:
            return 0
        chunks = -(-body // _AGE_CHUNK_BYTES)
        return max(0, body - chunks * _AGE_TAG_BYTES)

    def abort(self) -> None:
        self._writer.abort()

    def finish(self) -> StoredUpload:
        if self._header is None:
            raise _bad_age_header()
        size = self._writer.commit()
        return StoredUpload(
            field_name=self._field_name,
            blob_name=self._writer.name,
            payload_size=size,
            header=self._header,
        )


@dataclass
class ParsedUpload:
    fields: MultiDict[str, str] = field(default_factory=MultiDict)
    uploads: list[StoredUpload] = field(default_factory=list)
    dropped_files: list[str] = field(default_factory=list)  # names of parts read past


SinkFactory = Callable[[str, str, str, BlobWriter], Sink | None]


@dataclass(frozen=True)
class UploadLimits:
    """What the form's page promises, enforced on the stream.

    ``max_files`` and ``max_file_bytes`` count the reporter's files and their plaintext
    (on the browser path, what the age payloads can hold), never the ``single_parts``:
    the encrypted answers and identity the script adds, each allowed once.
    """

    max_field_chars: int
    max_parts: int
    max_files: int
    max_file_bytes: int  # plaintext of all files of one upload together
    single_parts: frozenset[str] = frozenset()


class MultipartReader:
    """Parses a multipart body, streaming each file part into ``open_sink``'s sink.

    ``on_first_field`` sees the first field before any file is read (the CSRF token must
    come first), and a body that ends without any field is refused, so the check cannot
    be skipped by sending none. Every blob started is appended to ``created`` at once, so
    the caller can delete them all if anything later fails. Empty file inputs are
    ignored. Whatever the bytes, the result is a :class:`ParsedUpload` or an
    :class:`UploadError` / ``RequestEntityTooLarge``, never Werkzeug's ``ValueError``.
    """

    def __init__(
        self,
        *,
        store: BlobStore,
        open_sink: SinkFactory,
        on_first_field: Callable[[str, str], None],
        created: list[str],
        limits: UploadLimits,
        drop_files: bool = False,
        fields: MultiDict[str, str] | None = None,
    ) -> None:
        self._store = store
        # Only the text is wanted (a reply whose session ended): files are read past,
        # never written anywhere, and named in the result so the reporter can be told.
        self._drop_files = drop_files
        self._dropping = False
        self._open_sink = open_sink
        self._on_first_field = on_first_field
        self._created = created
        self._limits = limits
        # The caller's own dict, if given, so that the text read before a refusal (a
        # file too large) can be shown again.
        self._result = ParsedUpload(fields=fields if fields is not None else MultiDict())
        self._field_name: str | None = None
        self._field_buffer = bytearray()
        self._sink: Sink | None = None
        self._skipping = False
        self._first_seen = False
        self._files = 0
        self._file_bytes = 0  # plaintext of the finished counted files
        self._counting = False  # the open sink's part counts against the file limits
        self._single_seen: set[str] = set()

    def read(self, stream: Readable, boundary: bytes) -> ParsedUpload:
        try:
            return self._read(stream, boundary)
        except BaseException:
            if self._sink is not None:
                self._sink.abort()  # the part being written: its temporary file goes
            raise

    def _read(self, stream: Readable, boundary: bytes) -> ParsedUpload:
        decoder = MultipartDecoder(
            boundary,
            max_form_memory_size=_FEED_SIZE + _MAX_PENDING_BYTES,
            max_parts=self._limits.max_parts,
        )
        for piece in _fixed_slices(stream):
            decoder.receive_data(piece)
            if self._drain(decoder):
                return self._result
        decoder.receive_data(None)
        if self._drain(decoder):
            return self._result
        raise MalformedUploadError()

    def _drain(self, decoder: MultipartDecoder) -> bool:
        """Handle every event the decoder can give; whether the body is complete."""
        event = _next_event(decoder)
        while not isinstance(event, NeedData | Epilogue):
            if isinstance(event, Field | File) and not event.name:
                raise MalformedUploadError()  # a part whose name was lost or never given
            if isinstance(event, Field):
                self._field_name, self._field_buffer = event.name, bytearray()
            elif isinstance(event, File):
                self._start_file(event)
            elif isinstance(event, Data):
                self._receive(event)
            event = _next_event(decoder)
        if isinstance(event, Epilogue):
            if not self._first_seen:
                raise _expired_form()
            return True
        return False

    def _start_file(self, event: File) -> None:
        if not self._first_seen:
            raise _expired_form()
        self._field_name, self._sink = None, None
        self._skipping = not event.filename
        if self._skipping:
            return
        if self._drop_files:
            self._dropping = True
            self._result.dropped_files.append(event.name)
            return
        self._counting = event.name not in self._limits.single_parts
        if not self._counting:
            if event.name in self._single_seen:
                raise UploadError(_l("The form was not sent as expected. Reload it and try "
                                     "again."))
            self._single_seen.add(event.name)
        else:
            self._files += 1
            if self._files > self._limits.max_files:
                raise RequestEntityTooLarge(ngettext(
                    "At most %(num)d file.", "At most %(num)d files.", self._limits.max_files))
        writer = self._store.create()
        self._created.append(writer.name)
        self._sink = self._open_sink(
            event.name, event.filename, event.headers.get("content-type", ""), writer
        )
        if self._sink is None:
            writer.abort()
            raise UploadError(_l("The form contains an unexpected file."))

    def _receive(self, event: Data) -> None:
        if self._field_name is not None:
            self._field_buffer += event.data
            # Bounded as it arrives (UTF-8 takes at most 4 bytes a character), not only
            # once complete: a field must not grow in memory up to the body's size.
            if len(self._field_buffer) > 4 * self._limits.max_field_chars:
                raise RequestEntityTooLarge(_answer_too_long(self._limits.max_field_chars))
            if not event.more_data:
                value = _decode_text(self._field_buffer, self._limits.max_field_chars)
                if not self._first_seen:
                    self._on_first_field(self._field_name, value)
                    self._first_seen = True
                self._result.fields.add(self._field_name, value)
                self._field_name = None
        elif self._sink is not None:
            self._sink.write(event.data)
            counted = self._sink.plaintext_bytes if self._counting else 0
            if self._file_bytes + counted > self._limits.max_file_bytes:
                raise RequestEntityTooLarge(_l("The files are too large."))
            if not event.more_data:
                self._result.uploads.append(self._sink.finish())
                self._file_bytes += counted
                self._sink = None
        elif self._dropping:
            self._dropping = event.more_data
        elif self._skipping and event.data:
            raise UploadError(_l("The form contains an unexpected file."))


def _fixed_slices(stream: Readable) -> Iterator[bytes]:
    """The stream's bytes in slices of :data:`_FEED_SIZE` (the last one shorter), however
    many bytes each read returns. A connection closed early is a body cut off."""
    pending = bytearray()
    while True:
        try:
            chunk = stream.read(_READ_SIZE)
        except ClientDisconnected:
            raise MalformedUploadError() from None
        pending += chunk
        while len(pending) >= _FEED_SIZE:
            yield bytes(pending[:_FEED_SIZE])
            del pending[:_FEED_SIZE]
        if not chunk:
            if pending:
                yield bytes(pending)
            return


def _next_event(decoder: MultipartDecoder) -> Event:
    """Werkzeug raises ``ValueError`` for a body it cannot parse: that is the reporter's
    upload broken on the way, to be answered as such, not an error of ours."""
    try:
        return decoder.next_event()
    except ValueError:
        raise MalformedUploadError() from None


def _decode_text(data: bytearray, max_chars: int) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise UploadError(_l("The form contains text that is not valid UTF-8.")) from None
    if len(text) > max_chars:
        raise RequestEntityTooLarge(_answer_too_long(max_chars))
    return text


def _answer_too_long(max_chars: int) -> str:
    message: str = ngettext("An answer is longer than %(num)d character.",
                            "An answer is longer than %(num)d characters.", max_chars)
    return message


def check_csrf_first(name: str, value: str) -> None:
    """``on_first_field`` for a form whose page puts its CSRF token first: no file is read
    before the form is known to come from this site's page (both zones' uploads)."""
    if name != "csrf_token":
        raise UploadError(_l("The form expired or was not sent from this site. Reload it."))
    try:
        validate_csrf(value)
    except ValidationError:
        raise CSRFError() from None
