# ruff: noqa: RUF001, RUF002 - Cyrillic, Arabic-Indic and full-width characters are the point here
"""Hostile input: whatever Newton answers, whatever a visitor typed, whatever file or form value a person gives.

Each bad input gets a clear message and changes nothing; visitor text (HTML, Markdown links and images,
`javascript:` URLs, bidirectional overrides, control characters, very long strings) is inert text everywhere:
in the parsed rows, in every CSV cell, in the upload preview, in the tables and never in Markdown.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tempfile
import unicodedata
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import orjson
import polars as pl
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from streamlit import dataframe_util
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import AlertBase, HeadingBase, Html, Markdown, Metric
from streamlit.testing.v1.element_tree import Widget as WidgetElement

from dashboard.access import Person, Role
from dashboard.api import RECORD_SCHEMA, ChatSession, Credentials, NewtonClient, RecordFilter, Token, Widget, validate
from dashboard.api.models import parse_chats, text_or_none
from dashboard.api.records import API_FIELDS, INTEGER_FIELDS, MAX_INTEGER, TEXT_FIELDS, TIMESTAMP_FIELDS, parse_records
from dashboard.api.retry import Backoff
from dashboard.calls import Calls
from dashboard.datasets import records_for_export
from dashboard.demo import DEMO_USER_ID, DemoNewton, DemoTransport
from dashboard.errors import ApiError, AuthError, FieldErrors, InvalidInput, NewtonError, UnexpectedAnswer, UploadError
from dashboard.export import SEPARATORS, WHITESPACE, neutralise, to_csv_bytes
from dashboard.lead_prices import CRM_LEAD, MAX_BYTES, SET_PRICE, parse
from dashboard.metrics import Definitions, Filters, Metrics, Period
from dashboard.store import Store, data, utc_now
from dashboard.store.connection import connect, transaction
from dashboard.timezones import local_days_utc
from dashboard.ui.safe import literal, visible, visible_frame
from dashboard.writes import Writer
from tests.conftest import client_for, fixed_clock

TOKEN = "0123456789abcdef0123456789abcdef"
EDITOR = Person("tester", Role.EDITOR)
MOSCOW = ZoneInfo("Europe/Moscow")
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
# Characters that draw as nothing: marks that reorder (LRM, RLM, ALM), zero-width spaces and joiners, the BOM, a soft
# hyphen, word joiner, tag characters, Hangul fillers. The whole invisible set is checked from Unicode's categories.
ZERO_WIDTH = "\u200e\u200f\u061c\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\U000e0041\U000e007f\u3164"
DRAWN_FORMAT = "\u0600\u0601\u0602\u0603\u0604\u0605\u06dd\u070f\u0890\u0891\u08e2\U000110bd\U000110cd"
INVISIBLE = "".join(
    chr(c)
    for c in range(0x110000)
    if (unicodedata.category(chr(c)) == "Cf" and chr(c) not in DRAWN_FORMAT) or chr(c) in "\u3164\uffa0"
)
CONTROLS = "".join(chr(c) for c in [*range(0x20), 0x7F, *range(0x80, 0xA0)] if chr(c) not in "\t\n")
# What visitors put in UTM tags, search phrases and comments, beside ordinary text.
NASTY = [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "![x](http://evil/x.png)", "[x](javascript:alert(1))",
    "javascript:alert(1)", '=HYPERLINK("http://evil","click")', "+7 (999) 123-45-67", "-2+3", "@SUM(A1:A9)",
    "\t=1", " \u00a0\u3000=1", "\uff1d1", "photo\u202egpj.exe", "\u2067abc\u2069", "\x00", "\r\n", "**bold**",
    ":red[x]", "$x^2$", "🔥 Ёжик 👨‍👩‍👧", TOKEN, "\u200b=HYPERLINK(1)", "pay\u200bpal.com", "\ufeff@x",
    "❤️‍🔥 🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f", "a\U000e0068\U000e0069b",
]  # fmt: skip
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def hostile_text(max_size: int = 40) -> st.SearchStrategy[str]:
    """Any text, leaning on what breaks things: formula starts, spaces, bidi and control characters, markup."""
    pieces = st.one_of(
        st.text(max_size=max_size),
        st.sampled_from(NASTY),
        st.text(
            alphabet=st.sampled_from(
                list("=+-@ \t\r\n\x00'\";,<>[]()!:") + list(BIDI) + list(WHITESPACE) + list(ZERO_WIDTH) + ["👨"]
            ),
            max_size=8,
        ),
        st.text(alphabet=st.sampled_from(INVISIBLE), max_size=4),
    )
    return st.lists(pieces, max_size=4).map("".join)


def long_text() -> st.SearchStrategy[str]:
    """A short hostile piece repeated into a very long value (a 5,000-character utm_term is real)."""
    return st.builds(lambda piece, times: piece * times, st.sampled_from(NASTY), st.integers(300, 3000))


# --- the response parser ---------------------------------------------------------------------------------------


def scripted(body: bytes, status: int = 200) -> NewtonClient:
    """A client whose Newton answers every request with `body` (labelled text/html, as Newton does)."""
    return NewtonClient(
        Credentials("1", Token(TOKEN)), api_url="https://newton.test/api/v1/json",
        transport=httpx.MockTransport(
            lambda request: httpx.Response(status, content=body, headers={"Content-Type": "text/html"})
        ),
        backoff=Backoff(), sleep=lambda seconds: None,
    )  # fmt: skip


_ODD_VALUES = st.sampled_from(
    ["", " ", "2015-09-01", "2015-09-01 06:58:49", " 2015-09-01T06:58:49 ", "2015-02-30", "2015-09-01 24:00:00",
     "0000-01-01", "9999-12-31 23:59:59", "-2015-09-01", "15-09-01 06:58:49", "+12015-09-01", "yesterday", "93",
     "93.0", "93.5", "12,5", "1e3", "1e400", "-0", "1e12", "1e13", "NaN", "inf", "  12  ", "0x10", "١٢", "１２",
     "\u00a012", "2015-9-1 6:58:49", "2016-12-31 23:59:60", "2015-09-01 06:58:49.5", "\x1c2015-09-01"]
)  # fmt: skip
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**63), max_value=2**64 - 1), st.integers(),
    st.floats(allow_nan=False, allow_infinity=False), hostile_text(20), _ODD_VALUES,
)  # fmt: skip
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=8,
)
RECORD = st.dictionaries(st.one_of(st.sampled_from(API_FIELDS), st.text(max_size=12)), JSON, max_size=14)
RECORDS_ANSWER = st.fixed_dictionaries(
    {"records": st.one_of(st.lists(RECORD, max_size=5), st.dictionaries(st.text(max_size=6), RECORD, max_size=3), JSON)}
)


def on_the_wire(answer: object, ascii_only: bool) -> bytes:
    """The answer as a server would send it; Python's json writes integers of any size, as a server might."""
    return json.dumps(answer, ensure_ascii=ascii_only).encode()


def assert_short_and_secret(error: Exception) -> None:
    message = str(error)
    assert TOKEN not in message.lower()
    if isinstance(error, UnexpectedAnswer):
        # What was wrong and at most 200 characters of the answer, quoted with repr(): an escape such as
        # \U00018d09 can spell one character in ten, so the bound is on characters quoted, not on the message.
        assert 0 < len(message) < 100 + 10 * 200, message


@pytest.mark.slow  # hypothesis-heavy
@FAST
@given(answer=RECORDS_ANSWER, ascii_only=st.booleans())
@example(
    answer={"records": [{"id": "1", "requestDate": "0000-01-01", "callDate": "9999-12-31 23:59:59"}]}, ascii_only=True
)
@example(
    answer={"records": [{"id": "1", "requestDate": "15-09-01 06:58:49", "delayDate": "+12015-09-01"}]}, ascii_only=True
)
@example(answer={"records": [{"leadPrice": 10**30, "callAttempt": "1e13", "x": [2**64 - 1]}]}, ascii_only=True)
def test_any_records_answer_gives_typed_rows_keeping_what_did_not_read_or_says_it_is_unexpected(
    answer: dict[str, Any], ascii_only: bool
) -> None:
    body = on_the_wire(answer, ascii_only)
    try:
        with scripted(body) as client:
            frame = client.get_records()
    except UnexpectedAnswer as error:
        assert_short_and_secret(error)
        return
    assert frame.schema == RECORD_SCHEMA
    sent = orjson.loads(body)["records"]
    items = list(sent.values()) if isinstance(sent, dict) else sent if isinstance(sent, list) else []
    assert frame.height == len(items)
    for item, row in zip(items, frame.iter_rows(named=True), strict=True):
        check_record(item, row)


def check_record(item: dict[str, Any], row: dict[str, Any]) -> None:
    """A parsed row says what Newton sent: text as text, typed values read or kept as sent, unknown keys kept."""
    unparsed = json.loads(row["unparsed"]) if row["unparsed"] else {}
    extra = json.loads(row["extra"]) if row["extra"] else {}
    assert extra == {key: value for key, value in item.items() if key not in API_FIELDS}
    for name in TEXT_FIELDS:
        value = item.get(name)
        if isinstance(value, float):  # how a float prints is no promise; the number it reads back as is
            assert float(row[name]) == value
        else:
            assert row[name] == text_or_none(value)
    for name in (*TIMESTAMP_FIELDS, *INTEGER_FIELDS):
        value, read = item.get(name), row[name]
        text = text_or_none(value)
        if text is None or not text.strip():
            assert read is None and name not in unparsed  # "" and null mean "no value", not a mistake
        elif read is None:
            kept = unparsed[name]
            assert float(kept) == value if isinstance(value, float) else kept == text
        else:
            assert name not in unparsed
            if name in INTEGER_FIELDS:
                assert float(text.strip()) == read and abs(read) <= MAX_INTEGER
            else:  # the time written, and one Python, pandas and every time zone can hold
                assert datetime(2000, 1, 1) <= read < datetime(2100, 1, 1)
                year, month, day, *clock = [int(n) for n in re.findall("[0-9]+", text)] + [0, 0, 0]
                hours, minutes, seconds = clock[:3]  # 23:59:60, a leap second, is the next day's 00:00:00
                assert read == datetime(year, month, day) + timedelta(hours=hours, minutes=minutes, seconds=seconds)


READS: dict[str, Callable[[NewtonClient], object]] = {
    "records": lambda client: client.get_records(),
    "widgets": lambda client: client.get_widgets(),
    "chats": lambda client: client.get_chat_history(),
}


@FAST
@given(
    answer=st.one_of(JSON, st.dictionaries(st.sampled_from(["records", "widgets", "error", "errors", "result"]), JSON)),
    read=st.sampled_from(sorted(READS)),
    ascii_only=st.booleans(),
)
@example(answer={"widgets": {"departments": 5}}, read="widgets", ascii_only=True)
@example(answer=[{"clientId": 1, "startTime": "9999-12-31 23:59:59", "messages": {"text": None}}], read="chats",
         ascii_only=True)  # fmt: skip
def test_any_answer_to_any_read_is_typed_or_a_short_clear_error(answer: object, read: str, ascii_only: bool) -> None:
    try:
        with scripted(on_the_wire(answer, ascii_only)) as client:
            result = READS[read](client)
    except NewtonError as error:
        assert_short_and_secret(error)
        # Only an answer that carries `error`/`errors` is Newton refusing; anything else is an unexpected answer.
        says_error = isinstance(answer, dict) and ("error" in answer or "errors" in answer)
        assert isinstance(error, UnexpectedAnswer) or (
            says_error and isinstance(error, ApiError | AuthError | FieldErrors)
        )
        return
    if read == "widgets":
        assert isinstance(result, list) and all(isinstance(w, Widget) for w in result)
        assert all(isinstance(w.id, str) and all(isinstance(d.name, str) for d in w.departments) for w in result)
    elif read == "chats":
        assert isinstance(result, list) and all(isinstance(s, ChatSession) for s in result)
        for session in result:
            times = [session.start_time, *(m.time for m in session.messages)]
            assert all(t is None or datetime(2000, 1, 1) <= t < datetime(2100, 1, 1) for t in times)
            assert all(isinstance(m.text, str) and isinstance(m.from_client, bool) for m in session.messages)
    else:
        assert isinstance(result, pl.DataFrame) and result.schema == RECORD_SCHEMA


@FAST
@given(body=st.one_of(st.binary(max_size=300), hostile_text(300).map(str.encode)), status=st.sampled_from([200, 404]))
@example(body=b"<html>proxy error for " + TOKEN.encode() + b"</html>", status=200)
@example(body=b"<html>" + b"x" * 100_000 + b"</html>", status=200)
@example(body=b"\xef\xbb\xbftrue", status=200)  # JSON after a byte-order mark, but not an object
def test_a_body_that_is_not_json_is_a_short_error_without_the_token(body: bytes, status: int) -> None:
    try:
        orjson.loads(body)
    except orjson.JSONDecodeError:
        pass
    else:
        return  # some short strings are JSON ("1", "null"); the tests above cover every JSON answer
    with scripted(body, status) as client, pytest.raises(UnexpectedAnswer) as raised:
        client.get_records()
    assert_short_and_secret(raised.value)
    assert "callback.GetRecords" in str(raised.value)


def test_the_token_echoed_as_a_field_name_is_not_shown() -> None:
    with (
        scripted(on_the_wire({"errors": {TOKEN: "unknown field"}}, True)) as client,
        pytest.raises(FieldErrors) as raised,
    ):
        client.get_widgets()
    assert TOKEN not in str(raised.value)


@pytest.mark.parametrize("moment", ["0000-01-01", "9999-12-31 23:59:59", "-2015-09-01", "+12015-09-01 00:00:00"])
def test_a_placeholder_date_is_kept_as_sent_and_every_view_still_works(moment: str) -> None:
    """Regression: 9999-12-31 read as a time crashed the Calls list, the daily series and the span (year 10000)."""
    records = [
        {"id": "1", "requestDate": "2026-11-01 10:00:00", "callDate": moment, "delayDate": moment},
        {"id": "2", "requestDate": moment},
    ]
    frame = parse_records({"records": records})
    assert frame["callDate"].to_list() == [None, None] and frame["requestDate"][1] is None
    assert json.loads(frame["unparsed"][0]) == {"callDate": moment, "delayDate": moment}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cache.duckdb"
        with transaction(path) as con:
            data.upsert_records(con, "a", frame, utc_now())
        with connect(path) as con:
            metrics = Metrics(con, "a", Definitions(zone=MOSCOW))
            assert metrics.data_span() == Period(date(2026, 11, 1), date(2026, 11, 1))
            assert metrics.series(Filters(), "day").height == 1
            assert Calls(con, "a", Definitions(zone=MOSCOW)).listing(Filters()).rows["id"].to_list() == ["1"]
            start, end = local_days_utc(date(2026, 11, 1), date(2026, 11, 1), MOSCOW)
            (row,) = read_back(to_csv_bytes(records_for_export(con, "a", start, end, MOSCOW)), ",")[1:]
    assert row[API_FIELDS.index("callDate")] == neutralise(moment)  # the export shows it as Newton sent it


def test_an_export_of_every_record_survives_one_whose_request_date_did_not_read() -> None:
    frame = parse_records({"records": [{"id": "1", "requestDate": "2026-11-01"}, {"id": "2", "requestDate": "вчера"}]})
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cache.duckdb"
        with transaction(path) as con:
            data.upsert_records(con, "a", frame, utc_now())
        with connect(path) as con:  # what `newton-dashboard export records` without --from does
            exported = records_for_export(con, "a", None, None, MOSCOW)
    assert exported["requestDate"].to_list() == ["2026-11-01 00:00:00", "вчера"]


def test_a_chat_at_a_placeholder_time_has_no_time_rather_than_a_wrong_one() -> None:
    (session,) = parse_chats([{"clientId": "c", "startTime": "9999-12-31 23:59:59",
                               "messages": [{"from": True, "text": "hi", "time": "0001-01-01"}]}])  # fmt: skip
    assert session.start_time is None and session.messages[0].time is None


# --- the CSV exporter ---------------------------------------------------------------------------------------------

FORMULA_STARTS = "=+-@\uff1d\uff0b\uff0d\uff20"


def spreadsheet_would_evaluate(cell: str) -> bool:
    """Excel, LibreOffice and Google Sheets start a formula at these, after spaces; TAB/CR/LF/NUL first is risky."""
    if re.fullmatch(r"[+-]?[0-9]+([.,][0-9]+)?", cell):
        return False  # a plain number (a phone such as +79795382177) is read as a number, never run
    return cell[:1] in ("\t", "\r", "\n", "\x00") or cell.lstrip()[:1] in tuple(FORMULA_STARTS)


def read_back(data: bytes, separator: str) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=separator))


CELLS = st.one_of(st.none(), hostile_text(), long_text())


@FAST
@given(
    columns=st.lists(st.lists(CELLS, min_size=3, max_size=3), min_size=1, max_size=4),
    categorical=st.booleans(),
    numbers=st.lists(st.integers(-(2**63), 2**63 - 1) | st.none(), min_size=3, max_size=3),
    separator=st.sampled_from(SEPARATORS),
)
@example(columns=[["\u202e=1+1", "\x00=cmd", "a" * 50_000]], categorical=False, numbers=[-1, None, 0], separator=";")
def test_any_text_exports_a_row_per_record_and_no_cell_runs_as_a_formula(
    columns: list[list[str | None]], categorical: bool, numbers: list[int | None], separator: str
) -> None:
    frame = pl.DataFrame(
        {**{f"text_{i}": values for i, values in enumerate(columns)}, "number": numbers},
        schema={**{f"text_{i}": pl.String for i in range(len(columns))}, "number": pl.Int64},
    )
    if categorical:
        frame = frame.with_columns(pl.col("text_0").cast(pl.Categorical))
    rows = read_back(to_csv_bytes(frame, separator=separator), separator)

    assert rows[0] == frame.columns
    assert len(rows) == frame.height + 1
    for number, row in zip(numbers, rows[1:], strict=True):
        assert len(row) == frame.width
        *texts, number_cell = row
        assert number_cell == ("" if number is None else str(number))  # numbers stay numbers, minus signs too
        assert not any(spreadsheet_would_evaluate(cell) for cell in texts)
    for i, values in enumerate(columns):
        for value, row in zip(values, rows[1:], strict=True):
            assert row[i] == ("" if value is None else neutralise(value))  # as given, or with one leading '


@pytest.mark.slow  # hypothesis-heavy: records through the cache
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=st.lists(st.dictionaries(st.sampled_from(TEXT_FIELDS[1:]), hostile_text(), max_size=6), min_size=1,
                        max_size=4), separator=st.sampled_from(SEPARATORS))  # fmt: skip
def test_hostile_records_export_through_the_cache_as_sent_one_row_each(
    records: list[dict[str, str]], separator: str
) -> None:
    sent = [{**fields, "id": str(n), "requestDate": "2026-11-01 10:00:00"} for n, fields in enumerate(records)]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cache.duckdb"
        with transaction(path) as con:
            data.upsert_records(con, "a", parse_records({"records": sent}), utc_now())
        with connect(path) as con:
            exported = to_csv_bytes(records_for_export(con, "a", None, None, MOSCOW), separator=separator)
    header, *rows = read_back(exported, separator)
    assert header[: len(API_FIELDS)] == list(API_FIELDS)
    assert len(rows) == len(sent)
    for record, row in zip(sorted(sent, key=lambda r: r["id"]), sorted(rows, key=lambda r: r[0]), strict=True):
        assert len(row) == len(header)
        assert not any(spreadsheet_would_evaluate(cell) for cell in row)
        for name, value in record.items():
            if name != "requestDate":
                assert row[header.index(name)] == neutralise(value)


# --- the bulk-upload reader -----------------------------------------------------------------------------------------

IDS = st.from_regex(r"[0-9A-Za-z_]{1,20}", fullmatch=True)
PHONES = st.from_regex(r"[0-9]{10}", fullmatch=True).map(lambda digits: "+7" + digits)
DATES = st.one_of(st.just(""), st.dates(date(2000, 1, 1), date(2099, 12, 31)).map(date.isoformat))
BAD_CELLS = st.one_of(
    hostile_text(20), st.sampled_from(["=1+1", "-5", "12.5", "1e3", "", "+7999", "2021-02-30", "9" * 5000, "\u202e101"])
)
KIND_COLUMNS = {SET_PRICE: ("id", "price"), CRM_LEAD: ("phone", "price", "date")}


@st.composite
def price_files(draw: st.DrawFn) -> tuple[str, list[str], list[dict[str, Any]], bytes]:
    """A CSV as Excel or a person writes one: any column order, case and padding, `,` or `;`, UTF-8 or 1251,
    with good rows and rows that have one bad cell."""
    action = draw(st.sampled_from([SET_PRICE, CRM_LEAD]))
    columns = list(draw(st.permutations(KIND_COLUMNS[action])))
    if action == CRM_LEAD and draw(st.booleans()):
        columns.remove("date")
    good_values = {"id": IDS, "price": st.integers(0, 10**12).map(str), "phone": PHONES, "date": DATES}
    rows = []
    for _ in range(draw(st.integers(1, 8))):
        row: dict[str, Any] = {column: draw(good_values[column]) for column in columns}
        row["good"] = draw(st.booleans())
        if not row["good"]:
            row[draw(st.sampled_from(columns))] = draw(BAD_CELLS)
        rows.append(row)
    separator = draw(st.sampled_from([",", ";"]))
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=separator, lineterminator="\r\n")
    writer.writerow([draw(st.sampled_from([name, name.upper(), f" {name} ", name.title()])) for name in columns])
    writer.writerows([[row[column] for column in columns] for row in rows])
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1251"]))
    try:
        data = buffer.getvalue().encode(encoding)
    except UnicodeEncodeError:
        data = buffer.getvalue().encode("utf-8")
    return action, columns, rows, data


@FAST
@given(price_files())
def test_good_rows_are_read_exactly_and_bad_rows_are_marked_with_the_field(
    file: tuple[str, list[str], list[dict[str, Any]], bytes],
) -> None:
    action, columns, rows, data = file
    try:
        upload = parse(data)
    except UploadError as error:
        # Only a bad cell can make a whole file unreadable: a NUL (not text) or a quote left open.
        assert error.code in {"encoding", "unreadable"} and not all(row["good"] for row in rows)
        return
    assert upload.action == action
    assert len(upload.rows) == len(rows)
    target = "id" if action == SET_PRICE else "phone"
    for row, written in zip(upload.rows, rows, strict=True):
        if row.ready:
            # A bad cell may happen to be a phone after all (hostile text "0000000000"): it is read as one.
            read = validate.phone(target, written[target]) if target == "phone" else written[target].strip()
            assert row.params[target] == read
            assert row.params["price"] == str(int(written["price"].strip()))
            assert row.params.get("date", "") == written.get("date", "").strip()
        else:
            assert row.problems and set(row.problems) <= {*columns, "row"}
            assert all(row.status.count(f"{name}: ") for name in row.problems)  # the preview names each field
            once = sum(other[target] == written[target] for other in rows) == 1
            assert not (written["good"] and once), "a good row that appears once is always ready"


ENCODINGS = ["utf-16", "utf-16-le", "utf-32", "cp866", "koi8-r", "latin-1", "mac-cyrillic", "utf-7"]


@FAST
@given(
    text=st.sampled_from(["id,price\n101,500\n", "phone;price;date\n+79991234567;228;2024-01-01\n", "Телефон,Цена\n"]),
    encoding=st.sampled_from(ENCODINGS),
    tail=st.binary(max_size=64),
)
@example(text="id,price\n101,500\n", encoding="utf-16", tail=b"")  # Excel's "Unicode text": NUL bytes
@example(text="id,price\n101,", encoding="utf-8", tail=b"9" * 5000 + b"\n")  # a price int() cannot read
@example(text="id,price\n101\x00,500\n", encoding="utf-8", tail=b"")
@example(text="id,price\n101,500\n", encoding="koi8-r", tail=b"\xc6\x98,5\n\xe2\x80\xae1,\xef\xbc\x95\n")
def test_a_file_in_another_encoding_or_with_junk_gives_a_message_or_a_marked_preview(
    text: str, encoding: str, tail: bytes
) -> None:
    try:
        data = text.encode(encoding) + tail
    except UnicodeEncodeError:
        return
    try:
        upload = parse(data)
    except UploadError as error:
        assert error.code in {"encoding", "columns", "unreadable", "empty", "no_rows"}
        if error.code == "columns":
            assert error.values["expected"] == "id,price | phone,price | phone,price,date"
            assert len(str(error.values["found"])) <= 200 and "\x00" not in str(error.values["found"])
        return
    for row in upload.rows:
        assert row.ready == (row.status == "")
        for name, value in row.params.items():  # what would be sent is in the form Newton documents
            check_sent(name, value)


HEADER_CELLS = hostile_text(15).map(lambda text: re.sub(r"[,;\"\r\n\x00]", "", text))


@FAST
@given(header=st.lists(HEADER_CELLS, min_size=1, max_size=4).filter(lambda cells: any(c.strip() for c in cells)))
@example(header=["Call", "Sum"])
@example(header=["<b>id</b>", "price\u202e"])
def test_a_wrong_header_is_named_in_the_message(header: list[str]) -> None:
    columns = [cell.strip().lower() for cell in header]
    while not columns[-1]:
        columns.pop()
    data = ("\ufeff" + ",".join(header) + "\n1,2\n").encode()
    try:
        parse(data)
    except UploadError as error:
        assert error.code == "columns"
        assert error.values == {"expected": "id,price | phone,price | phone,price,date",
                                "found": ",".join(columns)[:200]}  # fmt: skip
        return
    assert sorted(columns) in (["id", "price"], ["phone", "price"])  # a header that happens to be right


def test_a_huge_file_is_refused_before_it_is_read() -> None:
    with pytest.raises(UploadError) as raised:
        parse(b"id,price\n" + b"1,1\n" * (MAX_BYTES // 4 + 1))
    assert raised.value.code == "too_large"


@pytest.mark.parametrize("cell", ["9" * 5000, "0" * 5000 + "5", "١" * 4400])
def test_a_price_with_thousands_of_digits_is_a_marked_row_not_a_crash(cell: str) -> None:
    """Regression: int() refuses more than 4,300 digits with a ValueError that the page did not catch."""
    (row,) = parse(f"id,price\n101,{cell}\n".encode()).rows
    if cell.startswith("0"):
        assert row.ready and row.params["price"] == "5"
    else:
        assert row.problems == {"price": "must be between 0 and 1000000000000"}


# --- form fields -----------------------------------------------------------------------------------------------------


def field_values(good: st.SearchStrategy[Any], odd: list[Any]) -> st.SearchStrategy[Any]:
    """A value a person would type, a known odd one, or anything at all."""
    anything = st.one_of(hostile_text(), long_text(), st.none(), st.integers(-5, 10**13), st.booleans())
    return st.one_of(good, st.sampled_from(odd), anything)


# The ways people write one phone: with +7, 7, 8 or nothing before the 10 digits, spaced, dashed, dotted, bracketed.
_TEN_DIGITS = st.from_regex(r"[0-9]{10}", fullmatch=True)
_PREFIXES = st.sampled_from(["+7 ", "+7", "8 ", "8", "7", ""])
_SPACES = st.sampled_from(["", " ", "\u00a0", "\u202f", "  "])
# Ten bare digits starting with 7 or 8 are refused on purpose (a digit may be missing: "7999123456" could be
# +7 999 123-45-6?), so they are not a phone a person may type; validate's own tests cover that refusal.
_TEN_BARE = re.compile(r"[78][0-9]{9}")
TYPED_PHONES = (
    st.builds(lambda d, prefix: prefix + d, _TEN_DIGITS, _PREFIXES)
    | st.builds(
        lambda d, prefix, space: f"{prefix}({d[:3]}){space}{d[3:6]}-{d[6:8]}.{d[8:]}", _TEN_DIGITS, _PREFIXES, _SPACES
    )
).filter(lambda phone: not _TEN_BARE.fullmatch(re.sub(r"[^0-9]", "", phone)))
TYPED_PRICES = (
    st.integers(0, 10**12).map(lambda n: f"{n:,}".replace(",", " "))
    | st.integers(0, 10**12).map(lambda n: f"{n:,}".replace(",", "\u202f") + ",00")
    | st.integers(0, 10**12).map(lambda n: f"{n}.00")
    | st.integers(0, 10**12)
)
DAYS = st.dates(date(2000, 1, 1), date(2099, 12, 31)).map(date.isoformat)
GOOD = {
    "phone": TYPED_PHONES | PHONES,
    "price": TYPED_PRICES | st.sampled_from(["1\u00a0500", "１５００", " 0 "]),
    "date": DAYS | st.just("2024-02-29 23:59:59"),
    "id": IDS,
    "referer": st.sampled_from(["https://example.ru/", "HTTP://x.y/?utm_source=<b>", " http://a "]),
    "email": st.sampled_from(["ivan@example.com", "анна@пример.рф"]),
    "text": st.one_of(hostile_text(), long_text()),
}
ODD: dict[str, list[Any]] = {
    "phone": ["+7٩٩٩١٢٣٤٥٦٧", "+7９９９１２３４５６７", "+89991234567", "+7 999 123-45-6", "999123456"],
    "price": ["9" * 5000, "12.5", "50000,50", "1,000", "-1", "1e3", "1 500 руб", True],
    "date": ["２０２４-０１-０１", "2021-02-30", "05.05.2021", "2024-01-01T00:00:00"],
    "id": ["\u202e101", "1\x00", "1 2", "a" * 201, "=1+1"],
    "referer": ["javascript:alert(1)", "//evil.example", "http:// x"],
    "email": ["a@b", "a b@c.d", "<script>@x.y"],
    "text": [None],
}
# Each write's arguments and the kind of value each one takes.
WRITES: dict[str, tuple[str, dict[str, str]]] = {
    "set_lead_price": ("callback.SetLeadPrice", {"call_id": "id", "price": "price"}),
    "create_crm_lead": ("callback.CreateCrmLead", {"phone": "phone", "price": "price", "date": "date"}),
    "create_request": ("callback.CreateRequest", {"client_phone": "phone", "widget_id": "id", "department_id": "id",
                                                  "referer": "referer"}),
    "application_request": ("callback.ApplicationRequest", {
        "client_phone": "phone", "widget_id": "id", "department_id": "id", "referer": "referer", "name": "text",
        "email": "email", "text": "text"}),
}  # fmt: skip


def form_values(arguments: dict[str, str]) -> st.SearchStrategy[dict[str, Any]]:
    """Half the time a form filled in properly (always accepted), half the time any mix of good and bad fields."""
    good = st.fixed_dictionaries({name: GOOD[kind] for name, kind in arguments.items()})
    mixed = st.fixed_dictionaries({name: field_values(GOOD[kind], ODD[kind]) for name, kind in arguments.items()})
    return st.one_of(good.map(lambda values: {**values, "good": True}), mixed)


# The argument → the field Newton (and our check) names.
API_NAMES = {"call_id": "id", "client_phone": "clientPhone", "widget_id": "widgetId", "department_id": "departmentId"}
OPTIONAL = {"date", "department_id", "referer", "name", "email", "text"}


def check_sent(name: str, value: str) -> None:
    """What reaches Newton is in the form Newton documents."""
    if name in ("phone", "clientPhone"):
        assert re.fullmatch(r"\+7[0-9]{10}", value)
    elif name == "price":
        assert re.fullmatch(r"[0-9]+", value) and int(value) <= validate.MAX_PRICE
    elif name == "date":
        assert re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}:[0-9]{2})?", value)
    elif name in ("id", "widgetId", "departmentId"):
        assert value and len(value) <= 200
        assert not any(ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf") for ch in value)
    elif name == "referer":
        assert re.match(r"https?://", value, re.IGNORECASE) and value == value.strip()


def normalised(argument: str, value: object) -> str:
    """What a form value becomes when it is accepted: phones as +7 and their last 10 digits, prices without
    thousands spaces and a zero fraction, free text as typed, everything else without surrounding space."""
    text = str(value)
    if argument in ("phone", "client_phone"):
        return "+7" + "".join(ch for ch in text if ch.isdigit())[-10:]
    if argument == "price":
        return text if isinstance(value, int) else str(int("".join(text.split()).split(",")[0].split(".")[0]))
    return text if argument in ("name", "text") else text.strip()


@pytest.fixture(scope="module")
def demo_newton() -> DemoNewton:
    return DemoNewton(records=200, seed=11, clock=fixed_clock)


@pytest.mark.slow  # hypothesis through the write forms of the whole app
@pytest.mark.parametrize("action", sorted(WRITES))
def test_every_form_field_is_sent_clean_or_refused_by_name_with_nothing_sent(
    action: str, demo_newton: DemoNewton
) -> None:
    api_action, fields = WRITES[action]

    @FAST
    @given(form_values(fields))
    def check(values: dict[str, Any]) -> None:
        good = values.pop("good", False)
        arguments = {k: v for k, v in values.items() if not (k in OPTIONAL and v is None)}
        writes = demo_newton.write_count
        with client_for(DemoTransport(demo_newton)) as client:
            try:
                getattr(client, action)(**arguments)
            except InvalidInput as error:
                named = {API_NAMES.get(k, k) for k in arguments}
                assert error.fields and set(error.fields) <= named
                assert all(f"{field}: " in str(error) for field in error.fields)  # the message names the field
                assert demo_newton.write_count == writes  # nothing was sent
                assert not good, "a form filled in properly is accepted"
                return
            except NewtonError:
                pass  # checked and sent; Newton refused (no such call, widget or caller)
        assert demo_newton.write_count == writes + 1
        entry = demo_newton.writes[-1]
        assert entry.action == api_action
        for name, value in entry.params.items():
            check_sent(name, value)
        for argument, value in arguments.items():  # sent as typed, less what the check is documented to drop
            sent = entry.params.get(API_NAMES.get(argument, argument))
            assert sent == (None if argument in OPTIONAL and not str(value).strip() else normalised(argument, value))

    check()


@pytest.mark.slow  # the whole app, run by AppTest
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    call_id=field_values(GOOD["id"], ODD["id"]),
    price=field_values(GOOD["price"], ODD["price"]),
    phone=field_values(GOOD["phone"], ODD["phone"]),
    when=field_values(GOOD["date"], ODD["date"]),
)
@example(call_id="1", price="9" * 5000, phone="+7９９９１２３４５６７", when="２０２４-０１-０１")
def test_a_refused_form_value_leaves_no_write_and_no_write_log_row(
    call_id: Any, price: Any, phone: Any, when: Any
) -> None:
    newton = DemoNewton(records=50, seed=5, clock=fixed_clock)
    with tempfile.TemporaryDirectory() as folder, client_for(DemoTransport(newton)) as client:
        path = Path(folder) / "cache.duckdb"
        writer = Writer(client, Store(path), DEMO_USER_ID, EDITOR)
        refused = 0
        sends: list[Callable[[], None]] = [
            lambda: writer.set_lead_price(call_id, price),
            lambda: writer.create_crm_lead(phone, price, when),
        ]
        for send in sends:
            try:
                send()
            except InvalidInput:
                refused += 1
            except NewtonError:
                pass
        with connect(path) as con:
            logged = con.execute("SELECT count(*) FROM write_log").fetchone()
    assert newton.write_count == 2 - refused
    assert logged == (2 - refused,)


def test_unicode_digits_are_refused_rather_than_sent_as_typed() -> None:
    """Regression: `\\d` let "+7٩٩٩…" and "２０２４-…" through, and Newton would have received them so."""
    for check, value in ((validate.phone, "+7٩٩٩١٢٣٤٥٦٧"), (validate.phone, "+7９９９１２３４５６７")):
        with pytest.raises(InvalidInput, match="phone: must be \\+7"):
            check("phone", value)
    with pytest.raises(InvalidInput, match="date: must be YYYY-MM-DD"):
        validate.date("date", "２０２４-０１-０１")


@pytest.mark.parametrize("value", ["\u202e101", "1\x00", "\u200b101", "10\u20661"])
def test_an_id_with_invisible_characters_is_refused(value: str) -> None:
    """Regression: `\\u202e101` passed as a call id and showed as `101` reversed in the upload preview."""
    with pytest.raises(InvalidInput, match="id: must be a single id without spaces or invisible characters"):
        validate.identifier("id", value)


# --- inert display -----------------------------------------------------------------------------------------------


REORDERING = re.compile(f"[{BIDI}{re.escape(CONTROLS)}{INVISIBLE}\ud800-\udfff]")
# What may stay of those: a zero-width joiner between two pictographs, and the tags of a subdivision flag.
FLAG = re.compile("\U0001f3f4[\U000e0030-\U000e0039\U000e0061-\U000e007a]{2,6}\U000e007f")
MARKER = re.compile(r"\[U\+[0-9A-F]{4,6}\]")


def _pictograph(character: str) -> bool:
    return ord(character) >= 0x2000 and unicodedata.category(character) in ("So", "Sk")


def _joins_emoji(text: str, i: int) -> bool:
    before = text[:i].rstrip("\ufe0f")[-1:]
    return text[i] == "\u200d" and bool(before) and _pictograph(before) and _pictograph(text[i + 1 : i + 2] or "a")


def without_emoji(text: str) -> str:
    """`text` without the flags and the joiners of emoji (the hidden characters `visible` keeps)."""
    text = FLAG.sub("", text)
    return "".join(c for i, c in enumerate(text) if not _joins_emoji(text, i))


def expected_visible(text: str) -> str:
    """The rule, one character at a time: every hidden character named, but those of an emoji."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    out, i = [], 0
    while i < len(text):
        flag = FLAG.match(text, i)
        if flag:
            out.append(flag.group())
            i = flag.end()
            continue
        character = text[i]
        if "\ud800" <= character <= "\udfff":
            out.append("\ufffd")
        elif REORDERING.match(character) and character != "\n" and not _joins_emoji(text, i):
            out.append(f"[U+{ord(character):04X}]")
        else:
            out.append(character)
        i += 1
    return "".join(out)


@pytest.mark.slow  # hypothesis-heavy
@FAST
@given(text=st.one_of(hostile_text(), long_text()))
@example(text="invoice\u202egpj.exe")
@example(text="a\r\nb\rc")
@example(text="\u200bpay\u200dpal\u2060\ufeff\u200e\u200f\u061c 👨\u200d👩\u200d👧 \u200d👨")
def test_visible_text_has_nothing_that_reorders_or_hides_and_says_what_was_there(text: str) -> None:
    shown = visible(text)
    assert shown == expected_visible(text)
    assert visible(shown) == shown
    assert not REORDERING.search(without_emoji(shown)), "a hidden character outside an emoji is left"
    if not REORDERING.search(text):
        assert shown == text  # Cyrillic, emoji, Arabic and all ordinary text untouched
    # Take the markers out and the rest is the text as typed, in order.
    assert MARKER.sub("", shown) == MARKER.sub("", expected_visible(text))


@pytest.mark.parametrize("hidden", ZERO_WIDTH, ids=lambda hidden: f"U+{ord(hidden):04X}")
def test_a_zero_width_or_direction_mark_is_shown_as_a_marker(hidden: str) -> None:
    assert visible(f"pay{hidden}pal") == f"pay[U+{ord(hidden):04X}]pal"


def test_every_invisible_format_character_is_named() -> None:
    shown = visible("".join(f"a{c}" for c in INVISIBLE))
    assert shown == "".join(f"a[U+{ord(c):04X}]" for c in INVISIBLE)
    assert visible(DRAWN_FORMAT) == DRAWN_FORMAT  # format characters that draw a glyph are left alone


def test_emoji_keep_their_joiners_and_flags() -> None:
    for emoji in (
        "👨\u200d👩\u200d👧",
        "❤\ufe0f\u200d🔥",
        "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
    ):
        assert visible(emoji) == emoji
    assert visible("a\u200d👨") == "a[U+200D]👨"  # a joiner that joins no emoji hides something
    assert (
        visible("🏴\U000e0068\U000e0069\U000e0064\U000e0065\U000e0020\U000e0074\U000e0065\U000e0078\U000e007f").count(
            "[U+E"
        )
        == 9
    )


def test_a_reversed_file_name_shows_what_it_is() -> None:
    assert visible("photo\u202egpj.exe") == "photo[U+202E]gpj.exe"
    assert visible("\u2067https://bank.example\u2069") == "[U+2067]https://bank.example[U+2069]"
    assert visible("x\ud800") == "x\ufffd"  # a lone surrogate cannot be sent to the browser at all


@FAST
@given(text=st.one_of(hostile_text(), long_text()))
@example(text="[x](javascript:alert(1)) ![x](http://evil/x.png) <b>hi</b> photo\u202egpj.exe")
def test_literal_markdown_escapes_every_markup_character_and_shows_hidden_ones(text: str) -> None:
    shown = literal(text)
    unescaped = re.sub(r"\\([!-/:-@\[-`{-~])", "", shown)
    assert not re.search(r"[!-/:-@\[-`{-~]", unescaped), "a Markdown character left unescaped"
    assert not REORDERING.search(without_emoji(shown)) and "\n" not in shown
    assert re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", shown) == " ".join(visible(text).split())


def test_visible_frame_changes_only_text_columns_that_need_it() -> None:
    frame = pl.DataFrame({"id": ["\u202e1", "2"], "utm": ["ok", "a\u2066b"], "plain": ["x", None], "n": [1, 2]})
    shown = visible_frame(frame, keep=["id"])
    assert shown.schema == frame.schema
    assert shown["id"].to_list() == ["\u202e1", "2"]  # a key column the page matches edits on stays as it is
    assert shown["utm"].to_list() == ["ok", "a[U+2066]b"]
    assert shown.select("plain", "n").equals(frame.select("plain", "n"))


# --- the dashboard (AppTest) -----------------------------------------------------------------------------------------

MARK = "hostile-q7z"
HOSTILE = (
    f"{MARK} <b>bold</b><script>alert(1)</script> ![x](http://evil/x.png) [x](javascript:alert(1)) "
    "photo\u202egpj.exe " + "очень длинно " * 800 + "end"
)
Rendered = (Markdown, HeadingBase, AlertBase, Html)  # what Streamlit renders as Markdown or HTML


def _walk(node: Any) -> Iterator[Any]:
    children = getattr(node, "children", {})
    for child in children.values() if isinstance(children, dict) else children:
        yield child
        yield from _walk(child)


def rendered_texts(app: AppTest) -> list[str]:
    """Every string Streamlit would put through Markdown or HTML: elements, widget labels and help, metric labels."""
    texts = []
    for node in _walk(app._tree):
        if isinstance(node, Rendered):
            texts.append(str(node.value))
        if isinstance(node, WidgetElement | Metric):
            texts += [str(getattr(node, "label", "")), str(getattr(node, "help", "") or "")]
    return texts


def inject(cache_path: Path, **fields: str) -> str:
    """A record of yesterday with `fields`, made by a demo Newton, read by the client and put into the app's cache."""
    newton = DemoNewton(records=50, seed=3)
    moment = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    record_id = newton.add_record(requestDate=f"{moment:%Y-%m-%d %H:%M:%S}", **fields)
    day = f"{moment:%Y-%m-%d}"
    with client_for(DemoTransport(newton)) as client:
        frame = client.get_records(RecordFilter(request_date_from=f"{day} 00:00:00", request_date_to=f"{day} 23:59:59"))
    frame = frame.filter(pl.col("id") == record_id)
    assert frame.height == 1
    with transaction(cache_path) as con:
        data.upsert_records(con, DEMO_USER_ID, frame, utc_now())
    return record_id


def run(test: AppTest) -> AppTest:
    test.run()
    assert not test.exception, test.exception
    return test


def as_shown(value: object) -> bool:
    """The hostile value in a table cell: exactly as sent, or with its bidi characters made visible."""
    return value in (HOSTILE, visible(HOSTILE))


@pytest.mark.slow  # the whole app, run by AppTest
def test_hostile_visitor_text_is_literal_in_the_calls_and_attribution_tables(app: AppTest, app_env: Path) -> None:
    landing = "javascript:alert(1)//" + HOSTILE
    record_id = inject(
        app_env, landingUtmSource=HOSTILE, landingUtmCampaign=HOSTILE, landingSearchPhrase=HOSTILE,
        landingReferrerType=HOSTILE, landingReferrer="http://" + HOSTILE, ipCity=HOSTILE, landingUrl=landing,
    )  # fmt: skip

    app.switch_page("app_pages/calls.py")
    run(app)
    app.text_input(key="calls_search").set_value(MARK)
    run(app)
    listed = app.data_editor(key="calls_editor").value
    assert list(listed.index) == [record_id]
    for column in ("utm_source", "utm_campaign", "city"):
        assert as_shown(listed.loc[record_id, column]), column
    assert listed.loc[record_id, "landing_page"] in (landing, visible(landing))
    assert not [text for text in rendered_texts(app) if MARK in text]

    app.switch_page("app_pages/attribution.py")
    run(app)
    for dimension in ("utm_source", "search_phrase", "referrer_type", "referrer_host"):
        app.selectbox(key="attribution_by").set_value(dimension)
        run(app)
        (table,) = app.main.dataframe
        cells = [value for value in table.value[dimension] if MARK in str(value)]
        drawn = dataframe_util.convert_arrow_bytes_to_pandas_df(table.proto.arrow_data.styler.display_values)
        labels = list(drawn[dimension])  # the text each cell is drawn with
        if dimension == "referrer_host":  # the host part of "http://hostile-q7z <b>bold<…", markup and all
            assert cells == ["hostile-q7z <b>bold<"], cells
        else:
            assert len(cells) == 1 and as_shown(cells[0]), dimension
            assert any(as_shown(label) for label in labels)  # what the cell reads: the text, not markup
        assert not [text for text in rendered_texts(app) if MARK in text]
        for chart in app.get("plotly_chart"):
            spec = chart.proto.spec
            assert "<script>" not in spec and "<b>bold" not in spec  # tags escaped: plotly draws them as text
