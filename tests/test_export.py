"""CSV exports open in Excel as marketers expect: Cyrillic intact, values as the API gives them, no formulas run."""

from __future__ import annotations

import csv
import io
import unicodedata
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.export import SEPARATORS, neutralise, safe_frame, to_csv_bytes, write_csv

BOM = b"\xef\xbb\xbf"
FORMULA_STARTS = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")
CONTROL_STARTS = ("\t", "\r", "\n", "\x00")
WHITESPACE = [chr(code) for code in range(0x110000) if chr(code).isspace()]
# Format characters that draw as a glyph (the prepended concatenation marks); every other one is invisible.
DRAWN_FORMAT = "\u0600\u0601\u0602\u0603\u0604\u0605\u06dd\u070f\u0890\u0891\u08e2\U000110bd\U000110cd"
INVISIBLE = [
    chr(code)
    for code in range(0x110000)
    if (unicodedata.category(chr(code)) in ("Cf", "Cc") and chr(code) not in DRAWN_FORMAT)
    or chr(code) in "\u3164\uffa0"  # Hangul fillers: letters that draw as blank space
]
UNSEEN = "".join(sorted(set(WHITESPACE) | set(INVISIBLE)))


def is_plain_number(text: str) -> bool:
    """`[+-]?digits` with at most one decimal point or comma between digits, nothing else (written without a regex)."""
    whole, _, fraction = text.removeprefix(text[:1] if text[:1] in "+-" else "").replace(",", ".").partition(".")
    return all(part and part.isascii() and part.isdigit() for part in (whole, *([fraction] if _ else [])))


def is_dangerous(text: str) -> bool:
    """The rule from the issue, written independently of the exporter's regular expression: a formula start after
    any leading characters a reader does not see (spaces of every kind, invisible format characters, controls),
    unless the whole cell is a plain number (a phone such as +79795382177, -12)."""
    formula = text[:1] in CONTROL_STARTS or text.lstrip(UNSEEN)[:1] in FORMULA_STARTS
    return formula and not is_plain_number(text)


def read_rows(data: bytes, separator: str = ",") -> list[list[str]]:
    """What a spreadsheet sees: the cells of a CSV export, read the way Python's csv module reads a file."""
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=separator))


def cells(frame: pl.DataFrame, column: str) -> list[str]:
    rows = read_rows(to_csv_bytes(frame))
    where = rows[0].index(column)
    return [row[where] for row in rows[1:]]


def data_lines(frame: pl.DataFrame, separator: str = ",") -> list[str]:
    return to_csv_bytes(frame, separator=separator).decode("utf-8-sig").split("\n")[1:-1]


# --- encoding and layout


def test_export_starts_with_one_byte_order_mark() -> None:
    data = to_csv_bytes(pl.DataFrame({"name": ["Анна"]}))
    assert data.startswith(BOM)
    assert not data[len(BOM) :].startswith(BOM)


def test_cyrillic_and_emoji_round_trip_through_a_file(tmp_path: Path) -> None:
    frame = pl.DataFrame({"Имя": ["Анна", "Ёжик 🦔", "👨‍👩‍👧 семья"], "Город": ["Москва", "Санкт-Петербург", "Казань"]})
    path = tmp_path / "leads.csv"

    assert write_csv(frame, path) == 3

    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows == [
        ["Имя", "Город"],
        ["Анна", "Москва"],
        ["Ёжик 🦔", "Санкт-Петербург"],
        ["👨‍👩‍👧 семья", "Казань"],
    ]


def test_columns_keep_their_api_names_and_order() -> None:
    frame = pl.DataFrame({"utm_source": ["yandex"], "id": [7], "create_date": [date(2024, 1, 2)], "answered": [True]})
    assert read_rows(to_csv_bytes(frame))[0] == ["utm_source", "id", "create_date", "answered"]


def test_an_empty_frame_exports_its_header_only(tmp_path: Path) -> None:
    frame = pl.DataFrame(schema={"phone": pl.String, "id": pl.Int64})
    assert to_csv_bytes(frame) == BOM + b"phone,id\n"
    assert write_csv(frame, tmp_path / "empty.csv") == 0


# --- values as the API gives them


def test_values_are_written_as_given() -> None:
    frame = pl.DataFrame(
        {
            "id": [12, -3, None],
            "small": pl.Series([1, 2, 255], dtype=pl.UInt8),
            "price": [1500.5, -0.25, None],
            "tiny": [0.0000001, 1e20, 2.0],
            "answered": [True, False, None],
            "note": ["ok", "", None],
        }
    )
    assert data_lines(frame) == [
        "12,1,1500.5,0.0000001,true,ok",
        '-3,2,-0.25,100000000000000000000,false,""',
        ",255,,2,,",
    ]


def test_single_precision_floats_keep_their_short_form() -> None:
    frame = pl.DataFrame({"rate": pl.Series([0.1, -2.5, None], dtype=pl.Float32)})
    assert data_lines(frame) == ["0.1", "-2.5", ""]


def test_nulls_are_empty_cells_in_every_type() -> None:
    frame = pl.DataFrame(
        {"s": [None], "i": [None], "f": [None], "b": [None], "d": [None], "t": [None]},
        schema={"s": pl.String, "i": pl.Int64, "f": pl.Float64, "b": pl.Boolean, "d": pl.Date, "t": pl.Datetime},
    )
    assert data_lines(frame) == [",,,,,"]


def test_datetimes_use_the_api_format_in_utc() -> None:
    moment = datetime(2024, 3, 5, 7, 8, 9, 987654)
    frame = pl.DataFrame(
        {
            "us": pl.Series([moment], dtype=pl.Datetime("us")),
            "ns": pl.Series([moment], dtype=pl.Datetime("ns")),
            "ms": pl.Series([moment], dtype=pl.Datetime("ms")),
            "moscow": pl.Series([datetime(2024, 3, 5, 10, 0, 0)]).dt.replace_time_zone("Europe/Moscow"),
            "day": [date(2024, 3, 5)],
        }
    )
    assert data_lines(frame) == [
        "2024-03-05 07:08:09,2024-03-05 07:08:09,2024-03-05 07:08:09,2024-03-05 07:00:00,2024-03-05"
    ]


# --- formula neutralisation


DANGEROUS = [
    *(f"{start}1+1" for start in FORMULA_STARTS),
    '=HYPERLINK("http://evil","click")',
    "+7 999 123-45-67",
    "+7 (979) 538-21-77",
    "-1+cmd|' /C calc'!A0",
    "+1e5",
    "-12 ",
    " -12",
    "+1,5,0",
    "-1.",
    "+\uff11\uff12",  # full-width digits: not a plain number
    "-2+3",
    "@SUM(A1:A9)",
    "   =1",
    "\u00a0\u3000@cmd",
    " \n-1",
    '\u200b=HYPERLINK("http://evil","click")',
    "\ufeff\u200e\u200f\u061c@cmd",
    "\u2060\u00a0+1",
    "\U000e0041-1",
    "\t",
    "\tplain",
    "\rplain",
    "\nplain",
    "\x00plain",
]
SAFE = [
    "hello",
    "Привет, мир",
    "utm_campaign=sale",
    "1-2",
    "email@example.com",
    "'=already quoted",
    "",
    " leading space",
    "#hashtag",
    "100%",
    "(1+2)",
    "\x0bvertical tab then text",
    "\u200bzero-width space then text",
    "a\u200b=1",
    "\u0600=1",  # a format character that is drawn
    "+79795382177",  # a phone as CRMs and scripts want it
    "-12",
    "+1,5",
    "-0.25",
    "12,5",
]


@pytest.mark.parametrize("text", DANGEROUS)
def test_formula_text_gets_one_apostrophe(text: str) -> None:
    frame = pl.DataFrame({"referrer": [text]})
    assert cells(frame, "referrer") == ["'" + text]
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("text", SAFE)
def test_ordinary_text_is_untouched(text: str) -> None:
    assert cells(pl.DataFrame({"comment": [text]}), "comment") == [text]
    assert neutralise(text) == text


@pytest.mark.parametrize("space", WHITESPACE, ids=lambda space: f"U+{ord(space):04X}")
def test_every_kind_of_space_before_a_formula_is_seen_through(space: str) -> None:
    text = f"{space}{space}=1"
    assert cells(pl.DataFrame({"search_phrase": [text]}), "search_phrase") == ["'" + text]
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("unseen", INVISIBLE, ids=lambda unseen: f"U+{ord(unseen):04X}")
def test_every_invisible_character_before_a_formula_is_seen_through(unseen: str) -> None:
    text = f"{unseen} {unseen}=HYPERLINK(1)"
    assert cells(pl.DataFrame({"utm_term": [text]}), "utm_term") == ["'" + text]
    assert neutralise(text) == "'" + text


def test_neutralising_twice_adds_nothing() -> None:
    once = safe_frame(pl.DataFrame({"utm_term": DANGEROUS + SAFE}))
    assert safe_frame(once).equals(once)


def test_numbers_stay_numbers_even_when_negative() -> None:
    frame = pl.DataFrame({"delta": [-5, 3], "ratio": [-0.5, 1.25], "typed_by_visitor": ["-5", "-5+1"]})
    assert data_lines(frame) == ["-5,-0.5,-5", "3,1.25,'-5+1"]


def test_a_phone_is_exported_as_it_is() -> None:
    frame = pl.DataFrame({"id": [1, 2, 3], "clientPhone": ["+79795382177", "+7 979 538-21-77", None]})
    assert cells(frame, "clientPhone") == ["+79795382177", "'+7 979 538-21-77", ""]


def test_safe_frame_changes_text_columns_only() -> None:
    frame = pl.DataFrame(
        {
            "id": [-1, 2, 3],
            "utm_source": ["=cmd", "google", None],
            "channel": pl.Series(["@mail", "seo", "seo"], dtype=pl.Categorical),
            "when": [date(2024, 1, 1)] * 3,
        }
    )
    safe = safe_frame(frame)
    assert safe.columns == frame.columns
    assert safe.select("id", "when").equals(frame.select("id", "when"))
    assert safe["utm_source"].to_list() == ["'=cmd", "google", None]
    assert safe["channel"].cast(pl.String).to_list() == ["'@mail", "seo", "seo"]


# Any text, and text made of what hides a formula: unseen characters, formula starts, ordinary letters.
TEXT = st.one_of(st.text(), st.text(alphabet=st.sampled_from([*UNSEEN, *FORMULA_STARTS, "a", "1", "\u0600"])))


@settings(max_examples=150, deadline=None)
@given(st.lists(TEXT, min_size=1, max_size=20), st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_any_text_reads_back_as_itself_or_with_one_apostrophe(texts: list[str], number: int) -> None:
    frame = pl.DataFrame(
        {"text": texts, "number": [number] * len(texts)}, schema={"text": pl.String, "number": pl.Int64}
    )
    rows = read_rows(to_csv_bytes(frame))

    assert rows[0] == ["text", "number"]
    assert len(rows) == len(texts) + 1
    for text, (cell, number_cell) in zip(texts, rows[1:], strict=True):
        assert cell == ("'" + text if is_dangerous(text) else text)
        assert number_cell == str(number)


@settings(max_examples=300)
@given(TEXT)
def test_neutralise_follows_the_rule(text: str) -> None:
    result = neutralise(text)
    assert result == ("'" + text if is_dangerous(text) else text)
    assert neutralise(result) == result


# --- quoting and separators


@pytest.mark.parametrize("separator", SEPARATORS)
def test_quoting_survives_separators_quotes_and_newlines(separator: str) -> None:
    texts = ["a,b", "a;b", 'say "hi"', "two\nlines", "windows\r\nline", "lone\rcarriage", "trailing\r", '"', ""]
    frame = pl.DataFrame({"comment": texts, "n": range(len(texts))})
    rows = read_rows(to_csv_bytes(frame, separator=separator), separator)
    assert rows[1:] == [[text, str(n)] for n, text in enumerate(texts)]


def test_semicolon_separator_for_russian_excel() -> None:
    frame = pl.DataFrame({"utm_source": ["yandex, direct", "a;b"], "leads": [3, -1]})
    assert to_csv_bytes(frame, separator=";") == BOM + b'utm_source;leads\nyandex, direct;3\n"a;b";-1\n'


def test_semicolon_variant_writes_decimal_commas_for_russian_excel() -> None:
    frame = pl.DataFrame(
        {"rate": [0.816, -1.5, None], "leads": [1500, -3, 7], "short": pl.Series([0.1, 2.5, 3], dtype=pl.Float32)}
    )
    assert read_rows(to_csv_bytes(frame, separator=";"), ";")[1:] == [
        ["0,816", "1500", "0,1"], ["-1,5", "-3", "2,5"], ["", "7", "3"]
    ]  # fmt: skip
    assert read_rows(to_csv_bytes(frame))[1:] == [["0.816", "1500", "0.1"], ["-1.5", "-3", "2.5"], ["", "7", "3"]]


@pytest.mark.parametrize("separator", ["\t", "|", "", ",;", " "])
def test_an_unknown_separator_is_refused(separator: str, tmp_path: Path) -> None:
    frame = pl.DataFrame({"a": [1]})
    with pytest.raises(ValueError, match="separator"):
        to_csv_bytes(frame, separator=separator)
    with pytest.raises(ValueError, match="separator"):
        write_csv(frame, tmp_path / "out.csv", separator=separator)
    assert list(tmp_path.iterdir()) == []


# --- writing files


@pytest.mark.parametrize("lazy", [False, True], ids=["eager", "lazy"])
def test_write_csv_writes_what_to_csv_bytes_returns(lazy: bool, tmp_path: Path) -> None:
    frame = pl.DataFrame({"phrase": ["=1", "купить диван"], "visits": [10, -2]})
    path = tmp_path / "phrases.csv"

    rows = write_csv(frame.lazy() if lazy else frame, str(path), separator=";")

    assert rows == 2
    assert path.read_bytes() == to_csv_bytes(frame, separator=";")


def test_write_csv_to_an_open_binary_file() -> None:
    frame = pl.DataFrame({"phrase": ["@home"], "visits": [1]})
    buffer = io.BytesIO()
    assert write_csv(frame, buffer) == 1
    assert buffer.getvalue() == to_csv_bytes(frame)


def test_a_new_export_replaces_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(b"old export that was much longer than the new one\n" * 100)
    write_csv(pl.DataFrame({"a": [1]}), path)
    assert path.read_bytes() == BOM + b"a\n1\n"


def test_a_failed_export_leaves_the_previous_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(b"previous export\n")
    unwritable = pl.DataFrame({"tags": [["a", "b"]], "id": [1]})  # CSV has no place for a list

    with pytest.raises(pl.exceptions.PolarsError):
        write_csv(unwritable, path)

    assert path.read_bytes() == b"previous export\n"
    assert [entry.name for entry in tmp_path.iterdir()] == ["export.csv"]
