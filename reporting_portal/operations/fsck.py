"""The consistency check (``reporting-portal fsck``): the database against the blob store.

The database and the blob store cannot commit together, so a crash can leave them apart:

- **orphan blobs**: payloads no row names. A submission writes its blobs before its
  transaction commits; a rollback deletes them (domain.objects.install_blob_cleanup), a
  SIGKILL does not. A purge deletes its blobs after its commit (domain.retention), so a
  crash in between leaves some too. They are ciphertext without a key: wasted space.
- **objects whose payload is gone**: a lost or damaged blob store. The case view cannot
  decrypt them and fails; removing the rows lets it show the rest.
- **unfinished uploads**: partial files, or S3 multipart uploads, of killed writes.
- **held audit events a day overdue**: the day's release did not run (audit.held).

A blob written for a transaction still in flight looks exactly like an orphan, and its
time cannot tell (the local store sets blob times to midnight, on purpose). So a repair
lists twice, ``grace`` apart, and deletes only blobs orphaned both times and still
unnamed in a fresh transaction: a request would have to outlast the grace to lose a blob.
Every removal and release is an audit event by the system, and so is the repair itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from reporting_portal.audit.events import SYSTEM, AuditAction, ObjectType, record_event
from reporting_portal.audit.held import release_held_events
from reporting_portal.storage.blobstore import BlobNotFoundError, BlobStore, UnfinishedUpload
from reporting_portal.storage.models import HeldAuditEvent, ObjectKind, Report, ReportObject

# Longer than the longest request. gunicorn's 600 s timeout does not bound one: with
# gthread workers a slow upload holds a thread without tripping the heartbeat
# (config/gunicorn.conf.py), and nginx only bounds the pause between two reads. A full
# submission (submission_max_bytes, 1 GiB) over a slow Tor circuit at 100 kB/s takes
# three hours; one more hour is the margin. A stopped installation needs none: --grace 0.
DEFAULT_GRACE = timedelta(hours=4)
# A week: beyond any request, and a bound on what the command line accepts.
MAX_GRACE_SECONDS = 7 * 24 * 60 * 60
# The release runs daily, just after midnight: events of the day before yesterday or
# earlier are a whole day late, whatever the hour.
HELD_OVERDUE_AFTER = timedelta(days=1)
# Names per IN (...) query: well under every database's limit on bound parameters.
_BATCH = 500


@dataclass(frozen=True, slots=True)
class LostPayload:
    """A report object whose blob is gone: what an operator may see of it (no content)."""

    object_id: str
    kind: str
    report_id: str

    @property
    def is_content(self) -> bool:
        return self.kind == ObjectKind.CONTENT


@dataclass(frozen=True)
class Findings:
    """One listing of what is out of step."""

    orphan_blobs: frozenset[str]
    lost_payloads: tuple[LostPayload, ...]
    unfinished_uploads: tuple[UnfinishedUpload, ...]
    overdue_held_events: int

    @property
    def clean(self) -> bool:
        return not (self.orphan_blobs or self.lost_payloads or self.unfinished_uploads
                    or self.overdue_held_events)


@dataclass(frozen=True)
class Repair:
    """What a repair did, and what it left because it may belong to a live request."""

    orphan_blobs_deleted: int
    objects_removed: int
    reports_without_content: tuple[str, ...]
    uploads_aborted: int
    held_events_released: int
    orphans_spared: int
    uploads_spared: int


def find_problems(db: Session, store: BlobStore, *, today: date) -> Findings:
    """List every finding once; changes nothing.

    The store is listed before the rows are read, so a row committed in between may name
    a blob the listing missed: each such blob is looked up again before it is called lost.
    """
    unnamed = set(store.names())
    listed = frozenset(unnamed)
    lost: list[LostPayload] = []
    rows = db.execute(
        select(ReportObject.public_id, ReportObject.kind, ReportObject.blob_name,
               Report.public_id)
        .join(Report, Report.id == ReportObject.report_id)
        .order_by(ReportObject.id)
        .execution_options(yield_per=_BATCH)
    )
    for object_id, kind, blob_name, report_id in rows:
        if blob_name in listed:
            unnamed.discard(blob_name)
        elif not _blob_exists(store, blob_name):
            lost.append(LostPayload(object_id=object_id, kind=kind, report_id=report_id))
    overdue = db.scalars(select(HeldAuditEvent.id).where(
        HeldAuditEvent.occurred_on < _held_cutoff(today))).all()
    return Findings(orphan_blobs=frozenset(unnamed), lost_payloads=tuple(lost),
                    unfinished_uploads=tuple(store.unfinished_uploads()),
                    overdue_held_events=len(overdue))


def repair(
    session_factory: sessionmaker[Session],
    store: BlobStore,
    *,
    grace: timedelta,
    wait: Callable[[float], None],
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> tuple[Findings, Repair]:
    """List, ``wait(grace)``, list again, and repair what is still wrong.

    Returns the second listing and what was done. Orphans are deleted only if both
    listings found them and a fresh transaction finds no row naming them; unfinished
    uploads only if they began before the grace. Lost payloads are checked again, one by
    one, before their rows go. The rows' removal, the release of held events and one
    event per act are one transaction; blobs are deleted after it commits, as a purge
    does, so a failed commit never leaves a row without its payload.
    """
    with session_factory() as db:
        first = find_problems(db, store, today=now().date())
    wait(grace.total_seconds())
    started = now()
    with session_factory() as db:
        second = find_problems(db, store, today=started.date())
    # A transaction of its own: on SQLite one that began with the listing would still see
    # the database as it was then, not the rows committed since.
    with session_factory() as db:
        orphans = _still_unnamed(db, first.orphan_blobs & second.orphan_blobs)
        removed, without_content, freed_blobs = _remove_lost_objects(
            db, store, second.lost_payloads)
        released = 0
        if second.overdue_held_events:
            released = release_held_events(db, before=_held_cutoff(started.date()))
        if released:
            record_event(db, AuditAction.AUDIT_HELD_RELEASED, actor=None, actor_role=SYSTEM)
        stale = [upload for upload in second.unfinished_uploads
                 if upload.started <= started - grace]
        for name in sorted(orphans):
            record_event(db, AuditAction.ORPHAN_BLOB_DELETED, actor=None, actor_role=SYSTEM,
                         object_type=ObjectType.BLOB, object_id=name)
        for _upload in stale:
            record_event(db, AuditAction.UNFINISHED_UPLOAD_ABORTED, actor=None,
                         actor_role=SYSTEM)
        record_event(db, AuditAction.FSCK_REPAIRED, actor=None, actor_role=SYSTEM)
        db.commit()
    for name in [*orphans, *freed_blobs]:
        store.delete(name)
    for upload in stale:
        store.abort_unfinished(upload)
    return second, Repair(
        orphan_blobs_deleted=len(orphans), objects_removed=removed,
        reports_without_content=without_content, uploads_aborted=len(stale),
        held_events_released=released,
        orphans_spared=len(second.orphan_blobs) - len(orphans),
        uploads_spared=len(second.unfinished_uploads) - len(stale))


def _held_cutoff(today: date) -> date:
    """Held events from days before this are overdue (their day ended a day ago)."""
    return today - HELD_OVERDUE_AFTER


def _blob_exists(store: BlobStore, name: str) -> bool:
    try:
        store.size(name)
    except BlobNotFoundError:
        return False
    return True


def _still_unnamed(db: Session, candidates: Iterable[str]) -> set[str]:
    """The candidates no committed row names now (the caller's transaction is fresh)."""
    unnamed = set(candidates)
    ordered = sorted(unnamed)
    for start in range(0, len(ordered), _BATCH):
        unnamed.difference_update(db.scalars(select(ReportObject.blob_name).where(
            ReportObject.blob_name.in_(ordered[start:start + _BATCH]))))
    return unnamed


def _remove_lost_objects(
    db: Session, store: BlobStore, lost: Iterable[LostPayload]
) -> tuple[int, tuple[str, ...], list[str]]:
    """Delete the rows of objects whose payload is gone, with the files hanging off them.

    A file's row goes with its content or message: the text that names it is lost, so the
    case view could not show it. The files' own payloads are returned, to be deleted after
    the commit. One ``report.object_removed`` event per row, on the report, so the case's
    trail in the log shows it. A report whose content went is kept: its triage history and
    messages stay, and its handler sees a case without answers or files.
    """
    removed = 0
    without_content: list[str] = []
    freed_blobs: list[str] = []
    for finding in lost:
        obj = db.scalar(select(ReportObject).where(ReportObject.public_id == finding.object_id))
        # Purged meanwhile, or its payload is back (a restore): nothing to do.
        if obj is None or _blob_exists(store, obj.blob_name):
            continue
        family = [obj, *_descendants(db, obj)]
        freed_blobs.extend(member.blob_name for member in family[1:])
        db.execute(delete(ReportObject).where(
            ReportObject.id.in_([member.id for member in family])))
        for _member in family:
            record_event(db, AuditAction.REPORT_OBJECT_REMOVED, actor=None, actor_role=SYSTEM,
                         object_type=ObjectType.REPORT, object_id=finding.report_id)
        removed += len(family)
        if finding.is_content:
            without_content.append(finding.report_id)
    return removed, tuple(without_content), freed_blobs


def _descendants(db: Session, obj: ReportObject) -> list[ReportObject]:
    found: list[ReportObject] = []
    parents = [obj.id]
    while parents:
        children = list(db.scalars(select(ReportObject).where(
            ReportObject.parent_id.in_(parents)).order_by(ReportObject.id)))
        found.extend(children)
        parents = [child.id for child in children]
    return found


def finding_lines(findings: Findings) -> list[str]:
    """One line per finding, for the operator: public ids and blob names, never content."""
    lines = [f"orphan blob: {name}" for name in sorted(findings.orphan_blobs)]
    for lost in findings.lost_payloads:
        if lost.is_content:
            lines.append(
                f"LOST REPORT CONTENT: report {lost.report_id}: its content {lost.object_id} "
                "has no payload, so its answers and files are gone. A repair keeps the "
                "report: its handlers then see it without answers or files, with its "
                "messages and history.")
        else:
            lines.append(f"lost payload: {lost.kind} {lost.object_id} of report "
                         f"{lost.report_id}")
    lines.extend(f"unfinished upload: {upload.key}, started {upload.started:%Y-%m-%d %H:%M} UTC"
                 for upload in findings.unfinished_uploads)
    if findings.overdue_held_events:
        lines.append(f"held audit events overdue: {findings.overdue_held_events} (the daily "
                     "`audit release` has not run)")
    return lines


def summary_line(findings: Findings) -> str:
    if findings.clean:
        return "fsck: clean."
    return (f"fsck: {len(findings.orphan_blobs)} orphan blob(s), "
            f"{len(findings.lost_payloads)} object(s) without payload, "
            f"{len(findings.unfinished_uploads)} unfinished upload(s), "
            f"{findings.overdue_held_events} overdue held audit event(s).")


def repair_lines(done: Repair) -> list[str]:
    lines = [f"Repaired: deleted {done.orphan_blobs_deleted} orphan blob(s), removed "
             f"{done.objects_removed} object row(s), aborted {done.uploads_aborted} "
             f"unfinished upload(s), released {done.held_events_released} held audit "
             "event(s)."]
    if done.reports_without_content:
        lines.append("Reports kept without their content: "
                     f"{', '.join(done.reports_without_content)}.")
    if done.orphans_spared or done.uploads_spared:
        lines.append(f"Spared, as they may belong to a request in flight: "
                     f"{done.orphans_spared} blob(s) not orphaned in both listings, "
                     f"{done.uploads_spared} upload(s) younger than the grace.")
    return lines
