"""Every word a reporter reads exists in the six UN languages (issue 14).

A reporter may read only Arabic, Chinese, French, Russian or Spanish; one English
sentence on the report form can be the one that says "nothing was stored". So:

- every message extracted from the sources a reporter reads (REPORTER_SOURCES) has a
  non-empty, non-fuzzy translation, in every plural form, in each of those languages;
- every message of the whole catalogue, staff pages too, has one in French and Spanish
  (the languages every installation so far staffs its office in);
- a translation names the same placeholders as its msgid (a missing ``%(count)d`` raises
  at render time, a missing ``{percent}`` leaves the browser's status line blank);
- messages.pot holds what the sources say today: whoever adds a string runs
  ``make messages``.

These fail while translators are still filling the catalogues: the message names
what is missing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from fnmatch import fnmatch
from functools import cache
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from config.settings import MAIL_LANGUAGES
from reporting_portal.web.languages import LANGUAGES

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "reporting_portal" / "translations"
# What a reporter reads: the public zone's code and pages, the base pages every page
# extends, the error pages and the language names (web/), and the words of a case's
# stage and outcome in the mailbox. staff_base.html is the staff pages' frame, never
# served to a reporter.
REPORTER_SOURCES = (
    "reporting_portal/reporter/**",
    "reporting_portal/templates/**",
    "reporting_portal/web/**",
    "reporting_portal/domain/case_words.py",
)
NOT_REPORTER_SOURCES = ("reporting_portal/templates/staff_base.html",)
# The keywords `make messages` passes to pybabel extract (-k _l -k lazy_gettext).
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
TRANSLATED = [language.code for language in LANGUAGES if language.code != "en"]
EVERY_MESSAGE = ("fr", "es")

# %(name)s, %d, and the browser's {name}; "%%" is a literal percent sign.
_PYTHON_PLACEHOLDER = re.compile(
    r"%(?:\((?P<name>\w+)\))?[#0\- +]*(?:\d+|\*)?(?:\.\d+)?(?P<kind>[diouxXeEfFgGcrsa%])")
_BRACE_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@cache
def extracted() -> dict[str, set[str]]:
    """Each msgid the sources hold, with the files that hold it (as babel.cfg says)."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    found: dict[str, set[str]] = {}
    for filename, _line, message, _comments, _context in extract_from_dir(
            ROOT, method_map, options_map, keywords=KEYWORDS):
        msgid = message[0] if isinstance(message, tuple | list) else message
        if msgid:
            found.setdefault(msgid, set()).add(Path(filename).as_posix())
    return found


def is_reporter_source(filename: str) -> bool:
    return (any(fnmatch(filename, pattern) for pattern in REPORTER_SOURCES)
            and filename not in NOT_REPORTER_SOURCES)


def reporter_msgids() -> set[str]:
    return {msgid for msgid, files in extracted().items()
            if any(is_reporter_source(name) for name in files)}


@cache
def catalogue(code: str) -> Catalog:
    with (TRANSLATIONS / code / "LC_MESSAGES" / "messages.po").open("rb") as po:
        return read_po(po, locale=code)


def translated_messages(catalog: Catalog) -> Iterator[Message]:
    return (message for message in catalog if message.id)


def singular(message: Message) -> str:
    return message.id[0] if isinstance(message.id, tuple | list) else message.id


def forms(message: Message) -> list[str]:
    return list(message.string) if isinstance(message.string, tuple | list) else [
        message.string]


def untranslated(catalog: Catalog, msgids: set[str]) -> list[str]:
    """The msgids among ``msgids`` that lack a usable translation in ``catalog``."""
    by_id = {singular(message): message for message in translated_messages(catalog)}
    missing = []
    for msgid in sorted(msgids):
        message = by_id.get(msgid)
        if message is None:
            missing.append(f"{msgid!r} (not in the catalogue: run `make messages`)")
        elif message.fuzzy:
            missing.append(f"{msgid!r} (fuzzy)")
        elif not all(forms(message)) or (
                message.pluralizable and len(forms(message)) < catalog.num_plurals):
            missing.append(repr(msgid))
    return missing


def placeholders(text: str) -> set[str]:
    found = {f"%({match['name']}){match['kind']}" if match["name"] else f"%{match['kind']}"
             for match in _PYTHON_PLACEHOLDER.finditer(text) if match["kind"] != "%"}
    return found | {f"{{{name}}}" for name in _BRACE_PLACEHOLDER.findall(text)}


def placeholder_mismatches(catalog: Catalog) -> list[str]:
    wrong = []
    for message in translated_messages(catalog):
        ids = list(message.id) if isinstance(message.id, tuple | list) else [message.id]
        expected = placeholders(ids[-1])
        for form in forms(message):
            # A plural's singular form may say "one" instead of "%(num)d".
            if form and placeholders(form) not in (expected, expected - {"%(num)d"}):
                wrong.append(f"{singular(message)!r}: {form!r}")
    return wrong


def _named(problems: list[str], what: str) -> str:
    return f"{len(problems)} {what}:\n" + "\n".join(problems)


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_message_a_reporter_reads_is_translated(code):
    missing = untranslated(catalogue(code), reporter_msgids())
    assert missing == [], _named(missing, f"messages a reporter reads lack a {code} translation")


@pytest.mark.parametrize("code", EVERY_MESSAGE)
def test_every_message_is_translated_into_french_and_spanish(code):
    missing = untranslated(catalogue(code), set(extracted()))
    assert missing == [], _named(missing, f"messages lack a {code} translation")


@pytest.mark.parametrize("code", TRANSLATED)
def test_a_translation_names_the_placeholders_of_its_message(code):
    wrong = placeholder_mismatches(catalogue(code))
    assert wrong == [], _named(wrong, f"{code} translations name other placeholders")


def test_the_template_holds_what_the_sources_say():
    with (TRANSLATIONS / "messages.pot").open("rb") as pot:
        template = {singular(message) for message in translated_messages(read_po(pot))}
    in_sources = set(extracted())
    stale = [f"new in the sources: {msgid!r}" for msgid in sorted(in_sources - template)]
    stale += [f"gone from the sources: {msgid!r}" for msgid in sorted(template - in_sources)]
    assert stale == [], _named(stale, "differences: run `make messages`")


def test_the_reporter_sources_are_found():
    """A pattern that matched nothing would make the first test pass vacuously."""
    files = {name for names in extracted().values() for name in names}
    for pattern in REPORTER_SOURCES:
        assert any(fnmatch(name, pattern) for name in files), pattern
    assert "Page not found" in reporter_msgids() or len(reporter_msgids()) > 50


def test_the_placeholder_check_sees_a_dropped_or_renamed_placeholder():
    catalog = Catalog(locale="fr")
    catalog.add("Up to %(files)d files.", "Jusqu'à %(fichiers)d fichiers.")
    catalog.add("Encrypting… {percent}%", "Chiffrement…")
    catalog.add(("%(num)d file", "%(num)d files"), ("un fichier", "%(num)d fichiers"))
    catalog.add("100%% sure", "sûr à 100 %%")
    assert placeholder_mismatches(catalog) == [
        "'Up to %(files)d files.': \"Jusqu'à %(fichiers)d fichiers.\"",
        "'Encrypting… {percent}%': 'Chiffrement…'",
    ]


def test_a_fuzzy_empty_or_partly_plural_translation_counts_as_missing():
    catalog = Catalog(locale="ru")  # three plural forms
    catalog.add("Done", "Готово")
    catalog.add("Sent", "Отправлено", flags=["fuzzy"])
    catalog.add("Wait", "")
    catalog.add(("%(num)d file", "%(num)d files"), ("%(num)d файл", "%(num)d файла", ""))
    assert untranslated(catalog, {"Done", "Sent", "Wait", "%(num)d file", "Gone"}) == [
        "'%(num)d file'", "'Gone' (not in the catalogue: run `make messages`)",
        "'Sent' (fuzzy)", "'Wait'"]


def test_mail_can_be_written_in_each_language_of_the_pages():
    assert set(MAIL_LANGUAGES) == {language.code for language in LANGUAGES}
