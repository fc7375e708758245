"""What every page shares in one script run: the connection, the cache, the language and the filters.

The entry script builds a `View` from the sidebar on each run and keeps it in the session; pages read it with
`current_view()`. Filters and the language live in the URL's query parameters too, so a link reproduces a view.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import streamlit as st

from dashboard import cache
from dashboard.access import NOBODY, Person
from dashboard.metrics import Definitions, Filters, Metrics
from dashboard.periods import DEFAULT_COMPARISON
from dashboard.results import Kept, kept_under
from dashboard.settings import Connection

_VIEW = "view"
T = TypeVar("T")


@dataclass(frozen=True)
class View:
    """One run's settings and choices."""

    connection: Connection
    cache_path: Path
    zone: ZoneInfo
    lang: str
    filters: Filters
    preset: str
    person: Person = NOBODY  # who is using this session; NOBODY may not write
    # The cache as this run found it: its last sync and data version ("" when unknown: nothing is kept).
    data: cache.DataState = cache.UNKNOWN_STATE
    comparison: str = DEFAULT_COMPARISON  # what the period is compared with: previous, year or none

    @property
    def account(self) -> str:
        """The Newton user id whose data the cache rows carry."""
        return self.connection.credentials.user_id

    def today(self) -> date:
        """Today in the dashboard's time zone."""
        return datetime.now(self.zone).date()


def remember(view: View) -> None:
    """Keep this run's view for the page that runs after the sidebar."""
    st.session_state[_VIEW] = view


def current_view() -> View:
    """The view the entry script built for this run."""
    view: View = st.session_state[_VIEW]
    return view


def kept_for(view: View) -> Kept | None:
    """Where this run's answers are kept for other sessions: under the data version the run started with."""
    if not view.data.version:
        return None
    return kept_under(view.cache_path, view.data.version)


def kept_answer(view: View, question: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
    """The answer to a page's own `question` about the view's account, kept for other sessions when it can be."""
    kept = kept_for(view)
    if kept is None:
        return compute()
    return kept.answer((view.account, view.zone, *question), compute)


@contextmanager
def open_metrics(view: View) -> Iterator[Metrics]:
    """The metrics, kept for other sessions; the cache is opened only for answers not kept, and for this run only,
    so a sync in another process can take its turn."""
    with cache.lazily(view.cache_path) as con:
        yield Metrics(con, view.account, Definitions(zone=view.zone), kept=kept_for(view))
