"""Named views: a page and its link's query, saved under a name for an account, in the cache beside the write log.

Editors save and delete them; everyone may open them. A name is trimmed, 1-80 characters, and unique per account:
saving under a name already taken is refused (delete the old view first), so nobody's view is replaced unseen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import duckdb

from dashboard.access import Person
from dashboard.errors import ViewRefused
from dashboard.store import AnyStore, utc_now

NAME_LONGEST = 80
QUERY_LONGEST = 4_000  # a link's query; the 50 values a filter may hold, several filters, fit


@dataclass(frozen=True)
class SavedView:
    """One saved view: where it opens and with which parameters."""

    name: str
    page: str  # the page's url_path ("" for the Overview)
    query: str  # the URL's query string, without "?"
    created_by: str | None
    created_at: datetime  # naive UTC


def clean_name(name: str) -> str:
    """The name as it is saved: trimmed, on one line; raises ViewRefused when empty or too long."""
    cleaned = " ".join(name.split())
    if not cleaned:
        raise ViewRefused("name_empty")
    if len(cleaned) > NAME_LONGEST:
        raise ViewRefused("name_too_long", longest=NAME_LONGEST)
    return cleaned


def listed(store: AnyStore, account: str) -> list[SavedView]:
    """The account's saved views, by name."""
    return store.read(_listed, account)


def _listed(con: duckdb.DuckDBPyConnection, account: str) -> list[SavedView]:
    rows = con.execute(
        "SELECT name, page, query, created_by, created_at FROM saved_views WHERE account = ? ORDER BY name",
        [account],
    ).fetchall()
    return [SavedView(*row) for row in rows]


def save(
    store: AnyStore, account: str, person: Person, name: str, page: str, query: str, *, now: datetime | None = None
) -> SavedView:
    """Save the view under `name` for an editor; a name already taken is refused, not replaced."""
    if not person.can_write:
        raise ViewRefused("editors_only")
    if len(query) > QUERY_LONGEST:
        raise ViewRefused("too_long")
    view = SavedView(clean_name(name), page, query, person.name, now or utc_now())
    store.write(_insert, account, view)
    return view


def _insert(con: duckdb.DuckDBPyConnection, account: str, view: SavedView) -> None:
    taken = con.execute("SELECT 1 FROM saved_views WHERE account = ? AND name = ?", [account, view.name]).fetchall()
    if taken:
        raise ViewRefused("name_taken", name=view.name)
    con.execute(
        "INSERT INTO saved_views VALUES (?, ?, ?, ?, ?, ?)",
        [account, view.name, view.page, view.query, view.created_by, view.created_at],
    )


def delete(store: AnyStore, account: str, person: Person, name: str) -> None:
    """Delete an editor's chosen view of the account (nothing happens when it is already gone)."""
    if not person.can_write:
        raise ViewRefused("editors_only")
    store.write(_delete, account, name)


def _delete(con: duckdb.DuckDBPyConnection, account: str, name: str) -> None:
    con.execute("DELETE FROM saved_views WHERE account = ? AND name = ?", [account, name])
