# ruff: noqa: RUF001 - Russian text is meant to be Cyrillic
"""The Lead prices page (AppTest): upload, the checked preview, sending only ready rows, results and history."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import duckdb
import pytest
from streamlit import dataframe_util
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Dataframe

from dashboard.connect import embedded_demo
from dashboard.ui.safe import literal

pytestmark = pytest.mark.slow  # the whole app, run by AppTest

PAGE = "app_pages/lead_prices.py"


@pytest.fixture
def page(app: AppTest) -> AppTest:
    app.switch_page(PAGE).run()
    assert not app.exception, app.exception
    return app


def run(app: AppTest) -> AppTest:
    app.run()
    assert not app.exception, app.exception
    return app


def upload(app: AppTest, data: bytes, name: str = "prices.csv") -> AppTest:
    app.file_uploader(key="prices_file").set_value((name, data, "text/csv"))
    return run(app)


# Which table is which, by a column only it has (AppTest does not report a dataframe's key).
TABLES = {"prices_preview": ("Status", "Статус"), "prices_results": ("row",), "prices_history": ("actor",)}


def element(app: AppTest, key: str) -> Dataframe:
    (found,) = [d for d in app.dataframe if any(c in d.value.columns for c in TABLES[key])]
    return found


def history_tab(app: AppTest) -> AppTest:
    app.radio(key="prices_tab").set_value("history")
    return run(app)


def table(app: AppTest, key: str) -> Any:
    """The values a table holds."""
    return element(app, key).value


def shown(app: AppTest, key: str) -> Any:
    """The cells of a table as the grid draws them (its values formatted and worded as on screen)."""
    return dataframe_util.convert_arrow_bytes_to_pandas_df(element(app, key).proto.arrow_data.styler.display_values)


def cache_rows(path: Path, sql: str, params: list[object] | None = None) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(path)) as con:
        return con.execute(sql, params or []).fetchall()


def newest_ids(path: Path, n: int) -> list[str]:
    return [r[0] for r in cache_rows(path, "SELECT id FROM records ORDER BY requestDate DESC LIMIT ?", [n])]


def test_the_empty_page_invites_an_upload_and_has_no_history(page: AppTest) -> None:
    assert page.title[0].value == "Lead prices"
    assert page.file_uploader(key="prices_file").allowed_type == [".csv"]
    assert any("No file yet" in i.value for i in page.info)
    assert not page.get("download_button") and not page.main.button
    assert any("Nothing has been written" in i.value for i in history_tab(page).info)


def test_the_preview_marks_bad_rows_and_apply_sends_only_the_ready_ones(
    page: AppTest, app_env: Path, downloads: list[tuple[bytes, str]]
) -> None:
    first, second = newest_ids(app_env, 2)
    data = f"\ufeffid;price\n{first};4321\n{second};12.5\n=1+1;5\n{first};4321\n".encode()
    upload(page, data)
    preview = table(page, "prices_preview")
    assert list(preview.columns) == ["Row", "Call id", "Price, ₽", "Status"]
    assert list(preview["Status"]) == [
        "ready",
        "price: must be a whole number of roubles, 0 or more",
        "id: looks like a spreadsheet formula, not a call id",
        "id: repeats row 2: sent once, from that row",
    ]
    assert list(preview["Call id"])[2] == "=1+1"  # shown as the plain text it is
    assert any("1 ready, 3 with errors" in w.value for w in page.warning)
    assert not any("=1+1" in m.value for m in [*page.markdown, *page.caption, *page.error, *page.warning])
    before = embedded_demo().write_count
    apply = page.button(key="prices_apply")
    assert apply.label == "Send 1 ready row to Newton" and not apply.disabled

    apply.click()
    run(page)
    assert embedded_demo().write_count == before + 1
    assert any("1 of 1 sent." in s.value for s in page.success)
    results = shown(page, "prices_results")
    assert list(results.iloc[0]) == ["2", first, "4321", "sent", "(not set)"]
    assert cache_rows(app_env, "SELECT leadPrice FROM records WHERE id = ?", [first]) == [(4321,)]
    assert page.button(key="prices_apply").disabled  # the same file is not sent twice
    assert any("has been sent" in c.value for c in page.caption)

    (results_csv,) = [d for d, _ in downloads if d.decode("utf-8-sig").startswith("row,")]
    assert results_csv.startswith(b"\xef\xbb\xbf")
    assert results_csv.decode("utf-8-sig").splitlines() == ["row,id,price,outcome,message", f"2,{first},4321,ok,"]

    history = shown(history_tab(page), "prices_history")
    assert list(history["action"]) == ["Lead price"]  # in words, not the API's action
    assert list(history["parameters"]) == [f'{{"id":"{first}","price":"4321"}}']
    assert list(history["outcome"]) == ["sent"] and list(history["actor"]) == ["local"]
    assert list(table(page, "prices_history")["action"]) == ["callback.SetLeadPrice"]  # the raw file keeps the code
    (history_csv,) = [d for d, _ in downloads if d.decode("utf-8-sig").startswith("time_local,")]
    assert history_csv.startswith(b"\xef\xbb\xbf") and first.encode() in history_csv

    # Beside each raw download, the table as shown: the page's headers, the outcome in words.
    results_screen = [d for d, _ in downloads if d.decode("utf-8-sig").startswith("Row,")][-1]
    assert list(csv.reader(io.StringIO(results_screen.decode("utf-8-sig")))) == [
        ["Row", "Call id", "Price, ₽", "Result", "Message"], ["2", first, "4321", "sent", "(not set)"]
    ]  # fmt: skip
    history_screen = [d for d, _ in downloads if d.decode("utf-8-sig").startswith("Time (local),")][-1]
    (_, row) = list(csv.reader(io.StringIO(history_screen.decode("utf-8-sig"))))
    assert row[0] == shown(page, "prices_history")["time"][0]  # the time as the table shows it
    assert row[1:] == ["Lead price", f'{{"id":"{first}","price":"4321"}}', "sent", "(not set)", "local"]

    run(page)  # another run (a second click, a refresh) sends nothing more
    assert embedded_demo().write_count == before + 1


def test_deals_in_windows_1251_and_a_phone_newton_does_not_know(page: AppTest, app_env: Path) -> None:
    (phone,) = cache_rows(app_env, "SELECT clientPhone FROM records WHERE clientPhone IS NOT NULL LIMIT 1")[0]
    upload(page, f"phone;price;date\n{phone};900;2026-11-01\n+70000000000;5;\nтелефон;5;\n".encode("cp1251"))
    preview = table(page, "prices_preview")
    assert list(preview.columns) == ["Row", "Phone", "Price, ₽", "Date (UTC)", "Status"]
    assert list(preview["Status"])[2].startswith("phone: must be +7")
    assert any("creates a deal" in i.value for i in page.info)
    before = embedded_demo().write_count
    page.button(key="prices_apply").click()
    run(page)
    assert embedded_demo().write_count == before + 2
    assert any("1 of 2 sent." in w.value for w in page.warning)
    results = shown(page, "prices_results")
    assert list(results["outcome"]) == ["sent", "failed"]
    assert list(results["message"])[1] == "По номеру не нашлся звонок"
    assert list(shown(history_tab(page), "prices_history")["outcome"]) == ["failed", "sent"]  # newest first, in words
    assert list(table(page, "prices_history")["outcome"]) == ["failed", "ok"]  # the codes stay for the raw file


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"id,price\n", "The file has a header but no rows."),
        (b"id,price\n" + b"1,1\n" * 10_001, "The file has 10001 rows; at most 10000 can be sent at once. Split it."),
        (b"[x](javascript:alert(1)),price\n1,2\n", "The header must be one of: id,price | phone,price | "
         "phone,price,date. This file has: [x](javascript:alert(1)),price"),
    ],
)  # fmt: skip
def test_a_bad_file_says_why_and_offers_nothing_to_send(page: AppTest, data: bytes, message: str) -> None:
    upload(page, data)
    assert [e.value for e in page.error] == [literal(message)]
    assert not page.main.button  # no Apply button without a preview


def test_nothing_ready_means_nothing_to_apply(page: AppTest) -> None:
    upload(page, b"id,price\n1,-1\n,5\n")
    assert any("0 ready, 2 with errors" in w.value for w in page.warning)
    assert page.button(key="prices_apply").disabled


def test_the_page_speaks_russian(app: AppTest, app_env: Path) -> None:
    app.radio(key="lang").set_value("ru").run()
    app.switch_page(PAGE).run()
    assert not app.exception
    assert app.title[0].value == "Цены лидов"
    assert any("Файл ещё не загружен" in i.value for i in app.info)
    (first,) = newest_ids(app_env, 1)
    upload(app, f"id,price\n{first},10\n".encode())
    assert list(table(app, "prices_preview")["Статус"]) == ["готово"]
    assert app.button(key="prices_apply").label == "Отправить в Newton 1 готовую строку"
