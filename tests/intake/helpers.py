"""Helpers for reading what a reporter stored."""

from __future__ import annotations

import io
import json
import re

from sqlalchemy import select

from crypto import decrypt_parts
from crypto.keys import parse_identity
from reporting_portal.blobstore import LocalBlobStore
from reporting_portal.models import ObjectKind, Report, ReportObject


def decrypt_object(settings, obj: ReportObject, identity: str) -> bytes:
    store = LocalBlobStore(settings.blob_dir)
    out = io.BytesIO()
    with store.open(obj.blob_name) as payload:
        decrypt_parts(obj.header, payload, out, [parse_identity(identity)])
    return out.getvalue()


def only_report(db) -> Report:
    reports = db.scalars(select(Report)).all()
    assert len(reports) == 1
    return reports[0]


def objects_of(db, report: Report, kind: ObjectKind) -> list[ReportObject]:
    return list(db.scalars(select(ReportObject).where(
        ReportObject.report_id == report.id, ReportObject.kind == kind
    ).order_by(ReportObject.id)))


def content_of(settings, db, identity: str) -> dict:
    report = only_report(db)
    [content] = objects_of(db, report, ObjectKind.CONTENT)
    return json.loads(decrypt_object(settings, content, identity))


def receipt_code_from(page: str) -> str:
    match = re.search(r'id="receipt-code"[^>]*>([\d ]+)<', page)
    assert match, "no receipt code on the page"
    return match.group(1)


def blob_files(settings) -> list:
    return [p for p in settings.blob_dir.rglob("*") if p.is_file()]
