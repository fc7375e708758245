# ruff: noqa: RUF001 - Russian text is meant to be Cyrillic
"""Reading a lead-price CSV (any bytes: a preview or a clear error), sending its ready rows, and the write history."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard import lead_prices
from dashboard.access import Person, Role
from dashboard.api import NewtonClient
from dashboard.connect import embedded_demo, open_client
from dashboard.demo import DEMO_USER_ID
from dashboard.errors import UploadError
from dashboard.lead_prices import CRM_LEAD, SET_PRICE, parse
from dashboard.settings import load_connection
from dashboard.store import Store
from dashboard.writes import Writer
from tests.conftest import client_for

EDITOR = Person("dashboard", Role.EDITOR)


def statuses(data: bytes) -> list[str]:
    return [row.status for row in parse(data).rows]


# Reading ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"id,price\n101,500\n102,0\n",
        b"\xef\xbb\xbfid,price\r\n101,500\r\n102,0\r\n",  # Excel's "CSV UTF-8"
        b"id;price\n101;500\n102;0\n",  # Excel where the comma is the decimal mark
        b" ID ; Price ;;\n101;500;;\n\n102;0;;\n;;;\n",  # odd case, spaces, empty columns and blank lines
        b'"id","price"\n"101","500"\n"102","0"\n',
    ],
)
def test_a_price_file_in_any_usual_shape_reads_the_same(data: bytes) -> None:
    upload = parse(data)
    assert upload.action == SET_PRICE
    assert [(r.target, r.price, r.ready) for r in upload.rows] == [("101", "500", True), ("102", "0", True)]
    assert [dict(r.params) for r in upload.ready] == [{"id": "101", "price": "500"}, {"id": "102", "price": "0"}]


def test_a_deal_file_in_windows_1251_with_and_without_dates() -> None:
    text = (
        "phone;price;date\n+7 (999) 123-45-67;1 500;2026-11-01\n+79991234568;700;\n+79991234569;5;2026-11-01 10:00:00\n"
    )
    upload = parse(text.encode("cp1251"))
    assert upload.action == CRM_LEAD
    assert [dict(r.params) for r in upload.rows] == [
        {"phone": "+79991234567", "price": "1500", "date": "2026-11-01"},
        {"phone": "+79991234568", "price": "700"},
        {"phone": "+79991234569", "price": "5", "date": "2026-11-01 10:00:00"},
    ]
    assert parse(b"phone,price\n+79991234567,100\n").action == CRM_LEAD


def test_cyrillic_cells_survive_both_encodings() -> None:
    text = "id;price\nзвонок-1;100\n"
    for encoding in ("utf-8", "utf-8-sig", "cp1251"):
        (row,) = parse(text.encode(encoding)).rows
        assert row.target == "звонок-1" and row.ready


def test_each_bad_field_is_named_and_the_row_is_not_ready() -> None:
    upload = parse(
        b"phone,price,date\n"
        b"+89991234567,100,2026-11-01\n"  # +8 instead of +7
        b"+79991234567,12.5,2026-11-01\n"
        b"+79991234567,-3,\n"
        b"+79991234567,100,01.11.2026\n"
        b"+79991234567,100,2026-02-30\n"
        b",,\n+7999,abc,tomorrow\n"
    )
    assert [r.status for r in upload.rows] == [
        "phone: must be +7 followed by 10 digits, e.g. +79991234567",
        "price: must be a whole number of roubles, 0 or more",
        "price: must be a whole number of roubles, 0 or more",
        "date: must be YYYY-MM-DD or YYYY-MM-DD HH:MM:SS (UTC)",
        "date: is not a real calendar date",
        "phone: must be +7 followed by 10 digits, e.g. +79991234567; date: must be YYYY-MM-DD or YYYY-MM-DD "
        "HH:MM:SS (UTC); price: must be a whole number of roubles, 0 or more",
    ]
    assert upload.ready == [] and all(not r.params for r in upload.rows)
    assert [r.row for r in upload.rows] == [2, 3, 4, 5, 6, 8]  # spreadsheet rows: the header is row 1


def test_an_empty_id_a_huge_price_and_a_spare_cell_are_named() -> None:
    assert statuses(b"id,price\n,5\n7,1000000000001\n8,5,oops\n9,5,\n") == [
        "id: must not be empty",
        "price: must be between 0 and 1000000000000",
        "row: has 3 cells, the header has 2",
        "",
    ]


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-5", "@SUM(A1)", '=HYPERLINK("http://x")', "\t=1"])
def test_a_formula_cell_is_just_a_bad_value(cell: str) -> None:
    quoted = '"' + cell.replace('"', '""') + '"'
    upload = parse(f"id,price\n{quoted},5\n7,{quoted}\n".encode())
    assert upload.ready == []
    assert upload.rows[0].problems.keys() == {"id"}  # a leading tab is trimmed first: `=1` is still a formula
    assert upload.rows[1].problems.keys() == {"price"}
    deals = parse(f"phone,price,date\n{quoted},5,\n+79991234567,5,{quoted}\n".encode())
    assert [set(r.problems) for r in deals.rows] == [{"phone"}, {"date"}]


def test_a_repeated_id_is_sent_once_and_conflicting_prices_not_at_all() -> None:
    upload = parse(b"id,price\n1,100\n2,200\n1,100\n3,5\n3,6\n")
    assert [(r.target, r.status) for r in upload.rows] == [
        ("1", ""),
        ("2", ""),
        ("1", "id: repeats row 2: sent once, from that row"),
        ("3", "id: has different prices on rows 5, 6: keep one row"),
        ("3", "id: has different prices on rows 5, 6: keep one row"),
    ]
    assert [r.target for r in upload.ready] == ["1", "2"]


def test_phones_and_prices_as_people_type_them_are_one_deal() -> None:
    typed = ["8 979 538-21-77", "8(979)5382177", "+7 979 538 21 77", "79795382177", "9795382177"]
    prices = ["50 000", "50\u00a0000", "50\u202f000", "50000,00", "50000.00"]
    rows = "".join(f'"{phone}";"{price}"\n' for phone, price in zip(typed, prices, strict=True))
    upload = parse(f"phone;price\n{rows}".encode())
    assert [r.target for r in upload.rows] == typed  # shown as the file has them
    assert [dict(r.params) for r in upload.ready] == [{"phone": "+79795382177", "price": "50000"}]
    assert [r.status for r in upload.rows[1:]] == ["phone: repeats row 2: sent once, from that row"] * 4


def test_the_same_deal_twice_is_sent_once() -> None:
    upload = parse(b"phone,price\n+79991234567,100\n+7 999 123 45 67,100\n+79991234567,200\n")
    assert [r.status for r in upload.rows] == ["", "phone: repeats row 2: sent once, from that row", ""]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty"),
        (b"\xef\xbb\xbf", "empty"),
        (b"\n\r\n ;; \n", "empty"),
        (b"id,price\n", "no_rows"),
        (b"id,price\n,\n , \n", "no_rows"),
        (b"call,price\n1,2\n", "columns"),
        (b"id,price,comment\n1,2,x\n", "columns"),
        (b"id,phone,price\n1,+79991234567,2\n", "columns"),
        (b"id,id,price\n1,1,2\n", "columns"),
        (b"price\n5\n", "columns"),
        (b"101,500\n102,0\n", "columns"),  # no header row
        (b'id,price\n"1,2\n', "unreadable"),  # a quote never closed
        (b"\x98\xff\xfe\x00", "encoding"),  # not UTF-8, and 0x98 is no character in Windows-1251
    ],
)
def test_files_that_cannot_be_read_say_why(data: bytes, code: str) -> None:
    with pytest.raises(UploadError) as raised:
        parse(data)
    assert raised.value.code == code


def test_the_columns_message_names_what_is_expected_and_found() -> None:
    with pytest.raises(UploadError) as raised:
        parse(b"Call;Sum\n1;2\n")
    assert raised.value.values == {"expected": "id,price | phone,price | phone,price,date", "found": "call,sum"}


def test_too_many_rows_or_bytes_are_refused() -> None:
    parse(b"id,price\n" + b"".join(b"%d,1\n" % i for i in range(10_000)))  # exactly the limit is fine
    with pytest.raises(UploadError) as raised:
        parse(b"id,price\n" + b"".join(b"%d,1\n" % i for i in range(10_001)))
    assert raised.value.code == "too_many_rows" and raised.value.values["rows"] == 10_001
    with pytest.raises(UploadError) as raised:
        parse(b"id,price\n1,1\n" + b" " * (2 * 1024 * 1024))
    assert raised.value.code == "too_large"


def test_the_digest_tells_files_apart() -> None:
    assert parse(b"id,price\n1,1\n").digest == parse(b"id,price\n1,1\n").digest
    assert parse(b"id,price\n1,1\n").digest != parse(b"id,price\n1,2\n").digest


_HEADERS = st.sampled_from([b"id,price\n", b"id;price\n", b"phone,price,date\n", b"\xef\xbb\xbfphone;price\n", b""])


@settings(max_examples=300, deadline=None)
@given(head=_HEADERS, body=st.binary(max_size=400))
def test_any_bytes_give_a_preview_or_an_upload_error(head: bytes, body: bytes) -> None:
    try:
        upload = parse(head + body)
    except UploadError as error:
        assert error.code in {"empty", "no_rows", "columns", "unreadable", "encoding", "too_many_rows", "too_large"}
    else:
        assert upload.action in (SET_PRICE, CRM_LEAD)
        for row in upload.rows:
            assert row.ready == (row.status == "") == bool(row.params)


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=st.characters(codec="utf-8"), max_size=300), semicolons=st.booleans())
def test_any_text_rows_give_a_preview_or_an_upload_error(text: str, semicolons: bool) -> None:
    head = "id;price\n" if semicolons else "phone,price,date\n"
    with contextlib.suppress(UploadError):
        parse((head + text).encode())


# Sending ----------------------------------------------------------------------------------------------------


@pytest.fixture
def cache_file(demo_cache: Path, tmp_path: Path) -> Path:
    """A fresh copy of the embedded demo account's synced cache."""
    copy = tmp_path / "demo.duckdb"
    shutil.copy(demo_cache, copy)
    return copy


@pytest.fixture
def client() -> Iterator[NewtonClient]:
    with open_client(load_connection(env={}, secrets_path=Path("/nonexistent"))) as made:
        yield made


def rows(path: Path, sql: str, params: list[object] | None = None) -> list[tuple[object, ...]]:
    with duckdb.connect(str(path)) as con:
        return con.execute(sql, params or []).fetchall()


@pytest.mark.slow  # writes through the embedded Newton over HTTP
def test_ready_price_rows_are_sent_and_bad_ones_are_not(cache_file: Path, client: NewtonClient) -> None:
    (first, second) = [r[0] for r in rows(cache_file, "SELECT id FROM records ORDER BY requestDate DESC LIMIT 2")]
    upload = parse(f"id,price\n{first},4321\n{second},12.5\n=1+1,5\nno-such-call,10\n".encode())
    assert [r.target for r in upload.ready] == [first, "no-such-call"]
    demo = embedded_demo()
    before = demo.write_count
    results = list(lead_prices.apply(Writer(client, Store(cache_file), DEMO_USER_ID, EDITOR), upload))
    assert demo.write_count == before + 2  # the two bad rows never reached Newton
    assert [(r.row.target, r.outcome) for r in results] == [(first, "ok"), ("no-such-call", "refused")]
    assert "id:" in (results[1].message or "")
    assert rows(cache_file, "SELECT leadPrice FROM records WHERE id = ?", [first]) == [(4321,)]
    assert rows(cache_file, "SELECT action, outcome, actor FROM write_log ORDER BY rowid") == [
        (SET_PRICE, "ok", "dashboard"),
        (SET_PRICE, "refused", "dashboard"),
    ]
    data = lead_prices.results_csv(SET_PRICE, results)
    assert data.startswith(b"\xef\xbb\xbf")
    lines = data.decode("utf-8-sig").splitlines()
    assert lines[0] == "row,id,price,outcome,message" and lines[1] == f"2,{first},4321,ok,"


@pytest.mark.slow  # writes through the embedded Newton over HTTP
def test_a_deal_for_an_unknown_phone_is_a_row_failure(cache_file: Path, client: NewtonClient) -> None:
    (phone,) = rows(cache_file, "SELECT clientPhone FROM records WHERE clientPhone IS NOT NULL LIMIT 1")[0]
    upload = parse(f"phone,price,date\n{phone},900,2026-11-01\n+70000000000,5,\n+7000,5,\n".encode())
    demo = embedded_demo()
    before = demo.write_count
    results = list(lead_prices.apply(Writer(client, Store(cache_file), DEMO_USER_ID, EDITOR), upload))
    assert demo.write_count == before + 2
    assert [r.outcome for r in results] == ["ok", "failed"]
    assert results[1].message == "По номеру не нашлся звонок"
    assert [p for (p,) in rows(cache_file, "SELECT params FROM write_log ORDER BY rowid")] == [
        f'{{"phone":"{phone}","price":"900","date":"2026-11-01"}}',
        '{"phone":"+70000000000","price":"5"}',
    ]
    csv = lead_prices.results_csv(CRM_LEAD, results).decode("utf-8-sig").splitlines()
    assert csv[0] == "row,phone,price,date,outcome,message"
    assert csv[2] == "3,+70000000000,5,,failed,По номеру не нашлся звонок"  # a phone is no formula: written as it is


@pytest.mark.slow  # writes through the embedded Newton over HTTP
def test_the_history_is_newest_first_in_local_time(cache_file: Path, client: NewtonClient) -> None:
    (call_id,) = rows(cache_file, "SELECT id FROM records LIMIT 1")[0]
    writer = Writer(client, Store(cache_file), DEMO_USER_ID, EDITOR)
    list(lead_prices.apply(writer, parse(f"id,price\n{call_id},1\n".encode())))
    list(lead_prices.apply(writer, parse(f"id,price\n{call_id},2\n".encode())))
    with duckdb.connect(str(cache_file)) as con:  # another account's write is not shown
        con.execute(
            "INSERT INTO write_log (write_id, account, written_at, action, params, outcome) "
            "VALUES ('x', 'other', now(), 'callback.SetLeadPrice', '{}', 'ok')"
        )
    zone = ZoneInfo("Asia/Vladivostok")  # UTC+10
    table = lead_prices.history(Store(cache_file), DEMO_USER_ID, zone)
    assert table.columns == list(lead_prices.HISTORY_COLUMNS)
    assert list(table["parameters"]) == [f'{{"id":"{call_id}","price":"2"}}', f'{{"id":"{call_id}","price":"1"}}']
    (written,) = rows(cache_file, "SELECT max(written_at) FROM write_log WHERE account = ?", [DEMO_USER_ID])[0]
    assert isinstance(written, datetime)
    assert table["time"][0] == written.replace(tzinfo=ZoneInfo("UTC")).astimezone(zone).replace(tzinfo=None)
    csv = lead_prices.history_csv(table).decode("utf-8-sig").splitlines()
    assert csv[0] == "time_local,action,parameters,outcome,message,actor" and len(csv) == 3


@pytest.mark.slow  # a copy of the synced demo account
def test_a_row_newton_did_not_confirm_is_unknown_in_the_results_as_in_the_write_log(cache_file: Path) -> None:
    # Newton answers the SetLeadPrice with HTTP 200 but no "ok": it may have set the price, or not.
    unconfirmed = httpx.MockTransport(lambda request: httpx.Response(200, json={"result": "maybe"}))
    (call_id,) = rows(cache_file, "SELECT id FROM records ORDER BY requestDate DESC LIMIT 1")[0]
    upload = parse(f"id,price\n{call_id},4321\n".encode())
    with client_for(unconfirmed) as client:
        writer = Writer(client, Store(cache_file), DEMO_USER_ID, EDITOR)
        (sent,) = lead_prices.apply(writer, upload)
    assert rows(cache_file, "SELECT outcome FROM write_log") == [("unknown",)]
    (standing,) = lead_prices.progress(Store(cache_file), DEMO_USER_ID, upload, writer.clock())
    assert sent.outcome == standing.outcome == "unknown"  # the run's row says what the page shows after it
    assert "did not confirm" in (sent.message or "")
