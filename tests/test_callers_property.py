"""Property test: callers, new and repeat callers and the first touch against a plain-Python reading of
docs/metrics.md ("Callers"), on generated accounts with repeat callers, every phone format and our own call backs.

The reference decides each generated phone's meaning (which person it is) when it is generated, and writes it in
one of the ways people type a phone; nothing here calls or mirrors the SQL.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from zoneinfo import ZoneInfo

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.api.records import parse_records
from dashboard.callers import OUR_CALLBACK_REFERER
from dashboard.metrics import Definitions, Filters, Metrics, Period
from dashboard.store import data, utc_now
from dashboard.store.connection import connect, transaction

pytestmark = pytest.mark.slow  # hypothesis: generated accounts, each written to a real DuckDB file

ACCOUNT = "acc"
FIRST_DAY = date(2026, 3, 1)
ZONES = ("Europe/Moscow", "Asia/Vladivostok", "America/New_York")
# The Russian numbers of the generated people, as +7 and 10 digits; other values stand for themselves.
PEOPLE = ("+79161234567", "+79031112233", "+74951234567", "+79990000001")
ODD_VALUES = ("12345", "+44 20 7946 0958", "ext. 12")


def typed(number: str, way: int) -> str:
    """A +7 number written one of the ways people write it."""
    ten = number[2:]
    return [
        number,
        "8" + ten,
        "7" + ten,
        ten,
        f"+7 ({ten[:3]}) {ten[3:6]}-{ten[6:8]}-{ten[8:]}",
        f"8 {ten[:3]} {ten[3:6]} {ten[6:8]} {ten[8:]}",
        f"  8-{ten[:3]}-{ten[3:6]}-{ten[6:]}\u00a0",
        f"+7\u00a0{ten[:3]}\u00a0{ten[3:6]}\u2011{ten[6:8]}\u2011{ten[8:]}",
    ][way]


@dataclass(frozen=True)
class Gen:
    """One generated request: who is behind it (None: no phone), when, through which medium, and whether it is
    our own call back."""

    person: str | None
    sent_phone: str | None
    at: datetime
    medium: str
    ours: bool


@st.composite
def requests(draw: st.DrawFn) -> list[Gen]:
    made = []
    for _ in range(draw(st.integers(1, 30))):
        kind = draw(st.sampled_from(("person", "person", "person", "odd", "none")))
        if kind == "person":
            person: str | None = draw(st.sampled_from(PEOPLE))
            sent: str | None = typed(person or "", draw(st.integers(0, 7)))
        elif kind == "odd":
            person = draw(st.sampled_from(ODD_VALUES))
            sent = draw(st.sampled_from(("", " ", "  "))) + (person or "")
        else:
            person, sent = None, draw(st.sampled_from(("", "   ", None)))
        at = datetime.combine(FIRST_DAY, time()) + timedelta(minutes=draw(st.integers(0, 20 * 24 * 60)))
        medium = draw(st.sampled_from(("cpc", "email", "social", "")))
        made.append(Gen(person, sent, at, medium, draw(st.booleans()) and draw(st.booleans())))
    return made


def sent(index: int, gen: Gen) -> dict[str, object]:
    fields: dict[str, object] = {
        "id": f"r{index:03d}", "type": "callback", "requestDate": f"{gen.at:%Y-%m-%d %H:%M:%S}", "widgetId": "w1",
        "clientPhone": gen.sent_phone, "callStatus": "CLIENT_ANSWER", "landingUtmMedium": gen.medium,
    }  # fmt: skip
    if gen.ours:
        fields["landingUrl"] = OUR_CALLBACK_REFERER
    return fields


CHANNEL_OF_MEDIUM = {"cpc": "paid_search", "email": "email", "social": "social", "": "direct"}


@contextmanager
def cache_of(made: list[Gen]) -> Iterator[duckdb.DuckDBPyConnection]:
    with TemporaryDirectory() as folder:
        path = Path(folder) / "c.duckdb"
        with transaction(path) as con:
            records = parse_records({"records": [sent(i, g) for i, g in enumerate(made)]})
            data.upsert_records(con, ACCOUNT, records, utc_now())
        with connect(path) as con:
            yield con


@settings(max_examples=40, deadline=None)
@given(requests(), st.integers(0, 15), st.integers(0, 6), st.sampled_from(ZONES))
def test_callers_and_first_touch_equal_a_plain_computation(made: list[Gen], skip: int, days: int, name: str) -> None:
    zone = ZoneInfo(name)
    first, last = FIRST_DAY + timedelta(days=skip), FIRST_DAY + timedelta(days=skip + days)
    start = datetime.combine(first, time(), zone).astimezone(UTC).replace(tzinfo=None)
    end = datetime.combine(last + timedelta(days=1), time(), zone).astimezone(UTC).replace(tzinfo=None)
    theirs = sorted(((g.at, f"r{i:03d}", g) for i, g in enumerate(made) if not g.ours), key=lambda x: x[:2])
    first_seen: dict[str, tuple[datetime, Gen]] = {}
    for at, _, gen in theirs:
        if gen.person is not None:
            first_seen.setdefault(gen.person, (at, gen))
    in_period = {g.person for at, _, g in theirs if start <= at < end and g.person is not None}
    new = {p for p in in_period if first_seen[p][0] >= start}
    touches: dict[str, set[str]] = defaultdict(set)
    for person in in_period:
        touches[CHANNEL_OF_MEDIUM[first_seen[person][1].medium]].add(person)

    filters = Filters(period=Period(first, last))
    with cache_of(made) as con:
        metrics = Metrics(con, ACCOUNT, Definitions(zone=zone))
        numbers = metrics.headline(filters)
        by_first_touch = metrics.first_touch(filters, "channel")
        ours = metrics.ours(filters)
    assert (numbers["callers"], numbers["new_callers"]) == (len(in_period), len(new))
    assert numbers["repeat_callers"] == len(in_period - new)
    assert numbers["requests"] == sum(start <= at < end for at, _, _ in theirs)
    assert {r["channel"]: r["callers"] for r in by_first_touch.iter_rows(named=True)} == {
        channel: len(people) for channel, people in touches.items()
    }
    assert ours == sum(g.ours and start <= g.at < end for g in made)
