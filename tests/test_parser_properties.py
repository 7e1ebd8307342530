"""Property tests for the app's own parsers of untrusted input (issue 11, item 15):
whatever arrives, each gives a valid value or its documented refusal, never another
exception (which would be a 500, and a stack trace in a log)."""

from __future__ import annotations

import json
import string
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reporting_portal.domain.default_channel import default_corruption_questionnaire
from reporting_portal.domain.protection import MeasureKind, MeasureState, measure_from
from reporting_portal.domain.questionnaire import (
    MAX_CHOICES,
    MAX_FIELDS,
    FieldType,
    QuestionnaireError,
    parse_questionnaire,
)
from reporting_portal.domain.retaliation import (
    BY_WHOM_MAX_CHARS,
    EARLIEST_DAY,
    RETALIATION_FORMS,
    RetaliationFormError,
    parse_day,
    parse_retaliation,
)
from reporting_portal.staff.casework.inbox import MAX_PAGE, InboxFilter, Sort
from reporting_portal.storage.models import Priority, ReportStatus
from reporting_portal.web.sessions import ServerSessionInterface

INTERFACE = ServerSessionInterface(staff_idle=timedelta(minutes=30),
                                   staff_absolute=timedelta(hours=12),
                                   reporter_idle=timedelta(minutes=15))
COOKIE_ALPHABET = string.ascii_letters + string.digits + "-_=+/ .%"


@settings(max_examples=500)
@given(value=st.one_of(st.none(), st.text(max_size=120),
                       st.text(alphabet=COOKIE_ALPHABET, min_size=40, max_size=48)))
def test_any_cookie_value_gives_no_token_or_a_32_byte_one(value):
    token = INTERFACE._decode_cookie(value)
    assert token is None or (isinstance(token, bytes) and len(token) == 32)


def test_a_real_cookie_value_gives_its_token():
    import base64
    import secrets

    token = secrets.token_bytes(32)
    assert INTERFACE._decode_cookie(base64.urlsafe_b64encode(token).rstrip(b"=").decode()) == (
        token)


QUERY_KEYS = ["status", "priority", "page", "sort", "channel", "label", "overdue", "after",
              "before", "other"]
PUBLIC_ID_CHARS = set(string.ascii_letters + string.digits + "-_")


@settings(max_examples=500)
@given(args=st.dictionaries(st.sampled_from(QUERY_KEYS), st.one_of(
    st.text(max_size=40),
    st.sampled_from([*map(str, ReportStatus), *map(str, Priority), *map(str, Sort),
                     "0", "-1", "1e9", "9" * 5000, " 7 ", "\uff11\uff12", "1_0", "nan"]))))
def test_any_query_gives_a_valid_inbox_filter(args):
    chosen = InboxFilter.from_args(args)
    assert chosen.status is None or chosen.status in set(ReportStatus)
    assert chosen.priority is None or chosen.priority in set(Priority)
    assert chosen.sort in set(Sort)
    assert 1 <= chosen.page <= MAX_PAGE
    assert isinstance(chosen.overdue, bool)
    for text in (chosen.channel, chosen.label):
        assert text is None or (text and "\x00" not in text)
    for edge in (chosen.after, chosen.before):  # a case's public id, or nothing
        assert edge is None or (0 < len(edge) <= 32 and set(edge) <= PUBLIC_ID_CHARS)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=30,
)
question_like = st.fixed_dictionaries({}, optional={
    "id": st.one_of(st.sampled_from(["what", "when", "a_1", "Bad", "1x", ""]), json_values),
    "type": st.one_of(st.sampled_from([str(t) for t in FieldType]), json_values),
    "label": st.one_of(st.text(max_size=310), json_values),
    "help": st.one_of(st.text(max_size=20), json_values),
    "required": json_values,
    "choices": st.one_of(st.lists(st.text(max_size=8), max_size=32), json_values),
})


@settings(max_examples=500)
@given(raw=st.one_of(json_values, st.lists(question_like, max_size=MAX_FIELDS + 2)))
def test_any_json_gives_questions_or_a_questionnaire_error(raw):
    # As stored: through JSON, as the database column and the admin's editor give it.
    stored = json.loads(json.dumps(raw))
    try:
        questions = parse_questionnaire(stored)
    except QuestionnaireError:
        return  # the documented refusal; anything else fails the test
    assert len({q.id for q in questions}) == len(questions)
    for question in questions:
        assert question.label
        assert all(text.strip() for text in question.label.values())
        assert isinstance(question.required, bool)


LANGUAGE_CODES = ["ar", "zh_Hans", "en", "fr", "ru", "es"]
texts_like = st.one_of(
    st.text(max_size=20),
    st.dictionaries(st.sampled_from([*LANGUAGE_CODES, "de", "EN", ""]),
                    st.one_of(st.text(max_size=310), json_values), max_size=7),
    json_values,
)
multilingual_question = st.fixed_dictionaries({}, optional={
    "id": st.sampled_from(["what", "kind", "a_1", "Bad"]),
    "type": st.sampled_from([str(t) for t in FieldType]),
    "label": texts_like,
    "help": texts_like,
    "required": st.booleans(),
    "choices": st.lists(st.one_of(
        st.text(max_size=8),
        st.fixed_dictionaries({}, optional={"code": st.one_of(st.text(max_size=8), json_values),
                                            "label": texts_like}),
        json_values), max_size=MAX_CHOICES + 2),
})


@settings(max_examples=500)
@given(raw=st.lists(multilingual_question, max_size=6),
       first=st.sampled_from(LANGUAGE_CODES), shown=st.sampled_from(LANGUAGE_CODES))
def test_any_multilingual_json_gives_questions_shown_in_every_language_or_an_error(
        raw, first, shown):
    stored = json.loads(json.dumps(raw))
    try:
        questions = parse_questionnaire(stored, first)
    except QuestionnaireError:
        return
    for question in questions:
        assert set(question.label) <= set(LANGUAGE_CODES)
        localized = question.in_language(shown, first)
        # Whatever language is asked for, a label to read, one per choice, and codes
        # that do not depend on the language.
        assert localized.label.strip()
        assert all(label.strip() for _code, label in localized.choices)
        assert [code for code, _label in localized.choices] == [c.code for c in question.choices]
        assert len({c.code for c in question.choices}) == len(question.choices)
        assert question.in_language(first, first).choices == tuple(
            (c.code, c.label.get(first) or next(iter(c.label.values())))
            for c in question.choices)


def test_the_old_plain_text_form_is_read_as_the_first_language():
    [question] = parse_questionnaire([{"id": "kind", "type": "single_choice",
                                       "label": "Genre ?", "choices": ["Vol", "Fraude"]}], "fr")
    assert question.label == {"fr": "Genre ?"}
    assert [(c.code, dict(c.label)) for c in question.choices] == [
        ("Vol", {"fr": "Vol"}), ("Fraude", {"fr": "Fraude"})]


@pytest.mark.parametrize("label", [{"de": "Was?"}, {"en": 3}, {"en": "x" * 301}, {"en": " "}, {}])
def test_a_label_in_an_unknown_language_or_not_a_text_is_refused(label):
    with pytest.raises(QuestionnaireError):
        parse_questionnaire([{"id": "what", "type": "short_text", "label": label}])


@pytest.mark.parametrize("text", ["", "{", "[1,", '{"questions": []}', "null", "[[]]"])
def test_text_that_is_not_a_questionnaire_is_refused_with_its_error(text):
    try:
        raw = json.loads(text)
    except json.JSONDecodeError:
        return  # the admin's form refuses it before the parser (not the parser's concern)
    with pytest.raises(QuestionnaireError):
        parse_questionnaire(raw)


def test_the_default_questionnaire_parses():
    assert parse_questionnaire(default_corruption_questionnaire())[0].id == "what"


# --- a retaliation report's form and a protection measure's document (issue 17) ----------

TODAY = date(2026, 12, 2)


@settings(max_examples=500)
@given(text=st.one_of(st.text(max_size=24), st.dates().map(date.isoformat),
                      st.dates().map(lambda d: d.strftime("%Y%m%d")),
                      st.dates().map(lambda d: d.strftime("%G-W%V-%u"))))
def test_any_typed_day_gives_a_day_in_bounds_or_a_form_error(text):
    try:
        day = parse_day(text, TODAY)
    except RetaliationFormError:
        return
    assert EARLIEST_DAY <= day <= TODAY + timedelta(days=1)
    assert day.isoformat() == text.strip()


@given(fields=st.dictionaries(
    st.sampled_from(["q_what_happened", "q_happened_on", "q_by_whom", "q_other"]),
    st.text(max_size=600)),
    ticked=st.lists(st.one_of(st.sampled_from(list(RETALIATION_FORMS)), st.text(max_size=12)),
                    max_size=20))
def test_any_retaliation_form_gives_a_bounded_report_or_a_form_error(fields, ticked):
    try:
        report = parse_retaliation(fields, ticked, max_chars=400, today=TODAY)
    except RetaliationFormError:
        return
    assert set(report.forms) == set(ticked)
    assert len(report.forms) == len(set(report.forms))
    assert report.what_happened.strip()
    assert len(report.what_happened) <= 400
    assert len(report.by_whom) <= BY_WHOM_MAX_CHARS


@given(document=st.dictionaries(
    st.sampled_from(["measure", "state", "on", "responsible", "detail", "version"]),
    st.one_of(st.none(), st.integers(), st.text(max_size=30),
              st.sampled_from([*MeasureKind, *MeasureState]),
              st.dates().map(date.isoformat))))
def test_any_measure_document_gives_a_measure_or_none(document):
    measure = measure_from(document)
    assert measure is None or (isinstance(measure.kind, MeasureKind)
                               and isinstance(measure.state, MeasureState))
