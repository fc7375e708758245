"""The store: people's tables outlive every rebuild, and only writes that change what the pages count give the
data a new version."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from dashboard.access import Person, Role
from dashboard.api.records import parse_records
from dashboard.costs import Cost, CostImport, save_costs, stored_costs
from dashboard.saved_views import listed, save
from dashboard.store import Store, data, logs, marks, schema, utc_now
from tests.test_cache_recovery import corrupt_wal_checksum, garbage

ACCOUNT = "acc"
EDITOR = Person("ann@example.com", Role.EDITOR)
NOW = datetime(2026, 3, 2, 9, 0)


def _record(rid: str, price: int) -> dict[str, object]:
    return {"id": rid, "type": "callback", "requestDate": "2026-03-02 07:00:00", "leadPrice": str(price)}


def _people_and_newton(store: Store) -> None:
    """A store holding a synced record, a logged write, a saved view, a mark and an imported cost."""
    store.write(data.upsert_records, ACCOUNT, parse_records({"records": [_record("1", 500)]}), utc_now())
    store.write(logs.log_write, ACCOUNT, "callback.CreateCrmLead", {"phone": "+79991234567", "price": 500}, "ok")
    save(store, ACCOUNT, EDITOR, "Paid search", "attribution", "by=utm_source", now=NOW)
    store.write(marks.mark_phone, ACCOUNT, "+79991234567", "spam", "ann@example.com", NOW)
    batch = CostImport("generic", "november.csv", "csv", "ann@example.com", NOW)
    store.write(save_costs, ACCOUNT, batch, [Cost(date(2026, 11, 2), "yandex", 1_234_56, "brand")])


def _write_log(store: Store) -> list[tuple[object, ...]]:
    return store.read(lambda con: con.execute("SELECT account, action, params, outcome FROM write_log").fetchall())


def test_a_new_schema_version_rebuilds_newtons_data_and_keeps_peoples_tables(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    store = Store(tmp_path / "newton.duckdb")
    _people_and_newton(store)
    written = _write_log(store)

    monkeypatch.setattr(schema, "SCHEMA_VERSION", schema.SCHEMA_VERSION + 1)
    schema.forget_prepared(store.location)  # as a new release of the program opening the file

    assert store.read(data.counts, ACCOUNT) == (0, 0)  # Newton's data: rebuilt, the next sync fills it
    assert _write_log(store) == written
    assert [(v.name, v.query) for v in listed(store, ACCOUNT)] == [("Paid search", "by=utm_source")]
    assert store.read(lambda con: con.execute("SELECT phone, kind, marked_by FROM lead_marks").fetchall()) == [
        ("+79991234567", "spam", "ann@example.com")
    ]
    assert store.read(stored_costs, ACCOUNT).select("utm_source", "kopecks").rows() == [("yandex", 123456)]


def test_a_quarantined_file_hands_its_write_log_to_the_fresh_one(tmp_path: Path) -> None:
    path = tmp_path / "newton.duckdb"
    corrupt_wal_checksum(path)  # one write checkpointed into the file, more only in its corrupt write-ahead log
    damaged = path.read_bytes(), (tmp_path / "newton.duckdb.wal").read_bytes()

    moved = Store(path).quarantine_if_damaged()

    assert moved is not None and moved.kind == "corrupt_wal"
    assert (
        moved.carried == ("write_log", "saved_views", "lead_marks", "sent_alerts", "costs")
        and moved.not_carried is None
    )
    assert [row[1] for row in _write_log(Store(path))] == ["callback.SetLeadPrice"]
    assert "write_log" in str(moved)
    # The file moved aside is left as it was, for whoever wants the rest.
    assert moved.wal_moved_to is not None
    assert (moved.moved_to.read_bytes(), moved.wal_moved_to.read_bytes()) == damaged


def test_a_quarantined_file_that_cannot_be_read_at_all_says_so_and_a_fresh_one_starts(tmp_path: Path) -> None:
    path = tmp_path / "newton.duckdb"
    garbage(path)

    moved = Store(path).quarantine_if_damaged()

    assert moved is not None and moved.carried == () and moved.not_carried
    assert "could not be read out of it" in str(moved)
    assert _write_log(Store(path)) == []


def test_only_writes_that_change_what_pages_count_give_a_new_version(tmp_path: Path) -> None:
    store = Store(tmp_path / "newton.duckdb")
    _people_and_newton(store)

    def version_after(write: Callable[..., object], *args: object) -> bool:
        before = store.read(schema.data_version)
        store.write(write, *args)
        return store.read(schema.data_version) != before

    assert not version_after(logs.log_write, ACCOUNT, "callback.SetLeadPrice", {"id": "1", "price": 900}, "ok")
    assert not version_after(logs.start_run, ACCOUNT, 3)
    assert not version_after(data.set_lead_price, ACCOUNT, "1", 500)  # the price it had
    assert version_after(data.set_lead_price, ACCOUNT, "1", 900)
    assert store.read(lambda con: con.execute("SELECT leadPrice FROM records").fetchall()) == [(900,)]
    saved_before = store.read(schema.data_version)
    save(store, ACCOUNT, EDITOR, "Another", "calls", "", now=NOW)
    assert store.read(schema.data_version) == saved_before


def test_a_write_that_fails_midway_leaves_nothing_behind(tmp_path: Path) -> None:
    store = Store(tmp_path / "newton.duckdb")
    _people_and_newton(store)
    version = store.read(schema.data_version)

    def price_then_fail(con: duckdb.DuckDBPyConnection) -> None:
        data.set_lead_price(con, ACCOUNT, "1", 7000)
        raise RuntimeError("stopped")

    with pytest.raises(RuntimeError):
        store.write(price_then_fail)
    assert store.read(lambda con: con.execute("SELECT leadPrice FROM records").fetchall()) == [(500,)]
    assert store.read(schema.data_version) == version
