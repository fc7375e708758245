"""Answers memoized for other sessions: asked once per data version, never older than the data they describe."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path

import duckdb
import httpx
import polars as pl
import pytest

from dashboard.access import Person, Role
from dashboard.api import ChatMessage, ChatSession, Credentials, Department, NewtonClient, Token, Widget
from dashboard.api.records import parse_records
from dashboard.demo import DEMO_USER_ID, DemoNewton, DemoTransport
from dashboard.metrics import Filters, Metrics, Period
from dashboard.results import ResultCache, scope_for
from dashboard.store import Store, data, schema, utc_now
from dashboard.store.connection import connect, transaction
from dashboard.sync import Syncer, SyncProgress, sync
from dashboard.writes import Writer
from tests.conftest import NOW, client_for

NOW_UTC = NOW.replace(tzinfo=None)  # the fixed clock of the simulated account

ACCOUNT = "acc"
MARCH = Filters(period=Period(date(2026, 3, 1), date(2026, 3, 31)))


def _priced(rid: str, price: int) -> dict[str, object]:
    return {"id": rid, "type": "callback", "requestDate": "2026-03-02 07:00:00", "leadPrice": str(price)}


@pytest.fixture
def path(tmp_path: Path) -> Path:
    file = tmp_path / "kept.duckdb"
    with transaction(file) as con:
        records = parse_records({"records": [_priced("1", 1000), _priced("2", 500)]})
        data.upsert_records(con, ACCOUNT, records, utc_now())
    return file


def lead_value(path: Path, results: ResultCache) -> int:
    store = Store(path)
    with store.reading() as reading:
        scope = scope_for(store, reading.read(schema.data_version), results)
        value = Metrics(reading, ACCOUNT, scope=scope).headline(MARCH)["lead_value"]
    assert value is not None
    return int(value)


def test_an_answer_is_asked_once_while_the_data_stays_the_same(path: Path) -> None:
    results = ResultCache()
    assert [lead_value(path, results) for _ in range(3)] == [1500, 1500, 1500]
    assert (results.misses, results.hits) == (1, 2)


def test_a_saved_lead_price_shows_at_once(path: Path) -> None:
    results = ResultCache()
    assert lead_value(path, results) == 1500

    def newton_says_ok(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"result": "ok"})

    client = NewtonClient(Credentials(ACCOUNT, Token("t" * 32)), transport=httpx.MockTransport(newton_says_ok))
    writer = Writer(client, Store(path), ACCOUNT, Person("ann@example.com", Role.EDITOR))
    writer.set_lead_price("2", 2500)
    assert lead_value(path, results) == 3500


def test_a_change_outside_the_stores_writes_is_not_seen_until_the_data_has_a_new_version(path: Path) -> None:
    # What the version is for: without it, the memoized answer would be shown for ever.
    results = ResultCache()
    assert lead_value(path, results) == 1500
    with transaction(path) as con:
        con.execute("UPDATE records SET leadPrice = 0 WHERE id = '1'")
    assert lead_value(path, results) == 1500
    Store(path).write(schema.new_data_version)
    assert lead_value(path, results) == 500


@pytest.mark.slow  # full syncs of the demo account
def test_a_sync_gives_the_data_a_new_version(client: NewtonClient, tmp_path: Path) -> None:
    file = tmp_path / "synced.duckdb"
    with connect(file) as con:
        before = schema.data_version(con)
    sync(client, Store(file), ACCOUNT, now=NOW_UTC)
    with connect(file) as con:
        after = schema.data_version(con)
    assert before and after and before != after


def test_every_new_cache_file_has_a_version_of_its_own(tmp_path: Path) -> None:
    versions = set()
    for name in ("a", "b", "c"):
        with connect(tmp_path / f"{name}.duckdb") as con:
            versions.add(schema.data_version(con))
    assert len(versions) == 3 and "" not in versions


def test_sessions_asking_the_same_at_once_wait_for_one_answer() -> None:
    results = ResultCache()
    asked = []

    def slow_question() -> int:
        asked.append(1)
        time.sleep(0.2)
        return 42

    answers: list[int] = []
    threads = [
        threading.Thread(target=lambda: answers.append(results.get_or_compute("q", slow_question))) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [42] * 8
    assert len(asked) == 1


def test_a_failed_question_is_not_kept() -> None:
    results = ResultCache()

    def failing() -> int:
        raise RuntimeError("DuckDB was busy")

    with pytest.raises(RuntimeError):
        results.get_or_compute("q", failing)
    assert results.get_or_compute("q", lambda: 7) == 7


def test_the_oldest_answers_make_room() -> None:
    results = ResultCache(max_entries=2)
    for key in ("a", "b", "c"):
        results.get_or_compute(key, partial(str.upper, key))
    assert len(results) == 2
    assert results.get_or_compute("a", lambda: "asked again") == "asked again"
    assert results.get_or_compute("c", lambda: "asked again") == "C"


def test_a_page_changing_a_kept_dict_does_not_change_it_for_others() -> None:
    results = ResultCache()
    first = results.get_or_compute("q", lambda: {"requests": 10})
    first["requests"] = 0
    assert results.get_or_compute("q", lambda: {"requests": -1}) == {"requests": 10}


# ------------------------------------------------------------------------------------ what counts as a change


def _written(path: Path, write: Callable[[duckdb.DuckDBPyConnection], object]) -> bool:
    """Whether the store's write gave the data a new version."""
    store = Store(path)
    before = store.read(schema.data_version)
    store.write(write)
    return store.read(schema.data_version) != before


def _chat(text: str, *more: str) -> list[tuple[ChatSession, str | None]]:
    messages = tuple(ChatMessage(True, t, datetime(2026, 3, 2, 7, 1)) for t in (text, *more))
    return [(ChatSession("visitor-1", datetime(2026, 3, 2, 7, 0), "Анна", None, messages), "w1")]


def test_records_written_again_as_they_were_are_no_change(path: Path) -> None:
    def again(price: int, rid: str = "2") -> Callable[[duckdb.DuckDBPyConnection], object]:
        records = parse_records({"records": [_priced(rid, price)]})
        return lambda con: data.upsert_records(con, ACCOUNT, records, utc_now())

    assert not _written(path, again(500))
    assert _written(path, again(600))
    assert _written(path, again(500, rid="3"))  # a new record


def test_a_chat_written_again_is_no_change_but_a_new_or_lost_message_is(path: Path) -> None:
    def chats(sessions: list[tuple[ChatSession, str | None]]) -> Callable[..., object]:
        return lambda con: data.upsert_chats(con, ACCOUNT, sessions, utc_now())

    assert _written(path, chats(_chat("Здравствуйте")))
    assert not _written(path, chats(_chat("Здравствуйте")))
    assert _written(path, chats(_chat("Здравствуйте", "Перезвоните")))
    assert _written(path, chats(_chat("Здравствуйте")))
    assert _written(path, chats(_chat("Добрый день")))


def test_a_renamed_widget_is_a_change(path: Path) -> None:
    def listed(name: str) -> Callable[..., object]:
        widgets = [Widget("w1", name, (Department("d1", "Продажи"),))]
        return lambda con: data.replace_widgets(con, ACCOUNT, widgets, utc_now())

    assert _written(path, listed("Основной сайт"))
    assert not _written(path, listed("Основной сайт"))
    assert _written(path, listed("Лендинг"))


@pytest.mark.slow  # full syncs of the demo account
def test_a_sync_that_brings_nothing_new_keeps_every_kept_answer(newton: DemoNewton, tmp_path: Path) -> None:
    file = tmp_path / "again.duckdb"
    with client_for(DemoTransport(newton)) as client:
        sync(client, Store(file), DEMO_USER_ID, now=NOW_UTC)
        with connect(file) as con:
            first = schema.data_version(con)
        sync(client, Store(file), DEMO_USER_ID, now=NOW_UTC)  # a look-back over the last 7 days
        with connect(file) as con:
            assert schema.data_version(con) == first  # the same frozen account: the same rows again
        newton.add_record(requestDate=(NOW_UTC - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S"))
        sync(client, Store(file), DEMO_USER_ID, now=NOW_UTC)  # a look-back over the last 7 days
        with connect(file) as con:
            assert schema.data_version(con) != first


def test_big_answers_make_room_by_their_size() -> None:
    results = ResultCache(max_bytes=3 * 2**20)
    listing = pl.DataFrame({"page": ["https://example.ru/" + "x" * 500] * 2_000})  # about 1 MB, like a Calls list
    for key in range(6):
        results.get_or_compute(key, lambda: listing)
    assert len(results) <= 3
    assert results.bytes <= 3 * 2**20
    assert results.get_or_compute(5, lambda: pl.DataFrame()) is listing  # the newest stays


class _Clicked(BaseException):
    """What Streamlit raises in a script thread when the person clicks during a sync (a rerun)."""


@pytest.mark.slow  # full syncs of the demo account
def test_a_sync_stopped_from_outside_still_gives_what_it_wrote_a_new_version(
    newton: DemoNewton, tmp_path: Path
) -> None:
    file = tmp_path / "stopped.duckdb"
    with connect(file) as con:
        before = schema.data_version(con)

    def click_after_a_write(progress: SyncProgress) -> None:
        if progress.records:
            raise _Clicked

    with client_for(DemoTransport(newton)) as client, pytest.raises(_Clicked):
        Syncer(client, Store(file), DEMO_USER_ID, on_progress=click_after_a_write).run()
    with connect(file) as con:
        assert con.execute("SELECT count(*) FROM records").fetchall()[0][0] > 0
        assert schema.data_version(con) != before
