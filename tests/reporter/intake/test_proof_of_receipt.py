"""Issue 17, part 1 on the server: the report's receipt event, the mailbox's proof of
receipt, and ``/verify`` answering with a consistency proof."""

from __future__ import annotations

import hashlib
import io
import json
import re

import pytest
from sqlalchemy import select

from crypto.proof_of_receipt import FORMAT, parse_proof, verify_proof
from reporting_portal.audit.events import REPORTER, SYSTEM, AuditAction, record_event
from reporting_portal.audit.log import TreeHeadSigner
from reporting_portal.audit.proofs import verifier_key
from reporting_portal.audit.verify import verify_log
from reporting_portal.storage.models import AuditEvent, HeldAuditEvent, ObjectKind
from reporting_portal.web.database import get_database
from tests.helpers import csrf_token, https_client, release_held_events_now
from tests.helpers.proofs import run_crypto, signed_log_proof, tampered, write_proof
from tests.helpers.reporting import (
    REPORT_FORM,
    objects_of,
    only_report,
    open_mailbox,
    plaintext_form,
    receipt_code_from,
)

pytestmark = pytest.mark.database

MAILBOX = "/followup/mailbox"
PROOF = "/followup/mailbox/proof-of-receipt"


def _send_with_file_and_identity(client):
    data = plaintext_form(client, q_evidence=[(io.BytesIO(b"%PDF-1.7 ledger"), "ledger.pdf",
                                               "application/pdf")],
                          identity_name="Amina Haddad", identity_contact="+216 555 0100")
    assert client.post(REPORT_FORM, data=data,
                       content_type="multipart/form-data").status_code == 303
    code = receipt_code_from(client.get("/report/receipt").get_data(as_text=True))
    client.delete_cookie("__Host-session", domain="localhost")
    assert open_mailbox(client, code).status_code == 302
    return code


def _proof_document(client) -> dict:
    response = client.get(PROOF)
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith(
        'attachment; filename="proof-of-receipt-')
    return json.loads(response.get_data(as_text=True))


def _verify_page(app, document: dict | bytes):
    """A stranger's browser: no session of the reporter's."""
    stranger = https_client(app)
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    return stranger.post("/verify", data={
        "csrf_token": csrf_token(stranger, "/verify"),
        "proof": (io.BytesIO(body), "proof-of-receipt.json", "application/json"),
    }, content_type="multipart/form-data")


def test_the_receipt_event_names_channel_day_and_the_headers_of_content_and_files(
        app, client, db, channel_with_handlers):
    _send_with_file_and_identity(client)
    report = only_report(db)
    [held] = db.scalars(select(HeldAuditEvent).where(
        HeldAuditEvent.action == AuditAction.REPORT_SUBMITTED)).all()
    [content] = objects_of(db, report, ObjectKind.CONTENT)
    [evidence] = objects_of(db, report, ObjectKind.FILE)
    [identity] = objects_of(db, report, ObjectKind.IDENTITY)
    assert held.receipt_channel == "corruption"
    # The content's and the file's headers; not the identity's, whose very existence is
    # for the custodians to know.
    assert held.receipt_headers.split() == [hashlib.sha256(content.header).hexdigest(),
                                            hashlib.sha256(evidence.header).hexdigest()]
    assert hashlib.sha256(identity.header).hexdigest() not in held.receipt_headers
    receipt = (held.receipt_channel, held.receipt_headers)
    release_held_events_now(app)
    db.expire_all()
    event = db.scalar(select(AuditEvent).where(
        AuditEvent.action == AuditAction.REPORT_SUBMITTED))
    assert (event.receipt_channel, event.receipt_headers) == receipt
    # The log's own verification recomputes the receipt's encoding, and it still holds.
    assert verify_log(db, verifier_key(db)).intact


def test_the_mailbox_says_when_the_proof_will_be_ready_and_offers_no_file_before(
        client, in_mailbox):
    page = client.get(MAILBOX).get_data(as_text=True)
    assert "Proof of receipt" in page
    assert re.search(r'id="proof-pending">It will be ready after <time datetime="'
                     r'\d{4}-\d\d-\d\dT00:05:00\+00:00">', page), page
    assert "Download proof of receipt" not in page
    assert client.get(PROOF).status_code == 404


def test_after_the_release_the_mailbox_offers_the_proof_and_the_command_accepts_it(
        app, client, db, in_mailbox, tmp_path):
    release_held_events_now(app)
    page = client.get(MAILBOX).get_data(as_text=True)
    assert "Download proof of receipt" in page
    assert 'id="proof-pending"' not in page
    document = _proof_document(client)
    assert list(document) == ["format", "origin", "verifier_key", "checkpoint",
                              "leaf_index", "leaf", "inclusion"]
    assert document["format"] == FORMAT
    key = verifier_key(db)
    assert document["verifier_key"] == key
    verified = verify_proof(parse_proof(json.dumps(document).encode()), key)
    assert verified.event.reference == only_report(db).public_id
    assert verified.event.channel == "corruption"
    # Nothing of the reporter: no actor, midnight only, no address or browser.
    leaf = parse_proof(json.dumps(document).encode()).leaf.decode("ascii")
    assert "T00:00:00Z" in leaf
    assert "null,\"reporter\"" in leaf
    assert "127.0.0.1" not in leaf
    assert "Werkzeug" not in leaf

    accepted = run_crypto("verify-proof", write_proof(tmp_path / "p.json", document),
                          "--key", key)
    assert accepted.returncode == 0, accepted.stderr
    assert f"reference: {verified.event.reference}" in accepted.stdout
    for change, changed in tampered(document).items():
        refused = run_crypto("verify-proof", write_proof(tmp_path / f"{change}.json", changed),
                             "--key", key)
        assert refused.returncode == 1, change
        assert "REJECTED" in refused.stderr


def test_downloading_the_proof_is_a_held_reporter_event(app, client, db, in_mailbox):
    release_held_events_now(app)
    _proof_document(client)
    db.expire_all()
    [held] = db.scalars(select(HeldAuditEvent).where(
        HeldAuditEvent.action == AuditAction.REPORTER_PROOF_DOWNLOADED)).all()
    assert (held.actor_role, held.object_type, held.object_id) == (
        REPORTER, "report", only_report(db).public_id)
    assert held.receipt_channel is None


def test_the_proof_requires_the_reporters_session(app, client, in_mailbox):
    release_held_events_now(app)
    assert https_client(app).get(PROOF).status_code in {302, 303, 403}


def test_verify_answers_with_a_consistency_proof_after_more_events(app, client, db, in_mailbox):
    release_held_events_now(app)
    document = _proof_document(client)
    with get_database(app).session_factory() as session:
        for _ in range(5):
            record_event(session, AuditAction.ACCOUNT_LIST_VIEWED, actor=None,
                         actor_role=SYSTEM)
            session.commit()
    answer = _verify_page(app, document)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200, page
    assert "Valid: this organisation" in page
    assert only_report(db).public_id in page
    old_size = parse_checkpoint_size(document["checkpoint"])
    assert (f"the head of {old_size} entries the proof was made under is consistent with "
            f"today's head of {old_size + 5} entries") in page
    assert len(re.findall(r"<li><code>[A-Za-z0-9+/]{43}=</code></li>",
                          page.split('id="consistency-proof"')[1].split("</ol>")[0])) >= 1
    assert verifier_key(db) in page


def parse_checkpoint_size(checkpoint: str) -> int:
    return int(checkpoint.split("\n")[1])


@pytest.mark.parametrize(("change", "words"), [
    ("leaf", "The event in this proof is not in the signed log"),
    ("inclusion", "The event in this proof is not in the signed log"),
    ("signature", "not signed by this organisation"),
])
def test_verify_refuses_a_changed_proof_with_a_422(app, client, in_mailbox, change, words):
    release_held_events_now(app)
    answer = _verify_page(app, tampered(_proof_document(client))[change])
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert "Not valid." in page
    assert words in page


@pytest.mark.parametrize("size", [3, 60])
def test_verify_says_so_when_the_log_no_longer_holds_what_a_genuine_proof_signed(
        app, db, settings, installed, size):
    """Signed with this log's own key, as the organisation signed it then: a log that
    since shrank (60 entries signed, fewer now) or was rewritten (the first 3 are others
    now) is caught by the consistency check, and the page says the log was changed."""
    signer = TreeHeadSigner(settings.audit_key_file).signer_key()
    proof, _signer = signed_log_proof(size=size, index=1, signer_key=signer)
    answer = _verify_page(app, json.loads(proof.to_json()))
    assert answer.status_code == 422
    assert ("The proof itself is genuine, but this access log no longer contains everything "
            "its signed head covered") in answer.get_data(as_text=True)


def test_verify_refuses_what_is_no_proof(app):
    assert _verify_page(app, b"\x89PNG not a proof").status_code == 422
    too_large = _verify_page(app, b" " * (64 * 1024 + 1))
    assert too_large.status_code == 400
    assert "too large to be a proof of receipt" in too_large.get_data(as_text=True)
    stranger = https_client(app)
    assert stranger.post("/verify", data={"csrf_token": csrf_token(stranger, "/verify")},
                         content_type="multipart/form-data").status_code == 400
    without_csrf = stranger.post("/verify", data={
        "proof": (io.BytesIO(b"{}"), "p.json")}, content_type="multipart/form-data")
    assert without_csrf.status_code == 400


def test_verifying_stores_nothing(app, client, db, in_mailbox):
    release_held_events_now(app)
    document = _proof_document(client)
    db.expire_all()
    before = (db.query(AuditEvent).count(), db.query(HeldAuditEvent).count())
    assert _verify_page(app, document).status_code == 200
    db.expire_all()
    assert (db.query(AuditEvent).count(), db.query(HeldAuditEvent).count()) == before


def test_the_verifier_key_is_published_on_the_landing_page_and_verify(app, db, installed):
    key = verifier_key(db)
    stranger = https_client(app)
    assert key in stranger.get("/").get_data(as_text=True)
    assert key in stranger.get("/verify").get_data(as_text=True)
