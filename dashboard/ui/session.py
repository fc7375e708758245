"""What every page shares in one script run: the connection, the cache, the language and the filters.

The entry script builds a `View` from the sidebar on each run and keeps it in the session; pages read it with
`current_view()`. Filters and the language live in the URL's query parameters too, so a link reproduces a view.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

import streamlit as st

from dashboard.access import NOBODY, Person
from dashboard.metrics import Definitions, Filters, Metrics
from dashboard.periods import DEFAULT_COMPARISON, PRESETS, preset_period
from dashboard.results import ResultScope, scope_for
from dashboard.settings import Account, Connection
from dashboard.store import UNKNOWN_STATE, AnyStore, DataState, LakeLocation, open_store
from dashboard.store.reading import Reading
from dashboard.timezones import local_time

_VIEW = "view"
T = TypeVar("T")


@dataclass(frozen=True)
class View:
    """One run's settings and choices."""

    connection: Connection
    cache_path: Path | LakeLocation
    zone: ZoneInfo
    lang: str
    filters: Filters
    preset: str
    person: Person = NOBODY  # who is using this session; NOBODY may not write
    # The store as this run found it: its last sync and data version ("" when unknown: nothing is memoized).
    data: DataState = UNKNOWN_STATE
    comparison: str = DEFAULT_COMPARISON  # what the period is compared with: previous, year or none
    # The account's name as the URL carries it ("" where one account is configured: the link names none), and
    # under "All accounts" (`account_name` "all") every account the person may see; pages then sum over them.
    account_name: str = ""
    together: tuple[Account, ...] = ()

    @property
    def store(self) -> AnyStore:
        """Where the data lives."""
        return open_store(self.cache_path)

    @property
    def account(self) -> str:
        """The Newton user id whose data the cache rows carry."""
        return self.connection.credentials.user_id

    def one(self, account: Account) -> View:
        """This view of one of the accounts shown together: its connection and zone, the same choices. A preset
        period means that account's own days: "today" in Yekaterinburg begins two hours before Moscow's."""
        filters = self.filters
        if self.preset in PRESETS and self.preset != "custom" and filters.as_of is not None:
            today = local_time(filters.as_of, account.zone).date()
            filters = replace(filters, period=preset_period(self.preset, today))
        return replace(self, connection=account.connection, zone=account.zone, account_name=account.name,
                       together=(), filters=filters)  # fmt: skip

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


def result_scope(view: View) -> ResultScope | None:
    """Where this run's answers are memoized for other sessions: under the data version the run started with."""
    return scope_for(view.store, view.data.version)


def get_or_compute(view: View, question: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
    """The answer to a page's own `question` about the view's account, memoized for other sessions when it can be."""
    scope = result_scope(view)
    if scope is None:
        return compute()
    return scope.get_or_compute((view.account, view.zone, *question), compute)


@contextmanager
def open_metrics(view: View) -> Iterator[Metrics]:
    """The metrics, memoized for other sessions; the store is opened only for answers not memoized, and for this
    run only, so a sync in another process can take its turn."""
    with view.store.reading() as reading:
        yield metrics_on(view, reading)


def metrics_on(view: View, reading: Reading) -> Metrics:
    """`open_metrics`' metrics over a block of reads the page has open already (it reads more on that block)."""
    return Metrics(reading, view.account, Definitions(zone=view.zone), scope=result_scope(view))
