"""Reading a reporter's multipart upload as it streams in, without touching the disk.

Werkzeug's form parser spools file parts larger than 500 KiB to temporary files, which
would put plaintext evidence on disk. The submission views therefore never touch
``request.form`` or ``request.files``: :func:`read_multipart` drives Werkzeug's sans-IO
multipart decoder over the request stream and hands each file part to a sink that
encrypts it (plaintext path) or splits its age header from its payload (browser-encrypted
path) on the way into the blob store. Text fields stay in memory, bounded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from crypto import FileKey, PayloadEncryptor
from crypto.errors import AgeError
from crypto.header import parse_header
from reporting_portal.blobstore import BlobStore, BlobWriter

_READ_SIZE = 64 * 1024
# An age header of many post-quantum stanzas is ~1.6 KiB a stanza; far below this.
MAX_AGE_HEADER_BYTES = 128 * 1024
_HEADER_END = b"\n--- "
_MAC_LINE_LENGTH = len(b"--- ") + 43 + 1  # base64 of a 32-byte HMAC, unpadded, newline


class UploadError(BadRequest):
    """The upload is malformed; ``description`` is shown to the reporter."""


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

    def write(self, data: bytes) -> None:
        if self._header is not None:
            self._writer.write(data)
            return
        self._head += data
        end = self._head.find(_HEADER_END)
        if end < 0 or len(self._head) < end + 1 + _MAC_LINE_LENGTH:
            if len(self._head) > MAX_AGE_HEADER_BYTES:
                raise UploadError("An encrypted part has no valid age header.")
            return
        cut = end + 1 + _MAC_LINE_LENGTH
        header = bytes(self._head[:cut])
        try:
            parse_header(header)
        except AgeError:
            raise UploadError("An encrypted part has no valid age header.") from None
        self._header = header
        self._writer.write(bytes(self._head[cut:]))
        self._head.clear()

    def abort(self) -> None:
        self._writer.abort()

    def finish(self) -> StoredUpload:
        if self._header is None:
            raise UploadError("An encrypted part has no valid age header.")
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


SinkFactory = Callable[[str, str, str, BlobWriter], Sink | None]


@dataclass(frozen=True)
class UploadLimits:
    max_field_chars: int
    max_parts: int
    max_files: int
    max_file_bytes: int  # all files of one upload together


class MultipartReader:
    """Parses a multipart body, streaming each file part into ``open_sink``'s sink.

    ``on_first_field`` sees the first field before any file is read (the CSRF token must
    come first). Every blob started is appended to ``created`` at once, so the caller
    can delete them all if anything later fails. Empty file inputs are ignored.
    """

    def __init__(
        self,
        *,
        store: BlobStore,
        open_sink: SinkFactory,
        on_first_field: Callable[[str, str], None],
        created: list[str],
        limits: UploadLimits,
    ) -> None:
        self._store = store
        self._open_sink = open_sink
        self._on_first_field = on_first_field
        self._created = created
        self._limits = limits
        self._result = ParsedUpload()
        self._field_name: str | None = None
        self._field_buffer = bytearray()
        self._sink: Sink | None = None
        self._skipping = False
        self._first_seen = False
        self._files = 0
        self._file_bytes = 0

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
            max_form_memory_size=self._limits.max_field_chars * 4,
            max_parts=self._limits.max_parts,
        )
        while True:
            chunk = stream.read(_READ_SIZE)
            decoder.receive_data(chunk or None)
            event = decoder.next_event()
            while not isinstance(event, NeedData | Epilogue):
                if isinstance(event, Field):
                    self._field_name, self._field_buffer = event.name, bytearray()
                elif isinstance(event, File):
                    self._start_file(event)
                elif isinstance(event, Data):
                    self._receive(event)
                event = decoder.next_event()
            if isinstance(event, Epilogue):
                return self._result
            if not chunk:
                raise UploadError("The upload was cut off. Nothing was stored; please try again.")

    def _start_file(self, event: File) -> None:
        if not self._first_seen:
            raise UploadError("The form expired or was not sent from this site.")
        self._field_name, self._sink = None, None
        self._skipping = not event.filename
        if self._skipping:
            return
        self._files += 1
        if self._files > self._limits.max_files:
            raise RequestEntityTooLarge(f"At most {self._limits.max_files} files.")
        writer = self._store.create()
        self._created.append(writer.name)
        self._sink = self._open_sink(
            event.name, event.filename, event.headers.get("content-type", ""), writer
        )
        if self._sink is None:
            writer.abort()
            raise UploadError("The form contains an unexpected file.")

    def _receive(self, event: Data) -> None:
        if self._field_name is not None:
            self._field_buffer += event.data
            if not event.more_data:
                value = _decode_text(self._field_buffer, self._limits.max_field_chars)
                if not self._first_seen:
                    self._on_first_field(self._field_name, value)
                    self._first_seen = True
                self._result.fields.add(self._field_name, value)
                self._field_name = None
        elif self._sink is not None:
            self._file_bytes += len(event.data)
            if self._file_bytes > self._limits.max_file_bytes:
                raise RequestEntityTooLarge("The files are too large.")
            self._sink.write(event.data)
            if not event.more_data:
                self._result.uploads.append(self._sink.finish())
                self._sink = None
        elif self._skipping and event.data:
            raise UploadError("The form contains an unexpected file.")


def _decode_text(data: bytearray, max_chars: int) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise UploadError("The form contains text that is not valid UTF-8.") from None
    if len(text) > max_chars:
        raise RequestEntityTooLarge(f"An answer is longer than {max_chars} characters.")
    return text
