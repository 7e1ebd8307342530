"""What a member of staff typed into a form that arrived expired, shown back to them.

A CSRF failure on the staff surface (the session ended while they were typing a note,
or the page was older than their last sign-in) stores nothing. The page that answers
it shows the free-text fields of the POST again, so a long note or reply is not lost,
and asks the person to sign in again in another tab. The text goes into that one
response and nowhere else: not the session, not the log.

Only fields on this list come back: named free text, never a password, a one-time code,
a token or a hidden field (the case snapshot). tests/web/test_expired_form.py checks
that every free-text area of the staff forms is on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import MultiDict

from reporting_portal.web.languages import LANGUAGES

# The labels the forms themselves use (so the person recognises each field).
_NAMED: dict[str, LazyString] = {
    "note": _l("Internal note (case handlers only)"),
    "reply": _l("Message to the reporter"),
    "message": _l("Acknowledgement sent to the reporter"),
    "justification": _l("Why do you need to know who reported?"),
    "reason": _l("Reason"),
    "display_name": _l("Full name"),
    "name": _l("New label"),
    "detail": _l("Detail (for case handlers)"),
    "outcome": _l("Outcome of the protection record"),
    "age_recipient": _l("Age recipient"),
    "contact_note": _l("Contact note"),
}
# A channel's or a question's text in one language: ``label_fr``, ``description_ar``.
_PER_LANGUAGE: dict[str, LazyString] = {
    "name": _l("Name"),
    "description": _l("Description shown to reporters"),
    "label": _l("Question"),
    "help": _l("Help text"),
    "choices": _l("Choices (one per line, for choice fields; the same order in every "
                  "language)"),
}
_LANGUAGE_NAMES = {language.code: language.name for language in LANGUAGES}
_PER_LANGUAGE_FIELD = re.compile(r"(?P<prefix>[a-z]+)_(?P<code>[A-Za-z_]+)")
# A form has a few dozen fields at most; a longer POST is not one of ours.
MAX_KEPT_FIELDS = 64


@dataclass(frozen=True)
class KeptText:
    name: str
    label: str
    text: str


def _label(name: str) -> str | None:
    if name in _NAMED:
        return str(_NAMED[name])
    match = _PER_LANGUAGE_FIELD.fullmatch(name)
    if match and match["prefix"] in _PER_LANGUAGE and match["code"] in _LANGUAGE_NAMES:
        return f"{_PER_LANGUAGE[match['prefix']]} ({_LANGUAGE_NAMES[match['code']]})"
    return None


def kept_texts(form: MultiDict[str, str]) -> list[KeptText]:
    """The POST's free-text fields that hold something, in the order sent."""
    kept = []
    for name, text in form.items(multi=True):
        label = _label(name)
        if label is not None and text.strip():
            kept.append(KeptText(name=name, label=label, text=text))
        if len(kept) == MAX_KEPT_FIELDS:
            break
    return kept
