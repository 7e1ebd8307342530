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
from datetime import UTC, datetime, time
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Protocol

_NAME = re.compile(r"[0-9a-f]{32}")


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
        self._file.close()
        self._temp_path.unlink(missing_ok=True)
        self._done = True

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


def _todays_midnight() -> float:
    return datetime.combine(datetime.now(UTC).date(), time(0), UTC).timestamp()


def _fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
