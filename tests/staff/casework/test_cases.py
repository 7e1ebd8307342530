"""A case handler's work, through the app: only their cases, decrypted, changed, exported."""

import io
import re
import subprocess
import sys
import zipfile

import pytest
from sqlalchemy import select

from reporting_portal.storage.models import AuditEvent, Label, Report, Role
from tests.helpers import csrf_token, hidden_fields, https_client
from tests.helpers.interop import run_js
from tests.helpers.reporting import CASE_FILE, REPORT_FORM, plaintext_form

pytestmark = pytest.mark.database

def browser_for(app, sign_in_member, member):
    other = https_client(app)
    other.post("/staff/sign-in", data={
        "csrf_token": csrf_token(other, "/staff/sign-in"), "username": member.username,
        "password": member.password, "code": member.code(1)})
    other.get("/staff/sign-in/continue")
    return other


def post(client, path, form_path, **data):
    """Send a form of the page at ``form_path`` with its hidden fields (CSRF token, and on
    a case page the case's version), as a browser would."""
    return client.post(path, data={**hidden_fields(client, form_path), **data})


def test_inbox_shows_only_the_handlers_cases(client, case_with_file, sign_in, channel_with_handlers,
                                             make_staff):
    sign_in(channel_with_handlers["hana"])
    page = client.get("/staff/cases").get_data(as_text=True)
    assert case_with_file[:8] in page
    assert "1 case" in page
    client.post("/staff/sign-out", data={"csrf_token": csrf_token(client, "/staff/")})
    outsider = make_staff("zoe", Role.CASE_HANDLER)
    sign_in(outsider)
    assert case_with_file[:8] not in client.get("/staff/cases").get_data(as_text=True)
    assert client.get(f"/staff/cases/{case_with_file}").status_code == 404
    assert client.get("/staff/cases/no-such-case").status_code == 404


def test_case_view_decrypts_answers_and_downloads_the_file(client, case_with_file, sign_in, db,
                                                           channel_with_handlers):
    sign_in(channel_with_handlers["hana"])
    page = client.get(f"/staff/cases/{case_with_file}").get_data(as_text=True)
    assert "The mayor&#39;s office took a bribe" in page
    assert "contract.pdf" in page
    link = re.search(r'href="(/staff/cases/[^"]+/files/[^"]+)"', page).group(1)
    assert "contract" not in link  # a file name is content: never in a URL or a proxy log
    response = client.get(link)
    assert response.data == CASE_FILE
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["Content-Disposition"] == 'attachment; filename="contract.pdf"'
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    actions = list(db.scalars(select(AuditEvent.action)))
    assert "case.read" in actions
    assert "case.file_downloaded" in actions


def test_acknowledge_reply_and_note_reach_the_right_people(client, case_with_file, sign_in, app,
                                                           channel_with_handlers):
    code = client.receipt_code
    sign_in(channel_with_handlers["hana"])
    path = f"/staff/cases/{case_with_file}"
    post(client, f"{path}/acknowledge", path, message="We have your report. Thank you.")
    post(client, f"{path}/notes", path, note="Check the tender file for PRIVATE-NOTE-7.")
    post(client, f"{path}/messages", path, reply="Who else was at the meeting?")
    page = client.get(path).get_data(as_text=True)
    assert "Acknowledged" in page
    assert "PRIVATE-NOTE-7" in page

    reporter = https_client(app)
    reporter.post("/followup", data={"csrf_token": csrf_token(reporter, "/followup"),
                                     "code": code})
    mailbox = reporter.get("/followup/mailbox").get_data(as_text=True)
    assert "We have your report. Thank you." in mailbox
    assert "Who else was at the meeting?" in mailbox
    assert "PRIVATE-NOTE-7" not in mailbox
    assert "<strong>Acknowledged</strong>" in mailbox


def test_workflow_moves_forward_and_closes_only_with_an_outcome(client, case_with_file, sign_in, db,
                                                                channel_with_handlers):
    sign_in(channel_with_handlers["hana"])
    path = f"/staff/cases/{case_with_file}"
    response = post(client, f"{path}/status", path, status="investigation")
    assert response.status_code == 302
    backwards = post(client, f"{path}/status", path, status="assessment")
    assert "A case moves forward only." in backwards.get_data(as_text=True)
    no_outcome = post(client, f"{path}/status", path, status="closed")
    assert "Choose the outcome" in no_outcome.get_data(as_text=True)
    post(client, f"{path}/status", path, status="closed", outcome="not_substantiated",
         close_anyway="y")
    db.expire_all()
    report = db.scalar(select(Report))
    assert (report.status, report.closing_outcome) == ("closed", "not_substantiated")
    assert report.purge_after is not None
    # Stored as a code; each reader sees it in words of their language.
    case_page = client.get(f"{path}?lang=fr").get_data(as_text=True)
    assert "not_substantiated" not in case_page
    inbox = client.get("/staff/cases?lang=en").get_data(as_text=True)
    assert "Closed" in inbox
    assert "Not substantiated" in inbox


def test_priority_and_labels(client, case_with_file, sign_in, db, channel_with_handlers):
    db.add_all([Label(name="procurement"), Label(name="urgent-review")])
    db.commit()
    sign_in(channel_with_handlers["hana"])
    path = f"/staff/cases/{case_with_file}"
    post(client, f"{path}/priority", path, priority="high")
    post(client, f"{path}/labels", path, labels=["procurement"])
    inbox = client.get("/staff/cases?label=procurement&priority=high").get_data(as_text=True)
    assert case_with_file[:8] in inbox
    assert case_with_file[:8] not in client.get("/staff/cases?label=urgent-review").get_data(
        as_text=True)


def test_adding_a_handler_grants_access_and_removing_takes_it_away(
    app, client, case_with_file, sign_in, make_staff, channel_with_handlers
):
    zoe = make_staff("zoe", Role.CASE_HANDLER)
    sign_in(channel_with_handlers["hana"])
    path = f"/staff/cases/{case_with_file}"
    zoe_browser = browser_for(app, sign_in, zoe)
    assert zoe_browser.get(path).status_code == 404
    post(client, f"{path}/handlers", path, handler=zoe.public_id)
    page = zoe_browser.get(path).get_data(as_text=True)
    assert "took a bribe" in page  # Zoe's own key now opens the content
    post(client, f"{path}/handlers/{zoe.public_id}/remove", path)
    assert zoe_browser.get(path).status_code == 404


def test_excluded_handler_cannot_be_added(app, client, db, sign_in, channel_with_handlers):
    omar = channel_with_handlers["omar"]
    data = plaintext_form(client, exclude=[omar.public_id])
    client.post(REPORT_FORM, data=data, content_type="multipart/form-data")
    reference = db.scalar(select(Report.public_id))
    sign_in(channel_with_handlers["hana"])
    path = f"/staff/cases/{reference}"
    assert "Omar" not in client.get(path).get_data(as_text=True).split("Case handlers")[1]
    refused = post(client, f"{path}/handlers", path, handler=omar.public_id)
    assert "cannot be added" in refused.get_data(as_text=True)


@pytest.mark.interop
def test_export_opens_offline_with_the_handlers_identity_file(
    client, case_with_file, sign_in, channel_with_handlers, tmp_path, node
):
    """Opened by our age CLI and by the independent age-encryption package (Debian's age
    1.1.1 predates post-quantum recipients; operators use age 1.3 or later)."""
    sign_in(channel_with_handlers["hana"])
    wrong = post(client, "/staff/cases/my-identity", "/staff/cases/my-identity",
                 password="not my password")
    assert "That password is not right." in wrong.get_data(as_text=True)
    identity = post(client, "/staff/cases/my-identity", "/staff/cases/my-identity",
                    password=channel_with_handlers["hana"].password)
    assert identity.headers["Content-Disposition"].startswith("attachment")
    identity_file = tmp_path / "identity.txt"
    identity_file.write_bytes(identity.data)
    assert b"# public key: age1pq1" in identity.data

    path = f"/staff/cases/{case_with_file}"
    export = post(client, f"{path}/export", path)
    assert export.headers["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(export.data))
    names = archive.namelist()
    assert "manifest.json" in names
    assert not any("identity-" in name for name in names)
    opened = {}
    for name in names:
        if not name.startswith("objects/"):
            continue
        (tmp_path / "obj.age").write_bytes(archive.read(name))
        result = subprocess.run(
            [sys.executable, "-m", "crypto", "-d", "-i", str(identity_file),
             str(tmp_path / "obj.age")], capture_output=True, check=True)
        kind = name.split("/")[1].split("-")[0]
        opened[kind] = result.stdout
        secret = next(line for line in identity.data.decode().splitlines()
                      if line.startswith("AGE-SECRET-KEY"))
        assert run_js(node, "decrypt.mjs", stdin=archive.read(name), identity=secret) == (
            result.stdout)
    assert opened["file"] == CASE_FILE
    assert b"took a bribe" in opened["content"]
    assert b"contract" not in archive.read("manifest.json")
