# ruff: noqa: RUF001 - Russian text is meant to be Cyrillic
"""The "as on screen" export of a described table: the page's headers, values as shown, nothing run as a formula."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime

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
