"""A staff notice is written in the installation's mail_language (issue 14), whatever the
language of the page or job that queued it."""

from __future__ import annotations

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo

from reporting_portal.domain.notice_mail import NoticeContent, notice_message
from tests.helpers.smtp import body_of

NEW_ITEMS = ("You have %(num)d new item waiting in %(organisation)s. Sign in to read them.",
             "You have %(num)d new items waiting in %(organisation)s. Sign in to read them.")


@pytest.fixture
def french_notices(app, tmp_path, monkeypatch):
    """A French catalogue holding the notice's words, in place of the shipped ones (which
    translators fill on their own branches)."""
    catalog = Catalog(locale="fr")
    # CLDR's French has three forms: one, many (a million), other.
    catalog.add(NEW_ITEMS, ("Vous avez %(num)d nouvel élément dans %(organisation)s.",
                            "Vous avez %(num)d de nouveaux éléments dans %(organisation)s.",
                            "Vous avez %(num)d nouveaux éléments dans %(organisation)s."))
    catalog.add("%(organisation)s: new items", "%(organisation)s : nouveaux éléments")
    folder = tmp_path / "fr" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with (folder / "messages.mo").open("wb") as mo:
        write_mo(mo, catalog)
    babel = app.extensions["babel"]
    monkeypatch.setattr(babel, "translation_directories", [str(tmp_path)])
    with app.app_context():  # the domain is made on first use, and caches catalogues
        domain = babel.instance.domain_instance
    monkeypatch.setattr(domain, "cache", {})


def test_a_notice_is_written_in_the_mail_language_not_the_pages(app, french_notices):
    settings = app.extensions["settings"].replace(mail_language="fr")
    organisation = settings.organisation_name
    with app.test_request_context("/?lang=ru"):
        mail = notice_message(settings, "hana@example.org", NoticeContent(3, False))
    assert mail["Subject"] == f"{organisation} : nouveaux éléments"
    assert body_of(mail) == f"Vous avez 3 nouveaux éléments dans {organisation}.\n"


@pytest.mark.parametrize(("count", "words"), [(1, "1 new item"), (4, "4 new items")])
def test_an_english_notice_counts_in_the_singular_and_the_plural(app, count, words):
    settings = app.extensions["settings"]
    with app.app_context():
        mail = notice_message(settings, "hana@example.org", NoticeContent(count, False))
    assert body_of(mail).startswith(f"You have {words} waiting in ")
