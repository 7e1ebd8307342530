"""Report objects: age files split between a header row and a blob payload.

Every piece of a report (content, file, message, note, identity) goes through here, so
the rules hold in one place: payloads are written to the blob store as ciphertext only,
headers are sealed once every recipient is known, and reading joins the two under the
reader's identity.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from functools import lru_cache
from typing import Any

from flask import g
from sqlalchemy import select
from sqlalchemy.orm import Session

from crypto import (
    FileKey,
    NoMatchError,
    PayloadEncryptor,
    decrypt,
    encrypt,
    open_parts,
    parse_recipient,
    seal_header,
)
from crypto.keys import AnyIdentity, AnyRecipient
from reporting_portal.blobstore import BlobStore
from reporting_portal.models import (
    AccessGrant,
    Installation,
    ObjectKind,
    Report,
    ReportObject,
    StaffAccount,
)

# Small objects (answers, messages) are read whole; anything larger is a file.
MAX_SMALL_OBJECT_BYTES = 4 * 1024 * 1024


def store_small_payload(store: BlobStore, plaintext: bytes) -> tuple[str, int, FileKey]:
    """Encrypt a small plaintext into a new blob; return its name, size and file key."""
    with store.create() as writer:
        encryptor = PayloadEncryptor(writer)
        encryptor.write(plaintext)
        encryptor.finish()
        size = writer.commit()
    return writer.name, size, encryptor.file_key


def new_object(  # noqa: PLR0913 -- one keyword per column of the row it builds
    *,
    report: Report,
    kind: ObjectKind,
    header: bytes,
    blob_name: str,
    payload_size: int,
    today: date,
    from_reporter: bool,
    author: StaffAccount | None = None,
    parent: ReportObject | None = None,
) -> ReportObject:
    return ReportObject(
        report=report,
        kind=str(kind),
        header=header,
        blob_name=blob_name,
        payload_size=payload_size,
        created_on=today,
        from_reporter=from_reporter,
        author=author,
        parent=parent,
    )


@lru_cache(maxsize=4096)
def recipient_from(text: str) -> AnyRecipient:
    # Recipients are public and immutable; parsing a post-quantum one (~1,950 Bech32
    # characters) costs more than wrapping a key for it, and every object needs several.
    return parse_recipient(text)


def seal_for(file_key: FileKey, recipients: Sequence[str]) -> bytes:
    """The header of an object for these recipient strings (deduplicated, order kept)."""
    parsed = [recipient_from(text) for text in dict.fromkeys(recipients)]
    return seal_header(file_key, parsed)


def case_recipients(db: Session, report: Report, installation: Installation) -> list[str]:
    """Who reads the case: the handlers granted it, and the organisation's recovery key."""
    handler_keys = db.scalars(
        select(StaffAccount.age_recipient)
        .join(AccessGrant, AccessGrant.staff_id == StaffAccount.id)
        .where(AccessGrant.report_id == report.id, StaffAccount.age_recipient.is_not(None))
        .order_by(StaffAccount.id)
    ).all()
    return [key for key in handler_keys if key] + [installation.recovery_recipient]


def read_object(
    store: BlobStore, obj: ReportObject, identities: Iterable[AnyIdentity]
) -> Iterator[bytes]:
    """Authenticated plaintext chunks of an object; key errors are raised at once."""
    payload = store.open(obj.blob_name)
    try:
        chunks = open_parts(obj.header, payload, list(identities))
    except BaseException:
        payload.close()
        raise
    return _closing(chunks, payload)


def _closing(chunks: Iterator[bytes], payload: Any) -> Iterator[bytes]:
    try:
        yield from chunks
    finally:
        payload.close()


def read_small_json(
    store: BlobStore, obj: ReportObject, identities: Iterable[AnyIdentity]
) -> dict[str, Any]:
    """Decrypt an answers or message object and parse its JSON."""
    data = bytearray()
    for chunk in read_object(store, obj, identities):
        data += chunk
        if len(data) > MAX_SMALL_OBJECT_BYTES:
            raise ValueError("object too large to read whole")
    parsed = json.loads(data)
    if not isinstance(parsed, dict):
        raise ValueError("object is not a JSON object")
    return parsed


def track_uncommitted_blobs(names: list[str]) -> None:
    """Blobs written during this request that the database does not point to yet.

    If the request fails, or its transaction does not commit, they are deleted at
    teardown, so nothing is left half-written (and no orphaned ciphertext piles up).
    """
    g.setdefault("uncommitted_blobs", []).append(names)


def blobs_committed() -> None:
    """The transaction naming them committed: keep them."""
    g.pop("uncommitted_blobs", None)


def discard_uncommitted_blobs(store: BlobStore) -> None:
    """Delete this request's new blobs: it failed, or refused what was sent."""
    for names in g.pop("uncommitted_blobs", []):
        for name in names:
            store.delete(name)


# A sealed text is a short note (a justification, a reason) kept whole in a column.
MAX_SEALED_TEXT_BYTES = 64 * 1024


def seal_text(text: str, recipients: Sequence[str]) -> bytes:
    """A short text as one complete age file for ``recipients`` (duplicates dropped).

    For notes of a few kilobytes that belong to a row rather than to a report's objects:
    header and payload stay together in the database, and are never plaintext there.
    """
    sealed = io.BytesIO()
    encrypt(io.BytesIO(text.encode("utf-8")), sealed,
            [recipient_from(key) for key in dict.fromkeys(recipients)])
    return sealed.getvalue()


def open_text(sealed: bytes, identities: Iterable[AnyIdentity]) -> str | None:
    """The text of :func:`seal_text`, or ``None`` when none of ``identities`` opens it."""
    plaintext = io.BytesIO()
    try:
        decrypt(io.BytesIO(sealed[:MAX_SEALED_TEXT_BYTES]), plaintext, identities)
    except NoMatchError:
        return None
    return plaintext.getvalue().decode("utf-8")
