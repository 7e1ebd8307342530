"""A whole report on the S3 store: sent through the form, stored as ciphertext in the
bucket, read back and downloaded by a case handler, whatever ``--blob-store`` says."""

from __future__ import annotations

import os
import re

import pytest
from sqlalchemy import select

from reporting_portal.storage.models import AuditEvent, ObjectKind, Report, ReportObject
from reporting_portal.storage.s3_blobstore import PART_SIZE
from tests.helpers.reporting import (
    MULTIPART,
    REPORT_FORM,
    multipart_body,
    plaintext_form,
    receipt_code_from,
)
from tests.helpers.s3 import PREFIX, s3_client

pytestmark = [pytest.mark.database, pytest.mark.slow]

# Larger than one part, so the upload is a multipart upload and the download many ranges.
EVIDENCE = b"%PDF-1.7 the ledger " + os.urandom(PART_SIZE + 1024 * 1024)


@pytest.fixture
def settings(settings, s3_bucket):
    return s3_bucket.settings_for(settings)


def test_a_report_with_a_file_goes_to_the_bucket_and_a_handler_reads_it(
        client, db, settings, s3_bucket, channel_with_handlers, sign_in):
    fields = [(name, value) for name, values in plaintext_form(client).items()
              for value in (values if isinstance(values, list) else [values])]
    # The body built here, as bytes: Werkzeug's test client would spool a body this large
    # to a temporary file it never closes.
    body = multipart_body([*fields, ("q_evidence", ("ledger.pdf", EVIDENCE))])
    response = client.post(REPORT_FORM, data=body, content_type=MULTIPART)
    assert response.status_code == 303
    assert receipt_code_from(client.get("/report/receipt").get_data(as_text=True))

    report = db.scalar(select(Report))
    objects = list(db.scalars(select(ReportObject).where(ReportObject.report_id == report.id)))
    [evidence] = [obj for obj in objects if obj.kind == ObjectKind.FILE]
    # Every object's payload is in the bucket under the prefix, nothing in a local folder.
    assert s3_bucket.keys() == sorted(PREFIX + obj.blob_name for obj in objects)
    assert not settings.blob_dir.exists() or not any(settings.blob_dir.rglob("*"))
    assert s3_bucket.multipart_uploads() == []
    stored = s3_client(s3_bucket.endpoint_url).get_object(
        Bucket=s3_bucket.name, Key=PREFIX + evidence.blob_name)
    ciphertext = stored["Body"].read()
    assert stored["ETag"].strip('"').endswith("-2")  # sent as two parts
    assert b"the ledger" not in ciphertext
    assert b"mayor" not in ciphertext

    client.delete_cookie("__Host-session", domain="localhost")
    sign_in(channel_with_handlers["hana"])
    page = client.get(f"/staff/cases/{report.public_id}").get_data(as_text=True)
    assert "The mayor&#39;s office took a bribe" in page
    link = re.search(r'href="(/staff/cases/[^"]+/files/[^"]+)"', page).group(1)
    download = client.get(link)
    assert download.status_code == 200
    assert download.data == EVIDENCE
    actions = set(db.scalars(select(AuditEvent.action)))
    assert {"case.read", "case.file_downloaded"} <= actions
