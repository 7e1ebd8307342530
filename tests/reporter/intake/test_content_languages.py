"""The reporter reads the channel and its questions in their page's language, falling
back to the channel's first language; the answers stored are the same in every language
(issue 14)."""

import json

import pytest
from sqlalchemy import inspect, select

from reporting_portal.storage.models import Channel, Report
from tests.helpers.reporting import REPORT_FORM, content_of, report_form_data

pytestmark = pytest.mark.database


def page(client, path):
    response = client.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_default_form_in_arabic_and_french(client, channel_with_handlers):
    arabic = page(client, f"{REPORT_FORM}?lang=ar")
    assert "الإبلاغ عن الفساد" in arabic
    assert "ماذا حدث؟" in arabic
    assert "رشوة" in arabic
    assert "What happened?" not in arabic
    french = page(client, f"{REPORT_FORM}?lang=fr")
    assert "Signaler la corruption" in french
    assert "Que s’est-il passé\u00a0?" in french
    # The value sent is the choice's code, whatever language its label is in.
    assert 'value="Bribery"' in french
    assert "Pots-de-vin" in french


def test_the_channel_list_follows_the_page_language(client, channel_with_handlers):
    assert "举报腐败" in page(client, "/report?lang=zh_Hans")
    assert "Сообщить о коррупции" in page(client, "/report?lang=ru")


def test_a_text_missing_in_the_page_language_falls_back_to_the_first(
        client, db, channel_with_handlers):
    channel = db.scalar(select(Channel).where(Channel.slug == "corruption"))
    channel.languages = ["fr", "en"]
    channel.names = {"fr": "Signaler", "en": "Report"}
    channel.questionnaire = [
        {**q, "label": {"fr": q["label"]["fr"]}} if q["id"] == "what" else q
        for q in channel.questionnaire]
    db.commit()
    arabic = page(client, f"{REPORT_FORM}?lang=ar")
    # Arabic is not among the channel's languages: its name is in French, marked so.
    assert '<h1 lang="fr" dir="ltr">Signaler</h1>' in arabic
    assert "Que s’est-il passé\u00a0?" in arabic
    english = page(client, f"{REPORT_FORM}?lang=en")
    assert "Que s’est-il passé\u00a0?" in english  # the label has no English text
    assert "<h1>Report</h1>" in english


def test_a_report_sent_in_arabic_stores_codes_not_labels(client, db, settings,
                                                         channel_with_handlers, sign_in):
    page(client, f"{REPORT_FORM}?lang=ar")
    response = client.post(REPORT_FORM, data=report_form_data(client),
                           content_type="multipart/form-data")
    assert response.status_code == 303
    content = content_of(settings, db, channel_with_handlers["hana"].identity)
    assert content["answers"]["kind"] == ["Bribery"]
    assert content["answers"]["how_known"] == "I found documents"
    # Neither the answers nor the report's row say which language the form was read in.
    assert '"ar"' not in json.dumps(content)
    assert not [c for c in inspect(Report).columns if "lang" in c.name]

    reference = db.scalar(select(Report.public_id))
    client.delete_cookie("__Host-session", domain="localhost")
    sign_in(channel_with_handlers["hana"])
    english = page(client, f"/staff/cases/{reference}?lang=en")
    assert "What kind of wrongdoing is it?" in english
    assert "I found documents" in english
    french = page(client, f"/staff/cases/{reference}?lang=fr")
    assert "De quel type de manquement s’agit-il\u00a0?" in french
    assert "J’ai trouvé des documents" in french
    assert "Pots-de-vin" in french
