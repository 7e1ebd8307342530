"""Dates, numbers and file sizes in the reader's locale (issue 14), as Jinja filters.

Templates never format these by hand (``isoformat``, ``strftime``, ``"{:,}"``): a French
reader sees "1 déc. 2026" and "2,5 Mo", an Arabic one the same figures as CLDR writes
them. A date keeps its ISO form in ``<time datetime>``, for machines and for tests.
"""

from __future__ import annotations

from datetime import date, datetime, tzinfo

from babel import Locale
from babel.dates import format_datetime as babel_format_datetime
from babel.units import format_unit
from flask import Flask
from flask_babel import format_date, format_datetime, format_decimal, get_locale
from markupsafe import Markup

# CLDR's units are decimal (a kilobyte is 1,000 bytes); it has none for KiB or MiB.
_SIZE_UNITS = (
    ("digital-gigabyte", 1000**3),
    ("digital-megabyte", 1000**2),
    ("digital-kilobyte", 1000),
)


def format_file_size(size: int) -> str:
    """``size`` bytes as a person reads it: "2.5 MB" in English, "2,5 Mo" in French."""
    locale = get_locale() or "en"
    for unit, scale in _SIZE_UNITS:
        if size >= scale:
            return format_unit(size / scale, unit, length="short", format="#,##0.#",
                               locale=locale)
    if Locale.parse(locale).language == "en":
        # CLDR's short English byte is the word "byte" whatever the count ("37 byte"),
        # beside the symbols kB and MB: written as the symbol B, like them (issue 15).
        return f"{format_decimal(size, format='#,##0')} B"
    return format_unit(size, "digital-byte", length="short", format="#,##0", locale=locale)


# Filled with %, which escapes each value as format() does: markupsafe's format() goes
# through string.Formatter in Python, and an inbox page marks up three days a row.
_TIME_ELEMENT = Markup('<time datetime="%s">%s</time>')


def format_day(value: date, width: str = "medium") -> Markup:
    """A calendar day, in words of the locale, marked up with its ISO form."""
    return _TIME_ELEMENT % (value.isoformat(), format_date(value, width))


def format_moment(value: datetime, width: str = "medium", zone: tzinfo | None = None) -> Markup:
    """A moment, marked up like a day: in ``zone`` if given (staff pages pass the
    installation's ``staff_time_zone``), else in UTC, Flask-Babel's default time zone."""
    shown = (format_datetime(value, width) if zone is None
             else babel_format_datetime(value, width, tzinfo=zone, locale=get_locale() or "en"))
    return _TIME_ELEMENT % (value.isoformat(), shown)


def format_number(value: float) -> str:
    """A count or figure with the locale's digits grouping and decimal sign."""
    return str(format_decimal(value))


def init_formatting(app: Flask) -> None:
    app.add_template_filter(format_day, "day")
    app.add_template_filter(format_moment, "moment")
    app.add_template_filter(format_number, "number")
    app.add_template_filter(format_file_size, "file_size")
