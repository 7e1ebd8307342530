"""What a reporter sees when an upload is broken, skips its token, exceeds the page's
limits or leaves a required answer blank: a clear 4xx, and nothing kept."""

import io

import pytest
from sqlalchemy import func, select

from crypto import encrypt, parse_recipient
from reporting_portal.storage.models import Channel, Report, ReportObject
from tests.helpers import csrf_token, submission_token
from tests.helpers.reporting import (
    BOUNDARY,
    MULTIPART,
    REPORT_FORM,
    blob_files,
    multipart_body,
    page_recipients,
    report_form_data,
)

pytestmark = pytest.mark.database

MAILBOX = "/followup/mailbox"
REPLY = "/followup/reply"
CUT_OFF = "Your upload was cut off or malformed, so nothing was kept."


def stored_objects(db) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(ReportObject))


def broken_bodies(client, form_path):
    """The shapes a reporter's upload arrives in when it breaks on the way."""
    tokens = [("csrf_token", csrf_token(client, form_path)),
              ("submission_token", submission_token(client, form_path))]
    evidence = ("q_evidence", ("scan.pdf", b"%PDF-1.7 " + b"x" * 200_000))
    return {
        # The Tor circuit dropped in the middle of a file: no closing boundary.
        "cut off in a file": multipart_body([*tokens, evidence], closed=False)[:150_000],
        "cut off after a field": multipart_body([*tokens, ("q_what", "half an answ")],
                                                closed=False)[:-2],
        "a part without headers": multipart_body(tokens, closed=False)
        + f"--{BOUNDARY}\r\n\r\nno headers at all\r\n--{BOUNDARY}--\r\n".encode(),
        "a part without a name": multipart_body(tokens).replace(
            b'name="submission_token"', b"nonsense", 1),
        "not multipart at all": b"q_what=hello&q_where=there",
    }


@pytest.mark.parametrize("shape", ["cut off in a file", "cut off after a field",
                                   "a part without headers", "a part without a name",
                                   "not multipart at all"])
def test_a_broken_report_upload_is_refused_and_nothing_is_kept(
    client, db, settings, channel_with_handlers, shape
):
    body = broken_bodies(client, REPORT_FORM)[shape]
    response = client.post(REPORT_FORM, data=body, content_type=MULTIPART)
    assert response.status_code == 400
    assert CUT_OFF in response.get_data(as_text=True)
    assert db.scalars(select(Report)).all() == []
    assert blob_files(settings) == []


@pytest.mark.parametrize("shape", ["cut off in a file", "cut off after a field",
                                   "a part without headers", "not multipart at all"])
def test_a_broken_reply_is_refused_and_nothing_is_kept(client, db, settings, in_mailbox, shape):
    before, blobs = stored_objects(db), blob_files(settings)
    body = broken_bodies(client, MAILBOX)[shape].replace(b'"q_evidence"', b'"q_attachments"')
    response = client.post(REPLY, data=body, content_type=MULTIPART)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert CUT_OFF in page
    assert "Your mailbox" in page  # still signed in, the reply box is there
    assert stored_objects(db) == before
    assert blob_files(settings) == blobs


def test_a_connection_that_closes_early_is_refused_cleanly(
    client, db, settings, channel_with_handlers
):
    body = multipart_body([("csrf_token", csrf_token(client, REPORT_FORM)),
                           ("q_evidence", ("scan.pdf", b"x" * 100_000))], closed=False)
    # The browser announced more than arrived: the server's stream runs dry.
    response = client.post(REPORT_FORM, data=body, content_type=MULTIPART,
                           environ_overrides={"CONTENT_LENGTH": str(len(body) + 50_000)})
    assert response.status_code == 400
    assert CUT_OFF in response.get_data(as_text=True)
    assert blob_files(settings) == []


@pytest.fixture
def nothing_required(db, installed):
    """A channel whose questions are all optional."""
    channel = db.scalar(select(Channel).where(Channel.slug == installed.channel_slug))
    channel.questionnaire = [{**q, "required": False} for q in channel.questionnaire]
    db.commit()


@pytest.mark.parametrize("body", [
    f"--{BOUNDARY}--\r\n".encode(),
    b"",
])
def test_a_body_without_any_field_needs_the_token_too(
    client, db, settings, channel_with_handlers, nothing_required, body
):
    csrf_token(client, REPORT_FORM)  # a session exists, as after opening the form
    response = client.post(REPORT_FORM, data=body, content_type=MULTIPART)
    assert response.status_code == 400
    assert db.scalars(select(Report)).all() == []
    page = response.get_data(as_text=True)
    assert "The form expired or was not sent from this site" in page or CUT_OFF in page


def test_the_token_is_needed_on_the_reply_path_too(client, db, in_mailbox):
    before = stored_objects(db)
    body = f"--{BOUNDARY}--\r\n".encode()
    response = client.post(REPLY, data=body, content_type=MULTIPART)
    assert response.status_code == 400
    assert stored_objects(db) == before


def test_the_page_says_how_many_files_and_how_large(client, channel_with_handlers,
                                                     in_mailbox):
    for path in (REPORT_FORM, MAILBOX):
        page = client.get(path).get_data(as_text=True)
        assert "Up to 20 files and 1024 MB in all." in page, path


def test_a_limit_of_one_file_is_said_in_the_singular(app, client, channel_with_handlers,
                                                      in_mailbox):
    app.extensions["settings"] = app.extensions["settings"].replace(submission_max_files=1)
    for path in (REPORT_FORM, MAILBOX):
        page = client.get(path).get_data(as_text=True)
        assert "Up to 1 file and 1024 MB in all." in page, path


@pytest.fixture
def page_limits(app):
    """Two files and 64 KiB, as the page then says."""
    app.extensions["settings"] = app.extensions["settings"].replace(
        submission_max_bytes=64 * 1024, submission_max_files=2)


def test_the_page_states_the_limits_the_server_enforces(client, channel_with_handlers,
                                                         page_limits, app):
    page = client.get(REPORT_FORM).get_data(as_text=True)
    assert '"max_files": 2' in page  # what the script checks before encrypting
    assert f'"max_bytes": {64 * 1024}' in page


@pytest.mark.parametrize(("sizes", "status"), [
    ([1, 1], 303),  # as many files as the page says
    ([1, 1, 1], 413),  # one more: refused, although the server once counted 2 + 2
    ([32 * 1024, 32 * 1024], 303),  # exactly the size the page says, in all
    ([32 * 1024, 32 * 1024 + 1], 413),  # one byte more
])
def test_without_javascript_the_limits_are_exactly_the_pages(
    client, db, settings, channel_with_handlers, page_limits, sizes, status
):
    files = [(io.BytesIO(b"x" * size), f"f{n}.txt") for n, size in enumerate(sizes)]
    data = report_form_data(client, q_evidence=files,
                            identity_name="Ana", identity_contact="ana@example.org")
    response = client.post(REPORT_FORM, data=data, content_type="multipart/form-data")
    assert response.status_code == status
    if status == 413:
        assert "more than 2 files" in response.get_data(as_text=True)
        assert db.scalars(select(Report)).all() == []
        assert blob_files(settings) == []


def age_file(plaintext: bytes, recipients: list[str]) -> io.BytesIO:
    out = io.BytesIO()
    encrypt(io.BytesIO(plaintext), out, [parse_recipient(r) for r in recipients])
    out.seek(0)
    return out


@pytest.mark.parametrize(("sizes", "status"), [
    ([1, 1], 303),
    ([1, 1, 1], 413),
    ([32 * 1024, 32 * 1024], 303),  # the age overhead does not count against the reporter
    ([64 * 1024 + 1], 413),
])
def test_with_javascript_the_limits_are_exactly_the_pages(
    client, db, settings, channel_with_handlers, page_limits, app, sizes, status
):
    from reporting_portal.domain.recipients import channel_recipients
    from reporting_portal.reporter.intake.services import find_open_channel

    with app.app_context():
        recipients = channel_recipients(db, find_open_channel(db, "corruption"))
        # The page's: the channel's, and the reporter's own key (issue 15).
        content_recipients = page_recipients(client)
        identity_recipients = [*recipients.custodians, recipients.recovery]
    data = {
        "csrf_token": csrf_token(client, REPORT_FORM),
        "submission_token": submission_token(client, REPORT_FORM),
        "mode": "encrypted",
        "content": (age_file(b'{"version":1,"answers":{},"files":[]}', content_recipients),
                    "content.age"),
        "file": [(age_file(b"e" * size, content_recipients), f"file-{n}.age")
                 for n, size in enumerate(sizes)],
        "identity": (age_file(b'{"name":"Ana","contact":""}', identity_recipients),
                     "identity.age"),
    }
    response = client.post(REPORT_FORM, data=data, content_type="multipart/form-data")
    assert response.status_code == status, response.get_data(as_text=True)
    if status == 413:
        assert db.scalars(select(Report)).all() == []
        assert blob_files(settings) == []


def test_the_encrypted_answers_may_come_only_once(client, db, settings, channel_with_handlers,
                                                  app):
    from reporting_portal.domain.recipients import channel_recipients
    from reporting_portal.reporter.intake.services import find_open_channel

    with app.app_context():
        recipients = channel_recipients(db, find_open_channel(db, "corruption")).content_for(
            set())
    content = b'{"version":1,"answers":{},"files":[]}'
    data = {
        "csrf_token": csrf_token(client, REPORT_FORM),
        "submission_token": submission_token(client, REPORT_FORM),
        "mode": "encrypted",
        "content": [(age_file(content, recipients), "content.age"),
                    (age_file(content, recipients), "content.age")],
    }
    response = client.post(REPORT_FORM, data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert db.scalars(select(Report)).all() == []
    assert blob_files(settings) == []


@pytest.mark.parametrize("blank", ["   ", "\n\n", " \r\n\t "])
def test_a_required_answer_of_only_spaces_is_missing(
    client, db, settings, channel_with_handlers, blank
):
    data = report_form_data(client, q_what=blank)
    response = client.post(REPORT_FORM, data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Some answers need your attention" in page
    # The field's own error, next to "What happened?".
    assert 'id="q_what-error">This field is required.' in page
    assert db.scalars(select(Report)).all() == []


def test_an_answer_with_content_is_kept_as_typed(client, db, settings, channel_with_handlers):
    from tests.helpers.reporting import content_of

    data = report_form_data(client, q_what="  The tender was rigged.\n")
    response = client.post(REPORT_FORM, data=data, content_type="multipart/form-data")
    assert response.status_code == 303
    content = content_of(settings, db, channel_with_handlers["hana"].identity)
    assert content["answers"]["what"] == "  The tender was rigged.\n"
