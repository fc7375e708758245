"""Records written by a sync: a look-back that finds nothing new writes nothing, and what did change is written
exactly, with the callers' first requests moved for every phone it touched."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

from dashboard.api.records import parse_records
from dashboard.metrics import Filters, Metrics, Period
from dashboard.store import Store, data, schema

ACCOUNT = "acc"
FIRST_SYNC = datetime(2026, 3, 20, 9, 0)
RESYNC = datetime(2026, 3, 20, 9, 30)
MARCH = Filters(period=Period(date(2026, 3, 1), date(2026, 3, 31)))


def call(rid: str, phone: str, when: str, price: int = 500) -> dict[str, Any]:
    return {"id": rid, "type": "callback", "requestDate": when, "widgetId": "w1", "clientPhone": phone,
            "callStatus": "CLIENT_ANSWER", "leadPrice": str(price)}  # fmt: skip


CALLS = [
    call("a1", "+79990000001", "2026-03-02 09:00:00"),
    call("a2", "+79990000001", "2026-03-05 09:00:00"),
    call("b1", "+79990000002", "2026-03-03 09:00:00"),
]


def _synced(tmp_path: Path, calls: list[dict[str, Any]]) -> Store:
    store = Store(tmp_path / "newton.duckdb")
    store.write(data.upsert_records, ACCOUNT, parse_records({"records": calls}), FIRST_SYNC)
    return store


def _rows(store: Store) -> dict[str, tuple[Any, ...]]:
    """Every stored record by id: its lead price, phone, first request of its phone, and when it was written."""
    rows = store.read(
        lambda con: con.execute(
            "SELECT id, leadPrice, phone, phone_first_id, synced_at FROM records ORDER BY id"
        ).fetchall()
    )
    return {row[0]: row[1:] for row in rows}


def test_a_resync_that_finds_nothing_new_writes_nothing_and_still_counts_what_it_saw(tmp_path: Path) -> None:
    store = _synced(tmp_path, CALLS)
    before, version = _rows(store), store.read(schema.data_version)

    seen = store.write(data.upsert_records, ACCOUNT, parse_records({"records": CALLS}), RESYNC)

    assert seen == 3  # the sync's summary still says how many records it looked at
    assert store.read(schema.data_version) == version  # every memoized answer stays valid
    # `synced_at` is when a record was last written as it stands (first seen, or last changed): untouched here.
    assert _rows(store) == before
    assert {row[3] for row in before.values()} == {FIRST_SYNC}


def test_a_changed_lead_price_is_written_and_only_that_call_is_rewritten(tmp_path: Path) -> None:
    store = _synced(tmp_path, CALLS)
    version = store.read(schema.data_version)
    priced = [CALLS[0], call("a2", "+79990000001", "2026-03-05 09:00:00", price=900), CALLS[2]]

    seen, written = store.write(data.upsert_records_changed, ACCOUNT, parse_records({"records": priced}), RESYNC)

    assert (seen, written) == (3, 1)
    assert store.read(schema.data_version) != version
    rows = _rows(store)
    assert rows["a2"][0] == 900 and rows["a2"][3] == RESYNC
    assert rows["a1"] == (500, "+79990000001", "a1", FIRST_SYNC)
    with Store(store.location).reading() as reading:
        assert Metrics(reading, ACCOUNT).headline(MARCH)["lead_value"] == 1900


def test_a_call_that_moved_to_another_phone_moves_the_first_request_of_both(tmp_path: Path) -> None:
    store = _synced(tmp_path, CALLS)
    # a1, the first call of phone 1, now shows phone 2: phone 1 first called with a2, phone 2 with a1 (before b1).
    moved = [call("a1", "+79990000002", "2026-03-02 09:00:00"), CALLS[1], CALLS[2]]

    store.write(data.upsert_records, ACCOUNT, parse_records({"records": moved}), RESYNC)

    first = {rid: row[2] for rid, row in _rows(store).items()}
    assert first == {"a1": "a1", "a2": "a2", "b1": "a1"}
    with Store(store.location).reading() as reading:
        numbers = Metrics(reading, ACCOUNT).headline(MARCH)
    assert (numbers["callers"], numbers["new_callers"]) == (2, 2)
