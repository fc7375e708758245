"""A described table (`dashboard.tables`) on screen and its "as on screen" download, from the one description.

The grid is given the raw values (so it sorts numbers as numbers and a page reads back what it showed) and, through
a pandas Styler, the text of each cell exactly as `dashboard.tables.cell` writes it into the export.
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


def styled(data: Any, columns: Sequence[Column], lang: str) -> Any:
    """A pandas Styler over `data` (a polars or pandas frame) showing each described column as the export does."""
    frame = data.to_pandas() if isinstance(data, pl.DataFrame) else data
    shown = [column for column in columns if column.name in frame.columns and column.kind != "flag"]
    if frame.size > STYLED_CELLS:
        # pandas styles a cell at a time, too slowly past this: the cells become their text as shown instead (the
        # table then sorts that text, not the numbers; the raw download keeps the numbers).
        return frame.assign(**{column.name: frame[column.name].map(tables.formatter(column, lang)) for column in shown})
    formats = {column.name: tables.formatter(column, lang) for column in shown}
    return frame.style.format(formats, na_rep=tables.empty(lang))


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
