"""The questionnaire editor (issue 15, item 7): edit any question, move it either way,
plain type names, a preview in the reporter's words, refusals beside their field, and a
copy of another channel's questions."""

import re

import pytest
from sqlalchemy import func, select

from reporting_portal.storage.models import AuditEvent, Channel, Role
from tests.helpers import csrf_token

pytestmark = pytest.mark.database

NEW = "/staff/admin/channels/new"


@pytest.fixture
def admin_client(client, make_staff, sign_in, installed):
    sign_in(make_staff("ada", Role.ADMINISTRATOR))
    return client


@pytest.fixture
def corruption(db):
    """The editor's path of the default channel, in six languages, English first."""
    public_id = db.scalar(select(Channel.public_id).where(Channel.slug == "corruption"))
    return f"/staff/admin/channels/{public_id}"


@pytest.fixture
def tenders(admin_client, make_staff):
    """A channel in French (first) and English, open to reporters; its editor's path."""
    hana = make_staff("hana", Role.CASE_HANDLER)
    response = admin_client.post(NEW, data={
        "csrf_token": csrf_token(admin_client, NEW), "slug": "tenders",
        "retention_days": "1095", "is_active": "y", "handlers": [hana.public_id],
        "place_fr": "1", "place_en": "2", "name_fr": "Marchés publics",
        "name_en": "Public tenders"})
    assert response.status_code == 302
    return response.headers["Location"]


def add_question(client, path, **fields):
    token = csrf_token(client, path)
    return client.post(f"{path}/questions", data={
        "csrf_token": token, "question-csrf_token": token, **{
            f"question-{name}": value for name, value in fields.items()}})


def stored(db, slug):
    db.expire_all()
    return db.scalar(select(Channel).where(Channel.slug == slug)).questionnaire


def channel_changes(db):
    return db.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.object_type == "channel", AuditEvent.action == "channel.changed"))


def error_beside(page, field_name):
    """The error shown beside the field named ``field_name``, checked to be tied to it."""
    control = re.search(rf'<(?:input|textarea|select)[^>]*name="{field_name}"[^>]*>', page)
    assert control, f"no field {field_name}"
    described = re.search(r'aria-describedby="([^"]+)"', control.group(0))
    assert described, f"{field_name} is not tied to an error"
    error_id = next(i for i in described.group(1).split() if i.endswith("-error"))
    message = re.search(rf'<p class="field__error" id="{error_id}">([^<]*)</p>', page)
    assert message, f"no error {error_id}"
    return message.group(1)


@pytest.fixture
def which(admin_client, tenders):
    """A single-choice question of the tenders channel; its edit page's path."""
    added = add_question(admin_client, tenders, field_id="which", field_type="single_choice",
                         label_fr="Quel marché\u00a0?", label_en="Which tender?",
                         choices_fr="Routes\nÉcoles", choices_en="Roads\nSchools")
    assert added.status_code == 302
    return f"{tenders}/questions/which"


def test_a_question_becomes_required_with_a_renamed_and_a_new_choice(admin_client, which, db):
    before = channel_changes(db)
    saved = admin_client.post(which, data={
        "csrf_token": csrf_token(admin_client, which), "required": "y",
        "label_fr": "Quel marché\u00a0?", "label_en": "Which tender?",
        "choices_fr": "Routes nationales\nÉcoles\nHôpitaux",
        "choices_en": "National roads\nSchools\nHospitals"})
    assert saved.status_code == 302
    [question] = [q for q in stored(db, "tenders") if q["id"] == "which"]
    assert question["required"] is True
    # The renamed choice keeps its code: answers already stored still name it.
    assert [c["code"] for c in question["choices"]] == ["routes", "ecoles", "hopitaux"]
    english = admin_client.get("/report/tenders?lang=en").get_data(as_text=True)
    assert re.search(r'value="routes"[^>]*>\s*<label[^>]*>National roads', english)
    assert re.search(r'value="hopitaux"[^>]*>\s*<label[^>]*>Hospitals', english)
    assert re.search(r"Which tender\?\s*<span class=\"required\">", english)
    assert channel_changes(db) == before + 1
    # The edit page shows what was saved: the flag ticked, the three choices.
    page = admin_client.get(which).get_data(as_text=True)
    assert re.search(r'<input[^>]*checked[^>]*name="required"|<input[^>]*name="required"'
                     r'[^>]*checked', page)
    assert "Routes nationales\nÉcoles\nHôpitaux" in page


def test_dropping_a_choice_is_refused_beside_the_field_keeping_what_was_typed(
        admin_client, which, db):
    refused = admin_client.post(which, data={
        "csrf_token": csrf_token(admin_client, which), "label_fr": "Quel marché, déjà\u00a0?",
        "choices_fr": "Routes"})
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "keep them all (2 lines)" in error_beside(page, "choices_fr")
    assert 'value="Quel marché, déjà\u00a0?"' in page  # the label as typed
    assert re.search(r'name="choices_fr"[^>]*>\s*Routes</textarea>', page)
    [question] = [q for q in stored(db, "tenders") if q["id"] == "which"]
    assert question["label"]["fr"] == "Quel marché\u00a0?"  # nothing half-written


def test_a_question_moves_down_and_the_last_has_no_move_down(admin_client, corruption, db):
    before = channel_changes(db)
    moved = admin_client.post(f"{corruption}/questions/what/move-down",
                              data={"csrf_token": csrf_token(admin_client, corruption)})
    assert moved.status_code == 302
    assert [q["id"] for q in stored(db, "corruption")][:2] == ["when", "what"]
    assert channel_changes(db) == before + 1
    page = admin_client.get(corruption).get_data(as_text=True)
    last = [q["id"] for q in stored(db, "corruption")][-1]
    assert "/questions/when/move-down" in page
    assert f"/questions/{last}/move-down" not in page
    assert "/questions/when/move-up" not in page  # now first


def test_field_types_have_plain_names(admin_client, corruption):
    page = admin_client.get(corruption).get_data(as_text=True)
    assert "<td>Long text</td>" in page
    assert "<td>Multiple choice</td>" in page
    assert "<td>long_text</td>" not in page
    french = admin_client.get(f"{corruption}?lang=fr").get_data(as_text=True)
    assert "<td>Texte long</td>" in french


def test_the_preview_shows_the_reporters_form_in_the_chosen_language(admin_client, corruption):
    page = admin_client.get(f"{corruption}/preview?language=fr").get_data(as_text=True)
    preview = page[page.index('id="question-preview"'):]
    assert 'lang="fr"' in page[page.index('<section class="panel preview"'):][:200]
    assert "Que s\u2019est-il passé\u00a0?" in preview
    assert "Mo au total" in preview  # the form's own words in the reporter's language
    assert "<fieldset disabled" in preview  # nothing in it can be typed in or sent
    assert "<form" not in preview
    assert "Que s\u2019est-il passé" not in admin_client.get(
        f"{corruption}/preview?language=en").get_data(as_text=True)
    # A language the channel does not offer shows its first, English.
    assert "What happened?" in admin_client.get(
        f"{corruption}/preview?language=xx").get_data(as_text=True)


def test_the_preview_is_for_administrators_only(client, make_staff, sign_in, installed,
                                                corruption):
    sign_in(make_staff("hana", Role.CASE_HANDLER))
    assert client.get(f"{corruption}/preview").status_code == 403


def test_a_new_questions_mistakes_are_shown_beside_their_fields(admin_client, corruption):
    bad_id = add_question(admin_client, corruption, field_id="Amount!", field_type="short_text",
                          label_en="How much money?")
    assert bad_id.status_code == 400
    page = bad_id.get_data(as_text=True)
    assert "Start with a lower-case letter" in error_beside(page, "question-field_id")
    assert 'value="How much money?"' in page
    assert 'value="Amount!"' in page
    # The channel's own settings, above, still show as saved, not blanked by this post.
    assert re.search(r'<input[^>]*name="name_en"[^>]*value="Report corruption"', page)
    assert re.search(r'<option selected value="1">1</option>', page)
    taken = add_question(admin_client, corruption, field_id="what", field_type="short_text",
                         label_en="Again")
    assert "Another question of this channel has this id." in error_beside(
        taken.get_data(as_text=True), "question-field_id")
    one_choice = add_question(admin_client, corruption, field_id="pick",
                              field_type="single_choice", label_en="Pick", choices_en="Only")
    assert "Give 2 to 30 choices" in error_beside(
        one_choice.get_data(as_text=True), "question-choices_en")
    no_label = add_question(admin_client, corruption, field_id="blank", field_type="short_text",
                            label_fr="Seulement en français")
    page = no_label.get_data(as_text=True)
    assert "it is the channel&#39;s first language" in error_beside(page, "question-label_en")
    assert 'value="Seulement en français"' in page


@pytest.fixture
def tenders_with_amount(tenders, db):
    """The tenders channel asking one question only, ``amount``."""
    channel = db.scalar(select(Channel).where(Channel.slug == "tenders"))
    channel.questionnaire = [{"id": "amount", "type": "short_text",
                              "label": {"fr": "Quel montant\u00a0?", "en": "How much?"}}]
    db.commit()
    return channel.public_id


def copy(client, path, **fields):
    token = csrf_token(client, path)
    return client.post(f"{path}/questions/copy", data={
        "csrf_token": token, "copy-csrf_token": token,
        **{f"copy-{name}": value for name, value in fields.items()}})


def test_questions_are_copied_after_or_instead_of_a_channels_own(
        admin_client, corruption, tenders_with_amount, db):
    before = channel_changes(db)
    appended = copy(admin_client, corruption, source=tenders_with_amount, mode="append")
    assert appended.status_code == 302
    assert "1 question copied from Marchés publics." in admin_client.get(
        corruption).get_data(as_text=True)
    ids = [q["id"] for q in stored(db, "corruption")]
    assert ids[0] == "what"
    assert ids[-1] == "amount"
    assert "How much?" in admin_client.get(f"{corruption}/preview").get_data(as_text=True)

    clash = copy(admin_client, corruption, source=tenders_with_amount, mode="append")
    assert clash.status_code == 400
    page = clash.get_data(as_text=True)
    assert re.search(r'<fieldset[^>]*aria-describedby="copy-mode-error"', page)
    assert re.search(r'id="copy-mode-error">Both channels have questions with these ids: '
                     r"amount\.", page)
    assert [q["id"] for q in stored(db, "corruption")] == ids

    replaced = copy(admin_client, corruption, source=tenders_with_amount, mode="replace")
    assert replaced.status_code == 302
    assert [q["id"] for q in stored(db, "corruption")] == ["amount"]
    assert channel_changes(db) == before + 2


def test_a_channel_cannot_copy_from_itself_or_from_nowhere(admin_client, corruption, db):
    public_id = corruption.rsplit("/", 1)[1]
    page = admin_client.get(corruption).get_data(as_text=True)
    assert "Copy questions from another channel" not in page  # there is no other channel
    itself = copy(admin_client, corruption, source=public_id, mode="append")
    assert itself.status_code == 400
    assert len(stored(db, "corruption")) == 8
