"""`newton-dashboard report`: every number equals an independent computation from the exported raw records."""

from __future__ import annotations

import csv
import io
import re
import statistics
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from dashboard.api import NewtonClient
from dashboard.store import Store
from dashboard.sync import sync
from tests.conftest import NOW
from tests.test_cli import run_cli

pytestmark = pytest.mark.slow  # real processes: the command line, run as its own process

MOSCOW = ZoneInfo("Europe/Moscow")


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from dashboard.demo import DemoNewton, DemoTransport
    from tests.conftest import client_for, fixed_clock

    path = tmp_path_factory.mktemp("report") / "cache.duckdb"
    client: NewtonClient
    with client_for(DemoTransport(DemoNewton(records=4_000, seed=5, clock=fixed_clock))) as client:
        sync(client, Store(path), "0", now=NOW.replace(tzinfo=None))
    return path


def cli_rows(*args: str) -> list[dict[str, str]]:
    result = run_cli(*args, env={"NEWTON_TOKEN": ""})
    assert result.returncode == 0, result.stderr
    return list(csv.DictReader(io.StringIO(result.stdout.lstrip("\ufeff"))))


def raw_records(path: Path) -> list[dict[str, str]]:
    """The records as exported: API fields, values as Newton gave them."""
    return cli_rows("export", "records", "--cache", str(path))


def group_of(value: str) -> str:
    return value.strip() or "(none)"


def integer(value: str) -> int | None:
    return int(value) if value.strip() else None


def test_attribution_by_utm_source_equals_a_computation_from_the_raw_records(synced: Path) -> None:
    report = cli_rows("report", "attribution", "--by", "utm_source", "--cache", str(synced))
    assert list(report[0]) == ["utm_source", "requests", "callbacks", "answered", "missed", "pending", "answer_rate",
                               "avg_talk_seconds", "median_talk_seconds", "lead_value", "priced_leads",
                               "avg_lead_value", "callers", "new_callers", "cost", "cpl", "cost_per_answered", "cpa",
                               "romi", "drr"]  # fmt: skip
    groups: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in raw_records(synced):
        groups[group_of(row["landingUtmSource"].removeprefix("'"))].append(row)
    expected: list[dict[str, Any]] = []
    for source, rows in groups.items():
        callbacks = [r for r in rows if r["type"] == "callback"]
        answered = [r for r in callbacks if r["callStatus"] == "CLIENT_ANSWER"]
        # The report counts from the moment it runs, more than 24 hours after these requests (synced at NOW):
        # a callback with no status by then is missed, none is pending any more.
        missed = [r for r in callbacks if r not in answered]
        talks = [t for r in answered if (t := integer(r["callDurationClient"])) is not None]
        prices = [p for r in rows if (p := integer(r["leadPrice"])) is not None]
        expected.append({
            "utm_source": source, "requests": len(rows), "callbacks": len(callbacks), "answered": len(answered),
            "missed": len(missed), "pending": 0,
            "answer_rate": round(len(answered) / (len(answered) + len(missed)), 4) if callbacks else None,
            "avg_talk_seconds": round(statistics.mean(talks), 1) if talks else None,
            "median_talk_seconds": round(statistics.median(talks), 1) if talks else None,
            "lead_value": sum(prices), "priced_leads": len(prices),
            "avg_lead_value": round(statistics.mean(prices), 2) if prices else None,
            # Without a period no caller called before it: every caller is new.
            "callers": len(phones := {c for r in rows if (c := caller(r["clientPhone"]))}), "new_callers": len(phones),
        })  # fmt: skip
    expected.sort(key=lambda e: (-int(e["requests"] or 0), str(e["utm_source"])))
    got = [
        {**row, "utm_source": row["utm_source"].removeprefix("'")} for row in report
    ]  # a hostile source arrives formula-neutralised
    assert [g["utm_source"] for g in got] == [e["utm_source"] for e in expected]
    for g, e in zip(got, expected, strict=True):
        for column in ("requests", "callbacks", "answered", "missed", "pending", "lead_value", "priced_leads",
                       "callers", "new_callers"):  # fmt: skip
            assert int(g[column]) == e[column], (e["utm_source"], column)
        for column in ("answer_rate", "avg_talk_seconds", "median_talk_seconds", "avg_lead_value"):
            assert (float(g[column]) if g[column] else None) == pytest.approx(e[column]), (e["utm_source"], column)


def caller(sent: str) -> str | None:
    """The caller of a raw phone value, as docs/metrics.md defines it (worked out here on its own)."""
    value = sent.removeprefix("'").strip()  # a value starting with + arrives formula-neutralised
    bare = re.sub(r"[\s().\-\u2010-\u2015\u2212]", "", value)
    if re.fullmatch(r"(\+7|7|8)\d{10}", bare):
        return "+7" + bare[-10:]
    if re.fullmatch(r"[0-69]\d{9}", bare):
        return "+7" + bare
    return value or None


def test_attribution_callers_over_a_period_equal_a_computation_from_the_raw_records(synced: Path) -> None:
    first, last = (NOW - timedelta(days=20)).date(), (NOW - timedelta(days=1)).date()
    period = ("--from", str(first), "--to", str(last))
    report = cli_rows("report", "attribution", "--by", "utm_source", "--cache", str(synced), *period)
    touches = cli_rows("report", "attribution", "--by", "utm_source", "--first-touch", "--cache", str(synced), *period)
    start = datetime.combine(first, datetime.min.time(), MOSCOW).astimezone(ZoneInfo("UTC")).replace(tzinfo=None)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), MOSCOW).astimezone(ZoneInfo("UTC"))
    records = sorted(raw_records(synced), key=lambda r: (r["requestDate"], r["id"]))
    first_request: dict[str, dict[str, str]] = {}
    for row in records:
        first_request.setdefault(caller(row["clientPhone"]) or "", row)
    callers: dict[str, set[str]] = defaultdict(set)
    by_first_touch: dict[str, set[str]] = defaultdict(set)
    for row in records:
        phone = caller(row["clientPhone"])
        if phone and start <= datetime.fromisoformat(row["requestDate"]) < end.replace(tzinfo=None):
            callers[group_of(row["landingUtmSource"].removeprefix("'"))].add(phone)
            by_first_touch[group_of(first_request[phone]["landingUtmSource"].removeprefix("'"))].add(phone)

    def new(phones: set[str]) -> int:
        return sum(datetime.fromisoformat(first_request[p]["requestDate"]) >= start for p in phones)

    got = {r["utm_source"].removeprefix("'"): (int(r["callers"]), int(r["new_callers"])) for r in report}
    got = {source: counts for source, counts in got.items() if counts[0]}  # a row of requests without a phone
    assert got == {source: (len(phones), new(phones)) for source, phones in callers.items()}
    assert sum(n for n, new_ones in got.values()) > len(set().union(*callers.values()))  # someone in two rows
    touched = {r["utm_source"].removeprefix("'"): (int(r["callers"]), int(r["new_callers"])) for r in touches}
    assert touched == {source: (len(phones), new(phones)) for source, phones in by_first_touch.items()}
    assert 0 < sum(n for _, n in touched.values()) < sum(n for n, _ in touched.values())  # new and repeat ones


def test_first_touch_takes_no_comparison(synced: Path) -> None:
    both = run_cli("report", "attribution", "--by", "channel", "--first-touch", "--compare", "previous", "--from",
                   "2026-03-01", "--to", "2026-03-31", "--cache", str(synced), env={"NEWTON_TOKEN": ""})  # fmt: skip
    assert both.returncode == 2 and both.stderr.startswith("first-touch: ")


def test_daily_report_equals_counts_per_moscow_day(synced: Path) -> None:
    first, last = (NOW - timedelta(days=10)).date(), (NOW - timedelta(days=1)).date()
    report = cli_rows("report", "daily", "--cache", str(synced), "--from", str(first), "--to", str(last))
    per_day: dict[str, int] = defaultdict(int)
    for row in raw_records(synced):
        utc = datetime.fromisoformat(row["requestDate"]).replace(tzinfo=ZoneInfo("UTC"))
        per_day[utc.astimezone(MOSCOW).date().isoformat()] += 1
    assert [r["period_start"] for r in report] == [str(first + timedelta(days=i)) for i in range(10)]
    assert [int(r["requests"]) for r in report] == [per_day.get(r["period_start"], 0) for r in report]


def test_speed_report_equals_the_definition(synced: Path) -> None:
    (report,) = cli_rows("report", "speed", "--cache", str(synced))
    speeds = sorted(
        (datetime.fromisoformat(r["callDate"]) - datetime.fromisoformat(r["requestDate"])).total_seconds()
        for r in raw_records(synced)
        if r["type"] == "callback" and r["callDate"] and not r["delayDate"]
    )
    position = 0.9 * (len(speeds) - 1)
    low = int(position)
    p90 = speeds[low] + (speeds[min(low + 1, len(speeds) - 1)] - speeds[low]) * (position - low)
    assert int(report["callbacks_measured"]) == len(speeds)
    assert float(report["median_seconds"]) == pytest.approx(round(statistics.median(speeds), 1))
    assert float(report["p90_seconds"]) == pytest.approx(round(p90, 1))
    assert float(report["within_30s_share"]) == pytest.approx(round(sum(s <= 30 for s in speeds) / len(speeds), 4))


def test_chats_report_counts_every_session(synced: Path) -> None:
    report = cli_rows("report", "chats", "--cache", str(synced))
    sessions = {(r["clientId"], r["startTime"]) for r in cli_rows("export", "chats", "--cache", str(synced))}
    assert sum(int(r["sessions"]) for r in report) == len(sessions)
    assert list(report[0]) == ["operator", "sessions", "messages", "unanswered_sessions",
                               "first_response_median_seconds", "first_response_p90_seconds"]  # fmt: skip


def test_attribution_needs_a_known_dimension(synced: Path) -> None:
    missing = run_cli("report", "attribution", "--cache", str(synced), env={"NEWTON_TOKEN": ""})
    unknown = run_cli("report", "attribution", "--by", "utm", "--cache", str(synced), env={"NEWTON_TOKEN": ""})
    assert (missing.returncode, unknown.returncode) == (2, 2)
    assert missing.stderr.startswith("by: ") and unknown.stderr.startswith("by: unknown dimension")


@pytest.mark.parametrize("by", ["utm_source", "utm_campaign"])
def test_attribution_money_equals_a_computation_from_the_raw_records_and_the_stored_costs(
    synced: Path, by: str
) -> None:
    from dashboard.costs import stored_costs
    from tests.test_money_property import Call, assert_money_equal, expected_rows

    report = cli_rows("report", "attribution", "--by", by, "--cache", str(synced))
    costs = Store(synced).read(stored_costs, "0").to_dicts()
    assert costs  # the demo account ships with its costs
    calls = [
        Call(datetime.fromisoformat(r["requestDate"]), r["landingUtmSource"].removeprefix("'"),
             r["landingUtmCampaign"].removeprefix("'"), r["landingUtmMedium"], r["type"] == "callback"
             and r["callStatus"] == "CLIENT_ANSWER", integer(r["leadPrice"]), False)
        for r in raw_records(synced)
    ]  # fmt: skip
    expected = expected_rows(calls, costs, by)
    got = {row[by].removeprefix("'"): row for row in report}
    assert set(got) == set(expected)
    assert any(int(row["requests"]) == 0 and float(row["cost"]) > 0 for row in got.values()) == (by == "utm_campaign")
    for label, wanted in expected.items():
        row = {name: (float(value) if value else None) for name, value in got[label].items() if name != by}
        assert [row[n] for n in ("requests", "answered", "priced_leads", "lead_value")] == [
            wanted[n] for n in ("requests", "answered", "priced_leads", "lead_value")
        ], label
        assert_money_equal(row, wanted, label)


def test_attribution_money_is_empty_with_a_note_where_costs_cannot_follow(synced: Path) -> None:
    for asked, blocking in ((("--by", "city"), "city"), (("--by", "utm_source", "--type", "callback"), "type")):
        result = run_cli("report", "attribution", *asked, "--cache", str(synced), env={"NEWTON_TOKEN": ""})
        assert result.returncode == 0, result.stderr
        rows = list(csv.DictReader(io.StringIO(result.stdout.lstrip("\ufeff"))))
        assert rows and all(row[n] == "" for row in rows for n in ("cost", "cpl", "cost_per_answered", "romi", "drr"))
        assert f"ad costs cannot follow {blocking}" in result.stderr
    plain = run_cli("report", "attribution", "--by", "utm_source", "--cache", str(synced), env={"NEWTON_TOKEN": ""})
    assert "ad costs" not in plain.stderr
