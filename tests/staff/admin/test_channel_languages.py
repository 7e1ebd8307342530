"""An administrator gives a channel's and its questions' texts in each of its languages,
and chooses those languages and their order (issue 14)."""

import re

import pytest
from sqlalchemy import select

from reporting_portal.storage.models import AuditEvent, Channel, Role
from tests.helpers import csrf_token

pytestmark = pytest.mark.database

NEW = "/staff/admin/channels/new"


@pytest.fixture
def admin_client(client, make_staff, sign_in, installed):
    sign_in(make_staff("ada", Role.ADMINISTRATOR))
    return client


@pytest.fixture
def tenders(admin_client, make_staff):
    """A channel in French (first) and English, open to reporters; its editor's path."""
    hana = make_staff("hana", Role.CASE_HANDLER)
    response = admin_client.post(NEW, data={
        "csrf_token": csrf_token(admin_client, NEW), "slug": "tenders",
        "retention_days": "1095", "is_active": "y", "handlers": [hana.public_id],
        "place_fr": "1", "place_en": "2", "name_fr": "Marchés publics",
        "description_fr": "Appels d’offres truqués.", "name_en": "Public tenders"})
    assert response.status_code == 302
    return response.headers["Location"]


def add_question(client, path, **fields):
    token = csrf_token(client, path)
    return client.post(f"{path}/questions", data={
        "csrf_token": token, "question-csrf_token": token, **{
            f"question-{name}": value for name, value in fields.items()}})


def test_the_new_channel_form_has_a_fieldset_per_language(admin_client):
    page = admin_client.get(NEW).get_data(as_text=True)
    for code, tag, direction in (("ar", "ar", "rtl"), ("zh_Hans", "zh-Hans", "ltr"),
                                 ("fr", "fr", "ltr")):
        assert f'id="texts-name-{code}"' in page
        name_input = re.search(rf'<input[^>]*name="name_{code}"[^>]*>', page).group(0)
        assert f'lang="{tag}"' in name_input
        assert f'dir="{direction}"' in name_input


def test_texts_per_language_reach_the_reporter(admin_client, tenders, db):
    added = add_question(
        admin_client, tenders, field_id="which", field_type="single_choice", required="y",
        label_fr="Quel marché\u00a0?", label_en="Which tender?",
        choices_fr="Routes\nÉcoles", choices_en="Roads\nSchools")
    assert added.status_code == 302
    french = admin_client.get("/report/tenders?lang=fr").get_data(as_text=True)
    assert "Marchés publics" in french
    assert "Quel marché\u00a0?" in french
    assert "Écoles" in french
    english = admin_client.get("/report/tenders?lang=en").get_data(as_text=True)
    assert "Public tenders" in english
    assert "Schools" in english
    # The code is taken from the first language's label, the same on both pages.
    assert 'value="ecoles"' in french
    assert 'value="ecoles"' in english
    # Arabic is not offered: the first language, French, is shown.
    arabic = admin_client.get("/report/tenders?lang=ar").get_data(as_text=True)
    assert "Quel marché\u00a0?" in arabic
    channel = db.scalar(select(Channel).where(Channel.slug == "tenders"))
    assert channel.languages == ["fr", "en"]
    assert channel.name == "Marchés publics"


def test_bad_texts_are_refused_with_the_reason(admin_client, tenders):
    no_first = add_question(admin_client, tenders, field_id="x", field_type="short_text",
                            label_en="Only English")
    assert no_first.status_code == 400
    assert "it is the channel&#39;s first language" in no_first.get_data(as_text=True)
    uneven = add_question(admin_client, tenders, field_id="y", field_type="single_choice",
                          label_fr="Choix", choices_fr="Un\nDeux", choices_en="One")
    assert uneven.status_code == 400
    assert "Lines needed: 2; given here: 1." in uneven.get_data(as_text=True)
    too_long = add_question(admin_client, tenders, field_id="z", field_type="short_text",
                            label_fr="x" * 301)
    assert too_long.status_code == 400


def test_languages_need_distinct_places_and_a_first_name(admin_client, tenders):
    base = {"csrf_token": csrf_token(admin_client, tenders), "slug": "tenders",
            "retention_days": "1095", "name_fr": "Marchés"}
    clash = admin_client.post(tenders, data={**base, "place_fr": "1", "place_en": "1"})
    assert clash.status_code == 400
    assert "its own place" in clash.get_data(as_text=True)
    unknown_place = admin_client.post(tenders, data={**base, "place_fr": "9"})
    assert unknown_place.status_code == 400
    assert "Not a valid choice" in unknown_place.get_data(as_text=True)
    none = admin_client.post(tenders, data=base)
    assert "at least one language" in none.get_data(as_text=True)
    unnamed = admin_client.post(tenders, data={**base, "place_en": "1", "place_fr": "2"})
    assert unnamed.status_code == 400
    assert "name in the channel&#39;s first language" in unnamed.get_data(as_text=True)


def test_an_existing_question_gets_texts_in_a_new_language(admin_client, tenders, db):
    add_question(admin_client, tenders, field_id="which", field_type="single_choice",
                 label_fr="Quel marché\u00a0?", choices_fr="Routes\nÉcoles")
    path = f"{tenders}/questions/which"
    form = admin_client.get(path).get_data(as_text=True)
    assert 'lang="fr"' in form
    assert "Routes\nÉcoles" in form
    saved = admin_client.post(path, data={
        "csrf_token": csrf_token(admin_client, path), "label_fr": "Quel marché\u00a0?",
        "choices_fr": "Routes\nÉcoles", "label_en": "Which tender?",
        "choices_en": "Roads\nSchools"})
    assert saved.status_code == 302
    english = admin_client.get("/report/tenders?lang=en").get_data(as_text=True)
    assert "Which tender?" in english
    assert 'value="routes"' in english  # the code did not change
    assert "Roads" in english
    uneven = admin_client.post(path, data={
        "csrf_token": csrf_token(admin_client, path), "label_fr": "Quel marché\u00a0?",
        "choices_en": "Roads"})
    assert uneven.status_code == 400
    changes = list(db.scalars(select(AuditEvent.action).where(
        AuditEvent.object_type == "channel", AuditEvent.action == "channel.changed")))
    assert len(changes) == 2  # the question added, then its texts
