"""Exporting a case: a zip of standard age files and a manifest, streamed.

Each object is its stored header joined to its payload, so the files open offline with
``age -d -i identity.txt`` (or ``python -m crypto -d``) and the handler's identity or the
organisation's recovery identity. The manifest holds no plaintext: file names and answers
are inside the encrypted content object.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from reporting_portal.staff.casework.export_manifest import (
    PRIVATE_MANIFEST_NAME,
    README_NAME,
    readme,
)
from reporting_portal.storage.blobstore import BlobStore
from reporting_portal.storage.models import ObjectKind, Report, ReportObject

_CHUNK = 64 * 1024


class _StreamSink:
    """A write-only, unseekable file for ZipFile; the generator drains it as it fills."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self._position = 0

    def write(self, data: bytes) -> int:
        self.buffer += data
        self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        return None

    def take(self) -> bytes:
        data = bytes(self.buffer)
        self.buffer.clear()
        return data


def export_objects(db: Session, report: Report, *, include_identity: bool) -> list[ReportObject]:
    query = select(ReportObject).where(ReportObject.report_id == report.id)
    if not include_identity:
        query = query.where(ReportObject.kind != ObjectKind.IDENTITY)
    return list(db.scalars(query.order_by(ReportObject.id)))


def manifest(report: Report, objects: list[ReportObject]) -> dict[str, object]:
    return {
        "format": "reporting-portal case export v1",
        "reference": report.public_id,
        "status": report.status,
        "received_on": report.received_on.isoformat(),
        "exported_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "how_to_open": "age -d -i identity.txt objects/<name>.age",
        "objects": [
            {
                "file": f"objects/{obj.kind}-{obj.public_id}.age",
                "kind": obj.kind,
                "from_reporter": obj.from_reporter,
                "created_on": obj.created_on.isoformat(),
                "part_of": next((o.public_id for o in objects if o.id == obj.parent_id), None),
            }
            for obj in objects
        ],
    }


def stream_export(store: BlobStore, report: Report, objects: list[ReportObject],
                  *, sealed_manifest: bytes | None = None) -> Iterator[bytes]:
    """The zip, produced chunk by chunk: constant memory whatever the case's size.

    ``sealed_manifest`` is the age file of names and places (export_manifest.py)."""
    sink = _StreamSink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED) as archive:  # type: ignore[call-overload]
        archive.writestr(README_NAME, readme(report))
        archive.writestr("manifest.json", json.dumps(manifest(report, objects), indent=2))
        if sealed_manifest is not None:
            archive.writestr(PRIVATE_MANIFEST_NAME, sealed_manifest)
        yield sink.take()
        for obj in objects:
            info = zipfile.ZipInfo(f"objects/{obj.kind}-{obj.public_id}.age")
            entry = archive.open(info, "w", force_zip64=True)
            with entry, store.open(obj.blob_name) as payload:
                entry.write(obj.header)  # a standard age file: header, then payload
                while chunk := payload.read(_CHUNK):
                    entry.write(chunk)
                    if len(sink.buffer) >= _CHUNK:
                        yield sink.take()
            yield sink.take()
    yield sink.take()
