"""The Overview (AppTest) on hand-made records placed relative to the moment the test runs: pending callbacks,
a change of ±0 shown neutral, and the comparison taken from the link.

The dashboard reads the clock itself (one moment per run), so the records are placed hours and days before the
moment the test starts; the test asserts what follows from those distances, never the clock's own value.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.api.records import parse_records
from dashboard.callers import OUR_CALLBACK_REFERER
from dashboard.costs import Cost, CostImport, save_costs
from dashboard.demo import DEMO_USER_ID
from dashboard.store import Store, data, utc_now
from dashboard.store.connection import transaction
from dashboard.timezones import DEFAULT_TIMEZONE, local_time
from tests.conftest import ENTRY, ROOT

pytestmark = pytest.mark.slow  # the whole app, run by AppTest


def callback(rid: int, ago: timedelta, status: str | None = "CLIENT_ANSWER", kind: str = "callback") -> dict[str, Any]:
    moment = utc_now() - ago
    return {"id": str(rid), "type": kind, "callStatus": status, "requestDate": f"{moment:%Y-%m-%d %H:%M:%S}"}


# Last 7 days: 12 answered callbacks two days ago and 3 still being dialled an hour ago. The 7 days before, up to
# the same time: 12 answered callbacks and 3 applications. Requests 15 and 15, answer rate 100 % and 100 %.
RECORDS = (
    [callback(i, timedelta(days=2)) for i in range(12)]
    + [callback(100 + i, timedelta(hours=1), status=None) for i in range(3)]
    + [callback(200 + i, timedelta(days=9)) for i in range(12)]
    + [callback(300 + i, timedelta(days=7, hours=2), status=None, kind="application") for i in range(3)]
)


@pytest.fixture
def overview(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> AppTest:
    """The demo account's dashboard over a cache holding only RECORDS, synced just now (so none is fetched)."""
    return dashboard_over(RECORDS, monkeypatch, tmp_path)


def dashboard_over(records: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> AppTest:
    """The demo account's dashboard over a cache holding only `records`, synced just now, on the last 7 days."""
    for name in ("NEWTON_TOKEN", "NEWTON_USER_ID", "NEWTON_API_URL", "NEWTON_TIMEZONE"):
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "overview.duckdb"
    with transaction(path) as con:
        data.upsert_records(con, DEMO_USER_ID, parse_records({"records": records}), utc_now())
        now = utc_now()
        # The whole history is complete: nothing is fetched, in the page run or in the background.
        data.save_complete_ranges(con, DEMO_USER_ID, "records", [(now - timedelta(days=400), now)])
    monkeypatch.setenv("NEWTON_CACHE", str(path))
    monkeypatch.chdir(ROOT)
    test = AppTest.from_file(ENTRY, default_timeout=60)
    test.query_params.update({"preset": "last_7_days"})
    return test


def run(test: AppTest) -> AppTest:
    test.run()
    assert not test.exception, test.exception
    return test


def metric(test: AppTest, label: str) -> Any:
    (found,) = [m for m in test.metric if m.label == label]
    return found


def captions(test: AppTest) -> list[str]:
    return [c.value for c in test.main.caption]


def test_pending_callbacks_are_counted_apart_and_said(overview: AppTest) -> None:
    run(overview)
    assert metric(overview, "Answer rate").value == "100.0%"  # 12 of 12 with a result; the 3 pending wait
    assert metric(overview, "Pending").value == "3"
    assert "3 callbacks are still pending (no result yet); they count neither as answered nor as missed." in (
        captions(overview)
    )
    overview.radio(key="lang").set_value("ru")
    run(overview)
    assert "3 обратных звонка ещё ждут результата; они не считаются ни принятыми, ни пропущенными." in (
        captions(overview)
    )


def test_a_change_of_zero_is_neutral_and_says_until_when(overview: AppTest) -> None:
    run(overview)
    requests, answer_rate = metric(overview, "Requests"), metric(overview, "Answer rate")
    assert (requests.value, requests.proto.delta) == ("15", "±0%")
    assert answer_rate.proto.delta == "±0\u00a0pp"
    for shown in (requests, answer_rate):
        assert shown.proto.color == shown.proto.MetricColor.GRAY
        assert shown.proto.direction == shown.proto.MetricDirection.NONE
    (compared,) = [c for c in captions(overview) if c.startswith("vs ")]
    assert " until " in compared


def test_the_comparison_from_the_link_is_honoured(overview: AppTest) -> None:
    overview.query_params.update({"compare": "year"})
    run(overview)
    assert overview.selectbox(key="compare").value == "year"
    assert overview.query_params["compare"] in ("year", ["year"])
    # Nothing a year ago: too few to compare (not "+∞" or "-100 %"), where the previous 7 days gave ±0.
    requests = metric(overview, "Requests")
    assert requests.proto.delta == "Too few to compare"
    assert requests.proto.color == requests.proto.MetricColor.GRAY
    overview.selectbox(key="compare").set_value("none")
    run(overview)
    assert not [c for c in captions(overview) if c.startswith("vs ")]


def test_callers_show_next_to_requests_and_our_call_backs_are_left_out(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def of(rid: int, ago: timedelta, phone: str | None, **fields: Any) -> dict[str, Any]:
        return {**callback(rid, ago), "clientPhone": phone, **fields}

    records = [
        of(1, timedelta(days=10), "+79161234567"),  # before the last 7 days: this caller is a repeat one
        of(2, timedelta(days=2), "8 (916) 123-45-67"),
        of(3, timedelta(days=2), "9161234567"),
        of(4, timedelta(days=1), "+7 903 111 22 33"),  # new
        of(5, timedelta(days=1), None),  # a request, no caller
        of(6, timedelta(hours=1), "+79035550000", landingUrl=OUR_CALLBACK_REFERER),  # ours: left out
    ]
    overview = run(dashboard_over(records, monkeypatch, tmp_path))
    shown = {label: metric(overview, label).value for label in ("Requests", "Callers", "New callers", "Repeat callers")}
    assert shown == {"Requests": "4", "Callers": "2", "New callers": "1", "Repeat callers": "1"}
    assert any(
        c.startswith("1 call back we placed ourselves from the dashboard is left out") for c in captions(overview)
    )
    overview.radio(key="lang").set_value("ru")
    run(overview)
    assert (metric(overview, "Клиенты").value, metric(overview, "Новые клиенты").value) == ("2", "1")
    assert any(c.startswith("1 перезвон, который мы сделали сами") for c in captions(overview))


def add_costs(path: Path, days_ago: dict[int, int], source: str = "yandex") -> None:
    """Spend of `source` (kopecks) on the local days that many days before the moment the test runs."""
    zone = ZoneInfo(DEFAULT_TIMEZONE)
    today = local_time(utc_now(), zone).date()
    costs = [Cost(today - timedelta(days=ago), source, kopecks) for ago, kopecks in days_ago.items()]
    batch = CostImport("generic", "costs.csv", "csv", "test", utc_now())
    Store(path).write(save_costs, DEMO_USER_ID, batch, costs)


def test_spend_cpl_and_romi_against_the_previous_period(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    overview = dashboard_over(RECORDS, monkeypatch, tmp_path)
    run(overview)  # no costs yet: no money to show, and the way to the Costs page
    assert not [m for m in overview.metric if m.label == "Ad spend"]
    assert "No ad costs are stored for this account, so there is no cost, CPL or ROMI yet." in captions(overview)

    # 15 requests and no lead value in both periods; 1 500 ₽ spent in the last 7 days, 1 000 ₽ in the 7 before.
    add_costs(tmp_path / "overview.duckdb", {2: 100_000, 3: 50_000, 9: 100_000})
    overview.query_params.update({"preset": "last_7_days"})
    run(overview)
    spend, romi = metric(overview, "Ad spend"), metric(overview, "ROMI")
    cpl = metric(overview, "Cost per request (CPL)")
    assert (spend.value, spend.proto.delta) == ("1,500\u00a0₽", "+50.0%")
    assert (cpl.value, cpl.proto.delta) == ("100\u00a0₽", "+50.0%")
    assert cpl.proto.color == cpl.proto.MetricColor.RED  # a dearer request is bad news
    assert (romi.value, romi.proto.delta) == ("-100.0%", "±0\u00a0pp")  # nothing earned either time
    overview.radio(key="lang").set_value("ru")
    run(overview)
    assert metric(overview, "Расход на рекламу").value == "1\u00a0500\u00a0₽"
    assert metric(overview, "Стоимость заявки (CPL)").proto.delta == "+50,0\u00a0%"
