"""Blobs as objects in an S3-compatible bucket, for installations spread over several hosts.

The same contract as :class:`~reporting_portal.storage.blobstore.LocalBlobStore`: random
32-hex names (under ``s3_prefix``), invisible until committed, nothing left behind by an
aborted write, and never a whole object in memory. A write buffers at most one part and
streams through a multipart upload; a blob smaller than one part goes as one PutObject at
commit. A read fetches bounded byte ranges as the caller consumes them.

Credentials come from boto3's standard chain (``AWS_ACCESS_KEY_ID`` and friends, a
profile named by ``AWS_PROFILE``, an instance or container role), never from the TOML
settings, so a copied configuration file carries no key.

Operators, note: unlike the local store, which sets every blob's times to midnight, an
object's ``LastModified`` is the real time of the upload, to the second, and S3 has no way
to set it. Whoever can list the bucket can time a reporter's upload (joined with a stolen
database, it names the report). Keep listing and reading to the portal's own credentials,
turn bucket versioning off (or expire noncurrent versions at once, or a purged payload
outlives its purge), and add the lifecycle rule "abort incomplete multipart uploads after
1 day" so a killed worker's parts do not linger until ``fsck`` finds them.
"""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from datetime import UTC
from types import TracebackType
from typing import TYPE_CHECKING, BinaryIO

import boto3
import botocore.loaders
import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.response import StreamingBody

from config.settings import Settings
from reporting_portal.storage.blobstore import (
    BlobNotFoundError,
    UnfinishedUpload,
    new_blob_name,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

_MIB = 1024 * 1024
# S3's smallest part is 5 MiB (except the last); 8 MiB is boto3's own transfer default.
# A writer holds at most this much, so 1 GiB over Tor costs 8 MiB of a worker's memory.
PART_SIZE = 8 * _MIB
# A reader's ranged GETs are this long at most: small enough that a stalled or retried
# request repeats little, large enough that a 1 GiB download is ~1,000 requests.
READ_RANGE = 1 * _MIB

_NAME = re.compile(r"[0-9a-f]{32}")
# An UnfinishedUpload's key here is "<blob name>/<upload id>"; AWS's ids are URL-safe
# base64, other implementations use hex or base64: printable, no space, bounded.
_UPLOAD_KEY = re.compile(r"(?P<name>[0-9a-f]{32})/(?P<upload_id>[\x21-\x7e]{1,1024})")
_MISSING_OBJECT = frozenset({"404", "NoSuchKey", "NotFound"})
# The object changed between ranges (never, for random names, unless it was deleted and
# its name reused): the reader refuses to splice two versions together.
_CHANGED_OBJECT = frozenset({"412", "PreconditionFailed"})

# Bounded timeouts, so a hung object store fails a reporter's request with an error page
# instead of holding a worker thread for gunicorn's 600 s; the read timeout is per socket
# read, not per transfer, so a slow 8 MiB part is fine as long as bytes keep flowing.
# Standard retry mode retries throttling and transient 5xx/connection errors with
# exponential backoff and jitter, the same way in every AWS SDK; three attempts bound the
# worst case at about a minute and a half. Bodies are bytes in memory (one part at most),
# so a retried PutObject or UploadPart re-sends exactly the same bytes.
_CLIENT_CONFIG = Config(
    connect_timeout=5,
    read_timeout=30,
    retries={"mode": "standard", "max_attempts": 3},
)

# boto3 parses megabytes of JSON service models for every new session; this read-only
# cache of them (no credentials, no connections) is shared, so that building a store,
# once per app and per command, costs a tenth of a second rather than half of one.
_SERVICE_MODELS = botocore.loaders.create_loader()

logger = logging.getLogger(__name__)


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class S3BlobWriter:
    """One blob being written: parts go out as they fill, the object appears at commit."""

    def __init__(self, client: S3Client, bucket: str, key: str, name: str) -> None:
        self.name = name
        self._client = client
        self._bucket = bucket
        self._key = key
        # The part being filled; sent as a seekable file, so boto3 reads it without a copy
        # (and rewinds it for a retry).
        self._buffer = io.BytesIO()
        self._buffered = 0
        self._upload_id: str | None = None
        self._parts: list[CompletedPartTypeDef] = []
        self._size = 0
        self._commit_started = False
        self._done = False

    @property
    def buffered(self) -> int:
        """Bytes held in memory, waiting for their part to fill: never above PART_SIZE."""
        return self._buffered

    @property
    def parts_sent(self) -> int:
        return len(self._parts)

    def write(self, data: bytes | memoryview, /) -> int:
        if self._done:
            raise ValueError("write to a blob that is committed or aborted")
        view = memoryview(data).cast("B")
        taken = 0
        while taken < len(view):
            piece = view[taken : taken + PART_SIZE - self._buffered]
            self._buffer.write(piece)
            self._buffered += len(piece)
            taken += len(piece)
            if self._buffered == PART_SIZE:
                self._send_part()
        self._size += taken
        return taken

    def _send_part(self) -> None:
        if self._upload_id is None:
            # Started only once a whole part is here: most blobs (answers, messages,
            # small files) never need one.
            started = self._client.create_multipart_upload(Bucket=self._bucket, Key=self._key)
            self._upload_id = started["UploadId"]
        number = len(self._parts) + 1
        sent = self._client.upload_part(
            Bucket=self._bucket, Key=self._key, UploadId=self._upload_id,
            PartNumber=number, Body=self._rewound_buffer(),
        )
        self._clear_buffer()
        self._parts.append({"PartNumber": number, "ETag": sent["ETag"]})

    def _rewound_buffer(self) -> io.BytesIO:
        self._buffer.seek(0)
        return self._buffer

    def _clear_buffer(self) -> None:
        self._buffer = io.BytesIO()
        self._buffered = 0

    def commit(self) -> int:
        if self._done:
            raise ValueError("blob already committed or aborted")
        self._commit_started = True
        if self._upload_id is None:
            self._client.put_object(
                Bucket=self._bucket, Key=self._key, Body=self._rewound_buffer())
        else:
            if self._buffered:
                self._send_part()
            self._client.complete_multipart_upload(
                Bucket=self._bucket, Key=self._key, UploadId=self._upload_id,
                MultipartUpload={"Parts": self._parts},
            )
        self._clear_buffer()
        self._done = True
        return self._size

    def abort(self) -> None:
        if self._done:
            return
        self._done = True
        self._clear_buffer()
        if self._upload_id is not None:
            try:
                self._client.abort_multipart_upload(
                    Bucket=self._bucket, Key=self._key, UploadId=self._upload_id)
            except ClientError as error:
                if _error_code(error) != "NoSuchUpload":
                    raise
        if self._commit_started:
            # A commit that failed on the way back (a timeout after the store finished)
            # may still have made the object: an aborted blob must not exist either way.
            self._client.delete_object(Bucket=self._bucket, Key=self._key)

    def __enter__(self) -> S3BlobWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.abort()
            return
        # Already failing: the caller's error (a refused upload, a 4xx) must stay the one
        # that is seen, so a store that cannot be reached to clean up is only logged. The
        # parts are found by unfinished_uploads() (fsck) or the bucket's lifecycle rule.
        try:
            self.abort()
        except (BotoCoreError, ClientError):
            logger.warning("could not abort an S3 upload; fsck or the lifecycle rule will")


class S3BlobReader(io.RawIOBase):
    """A committed object read front to back in ranged GETs of at most READ_RANGE bytes.

    Each range's body is streamed as the caller reads, so memory holds a socket buffer,
    not a range. Every range is asked with the ETag seen when the blob was opened.
    """

    def __init__(self, client: S3Client, bucket: str, key: str, size: int, etag: str) -> None:
        super().__init__()
        self._client = client
        self._bucket = bucket
        self._key = key
        self._size = size
        self._etag = etag
        self._position = 0
        self._range_end = 0
        self._body: StreamingBody | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self.closed:
            raise ValueError("read of a closed blob")
        if self._position >= self._size or not len(buffer):
            return 0
        body = self._body if self._body is not None else self._open_range()
        data = body.read(min(len(buffer), self._range_end - self._position))
        if not data:
            raise OSError("the object store ended a ranged read early")
        count = len(data)
        buffer[:count] = data
        self._position += count
        if self._position >= self._range_end:
            self._close_range()
        return count

    def _open_range(self) -> StreamingBody:
        end = min(self._position + READ_RANGE, self._size)
        try:
            response = self._client.get_object(
                Bucket=self._bucket, Key=self._key, IfMatch=self._etag,
                Range=f"bytes={self._position}-{end - 1}",
            )
        except ClientError as error:
            code = _error_code(error)
            if code in _MISSING_OBJECT:
                raise BlobNotFoundError("no such blob") from None
            if code in _CHANGED_OBJECT:
                raise OSError("the blob changed while it was being read") from None
            raise
        if response["ContentLength"] != end - self._position:
            response["Body"].close()
            raise OSError("the object store answered a different range")
        self._body = response["Body"]
        self._range_end = end
        return self._body

    def _close_range(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None

    def close(self) -> None:
        self._close_range()
        super().close()


class S3BlobStore:
    """Blobs as objects ``<prefix><name>`` in one bucket of an S3-compatible store."""

    def __init__(self, client: S3Client, bucket: str, prefix: str) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix

    @classmethod
    def from_settings(cls, settings: Settings) -> S3BlobStore:
        # A session of its own, not boto3's module-global default one: credentials come
        # from its standard chain (environment, profile, instance role) and nowhere else.
        core_session = botocore.session.Session()
        core_session.register_component("data_loader", _SERVICE_MODELS)
        session = boto3.session.Session(botocore_session=core_session)
        endpoint_url = settings.s3_endpoint_url or None
        config = _CLIENT_CONFIG
        if endpoint_url is not None:
            # S3-compatible stores (MinIO, Ceph, Garage) are reached by address, where
            # virtual-hosted names (<bucket>.<host>) do not resolve: path-style there.
            config = config.merge(Config(s3={"addressing_style": "path"}))
        client = session.client(
            "s3", endpoint_url=endpoint_url, region_name=settings.s3_region, config=config)
        return cls(client, settings.s3_bucket, settings.s3_prefix)

    def _key(self, name: str) -> str:
        # A bad name is refused here, before any request: no caller reaches another key.
        if not _NAME.fullmatch(name):
            raise BlobNotFoundError("not a blob name")
        return self.prefix + name

    def create(self) -> S3BlobWriter:
        name = new_blob_name()
        return S3BlobWriter(self.client, self.bucket, self._key(name), name)

    def _head(self, name: str) -> tuple[int, str]:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self._key(name))
        except ClientError as error:
            if _error_code(error) in _MISSING_OBJECT:
                raise BlobNotFoundError("no such blob") from None
            raise
        return head["ContentLength"], head["ETag"]

    def open(self, name: str) -> BinaryIO:
        size, etag = self._head(name)
        raw = S3BlobReader(self.client, self.bucket, self._key(name), size, etag)
        # Buffered, so small reads (an age header's lines, 1-byte probes) cost no request;
        # reads larger than the buffer go straight to the ranged reader.
        return io.BufferedReader(raw, buffer_size=64 * 1024)

    def size(self, name: str) -> int:
        return self._head(name)[0]

    def delete(self, name: str) -> None:
        # S3 answers 204 for a key that is not there: deleting twice is not an error.
        self.client.delete_object(Bucket=self.bucket, Key=self._key(name))

    def names(self) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
            for listed in page.get("Contents", []):
                name = listed["Key"][len(self.prefix) :]
                if _NAME.fullmatch(name):
                    yield name

    def unfinished_uploads(self) -> Iterator[UnfinishedUpload]:
        paginator = self.client.get_paginator("list_multipart_uploads")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
            for upload in page.get("Uploads", []):
                name = upload["Key"][len(self.prefix) :]
                key = f"{name}/{upload['UploadId']}"
                if _UPLOAD_KEY.fullmatch(key):
                    yield UnfinishedUpload(key=key, started=upload["Initiated"].astimezone(UTC))

    def abort_unfinished(self, upload: UnfinishedUpload) -> None:
        match = _UPLOAD_KEY.fullmatch(upload.key)
        if match is None:
            raise BlobNotFoundError("not an unfinished upload")
        try:
            self.client.abort_multipart_upload(
                Bucket=self.bucket, Key=self.prefix + match["name"],
                UploadId=match["upload_id"])
        except ClientError as error:
            # Gone already (aborted, completed, or expired by the lifecycle rule): done.
            if _error_code(error) != "NoSuchUpload":
                raise
