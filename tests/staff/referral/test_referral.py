"""Referral to another competent authority, with redaction (issue 17, part 3).

A handler refers a redacted case to an authority whose identity the test made with
crypto/; the authority's ``verify-referral`` opens the package and checks it, the
redacted spans are in no byte of the package nor of the opened zip, and the case itself
is as it was. Around it: who may refer, the directory's checks, the identity's custody,
and what the reporter is told.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import tempfile
import time
import zipfile
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from crypto.cli import main as crypto_main
from crypto.keys import parse_identity
from crypto.referral import ReferralError, open_package, verify_package, verify_zip
from reporting_portal.domain.retention import purge_expired_reports
from reporting_portal.storage.models import (
    AuditEvent,
    Authority,
    Channel,
    ObjectKind,
    Referral,
    Report,
    ReportObject,
    Role,
)
from reporting_portal.web.database import get_database
from tests.helpers import csrf_token, submission_token
from tests.helpers.custody import JUSTIFICATION, REASON, the_request
from tests.helpers.referral import (
    HIDDEN_SPANS,
    add_authority,
    case_report,
    download_package,
    part_ids,
    refer,
    referral_fields,
    the_referral,
)
from tests.helpers.reporting import (
    CASE_FILE,
    CASE_FILE_NAME,
    CONTENT_MARKER,
    REPORT_FORM,
    REPORTER_NAME,
    decrypt_object,
    objects_of,
    open_mailbox,
)
from tests.helpers.staff import signed_in

pytestmark = pytest.mark.database

PROSECUTOR = "Public Prosecutor's Office"


@pytest.fixture
def admin(app, make_staff):
    return signed_in(app, make_staff("ada", Role.ADMINISTRATOR))


@pytest.fixture
def prosecutor(admin):
    response, receiver = add_authority(admin, PROSECUTOR)
    assert response.status_code == 302
    return receiver


@pytest.fixture
def hana(app, channel_with_handlers):
    return signed_in(app, channel_with_handlers["hana"])


def actions(db, *tags):
    db.expire_all()
    return [e.action for e in db.scalars(select(AuditEvent).where(AuditEvent.action.in_(tags))
                                         .order_by(AuditEvent.id))]


def test_a_redacted_referral_opens_for_the_authority_alone_without_the_hidden_spans(  # noqa: PLR0913, PLR0917 -- fixtures
    app, db, settings, hana, prosecutor, case_with_file, channel_with_handlers, installed,
    tmp_path, capsys,
):
    report = case_report(db, case_with_file)
    [content] = objects_of(db, report, ObjectKind.CONTENT)
    original_header, original_blob = content.header, content.blob_name
    form = hana.get(f"/staff/cases/{case_with_file}/referral").get_data(as_text=True)
    assert CONTENT_MARKER in form  # the answer, to mark in its text box

    fields = referral_fields(hana, db, case_with_file, PROSECUTOR,
                             parts=part_ids(db, ObjectKind.FILE))
    preview = hana.post(f"/staff/cases/{case_with_file}/referral/preview", data=fields)
    assert preview.status_code == 200
    shown = preview.get_data(as_text=True).split('id="preview"')[1].split("<form")[0]
    assert "[REDACTED]" in shown
    assert "took a bribe" in shown
    assert not any(span in shown.replace("&#39;", "'") for span in HIDDEN_SPANS)
    assert "2 spans are redacted." in shown
    assert actions(db, "case.referred") == []  # a preview stores nothing

    assert refer(hana, case_with_file, fields).status_code == 302
    referral = the_referral(db)
    assert referral.authority.name == PROSECUTOR
    package = download_package(hana, db, case_with_file)
    assert package.status_code == 200
    assert package.headers["Content-Disposition"].startswith("attachment")
    sealed = package.data

    opened = open_package(io.BytesIO(sealed), [prosecutor.identity])
    for span in HIDDEN_SPANS:
        for encoding in (span.encode(), json.dumps(span).encode().strip(b'"')):
            assert encoding not in sealed
            assert encoding not in opened
    received = verify_zip(opened, verifier_key=installed_verifier_key(db))
    answers = json.loads(received.contents["objects/answers.json"])
    what = next(a["answer"] for a in answers["answers"] if a["answer"].startswith("The "))
    assert what == "The [REDACTED] took a bribe for the [REDACTED] contract."
    assert answers["redacted_spans"] == 2
    [file_entry] = [o for o in received.objects if o.kind == "file"]
    assert received.contents[file_entry.name] == CASE_FILE
    assert file_entry.name.endswith(CASE_FILE_NAME)

    # The authority's own check, with its identity file, pinning the published key.
    package_file, identity_file = tmp_path / "referral.age", tmp_path / "authority.txt"
    package_file.write_bytes(sealed)
    identity_file.write_text(prosecutor.identity_file)
    assert crypto_main(["verify-referral", str(package_file), "-i", str(identity_file),
                        "--key", installed_verifier_key(db)]) == 0
    listing = capsys.readouterr().out
    assert f"Referral of case {case_with_file}" in listing
    assert PROSECUTOR in listing
    # Nobody else's key opens the package: not the handler's, not the recovery key.
    for other in (channel_with_handlers["hana"].identity, installed.recovery_identity):
        with pytest.raises(Exception, match="no identity matched"):
            verify_package(io.BytesIO(sealed), [parse_identity(other)])

    # The original is untouched; the redacted copy is a new object for the case's readers.
    db.expire_all()
    assert (content.header, content.blob_name) == (original_header, original_blob)
    assert CONTENT_MARKER in decrypt_object(settings, content, installed.recovery_identity).decode()
    [copy] = objects_of(db, report, ObjectKind.REDACTION)
    assert referral.answers_id == copy.id
    for reader in (channel_with_handlers["hana"].identity, installed.recovery_identity):
        document = json.loads(decrypt_object(settings, copy, reader))
        assert document["answers"]["what"].startswith("The [REDACTED] took a bribe")
    # The form was shown twice (once to read it, once for its token), then previewed.
    assert actions(db, "case.referral_previewed", "case.referred", "case.referral_downloaded") \
        == ["case.referral_previewed"] * 3 + ["case.referred", "case.referral_downloaded"]


def installed_verifier_key(db) -> str:
    from reporting_portal.audit.proofs import verifier_key

    return verifier_key(db)


def test_one_changed_byte_of_the_object_or_the_manifest_fails_the_check(
    db, hana, prosecutor, case_with_file, tmp_path, capsys,
):
    fields = referral_fields(hana, db, case_with_file, PROSECUTOR,
                             parts=part_ids(db, ObjectKind.FILE))
    assert refer(hana, case_with_file, fields).status_code == 302
    opened = open_package(io.BytesIO(download_package(hana, db, case_with_file).data),
                          [prosecutor.identity])
    source = zipfile.ZipFile(io.BytesIO(opened))
    for target in [n for n in source.namelist() if "file" in n] + ["manifest.json"]:
        changed = bytearray(source.read(target))
        changed[len(changed) // 2] ^= 0x01
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as rebuilt:  # valid CRCs: only the checks can tell
            for name in source.namelist():
                rebuilt.writestr(name, bytes(changed) if name == target else source.read(name))
        with pytest.raises(ReferralError):
            verify_zip(out.getvalue())


def test_a_changed_text_is_refused_and_nothing_is_referred(db, hana, prosecutor, case_with_file):
    fields = referral_fields(hana, db, case_with_file, PROSECUTOR,
                             marked_what="The [[someone]] took a bribe for the bridge contract.")
    for path in ("referral/preview", "referral"):
        response = hana.post(f"/staff/cases/{case_with_file}/{path}", data=fields)
        assert response.status_code == 400
        assert "the text itself was changed" in response.get_data(as_text=True)
    assert objects_of(db, case_report(db, case_with_file), ObjectKind.REDACTION) == []
    assert actions(db, "case.referred") == ["case.referred"]  # the refused attempt, logged
    assert db.scalar(select(AuditEvent.outcome).where(AuditEvent.action == "case.referred")) \
        == "failure"


def test_only_the_cases_handlers_refer_and_only_the_referrer_downloads(
    app, db, make_staff, hana, prosecutor, case_with_file, channel_with_handlers,
):
    stranger = signed_in(app, make_staff("sam", Role.CASE_HANDLER))
    assert stranger.get(f"/staff/cases/{case_with_file}/referral").status_code == 404
    auditor = signed_in(app, make_staff("audrey", Role.AUDITOR))
    assert auditor.get(f"/staff/cases/{case_with_file}/referral").status_code == 403
    assert hana.get("/staff/admin/authorities").status_code == 403

    assert refer(hana, case_with_file, referral_fields(hana, db, case_with_file,
                                                       PROSECUTOR)).status_code == 302
    omar = signed_in(app, channel_with_handlers["omar"])  # on the case, not the referrer
    page = omar.get(f"/staff/cases/{case_with_file}/referrals/{the_referral(db).public_id}")
    assert "Only the case handler who made the referral" in page.get_data(as_text=True)
    assert download_package(omar, db, case_with_file).status_code == 403


def test_the_directory_accepts_only_an_age_recipient(db, admin):
    response, _ = add_authority(admin, "Labour Inspectorate", recipient="age1notakey")
    assert response.status_code == 400
    assert "That is not an age recipient" in response.get_data(as_text=True)
    assert db.scalars(select(Authority)).all() == []
    for post_quantum in (False, True):
        added, _ = add_authority(admin, f"Authority {post_quantum}", post_quantum=post_quantum)
        assert added.status_code == 302
    assert actions(db, "authority.added", "authority.changed") == ["authority.added"] * 2


def test_an_inactive_authority_is_not_offered(db, admin, hana, prosecutor, case_with_file):
    authority = db.scalar(select(Authority))
    path = f"/staff/admin/authorities/{authority.public_id}"
    assert admin.post(path, data={"csrf_token": csrf_token(admin, path), "name": PROSECUTOR,
                                  "age_recipient": authority.age_recipient,
                                  "contact_note": ""}).status_code == 302
    assert actions(db, "authority.changed") == ["authority.changed"]
    page = hana.get(f"/staff/cases/{case_with_file}/referral").get_data(as_text=True)
    assert PROSECUTOR not in page
    response = hana.post(f"/staff/cases/{case_with_file}/referral/preview",
                         data=referral_fields(hana, db, case_with_file, PROSECUTOR))
    assert response.status_code == 400


@pytest.mark.parametrize(("notice", "told", "named"), [
    ("told", True, False), ("named", True, True), ("none", False, False)])
def test_the_channel_says_what_the_reporter_is_told(  # noqa: PLR0913, PLR0917 -- fixtures
    app, client, db, hana, prosecutor, case_with_file, notice, told, named,
):
    channel = db.scalar(select(Channel))
    channel.referral_notice = notice
    db.commit()
    assert refer(hana, case_with_file, referral_fields(hana, db, case_with_file,
                                                       PROSECUTOR)).status_code == 302
    mailbox = open_mailbox(client, client.receipt_code)
    page = client.get(mailbox.headers.get("Location", "/followup/mailbox")).get_data(as_text=True)
    assert ("was referred to" in page) is told
    assert (PROSECUTOR.replace("'", "&#39;") in page) is named


def test_the_identity_goes_only_with_a_custodians_approval_for_the_referral(
    app, db, hana, prosecutor, full_case, channel_with_handlers,
):
    fields = referral_fields(hana, db, full_case, PROSECUTOR, identity=True)
    refused = refer(hana, full_case, fields)
    assert refused.status_code == 400
    assert "identity custodian approved" in refused.get_data(as_text=True)

    path = f"/staff/cases/{full_case}/referral"
    assert hana.post(f"{path}/identity-request", data={
        "csrf_token": csrf_token(hana, path), "justification": JUSTIFICATION}).status_code == 302
    request = the_request(db)
    assert request.purpose == "referral"
    cleo = signed_in(app, channel_with_handlers["cleo"])
    decided = cleo.post(f"/staff/identity-requests/{request.public_id}", data={
        "csrf_token": csrf_token(cleo, "/staff/identity-requests"), "decision": "approve",
        "reason": REASON})
    assert decided.status_code == 302
    # Approved for the referral, not for reading: the case page's identity stays closed.
    assert hana.get(f"/staff/cases/{full_case}/identity").status_code == 403

    assert refer(hana, full_case, referral_fields(hana, db, full_case, PROSECUTOR,
                                                  identity=True)).status_code == 302
    opened = open_package(io.BytesIO(download_package(hana, db, full_case).data),
                          [prosecutor.identity])
    received = verify_zip(opened)
    assert REPORTER_NAME in json.loads(received.contents["objects/identity.json"])["name"]


def test_an_administrator_sets_what_the_reporter_is_told(db, admin, channel_with_handlers):
    channel = db.scalar(select(Channel))
    path = f"/staff/admin/channels/{channel.public_id}"
    fields = {"csrf_token": csrf_token(admin, path), "place_en": "1", "name_en": channel.name,
              "slug": channel.slug, "description_en": channel.description,
              "retention_days": str(channel.retention_days), "is_active": "y",
              "handlers": [channel_with_handlers["hana"].public_id]}
    assert '<input checked id="referral_notice-0" name="referral_notice" type="radio" ' \
        'value="told">' in admin.get(path).get_data(as_text=True)
    assert admin.post(path, data={**fields, "referral_notice": "named"}).status_code == 302
    db.expire_all()
    assert db.get(Channel, channel.id).referral_notice == "named"
    refused = admin.post(path, data={**fields, "referral_notice": "everyone"})
    assert refused.status_code == 400
    db.expire_all()
    assert db.get(Channel, channel.id).referral_notice == "named"


def test_the_package_is_built_without_plaintext_on_disk(
    client, db, settings, hana, prosecutor, channel_with_handlers,
):
    marker = f"MARKER-{secrets.token_hex(12)}"
    started = time.time() - 1
    big_file = (marker.encode() + b"\n") * (3 * 1024 * 1024 // len(marker))  # several chunks
    boundary, body = encode_multipart(MultiDict([
        ("csrf_token", csrf_token(client, REPORT_FORM)),
        ("submission_token", submission_token(client, REPORT_FORM)),
        ("q_what", f"The payment {marker} went to the minister's cousin."),
        ("q_evidence", FileStorage(io.BytesIO(big_file), "ledger.txt", "q_evidence",
                                   "text/plain")),
    ]))
    assert client.post(REPORT_FORM, data=body,
                       content_type=f"multipart/form-data; boundary={boundary}").status_code == 303
    case_id = db.scalar(select(Report.public_id))
    fields = referral_fields(hana, db, case_id, PROSECUTOR, parts=part_ids(db, ObjectKind.FILE),
                             marked_what=f"The payment {marker} went to the minister's cousin.")
    assert refer(hana, case_id, fields).status_code == 302
    received = verify_zip(open_package(io.BytesIO(download_package(hana, db, case_id).data),
                                       [prosecutor.identity]))
    assert big_file in received.contents.values()  # it went, whole

    needle = marker.encode()
    for root in (settings.instance_dir, settings.blob_dir, Path(tempfile.gettempdir())):
        assert files_containing(root, needle, started) == []


def files_containing(root: Path, needle: bytes, since: float) -> list[Path]:
    found = []
    for directory, _subdirs, names in os.walk(root):
        for name in names:
            path = Path(directory) / name
            try:
                if path.stat().st_mtime >= since and needle in path.read_bytes():
                    found.append(path)
            except OSError:
                continue  # vanished or unreadable: not ours
    return found


def test_a_referred_case_is_purged_with_its_referral_and_redacted_copy(
    app, db, hana, prosecutor, case_with_file,
):
    assert refer(hana, case_with_file, referral_fields(hana, db, case_with_file,
                                                       PROSECUTOR)).status_code == 302
    report = case_report(db, case_with_file)
    report.status, report.closing_outcome = "closed", "referred"
    report.purge_after = date.today()
    db.commit()
    with app.app_context(), get_database(app).session_factory() as session:
        purged = purge_expired_reports(session, date.today())
        session.commit()
    assert purged.report_ids == (case_with_file,)
    db.expire_all()
    assert db.scalars(select(Referral)).all() == []
    assert db.scalars(select(ReportObject)).all() == []
    assert db.scalar(select(Authority)) is not None  # the directory keeps the authority
