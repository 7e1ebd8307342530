"""Blob storage for age payloads: only ciphertext ever reaches it.

Behind a small interface so a deployment over several hosts can use object storage; the
local-folder implementation is the embedded default. Writes are atomic: a temporary file
in the same folder, fsync, rename, fsync of the folder. Names are random, so they reveal
neither order nor volume, and a file's and its folder's access and modification times are
set back to midnight (UTC) once written, so they do not time a reporter's upload either
(the inode's change time still does: see SECURITY.md, Access log).
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, time
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Protocol

from config.settings import Settings

_NAME = re.compile(r"[0-9a-f]{32}")
_FOLDER = re.compile(r"[0-9a-f]{2}")
# LocalBlobWriter's temporary file: ".<name>.<8 hex>.partial".
_PARTIAL = re.compile(r"\.[0-9a-f]{32}\.[0-9a-f]{8}\.partial")


class BlobNotFoundError(LookupError):
    """No blob of that name."""


class BlobWriter(Protocol):
    """A blob being written; invisible to readers until :meth:`commit`."""

    name: str

    def write(self, data: bytes | memoryview, /) -> int: ...

    def commit(self) -> int:
        """Make the blob durable and visible; returns its size in bytes."""
        ...

    def abort(self) -> None:
        """Throw the partial blob away."""
        ...

    def __enter__(self) -> BlobWriter: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class UnfinishedUpload:
    """A write that never committed (a crash, a killed worker): only ``fsck`` sees these.

    ``key`` is the store's own handle for it (a partial file's name, a multipart upload's
    id), ``started`` when it began, so a repair can spare writes that may still be live.
    """

    key: str
    started: datetime


class BlobStore(Protocol):
    def create(self) -> BlobWriter:
        """Start a new blob under a fresh random name."""
        ...

    def open(self, name: str) -> BinaryIO:
        """Open a committed blob for reading."""
        ...

    def size(self, name: str) -> int: ...

    def delete(self, name: str) -> None:
        """Remove a blob; removing one that is gone is not an error."""
        ...

    def names(self) -> Iterator[str]:
        """Every committed blob's name, in no particular order (fsck, backups)."""
        ...

    def unfinished_uploads(self) -> Iterator[UnfinishedUpload]:
        """Writes that began and neither committed nor aborted."""
        ...

    def abort_unfinished(self, upload: UnfinishedUpload) -> None:
        """Throw an unfinished write's parts away."""
        ...


def new_blob_name() -> str:
    return secrets.token_hex(16)


class LocalBlobWriter:
    def __init__(self, final_path: Path, name: str) -> None:
        self.name = name
        self._final_path = final_path
        self._temp_path = final_path.with_name(f".{name}.{secrets.token_hex(4)}.partial")
        self._file = self._temp_path.open("xb")
        self._done = False

    def write(self, data: bytes | memoryview, /) -> int:
        return self._file.write(data)

    def commit(self) -> int:
        self._file.flush()
        os.fsync(self._file.fileno())
        size = self._file.tell()
        self._file.close()
        midnight = _todays_midnight()
        os.utime(self._temp_path, (midnight, midnight))
        os.replace(self._temp_path, self._final_path)
        os.utime(self._final_path.parent, (midnight, midnight))
        _fsync_directory(self._final_path.parent)
        self._done = True
        return size

    def abort(self) -> None:
        if self._done:
            return
        self._done = True
        try:
            # On a full disk, closing fails to flush what is being thrown away anyway.
            with suppress(OSError):
                self._file.close()
        finally:
            self._temp_path.unlink(missing_ok=True)

    def __enter__(self) -> LocalBlobWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Anything not committed explicitly is discarded: no half-written blob stays.
        self.abort()


class LocalBlobStore:
    """Blobs as files under one folder, fanned out by the first two hex digits."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, name: str) -> Path:
        if not _NAME.fullmatch(name):
            raise BlobNotFoundError("not a blob name")
        return self.root / name[:2] / name

    def create(self) -> LocalBlobWriter:
        name = new_blob_name()
        path = self._path(name)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        return LocalBlobWriter(path, name)

    def open(self, name: str) -> BinaryIO:
        try:
            return self._path(name).open("rb")
        except FileNotFoundError:
            raise BlobNotFoundError("no such blob") from None

    def size(self, name: str) -> int:
        try:
            return self._path(name).stat().st_size
        except FileNotFoundError:
            raise BlobNotFoundError("no such blob") from None

    def delete(self, name: str) -> None:
        self._path(name).unlink(missing_ok=True)

    def names(self) -> Iterator[str]:
        for path in self._fan_out_files():
            if _NAME.fullmatch(path.name):
                yield path.name

    def unfinished_uploads(self) -> Iterator[UnfinishedUpload]:
        for path in self._fan_out_files():
            if _PARTIAL.fullmatch(path.name):
                started = datetime.fromtimestamp(path.stat().st_mtime, UTC)
                yield UnfinishedUpload(key=f"{path.parent.name}/{path.name}", started=started)

    def abort_unfinished(self, upload: UnfinishedUpload) -> None:
        folder, _, name = upload.key.partition("/")
        if not (_FOLDER.fullmatch(folder) and _PARTIAL.fullmatch(name)):
            raise BlobNotFoundError("not an unfinished upload")
        (self.root / folder / name).unlink(missing_ok=True)

    def _fan_out_files(self) -> Iterator[Path]:
        if not self.root.is_dir():
            return
        for folder in sorted(self.root.iterdir()):
            if folder.is_dir() and _FOLDER.fullmatch(folder.name):
                yield from (path for path in folder.iterdir() if path.is_file())


def _todays_midnight() -> float:
    return datetime.combine(datetime.now(UTC).date(), time(0), UTC).timestamp()


def _fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def open_blob_store(settings: Settings) -> BlobStore:
    """The store the settings name: a local folder (the default) or an S3 bucket."""
    if settings.blob_store == "s3":
        # Imported here so that the embedded default never loads boto3.
        from reporting_portal.storage.s3_blobstore import S3BlobStore  # noqa: PLC0415

        return S3BlobStore.from_settings(settings)
    return LocalBlobStore(settings.blob_dir)
