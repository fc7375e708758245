"""The one CSV exporter: UTF-8 with a BOM, values as the API gives them (decimal commas in the `;` variant, for
Excel with Russian settings), visitor text never run as a formula."""

from __future__ import annotations

import io
import os
import re
import uuid
from collections.abc import Collection
from pathlib import Path
from typing import BinaryIO

import polars as pl

from dashboard.api.records import NEWTON_TIME
from dashboard.display import CONTROLS, INVISIBLE, character_class

SEPARATORS = (",", ";")

DATETIME_FORMAT = NEWTON_TIME  # the API's own format: naive UTC, no `T`, no fractional seconds
DATE_FORMAT = "%Y-%m-%d"

# Exactly the characters Python's str.isspace() accepts, spelled out because Rust's `\s` (what polars uses) leaves
# out U+001C..U+001F: with one explicit class, `neutralise` and `safe_frame` can never disagree about a cell.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
# Spreadsheets start a formula at these, after any leading spaces; the full-width forms are accepted too.
_FORMULA_STARTS = "=+-@\uff1d\uff0b\uff0d\uff20"
# A cell that merely starts with one of these can still be read as a formula, or break the row, in some spreadsheets.
_CONTROL_STARTS = "\t\r\n\x00"
# Leading characters a reader does not see, which a spreadsheet may skip or a person may not notice before `=`:
# every kind of space, the invisible format characters (zero-width spaces and joiners, bidi marks) and controls.
_UNSEEN = WHITESPACE + INVISIBLE + CONTROLS
_DANGEROUS = f"^(?:{character_class(_UNSEEN)}*{character_class(_FORMULA_STARTS)}|{character_class(_CONTROL_STARTS)})"
_DANGEROUS_RE = re.compile(_DANGEROUS)
# A plain number, which no spreadsheet runs: a sign, ASCII digits and at most one decimal point or comma, nothing
# else (no space, no exponent). A phone such as +79795382177 is one, and CRMs and scripts want it as it is.
_PLAIN_NUMBER = r"[+-]?[0-9]+(?:[.,][0-9]+)?"
_PLAIN_NUMBER_RE = re.compile(_PLAIN_NUMBER)
# A phone as the screen shows it. In the phone columns of the "as on screen" export it is written as it is, so a
# spreadsheet keeps it as text; anywhere else (visitor text) it is neutralised like any text starting with `+`.
FORMATTED_PHONE = r"\+7 [0-9]{3} [0-9]{3}-[0-9]{2}-[0-9]{2}"

_TEXT_TYPES = (pl.String, pl.Categorical, pl.Enum)
_SHORT_FLOATS = (pl.Float32,)


def starts_like_formula(text: str) -> bool:
    """Whether a spreadsheet could start a formula at `text` (before telling a plain number from one)."""
    return _DANGEROUS_RE.match(text) is not None


def neutralise(text: str) -> str:
    """The text a spreadsheet will show as text: one leading `'` when it could otherwise start a formula."""
    return "'" + text if starts_like_formula(text) and not _PLAIN_NUMBER_RE.fullmatch(text) else text


def safe_frame(frame: pl.DataFrame, phone_columns: Collection[str] = ()) -> pl.DataFrame:
    """The frame with every text column neutralised (but the screen's phones in `phone_columns`); numbers, dates
    and the rest as they are."""
    text_columns = [name for name, dtype in frame.schema.items() if isinstance(dtype, _TEXT_TYPES)]
    if not text_columns:
        return frame
    return frame.with_columns(_neutralised(name, name in phone_columns) for name in text_columns)


def to_csv_bytes(frame: pl.DataFrame, *, separator: str = ",", phone_columns: Collection[str] = ()) -> bytes:
    """The whole export as bytes, for a download button; `phone_columns` hold phones formatted as on screen."""
    _check_separator(separator)
    buffer = io.BytesIO()
    _write(_for_csv(frame, phone_columns), buffer, separator)
    return buffer.getvalue()


def write_csv(
    frame: pl.DataFrame | pl.LazyFrame,
    target: str | os.PathLike[str] | BinaryIO,
    *,
    separator: str = ",",
) -> int:
    """Write the export to a path (atomically) or an open binary file; returns the number of rows written."""
    _check_separator(separator)
    eager = frame.collect() if isinstance(frame, pl.LazyFrame) else frame
    prepared = _for_csv(eager)
    if isinstance(target, str | os.PathLike):
        _write_atomically(prepared, Path(target), separator)
    else:
        _write(prepared, target, separator)
    return prepared.height


def _check_separator(separator: str) -> None:
    if separator not in SEPARATORS:
        allowed = " or ".join(repr(choice) for choice in SEPARATORS)
        raise ValueError(f"separator must be {allowed}, not {separator!r}")


def _neutralised(name: str, phones: bool = False) -> pl.Expr:
    column = pl.col(name).cast(pl.String)  # categories hold visitor text too; the `'` may not be one of them
    dangerous = column.str.contains(_DANGEROUS) & ~column.str.contains(f"^{_PLAIN_NUMBER}$")
    if phones:
        dangerous &= ~column.str.contains(f"^{FORMATTED_PHONE}$")
    return pl.when(dangerous).then(pl.concat_str(pl.lit("'"), column)).otherwise(column).alias(name)


def _for_csv(frame: pl.DataFrame, phone_columns: Collection[str] = ()) -> pl.DataFrame:
    adjustments = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
            # The format string has no offset, so an aware column would print local wall time under a UTC header.
            adjustments.append(pl.col(name).dt.convert_time_zone("UTC").dt.replace_time_zone(None))
        elif isinstance(dtype, _SHORT_FLOATS):
            # With float_scientific=False polars widens Float32 before printing (0.1 becomes 0.10000000149011612);
            # its shortest text, read back as Float64, prints as the value people entered.
            adjustments.append(pl.col(name).cast(pl.String).cast(pl.Float64))
    return safe_frame(frame.with_columns(adjustments) if adjustments else frame, phone_columns)


def _write(frame: pl.DataFrame, target: str | Path | BinaryIO, separator: str) -> None:
    frame.write_csv(
        target,
        include_bom=True,  # without it Excel guesses a legacy code page and Cyrillic turns to mojibake
        separator=separator,
        datetime_format=DATETIME_FORMAT,
        date_format=DATE_FORMAT,
        float_scientific=False,  # by default polars writes 1e-7 and 1e+20; people expect 0.0000001 and the digits
        # `;` is for Excel where `,` is the decimal mark (Russian settings): there 1.5 would be read as text or a date.
        decimal_comma=separator == ";",
        null_value="",
        quote_style="necessary",  # RFC 4180: only cells with the separator, a quote, CR or LF are quoted
    )


def _write_atomically(frame: pl.DataFrame, path: Path, separator: str) -> None:
    # Written next to the target so the rename stays on one file system and readers see the old or the new file.
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.partial")
    try:
        _write(frame, partial, separator)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
