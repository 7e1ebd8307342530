"""Retention: closed reports are purged once their channel's retention period has passed.

A whistleblowing channel must not keep personal data longer than the case needs (EU
Directive 2019/1937 art. 18 and the GDPR's storage limitation; DESIGN.md, Reports and
triage). Closing a case sets ``purge_after`` from the channel's ``retention_days``
(casework.services.set_status); the nightly ``reporting-portal purge`` deletes every
closed report whose day has come, and logs each purge.

Purging is crypto-shredding. A report's content, files, messages, notes and identity are
age objects: the header (which wraps the file key to its recipients) is a row here, the
payload a blob. Deleting the header rows makes every copy of the payloads unreadable,
those in blob-store backups included, because no one can unwrap the file key any more.
The payload files are then deleted as well, but only as tidying.

Purging is two steps, because the database and the blob store cannot commit together::

    purged = purge_expired_reports(db, today)
    db.commit()
    delete_blobs(store, purged.blob_names)

If the transaction fails, no payload that a surviving header still points to has been
lost. If deleting a payload fails after the commit, what stays behind is ciphertext
without a key: wasted space, not a disclosure.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from reporting_portal.audit.events import SYSTEM, AuditAction, ObjectType, record_event
from reporting_portal.storage.blobstore import BlobStore
from reporting_portal.storage.models import Report, ReportObject, ReportStatus


@dataclass(frozen=True)
class PurgedReports:
    """What one purge removed: the reports' references and the payloads left to delete."""

    report_ids: tuple[str, ...]
    # Deleted only after the caller commits: see delete_blobs.
    blob_names: tuple[str, ...]


def purge_expired_reports(db: Session, today: date) -> PurgedReports:
    """Delete every closed report whose ``purge_after`` is ``today`` or earlier.

    Each report goes with everything that hangs off it: its objects (the age headers,
    which is what shreds the payloads), access grants, read markers, exclusions, label
    links and identity access requests, through the schema's ON DELETE CASCADE. One
    ``report.purged`` event per report, by the system, is recorded in the same
    transaction, so the log shows a purge exactly when it happened.

    Nothing is committed and no blob is touched: the caller commits, then passes
    ``blob_names`` to :func:`delete_blobs`. Running it again finds nothing more to do.
    """
    due = db.execute(
        select(Report.id, Report.public_id).where(
            Report.status == ReportStatus.CLOSED,
            Report.purge_after.is_not(None),
            Report.purge_after <= today,
        ).order_by(Report.id)
    ).all()
    blob_names: list[str] = []
    for report_id, public_id in due:
        blob_names.extend(db.scalars(
            select(ReportObject.blob_name).where(ReportObject.report_id == report_id)
            .order_by(ReportObject.id)
        ))
        # A bulk delete leaves the cascade to the database: the headers go without being
        # loaded. SQLite zeroes the freed pages (secure_delete, see db.py); PostgreSQL
        # keeps dead rows until VACUUM, as it does for any deleted data.
        db.execute(delete(Report).where(Report.id == report_id))
        record_event(db, AuditAction.REPORT_PURGED, actor=None, actor_role=SYSTEM,
                     object_type=ObjectType.REPORT, object_id=public_id)
    return PurgedReports(report_ids=tuple(public_id for _, public_id in due),
                         blob_names=tuple(blob_names))


def delete_blobs(store: BlobStore, names: Iterable[str]) -> None:
    """Delete the payloads of purged reports; call it only after the purge committed.

    Before the commit, a failed transaction would leave headers pointing at payloads that
    are gone. A payload that is already gone (an earlier, interrupted run) is not an error.
    """
    for name in names:
        store.delete(name)
