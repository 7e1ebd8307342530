"""The backup file: one uncompressed tar, checked member by member against its manifest.

Members, in this order::

    blobs/<name>                   every payload the snapshot's rows name (ciphertext)
    database/<table>.jsonl.gz      one JSON line per row (operations.rows), tables in
                                   foreign-key order
    audit-head.txt                 the access log's latest signed tree head
    manifest.json                  format, schema revision, date, counts, and the size and
                                   SHA-256 of every member above
    manifest.sha256                the SHA-256 of manifest.json

Blobs come first because a blob store chooses its own names: a restore writes them, then
inserts the rows with the new names. The manifest comes last, so it can hold the hashes
of what was streamed before it, and a file cut short anywhere has none: it is refused.
The tables are gzipped (JSON repeats every column name); ciphertext is not, as it does
not compress.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO

from crypto.checkpoint import MAX_NOTE_BYTES
from reporting_portal.operations.progress import ProgressFactory, no_progress

FORMAT_NAME = "reporting-portal-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MANIFEST_CHECKSUM = "manifest.sha256"
AUDIT_HEAD = "audit-head.txt"
BLOB_PREFIX = "blobs/"
TABLE_PREFIX = "database/"
TABLE_SUFFIX = ".jsonl.gz"
# The columns that hold a blob's name: the rows a restore rewrites with the new names.
BLOB_REFERENCES = {"report_object": "blob_name"}
# A manifest lists about 150 bytes per blob: this allows a few hundred thousand blobs.
MAX_MANIFEST_BYTES = 256 * 1024 * 1024
_MEMBER_NAME = re.compile(
    r"blobs/[0-9a-f]{32}|database/[a-z_][a-z0-9_]{0,62}\.jsonl\.gz|"
    r"audit-head\.txt|manifest\.json|manifest\.sha256")
_CHUNK = 1024 * 1024


class BackupFileError(ValueError):
    """The file is not a whole, unaltered backup of this format; nothing was written."""


@dataclass(frozen=True)
class MemberDigest:
    size: int
    sha256: str


@dataclass(frozen=True)
class TableEntry:
    name: str
    rows: int

    @property
    def member(self) -> str:
        return f"{TABLE_PREFIX}{self.name}{TABLE_SUFFIX}"


@dataclass(frozen=True)
class Manifest:
    schema_revision: str
    created_at: str
    audit_verifier_key: str
    audit_tree_size: int
    tables: tuple[TableEntry, ...]
    blob_names: tuple[str, ...]
    # Named by a row of the snapshot, deleted by a purge before they were copied.
    missing_blobs: tuple[str, ...]
    members: dict[str, MemberDigest]

    @property
    def row_count(self) -> int:
        return sum(table.rows for table in self.tables)

    def to_json(self) -> bytes:
        document = {
            "format": FORMAT_NAME, "version": FORMAT_VERSION,
            "schema_revision": self.schema_revision, "created_at": self.created_at,
            "audit_verifier_key": self.audit_verifier_key,
            "audit_tree_size": self.audit_tree_size,
            "tables": [{"name": table.name, "rows": table.rows} for table in self.tables],
            "blobs": list(self.blob_names), "missing_blobs": list(self.missing_blobs),
            "members": {name: {"size": digest.size, "sha256": digest.sha256}
                        for name, digest in self.members.items()},
        }
        return json.dumps(document, indent=1, ensure_ascii=True).encode("ascii")

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        try:
            document = json.loads(data)
            if document["format"] != FORMAT_NAME or document["version"] != FORMAT_VERSION:
                raise BackupFileError(
                    f"not a backup this release reads (format {document['format']!r}, "
                    f"version {document['version']!r})")
            return cls(
                schema_revision=_text(document["schema_revision"]),
                created_at=_text(document["created_at"]),
                audit_verifier_key=_text(document["audit_verifier_key"]),
                audit_tree_size=_count(document["audit_tree_size"]),
                tables=tuple(TableEntry(_text(entry["name"]), _count(entry["rows"]))
                             for entry in document["tables"]),
                blob_names=tuple(_text(name) for name in document["blobs"]),
                missing_blobs=tuple(_text(name) for name in document["missing_blobs"]),
                members={_text(name): MemberDigest(_count(entry["size"]),
                                                   _text(entry["sha256"]))
                         for name, entry in document["members"].items()},
            )
        except (KeyError, TypeError, AttributeError, ValueError) as error:
            if isinstance(error, BackupFileError):
                raise
            raise BackupFileError("the manifest is not valid") from None


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError
    return value


def _count(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise TypeError
    return value


class HashingReader:
    """Reads through to ``source``, counting the bytes and hashing them (SHA-256)."""

    def __init__(self, source: IO[bytes]) -> None:
        self._source = source
        self._hash = hashlib.sha256()
        self.size = 0

    def read(self, size: int = -1, /) -> bytes:
        data = self._source.read(size)
        self._hash.update(data)
        self.size += len(data)
        return data

    def seek(self, _offset: int, /) -> int:
        raise io.UnsupportedOperation("a member is read once, front to back")

    def drain(self) -> None:
        while self.read(_CHUNK):
            pass

    def digest(self) -> MemberDigest:
        return MemberDigest(self.size, self._hash.hexdigest())


class _MemberReader(HashingReader):
    """A tar member's bytes; a file that ends early or cannot be read is a bad backup."""

    def read(self, size: int = -1, /) -> bytes:
        try:
            return super().read(size)
        except (tarfile.TarError, EOFError) as error:
            raise BackupFileError(f"not a complete backup file ({error})") from None
        except OSError as error:
            raise BackupFileError(
                f"cannot read the backup file: {error.strerror or error}") from None


class ArchiveWriter:
    """Adds members to a tar being written, recording each one's size and hash."""

    def __init__(self, tar: tarfile.TarFile) -> None:
        self._tar = tar
        self.members: dict[str, MemberDigest] = {}

    def add(self, name: str, source: IO[bytes], size: int) -> None:
        """Stream ``size`` bytes of ``source`` in as ``name``; fewer is an error (OSError)."""
        info = tarfile.TarInfo(name)
        # No owner, no time: a member says nothing about when or by whom it was written.
        info.size, info.mode, info.mtime = size, 0o600, 0
        reader = HashingReader(source)
        self._tar.addfile(info, reader)
        self.members[name] = reader.digest()

    def add_bytes(self, name: str, data: bytes) -> None:
        self.add(name, io.BytesIO(data), len(data))


def verify_backup_file(path: Path, progress: ProgressFactory = no_progress
                       ) -> tuple[Manifest, str]:
    """Read the whole file once and check every member against the manifest.

    Returns the manifest and the signed audit head. Raises :class:`BackupFileError` for a
    file that is truncated, altered in any byte, or holds a member the manifest does not
    list (or lacks one it does).
    """
    seen: dict[str, MemberDigest] = {}
    kept: dict[str, bytes] = {}
    limits = {MANIFEST: MAX_MANIFEST_BYTES, MANIFEST_CHECKSUM: 256, AUDIT_HEAD: MAX_NOTE_BYTES}
    try:
        total = path.stat().st_size
    except OSError as error:
        raise BackupFileError(f"cannot read the backup file: {error.strerror}") from None
    with progress("Checking the backup", total) as bar:
        for name, reader in _members(path):
            if name in limits:
                kept[name] = reader.read(limits[name] + 1)
                if len(kept[name]) > limits[name]:
                    raise BackupFileError(f"{name} is larger than a backup ever writes")
            reader.drain()
            seen[name] = reader.digest()
            bar.update(reader.size)
    if MANIFEST not in seen or MANIFEST_CHECKSUM not in seen:
        raise BackupFileError("the file has no manifest at its end: it is incomplete")
    if kept[MANIFEST_CHECKSUM].split(b" ")[0].decode("ascii", "replace") \
            != seen[MANIFEST].sha256:
        raise BackupFileError("the manifest does not match its checksum: the file is damaged")
    manifest = Manifest.from_json(kept[MANIFEST])
    listed = set(manifest.members)
    present = set(seen) - {MANIFEST, MANIFEST_CHECKSUM}
    if listed != present:
        odd = sorted(listed ^ present)[0]
        raise BackupFileError(f"member {odd} is {'missing' if odd in listed else 'unlisted'}")
    for name in sorted(present):
        if seen[name] != manifest.members[name]:
            raise BackupFileError(f"member {name} does not match the manifest: it is damaged")
    expected = ({table.member for table in manifest.tables} | {AUDIT_HEAD}
                | {BLOB_PREFIX + name for name in manifest.blob_names})
    if expected != present:
        raise BackupFileError("the manifest's tables and blobs are not its members")
    try:
        head = kept[AUDIT_HEAD].decode("utf-8")
    except UnicodeDecodeError:
        raise BackupFileError("the audit head is not text") from None
    return manifest, head


def read_members(path: Path, manifest: Manifest) -> Iterator[tuple[str, HashingReader]]:
    """Each member's name and a reader over its bytes, in the file's order (restore).

    Once the caller has read a member, it is checked against the manifest again: the
    file could have changed since :func:`verify_backup_file`.
    """
    for name, reader in _members(path):
        yield name, reader
        reader.drain()
        if name in manifest.members and reader.digest() != manifest.members[name]:
            raise BackupFileError(f"member {name} changed while it was being restored")


def _members(path: Path) -> Iterator[tuple[str, HashingReader]]:
    names: set[str] = set()
    try:
        # "r:" reads an uncompressed tar only: a backup is never anything else.
        with tarfile.open(path, "r:") as tar:
            for info in tar:
                if not info.isreg() or not _MEMBER_NAME.fullmatch(info.name):
                    raise BackupFileError(f"unexpected member {info.name[:80]!r}")
                if info.name in names:
                    raise BackupFileError(f"member {info.name} appears twice")
                names.add(info.name)
                source = tar.extractfile(info)
                if source is None:  # a regular file always has contents
                    raise BackupFileError(f"member {info.name} cannot be read")
                yield info.name, _MemberReader(source)
    except (tarfile.TarError, EOFError) as error:
        raise BackupFileError(f"not a complete backup file ({error})") from None
    except OSError as error:
        raise BackupFileError(f"cannot read the backup file: {error.strerror or error}") \
            from None


def copy_stream(source: HashingReader | BinaryIO, target: Any) -> None:
    """Copy in chunks, so a large blob is never held in memory."""
    while chunk := source.read(_CHUNK):
        target.write(chunk)
