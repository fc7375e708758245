# ruff: noqa: RUF001 - Russian text is meant to be Cyrillic
"""The "as on screen" export of a described table: the page's headers, values as shown, nothing run as a formula."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from typing import Any

import polars as pl
import pytest

from dashboard import i18n
from dashboard.tables import Column, screen_csv

WORDS = {
    "en": {"phone": "Phone", "rate": "Answer rate", "talk": "Talk", "price": "Lead price", "utm": "UTM source",
           "when": "Requested", "new": "New"},
    "ru": {"phone": "Телефон", "rate": "Доля отвеченных", "talk": "Разговор", "price": "Цена лида",
           "utm": "UTM source", "when": "Заявка", "new": "Новый"},
}  # fmt: skip
COLUMNS = (
    Column("phone", "phone"), Column("rate", "percent"), Column("talk", "seconds"), Column("price", "money"),
    Column("utm"), Column("when", "datetime"), Column("new", "flag"),
)  # fmt: skip
FRAME = pl.DataFrame(
    {
        "phone": ["+79795382177", "=HYPERLINK(1)", None],
        "rate": [0.816, None, 1.0],
        "talk": [131, 5, None],
        "price": [12500, None, 0],
        "utm": ["-1+cmd|' /C calc'!A0", "yandex", None],
        "when": [datetime(2026, 11, 1, 9, 5, 7), None, datetime(2026, 11, 2, 0, 0, 0)],
        "new": [True, False, None],
        "hidden": ["not described", "not shown", "not written"],
    }
)


@pytest.mark.parametrize(("lang", "separator"), [("en", ","), ("ru", ";")])
def test_the_file_has_the_page_s_headers_and_the_values_as_shown(lang: str, separator: str) -> None:
    data = screen_csv(FRAME, COLUMNS, lang, i18n.translator(lang, WORDS))
    assert data.startswith(b"\xef\xbb\xbf")
    header, first, second, third = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=separator)
    assert header == list(WORDS[lang].values())  # in the description's order; an undescribed column is left out
    assert first[0] == "+7 979 538-21-77"  # as people read it, and no `'`: a spreadsheet keeps it as text
    assert second[0] == "'=HYPERLINK(1)"  # visitor text in a phone column is still never run
    assert first[4] == "'-1+cmd|' /C calc'!A0"
    assert first[5] == "2026-11-01 09:05:07"
    assert [re.sub(r"\s", " ", cell) for cell in first[1:4]] == {  # which space goes where is the format's business
        "en": ["81.6%", "2 min 11 s", "12,500 ₽"],
        "ru": ["81,6 %", "2 мин 11 с", "12 500 ₽"],
    }[lang]
    assert [first[6], second[6]] == {"en": ["yes", "no"], "ru": ["да", "нет"]}[lang]
    assert {third[0], second[1], third[2], second[3], third[4], second[5]} == {i18n.NOT_SET[lang]}  # the screen's word


def test_a_table_too_big_to_style_still_names_its_codes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the styling limit the grid's own number formats draw the table, but no code reaches the screen."""
    from dashboard.ui import tables as shown_tables

    monkeypatch.setattr(shown_tables, "STYLED_CELLS", 2)
    column = Column("call_status", names=lambda code: i18n.label("call_status", code, "ru"))
    frame = pl.DataFrame({"call_status": ["CLIENT_ANSWER", None, "CLIENT_ANSWER"]})
    drawn = shown_tables.styled(frame, [column], "ru")
    assert list(drawn["call_status"]) == ["Клиент ответил", "(не задано)", "Клиент ответил"]


def test_a_table_too_big_to_style_shows_a_missing_time_as_not_set(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Lost leads list of a million calls is past the styling limit: a phone never marked has no mark time,
    which pandas holds as NaT; the page showed an error instead of the list."""
    from dashboard.ui import tables as shown_tables

    monkeypatch.setattr(shown_tables, "STYLED_CELLS", 1)
    frame = pl.DataFrame({"when": [datetime(2026, 11, 1, 9, 5, 7), None]})
    drawn = shown_tables.styled(frame, [Column("when", "datetime")], "en")
    assert list(drawn["when"]) == ["2026-11-01 09:05:07", i18n.NOT_SET["en"]]


# Every kind, its missing values (a whole number with one missing becomes a float in pandas), names of codes that
# name an empty value themselves ("—"), and visitor text a grid or a spreadsheet could mistake.
GRID = pl.DataFrame(
    {
        "id": ["a", "b", "c", "d"],
        "count": [1200, None, 0, 7],
        "ratio": [1.2345, None, float("nan"), 0.0],
        "rate": [0.816, None, 1.0, 0.0005],
        "change": [0.0123, -0.5, None, 0.0],
        "points": [1.5, None, -0.25, 0.0],
        "talk": [131, 5, None, 3600],
        "price": [12500, None, 0, 1_000_000],
        "phone": ["+79795382177", "=HYPERLINK(1)", None, "12"],
        "utm": ["-1+cmd|' /C calc'!A0", "yandex", None, "a\u202etxt.exe"],
        "plain": ["None", "nan", "", "<b>bold</b>"],
        "when": [datetime(2026, 11, 1, 9, 5, 7), None, datetime(2026, 11, 2, 0, 0, 0), datetime(2026, 1, 1)],
        "waited": [59, 3601, None, 0],
        "kopecks": [12345, None, 0, 99],
        "status": ["CLIENT_ANSWER", None, "NEW_STATUS\u200b", "  "],
        "said": ["sent", None, "", "done"],
        "new": [True, False, True, False],
    }
)


def grid_columns(lang: str) -> tuple[Column, ...]:
    return (
    Column("id"), Column("count", "integer"), Column("ratio", "decimal"), Column("rate", "percent"),
    Column("change", "signed_percent"), Column("points", "points"), Column("talk", "seconds"), Column("price", "money"),
    Column("phone", "phone"), Column("utm"), Column("plain"), Column("when", "datetime"), Column("waited", "duration"),
    Column("kopecks", "kopecks"), Column("status", names=lambda code: i18n.label("call_status", code, lang)),
    Column("said", names=lambda said: str(said) if said else "—"), Column("new", "flag"),
    )  # fmt: skip


def drawn_cells(data: Any) -> tuple[Any, str]:
    """What Streamlit sends the browser for a Styler: the text each cell is drawn with, and the raw values."""
    from streamlit import dataframe_util
    from streamlit.elements.lib.pandas_styler_utils import marshall_styler
    from streamlit.proto.ArrowData_pb2 import ArrowData

    proto = ArrowData()
    marshall_styler(proto, data, "grid")
    return dataframe_util.convert_arrow_bytes_to_pandas_df(proto.styler.display_values), proto.styler.styles


@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize("labelled", [False, True], ids=["st.dataframe", "the Calls editor, labelled by id"])
@pytest.mark.parametrize("flags", ["whole", "with a missing one"])
def test_the_grid_draws_each_cell_as_pandas_own_styler_did(lang: str, labelled: bool, flags: str) -> None:
    """The grid's text per cell is made without pandas rendering the table; it must be, cell for cell, what pandas'
    Styler with the export's formatter wrote (the tables looked so since they were first drawn)."""
    from dashboard.tables import empty, formatter
    from dashboard.ui import tables as shown_tables

    frame = GRID if flags == "whole" else GRID.with_columns(pl.Series("new", [True, None, False, None]))
    grid = frame.to_pandas().set_index("id") if labelled else frame.to_pandas()
    columns = grid_columns(lang)
    shown = [column for column in columns if column.name in grid.columns and column.kind != "flag"]
    before = grid.style.format({column.name: formatter(column, lang) for column in shown}, na_rep=empty(lang))

    ours = shown_tables.styled(frame, columns, lang, grid=grid if labelled else None)

    (cells, styles), (expected, expected_styles) = drawn_cells(ours), drawn_cells(before)
    assert cells.to_dict("split") == expected.to_dict("split")
    assert styles == expected_styles
    assert ours.data is grid or ours.data.equals(grid)  # the raw values, which the grid sorts by
    assert ours.data["price"].dtype.kind == "f" and ours.data["talk"].dtype.kind == "f"  # numbers, sorted as numbers
    assert list(cells["said"]) == ["sent", empty(lang), "—", "done"]  # pandas' word for missing, the names' for ""


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_each_cell_on_screen_is_what_the_file_writes(lang: str) -> None:
    from dashboard.tables import empty
    from dashboard.ui import tables as shown_tables

    t, columns = i18n.translator(lang, {}), grid_columns(lang)
    cells, _ = drawn_cells(shown_tables.styled(GRID, columns, lang))
    separator = ";" if lang == "ru" else ","
    header, *rows = csv.reader(io.StringIO(screen_csv(GRID, columns, lang, t).decode("utf-8-sig"), newline=""),
                               delimiter=separator)  # fmt: skip
    assert header == [column.name for column in columns]
    written = {name: [row[index] for row in rows] for index, name in enumerate(header)}
    for name in ("count", "ratio", "rate", "talk", "price", "when", "waited", "kopecks", "status"):
        assert list(cells[name]) == written[name], name
    assert list(cells["phone"]) == ["+7 979 538-21-77", "=HYPERLINK(1)", empty(lang), "12"]
    assert written["phone"][1] == "'=HYPERLINK(1)"  # never a formula in the file; as typed on screen
    assert written["said"] == list(cells["said"]) == ["sent", empty(lang), "—", "done"]  # missing: the one word
