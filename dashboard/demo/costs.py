"""The demo account's ad costs: plausible daily spend of its paid sources and campaigns, so ROMI shows out of the box.

The campaigns and their utm values are the ones the simulated visitors carry (dashboard/demo/account.py); each
day's budget is set against what the campaign brings in the demo, so some campaigns pay back (brand, remarketing),
some do not (competitors, Performance Max, VK's targeting), and one (`video_msk`) spends with no call at all. A
day's cost depends only on the day and the campaign (never on the span asked for): syncing again gives the same
rows, which replace themselves (origin `demo`).
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from typing import Final

import duckdb

from dashboard.costs import Cost, CostImport, Saved, match_key, save_costs, stored_costs

# (utm_source, utm_medium, utm_campaign, campaign_id, roubles a weekday)
DEMO_CAMPAIGNS: Final = (
    ("yandex", "cpc", "brand_msk", "51000001", 3_500),
    ("yandex", "cpc", "generic_msk", "51000002", 28_000),
    ("yandex", "cpc", "generic_spb", "51000003", 15_000),
    ("yandex", "cpc", "competitors_msk", "51000004", 14_000),
    ("yandex", "cpc", "remarketing", "51000005", 4_500),
    ("yandex", "cpc", "yan_msk", "51000006", 9_000),
    ("yandex", "cpc", "video_msk", "51000009", 1_200),  # a video campaign no caller came from
    ("google", "cpc", "brand_msk", "", 1_500),
    ("google", "cpc", "generic_msk", "", 11_000),
    ("google", "cpc", "remarketing", "", 2_500),
    ("google", "cpc", "pmax_msk", "", 6_000),
    ("vk", "social", "target_ads", "", 2_500),
    ("telegram", "social", "target_ads", "", 1_800),
)  # fmt: skip
WEEKEND_SHARE: Final = 0.75  # budgets are cut at weekends, as fewer people call
FILE_NAME: Final = "demo account"


def demo_costs(first: date, now: datetime) -> list[Cost]:
    """Every campaign's cost on each whole day from `first` to the day before `now` (naive UTC). Today is left
    out, as an ad cabinet's report of finished days leaves it: a cost for part of a day would change at every sync,
    and with it every number the pages keep."""
    costs = []
    day = first
    while day < now.date():
        for source, medium, campaign, campaign_id, budget in DEMO_CAMPAIGNS:
            kopecks = round(budget * 100 * _day_factor(day, campaign + source))
            costs.append(Cost(day, source, kopecks, campaign, campaign_id, medium))
        day += timedelta(days=1)
    return costs


def _day_factor(day: date, name: str) -> float:
    """How a day's spend differs from the budget: less at weekends, and ±15 % that depends on the day alone."""
    digest = hashlib.sha256(f"{day.isoformat()}|{name}".encode()).digest()
    noise = 0.85 + 0.30 * int.from_bytes(digest[:4], "big") / 2**32
    return noise * (WEEKEND_SHARE if day.weekday() >= 5 else 1.0)


def save_demo_costs(con: duckdb.DuckDBPyConnection, account: str, first: date, now: datetime) -> Saved:
    """Store the demo costs from `first` to `now` (the store's write); only rows that are new or differ are
    written, so a sync that brings nothing new leaves the data (and its version) as it was."""
    wanted = demo_costs(first, now)
    stored = stored_costs(con, account, first, now.date()).filter(origin="demo")
    have = {
        (row["day"], match_key(row["utm_source"]), match_key(row["utm_medium"]), match_key(row["utm_campaign"])): row[
            "kopecks"
        ]
        for row in stored.iter_rows(named=True)
    }
    changed = [
        cost for cost in wanted
        if have.get((cost.day, match_key(cost.utm_source), match_key(cost.utm_medium), cost.campaign_key))
        != cost.kopecks
    ]  # fmt: skip
    if not changed:
        return Saved(0, 0)
    return save_costs(con, account, CostImport("demo", FILE_NAME, "generated", None, now), changed)
