"""Property test: each request's stored previous request of its caller (dashboard/caller_facts.py), and the callers
of a period counted from it, against a plain-Python reading of docs/metrics.md ("Callers"), after several syncs,
re-syncs of the same records and records changed in between (another phone, another time, our own call back).

The reference decides which person each generated phone is when it is generated and writes it in one of the ways
people type a phone; nothing here calls or mirrors the SQL.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.api.records import parse_records
from dashboard.callers import OUR_CALLBACK_REFERER
from dashboard.metrics import Definitions, Filters, Metrics, Period
from dashboard.store import data, utc_now
from dashboard.store.connection import connect, transaction

pytestmark = pytest.mark.slow  # hypothesis: generated accounts, each written to a real DuckDB file in several syncs

ACCOUNT = "acc"
FIRST_DAY = date(2026, 3, 1)
ZONE = ZoneInfo("Europe/Moscow")
PEOPLE = ("+79161234567", "+79031112233", "+74951234567")
ODD = "+44 20 7946 0958"


def typed(person: str, way: int) -> str:
    """A phone written one of the ways people write it (a foreign number stays as it is, spaces around)."""
    if person == ODD:
        return f" {person} " if way % 2 else person
    ten = person[2:]
    return [person, "8" + ten, f"+7 ({ten[:3]}) {ten[3:6]}-{ten[6:8]}-{ten[8:]}", f"8\u00a0{ten}"][way % 4]


@dataclass(frozen=True)
class Request:
    """One generated record as Newton sends it: its id, who is behind it (None: no phone), when, ours or not."""

    id: str
    person: str | None
    way: int
    at: datetime
    ours: bool

    def sent(self) -> dict[str, object]:
        fields: dict[str, object] = {
            "id": self.id, "type": "callback", "requestDate": f"{self.at:%Y-%m-%d %H:%M:%S}", "widgetId": "w1",
            "clientPhone": typed(self.person, self.way) if self.person else "", "callStatus": "CLIENT_ANSWER",
        }  # fmt: skip
        if self.ours:
            fields["landingUrl"] = OUR_CALLBACK_REFERER
        return fields


moments = st.integers(0, 12 * 24 * 60).map(lambda minutes: datetime(2026, 3, 1) + timedelta(minutes=minutes // 30 * 30))
people = st.sampled_from((*PEOPLE, ODD, None))


def changed(request: Request) -> st.SearchStrategy[Request]:
    """The same record as a later sync may bring it: another phone, another time, ours or not, or unchanged."""
    return st.one_of(
        people.map(lambda person: replace(request, person=person)),
        moments.map(lambda at: replace(request, at=at)),
        st.booleans().map(lambda ours: replace(request, ours=ours)),
        st.just(request),
    )


@st.composite
def histories(draw: st.DrawFn) -> list[list[Request]]:
    """The syncs of one account, in order: each a batch of records, a later one repeating or changing earlier ids
    (same times are common, so ties are ordered by id)."""
    made = []
    for index in range(draw(st.integers(1, 25))):
        ours = draw(st.booleans()) and draw(st.booleans())
        made.append(Request(f"r{index:02d}", draw(people), draw(st.integers(0, 3)), draw(moments), ours))
    syncs: list[list[Request]] = []
    for _ in range(draw(st.integers(1, 4))):
        batch = draw(st.lists(st.sampled_from(made), max_size=len(made), unique_by=lambda r: r.id))
        syncs.append([draw(changed(request)) for request in batch])
    syncs.append(made)  # the last sync brings every record as Newton finally has it
    return syncs


def previous_requests(final: dict[str, Request]) -> dict[str, datetime | None]:
    """Each request's caller's previous request time (ordered by time, then id); our own call backs are none."""
    theirs = sorted((r for r in final.values() if r.person and not r.ours), key=lambda r: (r.at, r.id))
    last: dict[str, datetime] = {}
    previous: dict[str, datetime | None] = {}
    for request in theirs:
        previous[request.id] = last.get(request.person or "")
        last[request.person or ""] = request.at
    return previous


@settings(max_examples=40, deadline=None)
@given(histories(), st.integers(0, 10), st.integers(0, 4))
def test_stored_previous_requests_and_callers_equal_a_plain_computation(
    syncs: list[list[Request]], skip: int, days: int
) -> None:
    final = {request.id: request for batch in syncs for request in batch}
    with TemporaryDirectory() as folder:
        path = Path(folder) / "c.duckdb"
        for batch in syncs:
            with transaction(path) as con:
                data.upsert_records(con, ACCOUNT, parse_records({"records": [r.sent() for r in batch]}), utc_now())
        first, last = FIRST_DAY + timedelta(days=skip), FIRST_DAY + timedelta(days=skip + days)
        with connect(path) as con:
            stored = dict(con.execute("SELECT id, phone_prev_at FROM records WHERE NOT is_ours").fetchall())
            metrics = Metrics(con, ACCOUNT, Definitions(zone=ZONE))
            period, whole = metrics.headline(Filters(period=Period(first, last))), metrics.headline(Filters())

    previous = previous_requests(final)
    assert {id_: stored[id_] for id_ in previous} == previous
    start = datetime.combine(first, time(), ZONE).astimezone(UTC).replace(tzinfo=None)
    end = datetime.combine(last + timedelta(days=1), time(), ZONE).astimezone(UTC).replace(tzinfo=None)
    theirs = [r for r in final.values() if r.person and not r.ours]
    in_period = {r.person for r in theirs if start <= r.at < end}
    first_seen = {person: min(r.at for r in theirs if r.person == person) for person in in_period}
    new = {person for person in in_period if first_seen[person] >= start}
    assert (period["callers"], period["new_callers"], period["repeat_callers"]) == (
        len(in_period), len(new), len(in_period - new),
    )  # fmt: skip
    everyone = {r.person for r in theirs}
    assert (whole["callers"], whole["new_callers"], whole["repeat_callers"]) == (len(everyone), len(everyone), 0)
