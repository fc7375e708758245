"""A described table (`dashboard.tables`) on screen and its "as on screen" download, from the one description.

The grid is given the raw values (so it sorts numbers as numbers and a page reads back what it showed) and, through
a pandas Styler, the text of each cell exactly as `dashboard.tables.texts` writes it into the export.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import polars as pl
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from dashboard import i18n, tables
from dashboard.tables import Column

TEXT = {
    "en": {
        "download_screen": "As on screen (CSV)",
        "download_screen_help": "The table as shown here: these headers and values formatted as on screen, for "
        "reading and sharing. The other download keeps Newton's field names and raw values, for a CRM or a script.",
    },
    "ru": {
        "download_screen": "Как на экране (CSV)",
        "download_screen_help": "Таблица в том виде, как она показана здесь: эти заголовки и значения в экранном "
        "формате — чтобы читать и пересылать. Другая выгрузка сохраняет названия полей Newton и исходные значения "
        "— для CRM или скриптов.",
    },
}


def column_config(columns: Sequence[Column], t: i18n.Translator, lang: str) -> dict[str, Any]:
    """The grid's headers, definitions on hover (docs/metrics.md's, from `i18n.GLOSSARY`) and pinning. No number
    format: the grid would draw it instead of the text `styled` gives each cell."""
    config: dict[str, Any] = {}
    for column in columns:
        kind = st.column_config.CheckboxColumn if column.kind == "flag" else st.column_config.Column
        config[column.name] = kind(
            column.title(t), help=i18n.help_text(column.help or column.name, lang), pinned=column.pinned or None
        )
    return config


STYLED_CELLS = 100_000
# Values the grid writes as the page would where no text is given for them: pandas writes these as `str` does (a
# flag's True draws a checkbox). A float would get pandas' six decimals and a missing value "None" instead.
_AS_THEY_ARE = (pl.Boolean, pl.String, pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16, pl.UInt32, pl.UInt64)


def styled(frame: pl.DataFrame, columns: Sequence[Column], lang: str, *, grid: Any = None) -> Any:
    """The grid's data: the raw values of `frame` in pandas (or `grid`, the same rows as pandas shaped otherwise: the
    Calls editor's, labelled by id) in a pandas Styler that gives every described column's cells the text the export
    writes for them."""
    table = frame.to_pandas() if grid is None else grid
    shown = [column for column in columns if column.name in table.columns and column.kind != "flag"]
    said = {column.name: tables.texts(column, frame[column.name], lang) for column in shown}
    if table.size > STYLED_CELLS:
        # pandas styles a cell at a time, too slowly past this: the cells become their text as shown instead (the
        # table then sorts that text, not the numbers; the raw download keeps the numbers).
        return table.assign(**{name: text.to_list() for name, text in said.items()})
    others = [frame[name] for name in table.columns if name not in said]
    if any(values.dtype not in _AS_THEY_ARE or values.has_nulls() for values in others):
        formats = {column.name: tables.formatter(column, lang) for column in shown}
        return table.style.format(formats, na_rep=tables.empty(lang))  # pandas writes the rest its way
    return _with_texts(table, frame, said)


def _with_texts(table: Any, frame: pl.DataFrame, said: dict[str, pl.Series]) -> Any:
    """A Styler over `table` that gives the cells of `said`'s columns their text without pandas rendering the table.

    Streamlit reads a Styler's cell texts from the `body` of its `_translate()` and writes a cell not there as
    pandas' `astype(str)` does (as `str` writes the value, for the columns `styled` lets through). pandas builds
    that body a cell at a time through its whole renderer (most of the Calls page's own time at 2,000 rows); here
    it is made from the texts already worked out, and only for the cells whose text is not their value (a visitor's
    UTM source shown as it is needs none). tests/test_tables.py holds this to pandas' own Styler, cell for cell, so
    a change in either library shows there.
    """
    position = {name: index for index, name in enumerate(table.columns)}
    labels = [f"row{row}" for row in range(frame.height)]
    body = []
    for name, text in said.items():
        values, cells, column = frame[name], text.to_list(), f"_col{position[name]}"
        if values.dtype == pl.String:
            rows = text.ne_missing(values).arg_true().to_list()
            body.append([{"id": labels[row] + column, "display_value": cells[row]} for row in rows])
        else:
            shown = zip(labels, cells, strict=True)
            body.append([{"id": label + column, "display_value": cell} for label, cell in shown])
    styler = table.style
    vars(styler).update(_compute=lambda: styler, _translate=lambda *_args, **_kwargs: {"body": body})
    return styler


def show(
    frame: pl.DataFrame, columns: Sequence[Column], lang: str, t: i18n.Translator, *, key: str, **options: Any
) -> None:
    """The table with its described headers and values (`options` go to `st.dataframe`)."""
    described = tables.present(columns, frame)
    st.dataframe(
        styled(frame.select(column.name for column in described), described, lang),
        hide_index=True,
        column_config=column_config(described, t, lang),
        key=key,
        placeholder=tables.empty(lang),  # the grid draws an empty cell itself, whatever the styler says
        **options,
    )


def screen_download(
    frame: pl.DataFrame,
    columns: Sequence[Column],
    lang: str,
    t: i18n.Translator,
    *,
    file_name: str,
    key: str,
    where: DeltaGenerator | None = None,
    when_clicked: bool = False,
) -> None:
    """The "as on screen" download button of a described table; `when_clicked`, the file is made only when the
    button is clicked (a long table: every value written as shown costs time on every run otherwise)."""
    (where or st).download_button(
        i18n.text("download_screen", lang, TEXT),
        (lambda: tables.screen_csv(frame, columns, lang, t))
        if when_clicked
        else tables.screen_csv(frame, columns, lang, t),
        file_name=file_name.removesuffix(".csv") + "-as-on-screen.csv",
        mime="text/csv",
        key=key,
        on_click="ignore",
        icon=":material/download:",
        help=i18n.text("download_screen_help", lang, TEXT),
    )


def downloads(
    frame: pl.DataFrame,
    columns: Sequence[Column],
    lang: str,
    t: i18n.Translator,
    *,
    label: str,
    data: bytes | Callable[[], bytes],
    file_name: str,
    key: str,
    help: str | None = None,
    when_clicked: bool = False,
) -> None:
    """A table's two download buttons side by side: its data as CSV (`data`, keyed `<key>_download`), and the table
    as on screen (keyed `<key>_screen`; made only when clicked with `when_clicked`)."""
    raw, screen = st.columns([1, 1])
    raw.download_button(
        label, data=data, file_name=file_name, mime="text/csv", key=f"{key}_download", help=help,
        icon=":material/download:", on_click="ignore",
    )  # fmt: skip
    screen_download(frame, columns, lang, t, file_name=file_name, key=f"{key}_screen", where=screen,
                    when_clicked=when_clicked)  # fmt: skip
