"""Retention: closed reports past their purge date are deleted, logged and shredded."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from reporting_portal.domain.retention import PurgedReports, delete_blobs, purge_expired_reports
from reporting_portal.storage.blobstore import LocalBlobStore
from reporting_portal.storage.models import (
    AccessGrant,
    AuditEvent,
    IdentityAccessRequest,
    Label,
    Report,
    ReportExclusion,
    ReportObject,
    ReportStatus,
    StaffAccount,
    report_label,
)
from tests.helpers.reporting import REPORT_FORM, plaintext_form

pytestmark = pytest.mark.database

TODAY = datetime.now(UTC).date()


def submit(client, db) -> Report:
    """A report with a file and an identity, submitted without JavaScript."""
    data = plaintext_form(client, identity_name="Rita Reporter",
                          identity_contact="rita@example.org",
                          q_evidence=[(io.BytesIO(b"%PDF-1.7 ledger"), "ledger.pdf")])
    assert client.post(REPORT_FORM, data=data,
                       content_type="multipart/form-data").status_code == 303
    client.delete_cookie("__Host-session", domain="localhost")
    return db.scalar(select(Report).order_by(Report.id.desc()))


def set_retention(db, report: Report, status: ReportStatus, purge_after) -> None:
    report.status = status
    report.closed_on = TODAY - timedelta(days=400) if status == ReportStatus.CLOSED else None
    report.purge_after = purge_after
    db.commit()


def rows(db, model, report_id: int) -> int:
    return db.scalar(select(func.count()).select_from(model).where(
        model.report_id == report_id)) or 0


def payload_exists(settings, blob_name: str) -> bool:
    return (settings.blob_dir / blob_name[:2] / blob_name).is_file()


def purge_events(db) -> list[tuple]:
    db.expire_all()
    return [(e.action, e.actor_id, e.actor_role, e.object_type, e.object_id, e.outcome)
            for e in db.scalars(select(AuditEvent).where(AuditEvent.action == "report.purged")
                                .order_by(AuditEvent.id))]


@pytest.fixture
def reports(client, db, channel_with_handlers):
    """Three reports: closed and due today, closed and due tomorrow, open (with a date)."""
    due, not_yet, still_open = (submit(client, db) for _ in range(3))
    set_retention(db, due, ReportStatus.CLOSED, TODAY)
    set_retention(db, not_yet, ReportStatus.CLOSED, TODAY + timedelta(days=1))
    # Only a closed report is purged, whatever date it carries.
    set_retention(db, still_open, ReportStatus.INVESTIGATION, TODAY - timedelta(days=30))
    hana = db.scalar(select(StaffAccount).where(StaffAccount.username == "hana"))
    omar = db.scalar(select(StaffAccount).where(StaffAccount.username == "omar"))
    label = Label(name="procurement")
    due.labels.append(label)
    db.add_all([
        IdentityAccessRequest(report=due, requester=hana, sealed_justification=b"age sealed"),
        ReportExclusion(report_id=due.id, staff_id=omar.id),
    ])
    db.commit()
    return due, not_yet, still_open


def test_a_closed_report_past_its_date_is_gone_with_its_payloads(db, settings, reports):
    due, not_yet, still_open = reports
    due_id, due_reference = due.id, due.public_id
    blob_names = set(db.scalars(select(ReportObject.blob_name).where(
        ReportObject.report_id == due_id)))
    assert len(blob_names) == 3  # content, file, identity
    assert all(payload_exists(settings, name) for name in blob_names)
    for model in (AccessGrant, IdentityAccessRequest, ReportExclusion):
        assert rows(db, model, due_id) > 0, model.__name__
    kept_blobs = set(db.scalars(select(ReportObject.blob_name).where(
        ReportObject.report_id.in_([not_yet.id, still_open.id]))))

    purged = purge_expired_reports(db, TODAY)
    assert purged.report_ids == (due_reference,)
    assert set(purged.blob_names) == blob_names
    assert all(payload_exists(settings, name) for name in blob_names), "only after commit"
    db.commit()
    delete_blobs(LocalBlobStore(settings.blob_dir), purged.blob_names)

    db.expire_all()
    assert db.get(Report, due_id) is None
    for model in (ReportObject, AccessGrant, IdentityAccessRequest, ReportExclusion):
        assert rows(db, model, due_id) == 0, model.__name__
    assert db.scalar(select(func.count()).select_from(report_label).where(
        report_label.c.report_id == due_id)) == 0
    assert db.scalar(select(Label.name)) == "procurement"  # the vocabulary stays
    assert not any(payload_exists(settings, name) for name in blob_names)
    assert purge_events(db) == [
        ("report.purged", None, "system", "report", due_reference, "success")]

    assert {r.public_id for r in db.scalars(select(Report))} == {
        not_yet.public_id, still_open.public_id}
    assert all(payload_exists(settings, name) for name in kept_blobs)
    assert rows(db, ReportObject, not_yet.id) == rows(db, ReportObject, still_open.id) == 3


def test_purging_twice_is_harmless(db, settings, reports):
    store = LocalBlobStore(settings.blob_dir)
    first = purge_expired_reports(db, TODAY)
    db.commit()
    delete_blobs(store, first.blob_names)
    events_after_first = purge_events(db)

    second = purge_expired_reports(db, TODAY)
    db.commit()
    delete_blobs(store, second.blob_names)
    delete_blobs(store, first.blob_names)  # payloads already gone: not an error

    assert second == PurgedReports(report_ids=(), blob_names=())
    assert purge_events(db) == events_after_first
    assert len(events_after_first) == 1
    assert db.scalar(select(func.count()).select_from(Report)) == 2


def test_a_purge_that_rolls_back_loses_nothing(db, settings, reports):
    due = reports[0]
    due_id = due.id
    purged = purge_expired_reports(db, TODAY)
    db.rollback()

    db.expire_all()
    assert db.get(Report, due_id) is not None
    assert rows(db, ReportObject, due_id) == 3
    assert all(payload_exists(settings, name) for name in purged.blob_names)
    assert purge_events(db) == []
