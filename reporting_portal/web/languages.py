"""The six official languages of the United Nations, and which one a page is shown in.

A language given in the address (``?lang=ar``, the links every page carries) is kept in
the session, and lasts only as long as it; without one, the first visit follows the
browser's ``Accept-Language``. Nothing else decides: the choice is never stored with a
report, and everyone who asks for a page in one language is served the same page.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import has_request_context, request, session
from flask_babel import get_locale

SESSION_KEY = "lang"
DEFAULT = "en"


@dataclass(frozen=True, slots=True)
class Language:
    code: str  # Babel's locale identifier, the name of its catalogue folder
    tag: str  # BCP 47, for lang="" and hreflang=""
    name: str  # in the language itself, as its speakers look for it
    direction: str = "ltr"


# In the UN's order (English alphabetical), each named in itself.
LANGUAGES = (
    Language("ar", "ar", "العربية", "rtl"),
    Language("zh_Hans", "zh-Hans", "中文"),
    Language("en", "en", "English"),
    Language("fr", "fr", "Français"),
    Language("ru", "ru", "Русский"),
    Language("es", "es", "Español"),
)
_BY_CODE = {language.code: language for language in LANGUAGES}
# Accept-Language and ?lang= name a language by its BCP 47 tag or its primary subtag
# ("zh-CN", "zh-Hans", "zh"): each maps to one of ours.
_BY_PRIMARY_TAG = {language.tag.split("-")[0].lower(): language for language in LANGUAGES}


def language(code: str) -> Language:
    return _BY_CODE.get(code, _BY_CODE[DEFAULT])


def from_tag(tag: str | None) -> Language | None:
    """Our language for a tag a browser or a link gave, or None for any other."""
    if not tag:
        return None
    return _BY_CODE.get(tag) or _BY_PRIMARY_TAG.get(tag.replace("_", "-").split("-")[0].lower())


def select_locale() -> str:
    """Flask-Babel's locale selector: the address, then the session, then the browser.

    Outside a request (a command's message), the default."""
    if not has_request_context():
        return DEFAULT
    chosen = from_tag(request.args.get(SESSION_KEY))
    if chosen is not None:
        if session.get(SESSION_KEY) != chosen.code:
            session[SESSION_KEY] = chosen.code
        return chosen.code
    kept = session.get(SESSION_KEY)
    if isinstance(kept, str) and kept in _BY_CODE:
        return kept
    best = request.accept_languages.best_match(list(_BY_PRIMARY_TAG))
    return _BY_PRIMARY_TAG[best].code if best else DEFAULT


def language_url(code: str) -> str:
    """This page in another language: a link of a query alone, which keeps the path.

    A page's other query arguments (filters, a page number) are kept; an address that
    matched no route keeps none, so an error page echoes nothing of the request. A page
    shown after a POST (a form sent back with its errors) links to its own address,
    which shows the form again, empty, in the other language."""
    args = request.args.to_dict() if request.url_rule is not None else {}
    args[SESSION_KEY] = language(code).tag
    return "?" + urlencode(args)


def clear_keeping_language(kept: MutableMapping[str, Any]) -> None:
    """Empty a session (a sign-in's fresh start, a sign-out) but keep its language.

    The page of this very request is then still shown in it, and a reporter who chose
    Arabic before opening the mailbox keeps Arabic inside it."""
    get_locale()  # fixed for this request before the session forgets it
    chosen = kept.get(SESSION_KEY)
    kept.clear()
    if isinstance(chosen, str) and chosen in _BY_CODE:
        kept[SESSION_KEY] = chosen
