"""What an exported case says about itself (issue 15, item 10).

Two documents join the objects in the zip. ``manifest.age`` is an age file for the same
people as the case (its handlers and the recovery key) naming each object's original file
name and its place in the case ("message 3, file 2"): names are content, so they are
never in the clear. ``README.txt`` says how to open it all offline, and that post-quantum
keys need age 1.3 or later or this portal's ``python -m crypto``.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Sequence
from typing import Any

from crypto import AgeError, encrypt
from crypto.keys import Identity
from reporting_portal.domain.objects import read_small_json, recipient_from
from reporting_portal.storage.blobstore import BlobStore
from reporting_portal.storage.models import ObjectKind, Report, ReportObject

PRIVATE_MANIFEST_NAME = "manifest.age"
README_NAME = "README.txt"


def object_path(obj: ReportObject) -> str:
    """Where ``obj`` sits in the zip."""
    return f"objects/{obj.kind}-{obj.public_id}.age"


def _places(objects: Sequence[ReportObject]) -> dict[int, str]:
    """Each object's place in words: "report", "message 3", "note 1", "message 3, file 2".

    Messages (both directions) and notes are counted in the order they were filed, as the
    case page lists them; a file is counted within what it belongs to."""
    places: dict[int, str] = {}
    counts: dict[str, int] = {}
    for obj in objects:
        if obj.kind == ObjectKind.CONTENT:
            places[obj.id] = "report"
        elif obj.kind in (ObjectKind.MESSAGE, ObjectKind.NOTE, ObjectKind.IDENTITY,
                          ObjectKind.PROTECTION, ObjectKind.SHARED_MEASURE):
            counts[obj.kind] = counts.get(obj.kind, 0) + 1
            places[obj.id] = ("identity" if obj.kind == ObjectKind.IDENTITY
                              else f"{obj.kind} {counts[obj.kind]}")
    files_in: dict[int | None, int] = {}
    for obj in objects:
        if obj.kind == ObjectKind.FILE:
            files_in[obj.parent_id] = files_in.get(obj.parent_id, 0) + 1
            owner = places.get(obj.parent_id or 0, "report")
            places[obj.id] = f"{owner}, file {files_in[obj.parent_id]}"
    return places


def _file_names(store: BlobStore, objects: Sequence[ReportObject],
                identities: Iterable[Identity]) -> dict[int, str]:
    """Original names of the files, from the encrypted documents they belong to."""
    keys = list(identities)
    names: dict[int, str] = {}
    for parent in objects:
        children = [o for o in objects if o.kind == ObjectKind.FILE and o.parent_id == parent.id]
        if not children:
            continue
        try:
            document: dict[str, Any] = read_small_json(store, parent, keys)
        except (AgeError, ValueError):
            continue  # not readable with this identity: the entry says so, without a name
        described = [f for f in document.get("files", []) if isinstance(f, dict)]
        for child, info in zip(children, described, strict=False):
            if info.get("name"):
                names[child.id] = str(info["name"])
    return names


def private_manifest(store: BlobStore, report: Report, objects: Sequence[ReportObject],
                     identities: Iterable[Identity]) -> dict[str, object]:
    """The manifest with names and places, read with the exporting handler's identity."""
    places = _places(objects)
    names = _file_names(store, objects, identities)
    return {
        "format": "reporting-portal case export manifest v1",
        "reference": report.public_id,
        "objects": [
            {
                "file": object_path(obj),
                "kind": obj.kind,
                "place": places.get(obj.id, obj.kind),
                "original_name": names.get(obj.id),
                "from_reporter": obj.from_reporter,
                "created_on": obj.created_on.isoformat(),
            }
            for obj in objects
        ],
    }


def sealed_manifest(store: BlobStore, report: Report, objects: Sequence[ReportObject],
                    identities: Iterable[Identity], recipients: Sequence[str]) -> bytes:
    """:func:`private_manifest` as one age file for ``recipients`` (the case's readers)."""
    document = json.dumps(private_manifest(store, report, objects, identities),
                          ensure_ascii=False, indent=2).encode("utf-8")
    sealed = io.BytesIO()
    encrypt(io.BytesIO(document), sealed,
            [recipient_from(key) for key in dict.fromkeys(recipients)])
    return sealed.getvalue()


def readme(report: Report) -> str:
    """How to open the export offline; plain text, English like the file formats it names."""
    return f"""Case export {report.public_id} from Reporting Portal

Every file under objects/ is a standard age file (https://age-encryption.org/v1),
encrypted for the case handlers of the case and for the organisation's recovery key.
Open one with your age identity (the case page's "my identity" download) or the
recovery identity:

    age -d -i identity.txt -o output objects/<name>.age

or, with the tool that comes with Reporting Portal:

    python -m crypto -d -i identity.txt objects/<name>.age > output

Post-quantum keys (recipients starting with age1pq1, the default for staff keys) need
age 1.3 or later, or `python -m crypto`. Older age versions, such as 1.1 in some Linux
distributions, cannot open them.

manifest.json lists the objects and their kinds, without any content.
{PRIVATE_MANIFEST_NAME} is encrypted like the objects: open it the same way to see each
object's original file name and its place in the case (for example "message 3, file 2").
Keep the opened files on an isolated machine: reporters' files may carry hidden metadata
or malicious content.
"""
