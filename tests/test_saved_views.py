"""Saved views in the cache: editors save and delete, viewers cannot, per account, kept like the write log."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from dashboard import saved_views
from dashboard.access import Person, Role
from dashboard.errors import ViewRefused
from dashboard.store import Store, logs
from dashboard.store.connection import connect

EDITOR = Person("ann@example.com", Role.EDITOR)
VIEWER = Person("bob@example.com", Role.VIEWER)
NOW = datetime(2026, 11, 20, 9, 30)


def test_an_editor_saves_views_for_the_account_only(tmp_path: Path) -> None:
    path = tmp_path / "cache.duckdb"
    store = Store(path)
    saved_views.save(store, "acc1", EDITOR, "Paid search, week", "attribution", "preset=last_7_days&by=utm_source",
                     now=NOW)  # fmt: skip
    saved_views.save(Store(path), "acc1", EDITOR, "  All   calls ", "calls", "q=%2B7", now=NOW)
    listed = saved_views.listed(Store(path), "acc1")
    assert [(v.name, v.page, v.query, v.created_by, v.created_at) for v in listed] == [
        ("All calls", "calls", "q=%2B7", "ann@example.com", NOW),
        ("Paid search, week", "attribution", "preset=last_7_days&by=utm_source", "ann@example.com", NOW),
    ]
    assert saved_views.listed(Store(path), "acc2") == []  # another account sees none of them


def test_a_viewer_neither_saves_nor_deletes(tmp_path: Path) -> None:
    path = tmp_path / "cache.duckdb"
    saved_views.save(Store(path), "acc1", EDITOR, "Mine", "calls", "", now=NOW)
    with pytest.raises(ViewRefused) as refused:
        saved_views.save(Store(path), "acc1", VIEWER, "Theirs", "calls", "", now=NOW)
    assert refused.value.code == "editors_only"
    with pytest.raises(ViewRefused):
        saved_views.delete(Store(path), "acc1", VIEWER, "Mine")
    assert [v.name for v in saved_views.listed(Store(path), "acc1")] == ["Mine"]
    saved_views.delete(Store(path), "acc1", EDITOR, "Mine")
    assert saved_views.listed(Store(path), "acc1") == []


@pytest.mark.parametrize(
    ("name", "code"), [("   ", "name_empty"), ("x" * 81, "name_too_long"), (" Mine ", "name_taken")]
)
def test_names_are_checked_and_a_taken_one_is_refused(tmp_path: Path, name: str, code: str) -> None:
    path = tmp_path / "cache.duckdb"
    saved_views.save(Store(path), "acc1", EDITOR, "Mine", "calls", "q=1", now=NOW)
    with pytest.raises(ViewRefused) as refused:
        saved_views.save(Store(path), "acc1", EDITOR, name, "chats", "q=2", now=NOW)
    assert refused.value.code == code
    assert [(v.name, v.query) for v in saved_views.listed(Store(path), "acc1")] == [("Mine", "q=1")]


def test_a_cache_from_before_saved_views_gains_them_and_keeps_its_write_log(tmp_path: Path) -> None:
    older = tmp_path / "older.duckdb"
    with connect(older) as con:
        logs.log_write(con, "acc1", "callback.SetLeadPrice", {"id": "1", "price": "5"}, "ok", now=NOW)
    with duckdb.connect(str(older)) as con:  # as the file was before this change
        con.execute("DROP TABLE saved_views")
    reopened = tmp_path / "reopened.duckdb"  # a path this process has not opened: the program starting anew
    shutil.copy(older, reopened)
    saved_views.save(Store(reopened), "acc1", EDITOR, "Mine", "calls", "", now=NOW)
    shutil.copy(reopened, tmp_path / "again.duckdb")
    assert [v.name for v in saved_views.listed(Store(tmp_path / "again.duckdb"), "acc1")] == ["Mine"]
    with connect(reopened) as con:
        assert con.execute("SELECT action FROM write_log").fetchall() == [("callback.SetLeadPrice",)]
