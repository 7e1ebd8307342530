"""Dates, numbers and sizes as the reader's language writes them (issue 14)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from flask import render_template_string

NBSP = "\u202f"  # CLDR separates a French figure from its unit, and groups digits, with it


@pytest.mark.parametrize(("lang", "size", "written"), [
    ("fr", 2_500_000, f"2,5{NBSP}Mo"),
    ("en", 2_500_000, "2.5 MB"),
    ("en", 12_345, "12.3 kB"),
    ("ru", 700, "700 Б"),
    ("en", 37, "37 B"),
    ("en", 1, "1 B"),
    ("es", 37, "37 B"),
    ("fr", 37, f"37{NBSP}o"),
    ("fr", 3_200_000_000, f"3,2{NBSP}Go"),
])
def test_a_file_size_is_written_in_the_readers_units(app, lang, size, written):
    with app.test_request_context(f"/?lang={lang}"):
        assert render_template_string("{{ size | file_size }}", size=size) == written


@pytest.mark.parametrize(("lang", "written"), [
    ("fr", "1 déc. 2026"), ("en", "Dec 1, 2026"), ("es", "1 dic 2026")])
def test_a_day_is_written_in_words_of_the_locale_with_its_iso_form(app, lang, written):
    with app.test_request_context(f"/?lang={lang}"):
        page = render_template_string("{{ day | day }}", day=date(2026, 12, 1))
    assert page == f'<time datetime="2026-12-01">{written}</time>'


def test_a_moment_is_shown_in_utc_with_its_iso_form(app):
    moment = datetime(2026, 12, 1, 22, 5, 9, tzinfo=UTC)
    with app.test_request_context("/?lang=fr"):
        page = render_template_string("{{ moment | moment }}", moment=moment)
    assert page == '<time datetime="2026-12-01T22:05:09+00:00">1 déc. 2026, 22:05:09</time>'


def test_a_count_is_grouped_as_the_locale_groups_digits(app):
    with app.test_request_context("/?lang=fr"):
        assert render_template_string("{{ 12345 | number }}") == f"12{NBSP}345"
    with app.test_request_context("/?lang=en"):
        assert render_template_string("{{ 12345 | number }}") == "12,345"
