"""Submitting a report: both paths, recipients, exclusions, identity, limits."""

import io

import pytest
from sqlalchemy import select

from crypto import NoMatchError, encrypt, parse_recipient
from reporting_portal.storage.models import (
    AuditEvent,
    HeldAuditEvent,
    ObjectKind,
    Report,
    ReportExclusion,
)
from tests.helpers import csrf_token, submission_token
from tests.helpers.reporting import (
    REPORT_FORM,
    blob_files,
    content_of,
    decrypt_object,
    objects_of,
    only_report,
    page_recipients,
    plaintext_form,
    receipt_code_from,
)

pytestmark = pytest.mark.database


def test_plaintext_submission_encrypts_answers_and_files_to_the_handlers(
    client, db, settings, installed, channel_with_handlers
):
    hana = channel_with_handlers["hana"]
    data = plaintext_form(client, q_evidence=[
        (io.BytesIO(b"%PDF-1.7 invoice 4711"), "invoice.pdf", "application/pdf"),
        (io.BytesIO(b"\x89PNG photo bytes"), "photo.png", "image/png"),
    ])
    response = client.post(REPORT_FORM, data=data, content_type="multipart/form-data")
    assert response.status_code == 303
    assert response.headers["Location"] == "/report/receipt"
    receipt_page = client.get("/report/receipt").get_data(as_text=True)
    code = receipt_code_from(receipt_page)
    assert len(code.replace(" ", "")) == 28

    content = content_of(settings, db, hana.identity)
    assert content["answers"]["what"].startswith("The mayor's office")
    assert content["answers"]["kind"] == ["Bribery", "Procurement irregularities"]
    assert [f["name"] for f in content["files"]] == ["invoice.pdf", "photo.png"]
    report = only_report(db)
    files = objects_of(db, report, ObjectKind.FILE)
    assert [decrypt_object(settings, f, hana.identity) for f in files] == [
        b"%PDF-1.7 invoice 4711", b"\x89PNG photo bytes"]
    # Readable by the other handler and the recovery key too; stored as ciphertext only.
    assert decrypt_object(settings, files[0], channel_with_handlers["omar"].identity)
    assert decrypt_object(settings, files[0], installed.recovery_identity)
    for path in blob_files(settings):
        assert b"invoice 4711" not in path.read_bytes()
    # The reporter's event waits, with its day only, for the day's release into the log.
    assert db.scalar(select(AuditEvent).where(AuditEvent.action == "report.submitted")) is None
    held = db.scalar(select(HeldAuditEvent).where(HeldAuditEvent.action == "report.submitted"))
    assert held.occurred_on == report.received_on


def test_excluded_handler_is_never_a_recipient(client, db, settings, channel_with_handlers):
    omar = channel_with_handlers["omar"]
    data = plaintext_form(client, exclude=[omar.public_id],
                          q_evidence=[(io.BytesIO(b"ledger"), "ledger.csv")])
    assert client.post(REPORT_FORM, data=data,
                       content_type="multipart/form-data").status_code == 303
    report = only_report(db)
    for obj in report.objects:
        with pytest.raises(NoMatchError):
            decrypt_object(settings, obj, omar.identity)
    assert content_of(settings, db, channel_with_handlers["hana"].identity)
    assert [e.staff_id for e in db.scalars(select(ReportExclusion))] != []
    assert all(g.staff.username == "hana" for g in report.grants)


def test_excluding_everyone_is_refused_and_nothing_is_stored(
    client, db, settings, channel_with_handlers
):
    data = plaintext_form(client, exclude=[channel_with_handlers["hana"].public_id,
                                           channel_with_handlers["omar"].public_id],
                          q_evidence=[(io.BytesIO(b"x" * 1000), "a.txt")])
    response = client.post(REPORT_FORM, data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "nobody could read your report" in response.get_data(as_text=True)
    assert db.scalars(select(Report)).all() == []
    assert blob_files(settings) == []


def test_identity_is_only_for_custodians_and_recovery(
    client, db, settings, installed, channel_with_handlers
):
    data = plaintext_form(client, identity_name="Ana Example", identity_contact="+1 555 0100")
    assert client.post(REPORT_FORM, data=data,
                       content_type="multipart/form-data").status_code == 303
    [identity] = objects_of(db, only_report(db), ObjectKind.IDENTITY)
    assert b"Ana Example" in decrypt_object(settings, identity,
                                            channel_with_handlers["cleo"].identity)
    assert b"Ana Example" in decrypt_object(settings, identity, installed.recovery_identity)
    with pytest.raises(NoMatchError):
        decrypt_object(settings, identity, channel_with_handlers["hana"].identity)
    content = content_of(settings, db, channel_with_handlers["hana"].identity)
    assert "Ana Example" not in str(content)


def test_missing_required_answer_is_explained_and_nothing_is_stored(
    client, db, settings, channel_with_handlers
):
    data = plaintext_form(client, q_what="", q_evidence=[(io.BytesIO(b"x" * 5000), "a.txt")])
    response = client.post(REPORT_FORM, data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Some answers need your attention" in page
    assert "This field is required." in page
    assert db.scalars(select(Report)).all() == []
    assert blob_files(settings) == []


def test_post_without_csrf_token_first_is_refused_before_reading_files(
    client, db, settings, channel_with_handlers
):
    csrf_token(client, REPORT_FORM)  # the form was opened: its session holds a token
    data = {"q_evidence": (io.BytesIO(b"x" * 100), "a.txt"), "q_what": "text"}
    response = client.post(REPORT_FORM, data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert blob_files(settings) == []
    data = {"csrf_token": "forged", "q_what": "text"}
    assert client.post(REPORT_FORM, data=data,
                       content_type="multipart/form-data").status_code == 400


@pytest.fixture
def small_limits(app):
    app.extensions["settings"] = app.extensions["settings"].replace(
        submission_max_bytes=64 * 1024, submission_max_files=2)


def test_oversize_file_is_refused_clearly_and_nothing_is_stored(
    client, db, settings, channel_with_handlers, small_limits
):
    data = plaintext_form(client, q_evidence=[(io.BytesIO(b"x" * 200_000), "big.bin")])
    response = client.post(REPORT_FORM, data=data, content_type="multipart/form-data")
    assert response.status_code == 413
    assert "larger than" in response.get_data(as_text=True)
    assert db.scalars(select(Report)).all() == []
    assert blob_files(settings) == []


def test_too_many_files_are_refused(client, db, settings, channel_with_handlers, small_limits):
    files = [(io.BytesIO(b"x"), f"f{n}.txt") for n in range(5)]
    response = client.post(REPORT_FORM, data=plaintext_form(client, q_evidence=files),
                           content_type="multipart/form-data")
    assert response.status_code == 413
    assert blob_files(settings) == []


def age_file(plaintext: bytes, recipients: list[str]) -> io.BytesIO:
    out = io.BytesIO()
    encrypt(io.BytesIO(plaintext), out, [parse_recipient(r) for r in recipients])
    out.seek(0)
    return out


def encrypted_form(client, recipients, **extra):
    data = {
        "csrf_token": csrf_token(client, REPORT_FORM),
        "submission_token": submission_token(client, REPORT_FORM),
        "mode": "encrypted",
        "content": (age_file(b'{"version":1,"answers":{"what":"browser"},"files":[]}',
                             recipients), "content.age"),
        "file": [(age_file(b"evidence bytes", recipients), "file-1.age")],
    }
    data.update(extra)
    return data


def test_browser_encrypted_submission_is_stored_as_sent(
    client, db, settings, installed, channel_with_handlers, app
):
    # The page's recipients: the channel's, and the reporter's own key (issue 15).
    data = encrypted_form(client, page_recipients(client))
    assert client.post(REPORT_FORM, data=data,
                       content_type="multipart/form-data").status_code == 303
    content = content_of(settings, db, channel_with_handlers["hana"].identity)
    assert content["answers"]["what"] == "browser"
    [file_object] = objects_of(db, only_report(db), ObjectKind.FILE)
    assert decrypt_object(settings, file_object, installed.recovery_identity) == b"evidence bytes"


def test_browser_submission_for_the_wrong_recipients_is_refused(
    client, db, settings, installed, channel_with_handlers
):
    hana = channel_with_handlers["hana"]
    from crypto.keys import parse_identity

    only_hana = [str(parse_identity(hana.identity).recipient)]
    response = client.post(REPORT_FORM, data=encrypted_form(client, only_hana),
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert "wrong recipients" in response.get_data(as_text=True)
    assert db.scalars(select(Report)).all() == []
    assert blob_files(settings) == []


def test_browser_submission_with_plaintext_part_is_refused(
    client, db, settings, channel_with_handlers
):
    data = {"csrf_token": csrf_token(client, REPORT_FORM), "mode": "encrypted",
            "content": (io.BytesIO(b"not an age file at all"), "content.age")}
    response = client.post(REPORT_FORM, data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert blob_files(settings) == []


def test_receipt_is_shown_until_confirmed_then_gone(client, channel_with_handlers):
    client.post(REPORT_FORM, data=plaintext_form(client), content_type="multipart/form-data")
    page = client.get("/report/receipt").get_data(as_text=True)
    code = receipt_code_from(page)
    token = csrf_token(client, "/report/receipt")
    unconfirmed = client.post("/report/receipt", data={"csrf_token": token})
    assert "Please confirm" in unconfirmed.get_data(as_text=True)
    done = client.post("/report/receipt", data={"csrf_token": token, "written_down": "yes"})
    assert "Thank you" in done.get_data(as_text=True)
    assert code not in done.get_data(as_text=True)
    assert client.get("/report/receipt").status_code == 302


def test_channel_without_ready_handlers_is_not_offered(client, installed):
    assert "No reporting channel is open" in client.get("/report").get_data(as_text=True)
    assert client.get(REPORT_FORM).status_code == 404
