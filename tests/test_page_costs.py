# ruff: noqa: RUF001 - Russian text is meant to be Cyrillic
"""The Costs page (AppTest): a cost file checked row by row, only its ready rows imported, the result per row, a
second import replacing instead of doubling, and what is stored per source and month."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
from streamlit import dataframe_util
from streamlit.testing.v1 import AppTest
from streamlit.testing.v1.element_tree import Dataframe

from dashboard.demo import DEMO_USER_ID
from tests.test_page_lead_prices import run

pytestmark = pytest.mark.slow  # the whole app, run by AppTest

PAGE = "app_pages/costs.py"
DATA = Path(__file__).parent / "data"
# Semicolons, Russian headers, a decimal comma and a space between thousands; a negative cost, a cost that is no
# number, a day in the future (far enough to stay there), and a campaign that is Markdown with a script link.
FILE = (
    "дата;источник;кампания;расход\n"
    "2025-03-01;pagesTest;весна;1 234,50\n"
    "2025-03-02;pagesTest;весна;-5\n"
    "2025-03-03;pagesTest;весна;много\n"
    "2999-01-01;pagesTest;весна;10\n"
    "2025-03-04;pagesTest;[x](javascript:alert(1));100\n"
).encode()


@pytest.fixture
def page(app: AppTest) -> AppTest:
    return run(app.switch_page(PAGE))


def upload(app: AppTest, data: bytes, name: str = "costs.csv") -> AppTest:
    app.file_uploader(key="costs_file").set_value((name, data, "text/csv"))
    return run(app)


def table(app: AppTest, column: str) -> Dataframe:
    """The table with a column headed `column` (AppTest does not report a dataframe's key)."""
    (found,) = [d for d in app.main.dataframe if column in d.value.columns]
    return found


def shown(element: Dataframe) -> Any:
    """The cells of a described table as the grid draws them."""
    return dataframe_util.convert_arrow_bytes_to_pandas_df(element.proto.arrow_data.styler.display_values)


def stored(path: Path) -> list[tuple[Any, ...]]:
    """The cost rows imported for the test's source: day, campaign, kopecks."""
    with duckdb.connect(str(path)) as con:
        return con.execute(
            "SELECT day::VARCHAR, utm_campaign, kopecks FROM costs WHERE account = ? AND source_key = 'pagestest' "
            "ORDER BY day",
            [DEMO_USER_ID],
        ).fetchall()


def test_the_empty_page_invites_a_file(page: AppTest) -> None:
    assert page.title[0].value == "Costs"
    assert page.file_uploader(key="costs_file").allowed_type == [".csv", ".xlsx"]
    assert page.selectbox(key="costs_format").options == [
        "Recognise from the header", "Date, source, campaign, cost", "Yandex Direct report", "VK Ads report",
    ]  # fmt: skip
    assert any("No file yet" in i.value for i in page.info)
    assert not page.main.button


def test_bad_rows_are_marked_and_only_the_ready_ones_imported(
    page: AppTest, app_env: Path, downloads: list[tuple[bytes, str]]
) -> None:
    upload(page, FILE)
    assert any("2 ready, 3 with errors (not imported)." in w.value for w in page.warning)
    preview = table(page, "Status").value
    assert list(preview["Row"]) == [2, 3, 4, 5, 6]
    status = list(preview["Status"])
    assert status[0] == status[4] == "ready"
    assert all(s != "ready" and "расход" in s for s in status[1:3])  # the row's column, named as the file names it
    assert status[3] != "ready" and "дата" in status[3]
    assert list(preview["UTM campaign"])[4] == "[x](javascript:alert(1))"  # a table cell: the text as it is
    assert not any("javascript" in m.value for m in [*page.markdown, *page.caption, *page.warning, *page.info])
    assert stored(app_env) == []  # nothing before the click
    page.toggle(key="costs_only_bad").set_value(True)
    assert list(table(run(page), "Status").value["Row"]) == [3, 4, 5]
    page.toggle(key="costs_only_bad").set_value(False)
    run(page)

    button = page.button(key="costs_import")
    assert button.label == "Import 2 ready rows"
    button.click()
    run(page)
    assert stored(app_env) == [("2025-03-01", "весна", 123450), ("2025-03-04", "[x](javascript:alert(1))", 10000)]
    assert any("2 new, 0 replaced the ones stored, 0 cleared first; 3 not imported." in w.value for w in page.warning)
    outcomes = table(page, "Result").value
    assert list(outcomes["Row"]) == [2, 3, 4, 5, 6]
    results = list(outcomes["Result"])
    assert results[0] == results[4] == "imported"
    assert all(r.startswith("not imported: ") for r in results[1:4])

    # What is stored, per month and source: the two rows of March 2025, to the kopeck.
    months = shown(table(page, "month"))
    (mine,) = [row for _, row in months.iterrows() if row["utm_source"] == "pagesTest"]
    assert (mine["month"], mine["days"], mine["rows"], mine["cost"]) == ("2025-03", "2", "2", "1,334.50\u00a0₽")
    raw = [d.decode("utf-8-sig") for d, _ in downloads if d.decode("utf-8-sig").startswith("month,")][-1]
    assert raw.splitlines()[0] == "month,utm_source,origin,days,rows,cost"
    assert "2025-03,pagesTest,generic,2,2,1334.50" in raw.splitlines()  # exact, for a script or a CRM
    screen = [d.decode("utf-8-sig") for d, _ in downloads if d.decode("utf-8-sig").startswith("Month,")][-1]
    assert screen.splitlines()[0] == "Month,UTM source,From,Days,Rows,Cost"

    page.button(key="costs_import").click()  # the same file again replaces, never doubles
    run(page)
    assert stored(app_env) == [("2025-03-01", "весна", 123450), ("2025-03-04", "[x](javascript:alert(1))", 10000)]
    assert any("0 new, 2 replaced the ones stored" in w.value for w in page.warning)


def test_replace_clears_the_files_days_for_its_source(page: AppTest, app_env: Path) -> None:
    upload(page, b"date,utm_source,utm_campaign,cost\n2025-04-01,pagesTest,a,10\n2025-04-03,pagesTest,b,20\n")
    page.button(key="costs_import").click()
    run(page)
    upload(page, b"date,utm_source,utm_campaign,cost\n2025-04-01,pagesTest,a,11\n2025-04-03,pagesTest,c,30\n", "2.csv")
    page.checkbox(key="costs_replace").check()
    page.button(key="costs_import").click()
    run(page)
    assert stored(app_env) == [("2025-04-01", "a", 1100), ("2025-04-03", "c", 3000)]  # campaign b is gone
    assert any("2 new, 0 replaced the ones stored, 2 cleared first; 0 not imported." in s.value for s in page.success)


def test_a_report_without_its_source_is_refused_and_nothing_is_offered(page: AppTest) -> None:
    page.selectbox(key="costs_format").set_value("yandex-direct")
    run(page)
    upload(page, FILE)
    assert page.error  # which utm_source its campaigns belong to is not known
    assert not page.main.button


def test_the_page_speaks_russian(app: AppTest) -> None:
    app.radio(key="lang").set_value("ru").run()
    app.switch_page(PAGE).run()
    assert not app.exception
    assert app.title[0].value == "Расходы"
    assert any("Файл ещё не загружен" in i.value for i in app.info)
    upload(app, FILE)
    assert any("Готово: 2, с ошибками: 3 (не загружаются)." in w.value for w in app.warning)
    status = list(table(app, "Статус").value["Статус"])
    assert status[0] == status[4] == "готово"
    assert app.button(key="costs_import").label == "Загрузить 2 готовые строки"


@pytest.mark.parametrize(
    ("name", "chosen", "source", "origin"),
    [
        ("costs-generic.csv", "auto", "", "generic"),
        ("costs-generic.xlsx", "generic", "", "generic"),
        ("costs-yandex-direct.csv", "auto", "pagesTest", "yandex-direct"),
        ("costs-yandex-direct.xlsx", "yandex-direct", "pagesTest", "yandex-direct"),
        ("costs-vk-ads.csv", "vk-ads", "pagesTest", "vk-ads"),
    ],
)
def test_every_sample_imports_through_the_page(
    page: AppTest, app_env: Path, name: str, chosen: str, source: str, origin: str
) -> None:
    page.selectbox(key="costs_format").set_value(chosen)
    page.text_input(key="costs_source").input(source)
    run(page)
    data = (DATA / name).read_bytes()
    upload(page, data, name)
    preview = table(page, "Status").value
    ready = sum(status == "ready" for status in preview["Status"])
    assert ready > 0
    page.button(key="costs_import").click()
    run(page)
    with duckdb.connect(str(app_env)) as con:
        (stored_rows,) = con.execute(
            "SELECT count(*) FROM costs WHERE account = ? AND origin = ? AND file_name = ?",
            [DEMO_USER_ID, origin, name],
        ).fetchone() or (0,)
    assert 0 < stored_rows <= ready  # a report's rows of one day and campaign add up to one cost
    assert any(f"{stored_rows} new" in message.value for message in [*page.success, *page.warning])
