"""The row encoding of the backup's tables: every value comes back as it went in."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import JSON, TypeDecorator

from reporting_portal.operations.rows import (
    RowEncodingError,
    decode_row,
    decode_value,
    encode_row,
    encode_value,
)
from reporting_portal.storage.db import Base

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12)
# One strategy per Python type the models' columns hold (test below keeps the list whole).
VALUES = {
    type(None): st.none(),
    bool: st.booleans(),
    int: st.integers(min_value=-(2**63), max_value=2**63 - 1),
    str: st.text(),
    bytes: st.binary(max_size=256),
    datetime: st.datetimes(),
    date: st.dates(),
    Decimal: st.decimals(allow_nan=False, allow_infinity=False),
    # A JSON column's value (the questionnaire is a list of objects).
    dict: st.lists(json_values, max_size=3) | st.dictionaries(st.text(), json_values,
                                                               max_size=3),
}
rows = st.dictionaries(st.text(min_size=1, max_size=20),
                       st.one_of(*VALUES.values()), max_size=8)


@given(rows)
def test_every_row_comes_back_as_it_went_in(row):
    line = encode_row(row)
    assert line.endswith(b"\n")
    assert line.count(b"\n") == 1
    assert line.isascii()
    assert decode_row(line, frozenset(row)) == row


@given(st.datetimes(timezones=st.just(UTC)))
def test_a_datetime_with_a_zone_comes_back_as_naive_utc(moment):
    assert decode_value(encode_value(moment)) == moment.replace(tzinfo=None)


def test_every_column_type_of_the_models_is_among_those_tested():
    import reporting_portal.storage.models  # noqa: F401 -- registers every table

    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            column_type = column.type
            if isinstance(column_type, TypeDecorator):
                column_type = column_type.impl_instance
            python_type = dict if isinstance(column_type, JSON) else column_type.python_type
            assert python_type in VALUES, f"{table.name}.{column.name}: {python_type}"


@pytest.mark.parametrize("line", [
    b"[1, 2]\n", b"{\"id\": 1}\n", b"{\"a\": {\"bytes\": \"***\"}}\n",
    b"{\"a\": {\"datetime\": \"2026-12-01T10:00:00+02:00\"}}\n",
    b"{\"a\": {\"date\": 5}}\n", b"{\"a\": {\"what\": \"1\"}}\n", b"\xff\n",
    b"{\"a\": {\"bytes\": \"AA==\", \"date\": \"2026-12-01\"}}\n"])
def test_a_line_that_is_not_a_row_of_the_table_is_refused(line):
    with pytest.raises(RowEncodingError):
        decode_row(line, frozenset({"a"}))


def test_values_the_format_cannot_hold_are_refused():
    with pytest.raises(RowEncodingError):
        encode_value(float("nan"))
    with pytest.raises(RowEncodingError):
        encode_value(object())
