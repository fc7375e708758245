"""`tables.texts` writes a column's values a column at a time (each distinct value once, a column of times by polars):
every text must be what `tables.cell` writes for that value alone, whatever the value (floats: what they were)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import partial
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard import i18n
from dashboard.tables import KINDS, Column, cell, formatter, texts

EXAMPLES = settings(max_examples=80, deadline=None)
HOSTILE_TEXT = [
    None, "", " ", "  ", "None", "nan", "NaN", "=HYPERLINK(\"x\")", "+SUM(A1)", "-1+cmd|' /C calc'!A0", "@A1",
    "+79795382177", "+7979538217", "+797953821770", "89795382177", "+7 979 538-21-77", "+79795382177\n",
    "a\u202etxt.exe", "zero\u200bwidth", "tab\there", "cr\r\nlf", "Клиент ответил", "👨\u200d👩\u200d👧", "\x00\x07",
    "\ufffd", "+7\u0669\u0667\u0669\u0665\u0663\u0668\u0662\u0661\u0667\u0667", "+7979538217\u200b7", "CLIENT_ANSWER",
    "NEW_STATUS\u200b", "—", "0", "-0", "1e309",
]  # fmt: skip
HOSTILE_INTEGERS = [None, 0, -1, 1, 59, 60, 3599, 3600, 86_400, -86_401, 10**12, 2**63 - 1, -(2**63)]
TIMES = [
    None, datetime(2026, 11, 1, 9, 5, 7), datetime(2026, 11, 1, 9, 5, 7, 999_999), datetime(1000, 1, 1),
    datetime(9999, 12, 31, 23, 59, 59), datetime(1970, 1, 1), datetime(1969, 12, 31, 23, 59, 59, 1),
]  # fmt: skip


def _columns(dtype: pl.DataType) -> list[Column]:
    """Every kind of column, and a column naming its values (as the Calls page names its codes)."""
    named = Column("v", names=lambda value: i18n.label("call_status", value, "ru") if isinstance(value, str) else "—")
    return [Column("v", kind) for kind in KINDS] + [named, Column("v", names=repr)]  # `repr` tells every value apart


def _same(values: pl.Series, lang: str) -> None:
    for column in _columns(values.dtype):
        # Floats are written as before, each through `formatter` (which takes -0.0 for the 0.0 met first).
        write = formatter(column, lang) if values.dtype.is_float() else partial(cell, column, lang=lang)
        try:
            expected = [write(value) for value in values.to_list()]
        except Exception as error:  # noqa: BLE001 - a kind that cannot hold such values (text as money): it fails the same way
            with pytest.raises(type(error)):
                texts(column, values, lang)
            continue
        shown = texts(column, values, lang)
        assert shown.dtype == pl.String and shown.name == values.name
        assert shown.to_list() == expected, (column.kind, values.dtype)


@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize(
    "values",
    [
        pl.Series("v", HOSTILE_TEXT, dtype=pl.String),
        pl.Series("v", HOSTILE_INTEGERS, dtype=pl.Int64),
        pl.Series("v", [None, 0, 255, 7], dtype=pl.UInt8),
        pl.Series("v", [2**64 - 1, None, 0], dtype=pl.UInt64),
        pl.Series("v", [True, None, False, True], dtype=pl.Boolean),
        pl.Series("v", TIMES, dtype=pl.Datetime("us")),
        pl.Series("v", [t for t in TIMES if t is None or 1700 < t.year < 2200], dtype=pl.Datetime("ns")),
        pl.Series("v", TIMES, dtype=pl.Datetime("ms")),
        pl.Series("v", [t and t.replace(tzinfo=UTC) for t in TIMES]).dt.convert_time_zone("Europe/Moscow"),
        pl.Series(
            "v", [datetime(2026, 10, 25, 0, 30, tzinfo=UTC), datetime(2026, 10, 25, 1, 30, tzinfo=UTC)]
        ).dt.convert_time_zone("Europe/London"),  # the hour that happens twice
        pl.Series("v", [datetime(999, 1, 2, 3, 4, 5), None, datetime(2026, 1, 1)]),  # Python writes "999-01-02"
        pl.Series("v", [date(2026, 11, 1), None, date(1, 1, 1)], dtype=pl.Date),
        pl.Series("v", [0.0, -0.0, float("nan"), None, 1e300, -2.5, float("inf")], dtype=pl.Float64),
        pl.Series("v", [None, None], dtype=pl.String),
        pl.Series("v", [None, None], dtype=pl.Int64),
        pl.Series("v", [None, None], dtype=pl.Datetime("us")),
        pl.Series("v", [None, None]),
        pl.Series("v", [], dtype=pl.String),
        pl.Series("v", [], dtype=pl.Datetime("us")),
    ],
    ids=lambda values: str(values.dtype),
)
def test_each_text_is_what_cell_writes_for_the_value_alone(values: pl.Series, lang: str) -> None:
    _same(values, lang)


@EXAMPLES
@given(st.lists(st.one_of(st.none(), st.sampled_from(HOSTILE_TEXT), st.text(max_size=12)), max_size=40))
def test_texts_of_any_text_are_cell_s(values: list[Any]) -> None:
    _same(pl.Series("v", values, dtype=pl.String), "ru")


@EXAMPLES
@given(st.lists(st.one_of(st.none(), st.integers(min_value=-(2**63), max_value=2**63 - 1)), max_size=40))
def test_texts_of_any_whole_numbers_are_cell_s(values: list[Any]) -> None:
    _same(pl.Series("v", values, dtype=pl.Int64), "en")


@EXAMPLES
@given(st.lists(st.one_of(st.none(), st.datetimes(min_value=datetime(1, 1, 1))), max_size=40))
def test_texts_of_any_times_are_cell_s(values: list[Any]) -> None:
    _same(pl.Series("v", values, dtype=pl.Datetime("us")), "ru")


@EXAMPLES
@given(st.lists(st.one_of(st.none(), st.from_regex(r"\+?7?[0-9]{9,11}\s?", fullmatch=True), st.text(max_size=14)),
                max_size=40))  # fmt: skip
def test_texts_of_any_phones_are_cell_s(values: list[Any]) -> None:
    _same(pl.Series("v", values, dtype=pl.String), "en")
