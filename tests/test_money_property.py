"""Property test: every money column of `report attribution` (by source, medium, campaign and channel) and the
money headline against a plain-Python reading of docs/metrics.md ("Money"), on generated accounts and cost files:
sources with costs but no calls, calls with no costs, empty campaigns, campaign ids in utm_campaign, several
imports of the same rows, and the same value spelled in different case and space.

The reference reads the costs as stored (`costs.stored_costs`) and the records as the test generated them; it
decides keys, labels, campaigns and channels on its own, nothing here calls or mirrors the SQL.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from dashboard import reports
from dashboard.api.records import parse_records
from dashboard.callers import OUR_CALLBACK_REFERER
from dashboard.costs import Cost, CostImport, save_costs, stored_costs
from dashboard.metrics import Definitions, Filters, Metrics, Period
from dashboard.money import Money
from dashboard.store import Store, data, utc_now

pytestmark = pytest.mark.slow  # hypothesis: generated accounts and costs, each written to a real DuckDB file

ACCOUNT = "acc"
FIRST_DAY = date(2026, 3, 1)
ZONES = ("Europe/Moscow", "Asia/Vladivostok", "America/New_York")
# Spellings of a few sources and campaigns (one meaning each, written in several ways); "mytarget" only costs.
SOURCES = ("yandex", "Yandex", " YANDEX ", "vk", "VK", "google", "")
COST_SOURCES = ("yandex", "YANDEX", " Yandex", "vk", "mytarget", "MyTarget ")
CAMPAIGNS = ("brand", "Brand ", "12345", "", "promo", "777")
# A cost's campaign: (name, id) as a Yandex Direct report gives them, a name or an id alone, or none.
COST_CAMPAIGNS = (("Brand", "12345"), ("Brand", "12345"), ("brand", ""), ("", "12345"), ("", ""), ("Summer", "777"),
                  ("other", "999"))  # fmt: skip
MEDIUMS = ("cpc", "email", "social", "")
COST_MEDIUMS = ("cpc", "", "social", "email", "banner")
NONE = "(none)"
# A filter costs follow: no filter, a source (spelled as no record or cost spells it), or a channel.
CHOSEN = (None, None, ("utm_source", "YANDEX"), ("utm_source", "vk"), ("channel", "paid_search"), ("channel", "social"))


@dataclass(frozen=True)
class Call:
    at: datetime  # naive UTC
    source: str
    campaign: str
    medium: str
    answered: bool
    price: int | None
    ours: bool


@st.composite
def calls(draw: st.DrawFn) -> list[Call]:
    made = []
    for _ in range(draw(st.integers(0, 25))):
        at = datetime.combine(FIRST_DAY, time()) + timedelta(minutes=draw(st.integers(0, 12 * 24 * 60)))
        price = draw(st.sampled_from((None, None, 0, 1500, 4000)))
        made.append(Call(at, draw(st.sampled_from(SOURCES)), draw(st.sampled_from(CAMPAIGNS)),
                         draw(st.sampled_from(MEDIUMS)), draw(st.booleans()), price,
                         draw(st.booleans()) and draw(st.booleans()) and draw(st.booleans())))  # fmt: skip
    return made


@st.composite
def cost_files(draw: st.DrawFn) -> list[tuple[str, list[Cost]]]:
    """Imports, each (origin, costs); some repeat an earlier import's rows."""
    files: list[tuple[str, list[Cost]]] = []
    for _ in range(draw(st.integers(0, 3))):
        again: bool = draw(st.booleans())
        if files and again:
            files.append(draw(st.sampled_from(files)))  # the same file imported again
            continue
        rows = []
        for _ in range(draw(st.integers(1, 8))):
            name, campaign_id = draw(st.sampled_from(COST_CAMPAIGNS))
            day = FIRST_DAY + timedelta(days=draw(st.integers(-2, 13)))
            rows.append(Cost(day, draw(st.sampled_from(COST_SOURCES)), draw(st.integers(0, 5_000_000)), name,
                             campaign_id, draw(st.sampled_from(COST_MEDIUMS))))  # fmt: skip
        files.append((draw(st.sampled_from(("generic", "yandex-direct"))), rows))
    return files


def sent(index: int, call: Call) -> dict[str, object]:
    fields: dict[str, object] = {
        "id": f"r{index:03d}", "type": "callback", "requestDate": f"{call.at:%Y-%m-%d %H:%M:%S}", "widgetId": "w1",
        "clientPhone": f"+7916{index:07d}", "callStatus": "CLIENT_ANSWER" if call.answered else "NOT_ANSWERED",
        "landingUtmSource": call.source, "landingUtmCampaign": call.campaign, "landingUtmMedium": call.medium,
        "leadPrice": call.price,
    }  # fmt: skip
    if call.ours:
        fields["landingUrl"] = OUR_CALLBACK_REFERER
    return fields


@contextmanager
def account_of(made: list[Call], files: list[tuple[str, list[Cost]]]) -> Iterator[Store]:
    with TemporaryDirectory() as folder:
        store = Store(Path(folder) / "c.duckdb")
        records = parse_records({"records": [sent(i, c) for i, c in enumerate(made)]})
        store.write(lambda con: data.upsert_records(con, ACCOUNT, records, utc_now()))
        for n, (origin, rows) in enumerate(files):
            batch = CostImport(origin, f"file-{n}.csv", "csv", "ann", datetime(2026, 4, 1, 9, n))
            store.write(save_costs, ACCOUNT, batch, rows)
        yield store


# The reference ---------------------------------------------------------------------------------------------


def key(value: str) -> str:
    return value.strip().lower()


def shown(value: str) -> str:
    return value.strip() or NONE


def channel(source: str, medium: str, campaign: str) -> str:
    """The channel rules of docs/metrics.md for a record (or cost) with UTM tags and no referrer."""
    medium = key(medium)
    if medium == "cpc":
        return "paid_search"
    if medium in ("email", "social"):
        return medium
    return "other" if (source.strip() or medium or campaign.strip()) else "direct"


def record_value(call: Call, by: str) -> str:
    if by == "channel":
        return channel(call.source, call.medium, call.campaign)
    return shown({"utm_source": call.source, "utm_medium": call.medium, "utm_campaign": call.campaign}[by])


def cost_value(cost: dict[str, Any], by: str, view_campaigns: set[str]) -> str:
    """The value (as spelled) a stored cost row stands under by `by`."""
    if by == "channel":
        return channel(cost["utm_source"], cost["utm_medium"], cost["utm_campaign"])
    if by in ("utm_source", "utm_medium"):
        return str(cost[by])
    name, campaign_id = str(cost["utm_campaign"]), str(cost["campaign_id"])
    if not key(name) and not key(campaign_id):
        return NONE
    if key(name) and key(name) in view_campaigns:
        return name
    if key(campaign_id) and key(campaign_id) in view_campaigns:
        return campaign_id
    return name or campaign_id


def most_frequent(spellings: list[str]) -> str:
    counted = Counter(spellings)
    return min(counted, key=lambda spelling: (-counted[spelling], spelling))


def money(cost: float, requests: int, answered: int, priced: int, value: int) -> dict[str, float | None]:
    def over(divisor: float, dividend: float = cost) -> float | None:
        return dividend / divisor if divisor else None

    return {"cost": cost, "cpl": over(requests), "cost_per_answered": over(answered), "cpa": over(priced),
            "romi": over(cost, value - cost), "drr": over(value)}  # fmt: skip


def expected_rows(view: list[Call], costs: list[dict[str, Any]], by: str) -> dict[str, dict[str, Any]]:
    view_campaigns = {key(shown(c.campaign)) for c in view}
    calls_of: dict[str, list[Call]] = defaultdict(list)
    record_spellings: dict[str, list[str]] = defaultdict(list)
    for call in view:
        value = record_value(call, by)
        calls_of[key(value)].append(call)
        record_spellings[key(value)].append(value)
    kopecks: Counter[str] = Counter()
    cost_spellings: dict[str, list[str]] = defaultdict(list)
    for cost in costs:
        value = cost_value(cost, by, view_campaigns)
        kopecks[key(value)] += cost["kopecks"]
        cost_spellings[key(value)].append(value)
    rows = {}
    for k in set(calls_of) | set(kopecks):
        grouped = calls_of.get(k, [])
        label = most_frequent(record_spellings[k]) if grouped else most_frequent(cost_spellings[k])
        prices = [c.price for c in grouped if c.price is not None]
        counts = (len(grouped), sum(c.answered for c in grouped), len(prices), sum(prices))
        rows[label] = {"requests": counts[0], "answered": counts[1], "priced_leads": counts[2],
                       "lead_value": counts[3], **money(kopecks[k] / 100, *counts)}  # fmt: skip
    return rows


def assert_money_equal(got: dict[str, Any], expected: dict[str, Any], where: object) -> None:
    for name in ("cost", "cpl", "cost_per_answered", "cpa", "romi", "drr"):
        decimals = 4 if name in ("romi", "drr") else 2
        wanted = expected[name]
        if wanted is None:
            assert got[name] is None, (where, name)
        else:
            assert got[name] == pytest.approx(wanted, abs=10**-decimals), (where, name)


# A campaign both named and numbered by records and by a Yandex Direct cost: the name wins.
BOTH_WAYS = [
    Call(datetime(2026, 3, 2, 9), "yandex", campaign, "cpc", True, 900, False) for campaign in ("Brand", "12345")
]


@settings(max_examples=60, deadline=None)
@given(calls(), cost_files(), st.integers(0, 6), st.integers(0, 6), st.sampled_from(ZONES), st.sampled_from(CHOSEN))
@example(BOTH_WAYS, [("yandex-direct", [Cost(date(2026, 3, 2), "YANDEX", 100_000, "brand", "12345")])], 0, 3,
         "Europe/Moscow", None)  # fmt: skip
def test_money_of_report_attribution_equals_a_plain_computation(
    made: list[Call], files: list[tuple[str, list[Cost]]], skip: int, days: int, name: str,
    chosen: tuple[str, str] | None,
) -> None:  # fmt: skip
    zone = ZoneInfo(name)
    first, last = FIRST_DAY + timedelta(days=skip), FIRST_DAY + timedelta(days=skip + days)

    def local_day(at: datetime) -> date:
        return at.replace(tzinfo=UTC).astimezone(zone).date()

    view = [c for c in made if not c.ours and first <= local_day(c.at) <= last]
    filters = Filters(period=Period(first, last), chosen={chosen[0]: (chosen[1],)} if chosen else {})
    if chosen:  # a chosen value takes the calls and the costs of its key, whatever their spelling
        view = [c for c in view if key(record_value(c, chosen[0])) == key(chosen[1])]
    with account_of(made, files) as store, store.reading() as reading:
        stored = stored_costs(reading.connection, ACCOUNT, first, last).to_dicts()
        if chosen:
            stored = [cost for cost in stored if key(cost_value(cost, chosen[0], set())) == key(chosen[1])]
        any_costs = bool(stored_costs(reading.connection, ACCOUNT).height)
        metrics = Metrics(reading, ACCOUNT, Definitions(zone=zone))
        tables = {by: reports.attribution(metrics, filters, reports.Breakdown(by))
                  for by in ("utm_source", "utm_medium", "utm_campaign", "channel")}  # fmt: skip
        headline = Money.beside(metrics).headline(filters)
        shown = Money.beside(metrics).shown(filters)  # the page draws the money charts only then
        # The money charts' rows, asked together (one statement) and one by one.
        bys = ("utm_source", "utm_campaign", "channel", "utm_medium")
        spend = dict(zip(bys, reports.spend(metrics, filters, bys), strict=True)) if shown else {}
        alone = {by: reports.spend(metrics, filters, (by,))[0] for by in spend}
    for by, frame in spend.items():  # what the money charts draw: the table's rows and numbers, asked apart
        assert_frame_equal(frame, tables[by].select(frame.columns), check_exact=True)
        assert_frame_equal(alone[by], frame, check_exact=True)
    for by, table in tables.items():
        got = {row[by]: row for row in table.iter_rows(named=True)}
        if not any_costs:  # no costs in the account: the money is empty, not 0
            assert all(row[n] is None for row in got.values() for n in ("cost", "cpl", "romi", "drr")), by
            continue
        expected = expected_rows(view, stored, by)
        assert set(got) == set(expected), by
        for label, wanted in expected.items():
            row = got[label]
            counts = ("requests", "answered", "priced_leads", "lead_value")
            assert [row[n] for n in counts] == [wanted[n] for n in counts], (by, label)
            assert_money_equal(row, wanted, (by, label))
    if any_costs:
        prices = [c.price for c in view if c.price is not None]
        total = sum(cost["kopecks"] for cost in stored) / 100
        wanted = money(total, len(view), sum(c.answered for c in view), len(prices), sum(prices))
        assert_money_equal(headline, wanted, "headline")
    else:
        assert set(headline.values()) == {None}
