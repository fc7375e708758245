# ruff: noqa: RUF001, RUF003 - Russian text is meant to be Cyrillic
"""Cost files: the three formats read into checked rows, bad rows named by row and column, stored by key, listed
per month; the CLI over them; and the demo account's own costs."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import polars as pl
import pytest

from dashboard import cli
from dashboard.cost_files import MAX_ROWS, error_message, import_costs, monthly_costs, read_cost_file
from dashboard.costs import stored_costs
from dashboard.demo import DEMO_USER_ID
from dashboard.demo.costs import DEMO_CAMPAIGNS, demo_costs
from dashboard.errors import EXIT_INPUT, EXIT_OK, UploadError
from dashboard.store import Store

TODAY = date(2026, 12, 7)
NOW = datetime(2026, 12, 7, 9, 30)
DATA = Path(__file__).parent / "data"


def read(data: bytes | str, name: str = "costs.csv", **options: object) -> list[tuple[object, ...]]:
    """The ready costs of a file as (day, source, medium, campaign, campaign id, kopecks)."""
    raw = data.encode() if isinstance(data, str) else data
    cost_file = read_cost_file(raw, name, today=TODAY, **options)  # type: ignore[arg-type]
    return [(c.day, c.utm_source, c.utm_medium, c.utm_campaign, c.campaign_id, c.kopecks) for c in cost_file.ready]


def statuses(data: str, **options: object) -> dict[int, str]:
    """Each bad row's number and its problems (English)."""
    cost_file = read_cost_file(data.encode(), "costs.csv", today=TODAY, **options)  # type: ignore[arg-type]
    return {line.row: line.status for line in cost_file.bad}


def file_total(path: Path, column: str, separator: str, encoding: str = "utf-8-sig") -> Decimal:
    """A file's own sum of a money column, added up here without the module under test."""
    rows = csv.DictReader(io.StringIO(path.read_text(encoding=encoding)), delimiter=separator)
    cells = [row[column] for row in rows if row[column]]
    return sum((Decimal(c.replace("\u00a0", "").replace(" ", "").replace(",", ".")) for c in cells), Decimal(0))


def kopecks(roubles: Decimal) -> int:
    return int(roubles * 100)


# The samples ------------------------------------------------------------------------------------------------


def test_the_generic_sample_reads_every_row() -> None:
    path = DATA / "costs-generic.csv"
    cost_file = read_cost_file(path.read_bytes(), path.name, today=TODAY)
    assert (cost_file.origin, cost_file.file_type, len(cost_file.rows), cost_file.bad) == ("generic", "csv", 18, [])
    assert sum(c.kopecks for c in cost_file.ready) == kopecks(file_total(path, "cost", ","))
    first, *_, avito = cost_file.ready
    assert (first.day, first.utm_source, first.utm_campaign, first.campaign_id, first.kopecks) == (
        date(2026, 11, 2), "yandex", "brand_msk", "51000001", 351_240,
    )  # fmt: skip
    assert (avito.utm_source, avito.utm_campaign, avito.kopecks) == ("avito", "", 150_000)  # spend no campaign carries


def test_the_russian_windows_1251_sample_reads_spaces_commas_and_cyrillic() -> None:
    path = DATA / "costs-generic-ru-cp1251.csv"
    rows = read(path.read_bytes(), path.name)
    assert len(rows) == 13
    assert rows[0] == (date(2026, 11, 2), "yandex", "cpc", "generic_spb", "", 1_523_050)  # 15 230,50 (a no-break space)
    assert rows[2] == (date(2026, 11, 2), "vk", "social", "target_ads", "", 248_035)
    assert rows[-1] == (date(2026, 11, 4), "листовки", "offline", "Листовки у метро", "", 500_000)
    assert sum(r[5] for r in rows) == kopecks(file_total(path, "расход", ";", "cp1251"))  # type: ignore[misc]


def test_the_generic_xlsx_sample_reads_dates_and_numbers_as_excel_keeps_them() -> None:
    path = DATA / "costs-generic.xlsx"
    cost_file = read_cost_file(path.read_bytes(), path.name, today=TODAY)
    assert (cost_file.origin, cost_file.file_type, cost_file.bad) == ("generic", "xlsx", [])
    rows = read(path.read_bytes(), path.name)
    assert rows[0] == (date(2026, 11, 5), "yandex", "cpc", "brand_msk", "51000001", 345_080)
    assert rows[2] == (date(2026, 11, 5), "google", "cpc", "generic_msk", "", 1_099_045)
    assert rows[-1] == (date(2026, 11, 6), "yandex", "cpc", "video_msk", "51000009", 125_000)


@pytest.mark.parametrize("name", ["costs-yandex-direct.csv", "costs-yandex-direct.xlsx"])
def test_a_yandex_direct_report_adds_up_to_its_own_totals_line(name: str) -> None:
    path = DATA / name
    cost_file = read_cost_file(path.read_bytes(), name, source="yandex", today=TODAY)
    assert (cost_file.origin, cost_file.header_row, cost_file.bad) == ("yandex-direct", 5, [])
    # The report's «Итого» line says 148 038,90: the title lines and the totals line are not costs.
    assert sum(c.kopecks for c in cost_file.ready) == 14_803_890
    costs = {(c.day, c.utm_campaign): c for c in cost_file.ready}
    # A campaign shown on search and on the networks in two rows is one day's cost: 21 730,15 + 5 750,00.
    both = costs[date(2026, 11, 2), "generic_msk"]
    assert (both.kopecks, both.campaign_id, both.utm_source, both.utm_medium) == (
        2_748_015,
        "51000002",
        "yandex",
        "cpc",
    )
    assert len(cost_file.ready) == 12


def test_the_vk_ads_sample_reads_spent_per_campaign_and_day() -> None:
    path = DATA / "costs-vk-ads.csv"
    cost_file = read_cost_file(path.read_bytes(), path.name, source="vk", medium="social", today=TODAY)
    assert (cost_file.origin, len(cost_file.ready), cost_file.bad) == ("vk-ads", 9, [])
    assert sum(c.kopecks for c in cost_file.ready) == 1_320_993  # its «Всего» line: 13209.93
    first = cost_file.ready[0]
    assert (first.day, first.utm_source, first.utm_medium, first.utm_campaign, first.campaign_id) == (
        date(2026, 11, 2), "vk", "social", "target_ads", "12804511",
    )  # fmt: skip
    assert "Ретаргетинг: корзина" in {c.utm_campaign for c in cost_file.ready}


@pytest.mark.parametrize(
    ("name", "origin"), [("costs-yandex-direct.csv", "yandex-direct"), ("costs-vk-ads.csv", "vk-ads")]
)
def test_a_report_without_a_source_is_refused_with_what_to_do(name: str, origin: str) -> None:
    with pytest.raises(UploadError) as refused:
        read_cost_file((DATA / name).read_bytes(), name, today=TODAY)
    assert (refused.value.code, refused.value.values) == ("source_needed", {"format": origin})
    assert "--source" in error_message(refused.value, "en")
    assert "источник" in error_message(refused.value, "ru")


def test_the_format_can_be_named_and_a_wrong_one_finds_no_header() -> None:
    path = DATA / "costs-vk-ads.csv"
    assert read_cost_file(path.read_bytes(), path.name, file_format="vk-ads", source="vk", today=TODAY).ready
    with pytest.raises(UploadError) as refused:
        read_cost_file(path.read_bytes(), path.name, file_format="generic", today=TODAY)
    assert refused.value.code == "columns"


# Shapes of a file -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        "date,utm_source,utm_campaign,cost\n2026-11-01,yandex,brand,1234.50\n",
        "\ufeffdate;utm_source;utm_campaign;cost\r\n01.11.2026;yandex;brand;1 234,50\r\n",
        "Дата;Источник;Кампания;Расход, руб.\n01.11.2026;yandex;brand;1\u00a0234,5 ₽\n",
        "date\tsource\tcampaign\tcost\n2026-11-01\tyandex\tbrand\t1,234.50\n",
        'date,utm_source,utm_campaign,cost\n2026-11-01,yandex,brand,"1.234,50"\n',
        " DATE ;UTM_SOURCE; utm_campaign ;Cost;;\n2026-11-01; yandex ;brand;1234.5;;\n;;;;;\n",
    ],
)
def test_a_generic_file_in_any_usual_shape_reads_the_same(data: str) -> None:
    assert read(data) == [(date(2026, 11, 1), "yandex", "cpc", "brand", "", 123_450)]


def test_utf_16_and_windows_1251_read_the_same_as_utf_8() -> None:
    text = "дата;источник;кампания;расход\n01.11.2026;яндекс;бренд;100\n"
    expected = [(date(2026, 11, 1), "яндекс", "cpc", "бренд", "", 10_000)]
    for encoding in ("utf-8", "utf-8-sig", "utf-16", "cp1251"):
        assert read(text.encode(encoding)) == expected, encoding


def test_medium_and_campaign_are_optional_and_an_empty_medium_is_cpc() -> None:
    data = "date,utm_source,utm_medium,cost\n2026-11-01,vk,social,10\n2026-11-01,google,,20\n"
    assert read(data) == [
        (date(2026, 11, 1), "vk", "social", "", "", 1_000),
        (date(2026, 11, 1), "google", "cpc", "", "", 2_000),
    ]


def test_a_generic_file_without_a_source_column_takes_the_source_given() -> None:
    data = "Дата;Кампания;Расход\n01.11.2026;brand;5\n"
    assert read(data, source="yandex") == [(date(2026, 11, 1), "yandex", "cpc", "brand", "", 500)]
    assert read_cost_file(data.encode(), "sheet.csv", source="yandex", today=TODAY).origin == "generic"
    with pytest.raises(UploadError) as refused:
        read(data)
    assert (refused.value.code, refused.value.values) == ("source_needed", {"format": "generic"})
    with pytest.raises(UploadError) as refused:
        read("date,utm_source,cost\n2026-11-01,google,5\n", source="yandex")
    assert refused.value.code == "source_twice"


def test_a_row_repeated_in_a_generic_file_is_kept_once_and_said() -> None:
    data = "date,utm_source,utm_campaign,cost\n2026-11-01,yandex,brand,5\n2026-11-01,Yandex,BRAND ,7\n"
    assert read(data) == [(date(2026, 11, 1), "yandex", "cpc", "brand", "", 500)]
    assert statuses(data) == {
        3: "date: repeats the day, source, medium and campaign of row 2: keep one row (not stored)"
    }


# Bad rows ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "cell", "problem"),
    [
        ("Расход (руб.)", "-100", "must not be negative: a cost is 0 roubles or more"),
        ("Расход (руб.)", "−100,50", "must not be negative: a cost is 0 roubles or more"),
        ("Расход (руб.)", "сто рублей", "must be a number of roubles, such as 1 234,50 or 1234.50"),
        ("Расход (руб.)", "12abc", "must be a number of roubles, such as 1 234,50 or 1234.50"),
        ("Расход (руб.)", "nan", "must be a number of roubles, such as 1 234,50 or 1234.50"),
        ("Расход (руб.)", "1e5", "must be a number of roubles, such as 1 234,50 or 1234.50"),
        ("Расход (руб.)", "", "must hold the cost in roubles"),
        ("Расход (руб.)", "1,234", "1,234 could be a thousand or a rouble and change: write 1234 or 1,23"),
        ("Расход (руб.)", "5000000000", "must be at most 1 000 000 000 roubles a day"),
        ("День", "1 ноября", "must be a date YYYY-MM-DD or DD.MM.YYYY"),
        ("День", "2026/11/01", "must be a date YYYY-MM-DD or DD.MM.YYYY"),
        ("День", "31.11.2026", "is not a real calendar date"),
        ("День", "2026-02-30", "is not a real calendar date"),
        ("День", "2026-12-08", "is in the future (today is 2026-12-07): costs are what was spent"),
        ("День", "01.01.1999", "must be a date YYYY-MM-DD or DD.MM.YYYY"),
    ],
)
def test_a_bad_cell_names_its_row_and_column_and_the_other_rows_are_still_offered(
    column: str, cell: str, problem: str
) -> None:
    bad = {"День": "2026-11-02", "Расход (руб.)": "10", column: cell}
    data = f'День;utm_source;Расход (руб.)\n2026-12-07;yandex;10\n{bad["День"]};yandex;"{bad["Расход (руб.)"]}"\n'
    assert statuses(data) == {3: f"{column}: {problem}"}
    assert read(data) == [(TODAY, "yandex", "cpc", "", "", 1_000)]  # today itself is not the future


def test_a_row_with_more_cells_than_the_header_is_not_guessed_at() -> None:
    data = "date,utm_source,cost\n2026-11-01,yandex,1,50\n"
    assert statuses(data) == {2: "row: has 4 cells, the header has 3"}


def test_an_empty_source_is_named() -> None:
    assert statuses("date,источник,cost\n2026-11-01, ,1\n") == {2: "источник: must not be empty"}


@pytest.mark.parametrize(
    ("header", "column", "name"),
    [("date,utm_source,cots", "C", "cots"), ("date,utm_source,cost,clicks", "D", "clicks")],
)
def test_an_unknown_column_of_a_generic_file_refuses_the_file_naming_it(header: str, column: str, name: str) -> None:
    with pytest.raises(UploadError) as refused:
        read(f"{header}\n2026-11-01,yandex,1,2\n")
    error = refused.value
    if error.code == "columns":  # without `cost` there is no header at all: the message shows what row 1 has
        assert (error.values["row"], name in str(error.values["found"])) == (1, True)
        return
    assert (error.code, error.values["row"], error.values["column"], error.values["name"]) == (
        "unknown_column", 1, column, name,
    )  # fmt: skip
    assert error_message(error, "en").startswith(f"Row 1, column {column} “{name}”: not a column of a cost file.")
    assert error_message(error, "ru").startswith(f"Строка 1, столбец {column} «{name}»")


def test_a_report_keeps_its_other_columns_to_itself() -> None:
    data = "День\tКампания\tПоказы\tКлики\tРасход (руб.)\tКонверсии\n05.11.2026\tbrand_msk\t100\t5\t99,90\t-\n"
    assert read(data, source="yandex") == [(date(2026, 11, 5), "yandex", "cpc", "brand_msk", "", 9_990)]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty"),
        (b"\n \n", "empty"),
        (b"date,utm_source,cost\n", "no_rows"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "xls"),
        (b"PK\x03\x04 broken", "unreadable"),
        (b"date,utm_source,cost\n\x00\x01", "encoding"),
        (b"name,phone\nx,1\n", "columns"),
        (b"date,utm_source,cost,date\n2026-11-01,y,1,2026-11-01\n", "duplicate_column"),
    ],
)
def test_a_file_that_cannot_be_read_says_why_in_both_languages(data: bytes, code: str) -> None:
    with pytest.raises(UploadError) as refused:
        read_cost_file(data, "costs.csv", today=TODAY)
    assert refused.value.code == code
    for lang in ("en", "ru"):
        message = error_message(refused.value, lang)
        assert message and not message.startswith("cost_file_"), message


def test_a_file_too_large_or_too_long_is_refused_before_it_is_read() -> None:
    with pytest.raises(UploadError) as refused:
        read_cost_file(b"date,utm_source,cost\n" + b"2026-11-01,yandex,1\n" * 300_000, "big.csv", today=TODAY)
    assert refused.value.code == "too_large"
    with pytest.raises(UploadError) as refused:
        read_cost_file(b"date,source,cost\n" + b"2026-11-01,y,1\n" * (MAX_ROWS + 1), "long.csv", today=TODAY)
    assert (refused.value.code, refused.value.values["rows"]) == ("too_many_rows", MAX_ROWS + 1)


# Storing ----------------------------------------------------------------------------------------------------


def costs_of(cache: Path) -> list[tuple[object, ...]]:
    frame = Store(cache).read(stored_costs, DEMO_USER_ID)
    return frame.select("day", "utm_source", "utm_campaign", "kopecks", "origin").rows()


def test_importing_a_file_twice_stores_the_same_costs(tmp_path: Path) -> None:
    store, path = Store(tmp_path / "c.duckdb"), DATA / "costs-yandex-direct.csv"
    cost_file = read_cost_file(path.read_bytes(), path.name, source="yandex", today=TODAY)
    first = import_costs(store, DEMO_USER_ID, cost_file, by="ann", now=NOW)
    once = costs_of(tmp_path / "c.duckdb")
    again = import_costs(store, DEMO_USER_ID, cost_file, by="bob", now=NOW)
    assert (first.added, first.replaced, again.added, again.replaced) == (12, 0, 0, 12)
    assert costs_of(tmp_path / "c.duckdb") == once
    assert sum(row[3] for row in once) == 14_803_890  # type: ignore[misc]


def test_the_months_list_sums_each_source_and_kind_of_file(tmp_path: Path) -> None:
    store = Store(tmp_path / "c.duckdb")
    for name, source in (("costs-generic.csv", None), ("costs-yandex-direct.csv", "yandex")):
        cost_file = read_cost_file((DATA / name).read_bytes(), name, source=source, today=TODAY)
        import_costs(store, DEMO_USER_ID, cost_file, by="ann", now=NOW)
    frame = store.read(monthly_costs, DEMO_USER_ID)
    rows = {(r["utm_source"], r["origin"]): r for r in frame.iter_rows(named=True)}
    assert rows["yandex", "yandex-direct"]["cost"] == Decimal("148038.90")
    assert (rows["yandex", "generic"]["days"], rows["yandex", "generic"]["rows"]) == (3, 9)
    assert {r["month"] for r in rows.values()} == {"2026-11"}
    assert store.read(monthly_costs, DEMO_USER_ID, date(2026, 12, 1)).is_empty()


# The command line -------------------------------------------------------------------------------------------


@pytest.fixture
def local(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Demo mode with no settings from the machine; the cache file the commands are given."""
    for name in ("NEWTON_TOKEN", "NEWTON_USER_ID", "NEWTON_API_URL", "NEWTON_TIMEZONE", "NEWTON_CACHE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path / "c.duckdb"


def costs_cli(cache: Path, *args: str) -> int:
    return cli.main(["costs", *args, "--cache", str(cache)])


def import_text(cache: Path, text: str, *options: str) -> int:
    """`costs import` of a file holding `text` (UTF-8), beside the cache."""
    path = cache.parent / f"file-{len(list(cache.parent.glob('file-*')))}.csv"
    path.write_text(text, encoding="utf-8")
    return costs_cli(cache, "import", str(path), *options)


@pytest.mark.parametrize(
    ("name", "options", "added"),
    [
        ("costs-generic.csv", [], 18),
        ("costs-generic-ru-cp1251.csv", [], 13),
        ("costs-generic.xlsx", [], 9),
        ("costs-yandex-direct.csv", ["--source", "yandex"], 12),
        ("costs-yandex-direct.xlsx", ["--format", "yandex-direct", "--source", "yandex"], 12),
        ("costs-vk-ads.csv", ["--source", "vk", "--medium", "social"], 9),
    ],
)
def test_the_cli_imports_each_sample(
    local: Path, capsys: pytest.CaptureFixture[str], name: str, options: list[str], added: int
) -> None:
    assert costs_cli(local, "import", str(DATA / name), *options) == EXIT_OK
    out = capsys.readouterr().out
    assert f"{added} added, 0 replaced, 0 cleared; 0 bad rows not imported." in out
    assert len(costs_of(local)) == added
    assert costs_cli(local, "import", str(DATA / name), *options) == EXIT_OK
    assert f"0 added, {added} replaced" in capsys.readouterr().out
    assert len(costs_of(local)) == added


def test_the_cli_lists_bad_rows_stores_only_the_good_ones_and_fails_when_none_is_good(
    local: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mixed = (
        "date;utm_source;utm_campaign;cost\n2026-11-01;yandex;brand;100\n2026-11-02;yandex;brand;-5\n"
        "2026-13-01;yandex;brand;5\n2099-01-01;yandex;brand;5\n2026-11-03;yandex;brand;много\n"
    )
    # The CLI's today is the local date in --tz, not the machine's: after 21:00 UTC Moscow is a day ahead.
    assert import_text(local, mixed, "--tz", "Europe/Moscow") == EXIT_OK
    today = datetime.now(ZoneInfo("Europe/Moscow")).date()
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        "row 3: cost: must not be negative: a cost is 0 roubles or more",
        "row 4: date: is not a real calendar date",
        f"row 5: date: is in the future (today is {today.isoformat()}): costs are what was spent",
        "row 6: cost: must be a number of roubles, such as 1 234,50 or 1234.50",
    ]
    assert "1 added, 0 replaced, 0 cleared; 4 bad rows not imported." in captured.out
    assert [(row[0], row[3]) for row in costs_of(local)] == [(date(2026, 11, 1), 10_000)]

    assert import_text(local, "date,utm_source,cost\n2026-11-05,google,-1\n") == EXIT_INPUT
    assert "Nothing imported" in capsys.readouterr().out
    assert len(costs_of(local)) == 1


def test_the_cli_says_why_a_file_cannot_be_read(local: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert costs_cli(local, "import", str(DATA / "costs-yandex-direct.csv")) == EXIT_INPUT
    assert "choose the source (--source)" in capsys.readouterr().err
    assert not local.exists()  # nothing was stored, not even an empty cache
    assert costs_cli(local, "import", str(local.parent / "missing.csv")) == EXIT_INPUT
    assert capsys.readouterr().err == f"error: no such file: {local.parent / 'missing.csv'}\n"


def test_replace_clears_the_files_days_of_that_source_first(
    local: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert costs_cli(local, "import", str(DATA / "costs-yandex-direct.csv"), "--source", "yandex") == EXIT_OK
    # A later report of 2 and 3 November: one campaign was paused and is no longer in it.
    fixed = tmp_path / "fixed.csv"
    fixed.write_text(
        "День;Кампания;Клики;Расход (руб.)\n02.11.2026;brand_msk;200;3 000\n03.11.2026;brand_msk;210;3 100\n"
    )
    assert costs_cli(local, "import", str(fixed), "--source", "yandex") == EXIT_OK
    assert len(costs_of(local)) == 12  # without --replace the other campaigns' rows stay
    assert costs_cli(local, "import", str(fixed), "--source", "yandex", "--replace") == EXIT_OK
    assert "2 added, 0 replaced, 8 cleared" in capsys.readouterr().out.splitlines()[-1]
    left = {(row[0], row[2]): row[3] for row in costs_of(local)}
    assert left[date(2026, 11, 2), "brand_msk"] == 300_000
    assert [day for day, _ in left].count(date(2026, 11, 4)) == 4  # outside the file's days: kept
    assert len(left) == 6


def test_the_cli_lists_what_is_stored_per_month_formulas_neutralised(
    local: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hostile = (
        'date,utm_source,utm_campaign,cost\n2026-10-31,"=HYPERLINK(""http://evil.example"")",x,10\n'
        "2026-11-01,google,y,20.5\n2026-11-02,google,y,1 000\n"
    )
    assert import_text(local, hostile) == EXIT_OK
    capsys.readouterr()
    assert costs_cli(local, "list") == EXIT_OK
    listed = list(csv.reader(io.StringIO(capsys.readouterr().out.lstrip("\ufeff"))))
    assert listed == [
        ["month", "utm_source", "origin", "days", "rows", "cost"],
        ["2026-10", '\'=HYPERLINK("http://evil.example")', "generic", "1", "1", "10.00"],
        ["2026-11", "google", "generic", "2", "2", "1020.50"],
    ]
    output = tmp_path / "months.csv"
    assert costs_cli(local, "list", "--from", "2026-11-01", "--to", "2026-11-30", "-o", str(output)) == EXIT_OK
    assert pl.read_csv(output)["cost"].to_list() == [1020.5]


# The demo account -------------------------------------------------------------------------------------------


def test_demo_costs_are_the_same_whatever_the_span_asked() -> None:
    month = demo_costs(date(2026, 11, 1), datetime(2026, 12, 1, 12))
    week = demo_costs(date(2026, 11, 10), datetime(2026, 11, 17, 6))
    assert set(week) <= set(month)
    assert len(month) == 30 * len(DEMO_CAMPAIGNS)


def test_demo_costs_leave_out_today_so_a_sync_during_the_day_changes_nothing() -> None:
    morning = demo_costs(date(2026, 11, 28), datetime(2026, 11, 30, 6))
    evening = demo_costs(date(2026, 11, 28), datetime(2026, 11, 30, 23, 59))
    assert morning == evening
    assert {c.day for c in morning} == {date(2026, 11, 28), date(2026, 11, 29)}


@pytest.mark.slow  # a full sync of the demo account (shared with the app tests)
def test_a_demo_sync_brings_costs_for_the_campaigns_callers_come_from(demo_cache: Path) -> None:
    costs = Store(demo_cache).read(stored_costs, DEMO_USER_ID)
    assert set(costs["origin"]) == {"demo"} and costs.height > 100 * len(DEMO_CAMPAIGNS)
    with duckdb.connect(str(demo_cache), read_only=True) as con:
        seen = set(
            con.execute('SELECT DISTINCT "landingUtmSource", "landingUtmMedium", "landingUtmCampaign" FROM records')
            .fetchall()
        )  # fmt: skip
    spent = set(costs.select("utm_source", "utm_medium", "utm_campaign").unique().rows())
    assert spent - seen == {("yandex", "cpc", "video_msk")}  # the one campaign that spends and brings no call
