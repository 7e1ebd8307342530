"""Which language a page is shown in: the address, then the session, then the browser."""

from __future__ import annotations

import re

import pytest

from reporting_portal.web.languages import LANGUAGES, from_tag
from tests.helpers import csrf_token
from tests.helpers.reporting import open_mailbox


def html_element(page: str) -> str:
    found = re.search(r"<html[^>]*>", page)
    assert found is not None
    return found.group(0)


@pytest.mark.parametrize(("accept", "lang", "direction"), [
    ("ar,en;q=0.5", "ar", "rtl"),
    ("zh-CN,zh;q=0.9", "zh-Hans", "ltr"),
    ("ru-RU", "ru", "ltr"),
    ("es-419,es;q=0.9", "es", "ltr"),
    ("fr-CA", "fr", "ltr"),
    ("de-DE,de;q=0.9", "en", "ltr"),  # not one of the six: English
    ("", "en", "ltr"),
])
def test_the_first_visit_follows_the_browser(client, accept, lang, direction):
    page = client.get("/", headers={"Accept-Language": accept}).get_data(as_text=True)
    assert html_element(page) == f'<html lang="{lang}" dir="{direction}">'


def test_a_language_chosen_by_link_lasts_the_session(client):
    arabic = client.get("/?lang=ar", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'dir="rtl"' in html_element(arabic)
    later = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert html_element(later) == '<html lang="ar" dir="rtl">'
    back = client.get("/?lang=en").get_data(as_text=True)
    assert html_element(back) == '<html lang="en" dir="ltr">'


def test_every_page_links_the_six_languages_each_in_its_own_name(client):
    page = client.get("/").get_data(as_text=True)
    for language in LANGUAGES:
        link = (f'hreflang="{language.tag}" lang="{language.tag}" '
                f'dir="{language.direction}"')
        assert link in page, language.tag
        assert f">{language.name}</a>" in page


def test_an_unknown_language_in_the_address_changes_nothing(client):
    page = client.get("/?lang=xx", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert html_element(page) == '<html lang="fr" dir="ltr">'


@pytest.mark.parametrize(("tag", "code"), [
    ("zh", "zh_Hans"), ("zh-Hans", "zh_Hans"), ("zh_Hans", "zh_Hans"), ("AR", "ar"),
    ("en-GB", "en"), ("xx", None), ("", None), (None, None),
])
def test_tags_map_to_our_languages(tag, code):
    found = from_tag(tag)
    assert (found.code if found else None) == code


def test_the_language_links_keep_the_page_and_its_query(client):
    page = client.get("/?lang=fr&x=1").get_data(as_text=True)
    assert 'href="?lang=ar&amp;x=1" hreflang="ar"' in page


def test_the_language_outlasts_the_fresh_session_of_a_sign_in_and_out(client, receipt_code):
    client.get("/followup?lang=ru")
    assert open_mailbox(client, receipt_code).headers["Location"] == "/followup/mailbox"
    mailbox = client.get("/followup/mailbox", headers={"Accept-Language": "en"})
    assert html_element(mailbox.get_data(as_text=True)) == '<html lang="ru" dir="ltr">'
    signed_out = client.post("/followup/sign-out", data={
        "csrf_token": csrf_token(client, "/followup/mailbox")})
    assert html_element(signed_out.get_data(as_text=True)) == '<html lang="ru" dir="ltr">'
