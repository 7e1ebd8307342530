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
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

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
from crypto.keys import AnyRecipient, Identity
from reporting_portal.storage.blobstore import BlobStore
from reporting_portal.storage.commit_outcome import commit_in_doubt
from reporting_portal.storage.models import (
    AccessGrant,
    Installation,
    ObjectKind,
    Report,
    ReportObject,
    StaffAccount,
)

# Small objects (answers, messages) are read whole; anything larger is a file.
MAX_SMALL_OBJECT_BYTES = 4 * 1024 * 1024


def store_small_payload(
    db: Session, store: BlobStore, plaintext: bytes
) -> tuple[str, int, FileKey]:
    """Encrypt a small plaintext into a new blob; return its name, size and file key.

    The blob belongs to ``db``'s transaction: deleted if it does not commit."""
    written: list[str] = []
    track_new_blobs(db, written)
    with store.create() as writer:
        written.append(writer.name)
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
        # A handler's note or message keeps its time for the case's timeline; a
        # reporter's keeps only its day (DESIGN.md: coarse timestamps for reporters).
        created_at=None if from_reporter else datetime.now(UTC),
        from_reporter=from_reporter,
        author=author,
        parent=parent,
    )


@lru_cache(maxsize=4096)
def recipient_from(text: str) -> AnyRecipient:
    # Recipients are public and immutable; parsing a post-quantum one (~1,950 Bech32
    # characters) costs more than wrapping a key for it, and every object needs several.
    return parse_recipient(text)


# A recipient as stored (its string) or as made in this request (a reporter's new key,
# never worth parsing back from its string, nor a place among the cached ones).
RecipientKey = str | AnyRecipient


def distinct_recipients(recipients: Sequence[RecipientKey]) -> list[AnyRecipient]:
    """The recipients, parsed, each once (by its string), in order."""
    distinct: dict[str, AnyRecipient] = {}
    for key in recipients:
        if isinstance(key, str):
            distinct.setdefault(key, recipient_from(key))
        else:
            distinct.setdefault(str(key), key)
    return list(distinct.values())


def seal_for(file_key: FileKey, recipients: Sequence[RecipientKey]) -> bytes:
    """The header of an object for these recipients (deduplicated, order kept)."""
    return seal_header(file_key, distinct_recipients(recipients))


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
    store: BlobStore, obj: ReportObject, identities: Iterable[Identity]
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
    store: BlobStore, obj: ReportObject, identities: Iterable[Identity]
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


_NEW_BLOBS = "new_blobs"


def track_new_blobs(db: Session, names: list[str]) -> None:
    """Blobs being written for ``db``'s transaction, which no committed row names yet.

    ``names`` may still grow (an upload appends each blob as it starts). If the
    transaction rolls back, or the session closes without committing, they are deleted
    (see :func:`install_blob_cleanup`), so a refused or failed submission leaves no
    ciphertext behind; once it commits they are kept, and also when its COMMIT failed
    in a way that leaves the outcome unknown (storage/commit_outcome.py). The same
    holds in a request, the command line or a job, as it hangs on the session rather
    than on the request.
    """
    if not db.in_transaction():
        # The list belongs to a transaction: begin one, so that a rollback (which fires
        # no event on a session without one) is seen and deletes the blobs.
        db.begin()
    db.info.setdefault(_NEW_BLOBS, []).append(names)


def install_blob_cleanup(factory: sessionmaker[Session], store: BlobStore) -> None:
    """Make every session from ``factory`` keep its new blobs on commit and delete them
    when its transaction is rolled back (STYLE.md 12b)."""

    def keep(db: Session) -> None:
        db.info.pop(_NEW_BLOBS, None)

    def delete_uncommitted(db: Session, transaction: SessionTransaction) -> None:
        # The outermost transaction ended without "keep" running first: it was rolled
        # back, or the session closed without committing. (The app uses no savepoints.)
        if transaction.parent is not None:
            return
        written = db.info.pop(_NEW_BLOBS, [])
        if commit_in_doubt(db):
            # The COMMIT was sent and its reply lost: the rows may be stored, and their
            # blobs with them. Kept; fsck deletes them later if no committed row names them.
            return
        for names in written:
            for name in names:
                store.delete(name)

    event.listen(factory, "after_commit", keep)
    event.listen(factory, "after_transaction_end", delete_uncommitted)


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


def open_text(sealed: bytes, identities: Iterable[Identity]) -> str | None:
    """The text of :func:`seal_text`, or ``None`` when none of ``identities`` opens it."""
    plaintext = io.BytesIO()
    try:
        decrypt(io.BytesIO(sealed[:MAX_SEALED_TEXT_BYTES]), plaintext, identities)
    except NoMatchError:
        return None
    return plaintext.getvalue().decode("utf-8")
