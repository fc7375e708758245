# ruff: noqa: RUF002 - Russian text is meant to be Cyrillic
"""One description of each table a page shows (every column's header words, kind of value and help) used both to
draw the table and to write its "as on screen" export, so that the screen and the file cannot drift apart.

Two downloads sit under a table: the raw one (`dashboard.export.to_csv_bytes` of the same frame: API names and
values, for CRMs and scripts) and the "as on screen" one made here: the page's headers in its language and every
value as the page shows it ("81,6 %", "2 мин 11 с", "+7 979 538-21-77", the screen's word for nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import polars as pl

from dashboard import i18n
from dashboard.display import visible, visible_frame
from dashboard.export import to_csv_bytes
from dashboard.phones import format_phone, format_phones

KINDS = (
    "integer", "decimal", "percent", "signed_percent", "points", "seconds", "money", "phone", "text", "datetime",
    "flag", "duration", "kopecks",
)  # fmt: skip
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # what the tables show (`YYYY-MM-DD HH:mm:ss` in the grid's words)
TEXT = {
    "en": {"yes": "yes", "no": "no"},
    "ru": {"yes": "да", "no": "нет"},
}


@dataclass(frozen=True)
class Column:
    """One column of a shown table: the frame's column, the kind of value it holds and the words around it."""

    name: str  # the frame's column, and its name in the raw export
    kind: str = "text"
    header: str | None = None  # the key of its header in the page's words; `name` when not given
    help: str | None = None  # the key of its definition on hover in `i18n.GLOSSARY`; `name` when not given
    names: Callable[[Any], str] | None = None  # what a text value is shown as (a channel's name for its key)
    pinned: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {self.kind!r}")

    def title(self, t: i18n.Translator) -> str:
        """The header the page shows (the column's name when the page has no words for it)."""
        try:
            return t(self.header or self.name)
        except KeyError:
            return self.name


def empty(lang: str) -> str:
    """What a table shows where there is no value: the one word for it, "(not set)" / «(не задано)»."""
    return i18n.NOT_SET[i18n.language(lang)]


def cell(column: Column, value: Any, lang: str) -> str:
    """One value as the page shows it in `lang`."""
    if value is not None and value != value:
        value = None  # pandas' missing values, the only ones unequal to themselves: NaN, and NaT in a column of times
    if value is None:  # the one word, even in a column that names its values: the grid draws it so
        return empty(lang)
    if column.names is not None:  # the page's own words for each value
        return visible(column.names(value))
    kind = column.kind
    if kind in _NUMBERS:
        return _NUMBERS[kind](value, lang)
    if kind == "phone":
        return visible(format_phone(str(value)) or "")
    if kind == "datetime":
        return value.strftime(DATETIME_FORMAT) if isinstance(value, datetime | date) else visible(str(value))
    if kind == "flag":
        return i18n.text("yes" if value else "no", lang, TEXT)
    return visible(str(value))


_NUMBERS: dict[str, Callable[[Any, str], str]] = {
    "integer": i18n.integer, "decimal": i18n.decimal, "percent": i18n.percent, "signed_percent": i18n.signed_percent,
    "points": i18n.points, "seconds": i18n.seconds, "money": i18n.roubles, "duration": i18n.duration,
    "kopecks": i18n.kopecks,
}  # fmt: skip


def formatter(column: Column, lang: str) -> Callable[[Any], str]:
    """`cell` for one column, as a table styler takes it: each value worked out once (a column repeats its
    channels, statuses and sources on every row)."""
    said: dict[tuple[type, Any], str] = {}

    def text(value: Any) -> str:
        key = (type(value), value)
        try:
            return said[key]
        except KeyError:
            pass
        except TypeError:  # a value that cannot be a key
            return cell(column, value, lang)
        shown = said[key] = cell(column, value, lang)
        if value != value:  # a missing value is unequal to itself: it would never be found again
            del said[key]
        return shown

    return text


def present(columns: Sequence[Column], frame: pl.DataFrame) -> list[Column]:
    """The described columns the frame has, in the description's order (a column not described is not shown)."""
    return [column for column in columns if column.name in frame.columns]


# Columns in which two values are equal only when they are the same value, so each distinct one is written once:
# not floats (-0.0 equals 0.0, and NaN nothing), nor values polars cannot hash.
_EXACT = (
    pl.String, pl.Boolean, pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16, pl.UInt32, pl.UInt64, pl.Date,
    pl.Datetime,
)  # fmt: skip


def texts(column: Column, values: pl.Series, lang: str) -> pl.Series:
    """Every value of one column as the page shows it (the grid's cells and the export's are both these): each
    distinct value written once by `cell` (a column repeats its channels, statuses and durations on every row), the
    times of a column of times all at once."""
    if values.is_empty():
        return pl.Series(values.name, [], dtype=pl.String)
    if _times(column, values):
        return values.dt.strftime(DATETIME_FORMAT).fill_null(empty(lang)).alias(values.name)
    if column.kind in ("text", "phone") and column.names is None and values.dtype == pl.String:
        # Visitors' text as it is (`visible` where it must be), phones as people read them (`format_phone`).
        written = format_phones(values) if column.kind == "phone" else values
        return visible_frame(written.to_frame())[values.name].fill_null(empty(lang))
    if values.dtype.base_type() not in _EXACT:
        return pl.Series(values.name, list(map(formatter(column, lang), values.to_list())), dtype=pl.String)
    distinct = values.unique()
    said = [cell(column, value, lang) for value in distinct.to_list()]
    if values.dtype.base_type() is pl.Datetime:  # Python takes two times of the hour that comes twice as equal
        return values.replace_strict(distinct, said, return_dtype=pl.String)
    text = dict(zip(distinct.to_list(), said, strict=True))
    return pl.Series(values.name, list(map(text.__getitem__, values.to_list())), dtype=pl.String)


def _times(column: Column, values: pl.Series) -> bool:
    """Whether polars writes the column's times as `cell` does: a column of times shown as such, every year of four
    digits (Python writes the year 999 without its leading 0)."""
    if column.kind != "datetime" or column.names is not None or values.dtype.base_type() is not pl.Datetime:
        return False
    years = values.dt.year()
    return bool(years.is_between(1000, 9999).all())  # `all` passes over the missing ones


def shown(frame: pl.DataFrame, columns: Iterable[Column], lang: str, t: i18n.Translator) -> pl.DataFrame:
    """The table as the page shows it: its headers in `lang` and every value as text, formatted as on screen."""
    return pl.DataFrame(
        {column.title(t): texts(column, frame[column.name], lang) for column in columns},
        schema={column.title(t): pl.String for column in columns},
    )


def screen_csv(frame: pl.DataFrame, columns: Sequence[Column], lang: str, t: i18n.Translator) -> bytes:
    """The "as on screen" export: separated by `;` in Russian (what Excel with Russian settings expects), with the
    phones as shown, which a spreadsheet keeps as text (written without spaces it would make 7.98E+10 of them), and
    the changes as shown ("+0.5 pp")."""
    described = present(columns, frame)
    ours = [column.title(t) for column in described if column.kind in ("phone", "signed_percent", "points")]
    separator = ";" if i18n.language(lang) == "ru" else ","
    return to_csv_bytes(shown(frame, described, lang, t), separator=separator, shown_columns=ours)
