"""Administrators manage channels: handlers, questionnaire; reporters see the result."""

import pytest
from sqlalchemy import select

from reporting_portal.storage.models import AuditEvent, Channel, Role
from tests.helpers import csrf_token

pytestmark = pytest.mark.database


@pytest.fixture
def admin_client(client, make_staff, sign_in, installed):
    sign_in(make_staff("ada", Role.ADMINISTRATOR))
    return client


def channel_id(db, slug="corruption"):
    return db.scalar(select(Channel.public_id).where(Channel.slug == slug))


def channel_data(client, path, **fields):
    """The channel form's fields: English only unless ``fields`` say otherwise."""
    return {"csrf_token": csrf_token(client, path), "place_en": "1", "retention_days": "1095",
            "is_active": "y", **fields}


def test_init_made_a_default_channel_that_waits_for_handlers(admin_client, db):
    page = admin_client.get("/staff/admin/channels").get_data(as_text=True)
    assert "Report corruption" in page
    assert "reporters cannot use it yet" in page


def test_assigning_a_handler_opens_the_channel_to_reporters(admin_client, db, make_staff):
    hana = make_staff("hana", Role.CASE_HANDLER)
    path = f"/staff/admin/channels/{channel_id(db)}"
    response = admin_client.post(path, data=channel_data(
        admin_client, path, name_en="Report corruption", slug="corruption",
        description_en="Bribery and fraud.", notify_identity_disclosure="y",
        handlers=[hana.public_id]))
    assert response.status_code == 302
    assert "Report corruption" in admin_client.get("/report").get_data(as_text=True)
    assert admin_client.get("/report/corruption").status_code == 200
    events = db.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "channel"))
    assert "channel.changed" in list(events)


def test_new_channel_and_its_questionnaire(admin_client, db, make_staff):
    hana = make_staff("hana", Role.CASE_HANDLER)
    response = admin_client.post("/staff/admin/channels/new", data=channel_data(
        admin_client, "/staff/admin/channels/new", name_en="Procurement fraud",
        slug="procurement", handlers=[hana.public_id]))
    edit_path = response.headers["Location"]
    token = csrf_token(admin_client, edit_path)
    added = admin_client.post(f"{edit_path}/questions", data={
        "csrf_token": token, "question-csrf_token": token, "question-field_id": "tender",
        "question-field_type": "single_choice", "question-label_en": "Which tender?",
        "question-required": "y", "question-choices_en": "Roads\nSchools\n"})
    assert added.status_code == 302
    form = admin_client.get("/report/procurement").get_data(as_text=True)
    assert "Which tender?" in form
    assert 'value="schools"' in form

    bad = admin_client.post(f"{edit_path}/questions", data={
        "csrf_token": token, "question-csrf_token": token, "question-field_id": "Bad Id",
        "question-field_type": "short_text", "question-label_en": "x"})
    assert bad.status_code == 400
    assert "Start with a lower-case letter" in bad.get_data(as_text=True)

    removed = admin_client.post(f"{edit_path}/questions/tender/remove",
                                data={"csrf_token": token})
    assert removed.status_code == 302
    assert "Which tender?" not in admin_client.get("/report/procurement").get_data(as_text=True)


def test_slug_clash_and_bad_slug_are_refused(admin_client, db):
    path = "/staff/admin/channels/new"
    response = admin_client.post(path, data=channel_data(
        admin_client, path, name_en="Copy", slug="corruption"))
    assert response.status_code == 400
    assert "Another channel uses that address name" in response.get_data(as_text=True)
    response = admin_client.post(path, data=channel_data(
        admin_client, path, name_en="Copy", slug="../x"))
    assert "The address name is 3 to 64" in response.get_data(as_text=True)


def test_channel_pages_are_for_administrators_only(client, make_staff, sign_in, installed):
    sign_in(make_staff("hana", Role.CASE_HANDLER))
    assert client.get("/staff/admin/channels").status_code == 403


def test_label_vocabulary_is_managed_by_administrators(admin_client, db):
    from reporting_portal.storage.models import Label

    token = csrf_token(admin_client, "/staff/admin/labels")
    admin_client.post("/staff/admin/labels", data={"csrf_token": token, "name": "Procurement"})
    again = admin_client.post("/staff/admin/labels", data={"csrf_token": token,
                                                          "name": "procurement"})
    assert "That label exists already" in again.get_data(as_text=True)
    [label] = db.scalars(select(Label)).all()
    assert label.name == "procurement"
    admin_client.post(f"/staff/admin/labels/{label.id}/delete", data={"csrf_token": token})
    db.expire_all()
    assert db.scalars(select(Label)).all() == []
    actions = list(db.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "label")))
    assert actions == ["label.created", "label.deleted"]
