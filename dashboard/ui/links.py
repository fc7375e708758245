"""A page's own state in the URL, so that a link (or a saved view) reproduces the whole view.

Each page declares here which of its widget keys stand for which query parameter, and the values each accepts.
The link is read when a session starts and when a saved view is opened (`read_link_next_run`); every run then
writes the current page's values back, leaving out defaults and every other page's parameters. A value a page
does not accept falls back to the page's default without a word: the view shown is then the link it writes.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import streamlit as st

from dashboard.attribution import COUNTS
from dashboard.calls import SORTS
from dashboard.dimensions import DIMENSIONS
from dashboard.lost_list import CHOICES, SEARCH_MAX_CHARS

READ_NEXT_RUN = "_links_read_next_run"  # set by a saved view being opened: its query is read as a link
_STARTED = "_links_started"  # set on a session's first run, when the link it was opened with is read


@dataclass(frozen=True)
class Param:
    """One query parameter bound to one widget key."""

    name: str  # in the URL
    key: str  # the widget's key in the session
    options: Collection[str] | None = None  # the values accepted; None: any text up to `longest` characters
    default: str | None = None  # the widget's own default, never written to the URL
    longest: int = 200

    def accepts(self, value: str) -> bool:
        if self.options is not None:
            return value in self.options
        return 0 < len(value) <= self.longest


# url_path of a page → its parameters. Pages not listed have none of their own.
PAGES: dict[str, tuple[Param, ...]] = {
    "attribution": (
        # The table itself, not a copy: a dimension declared in dashboard/dimensions.py is a link's `by` at once.
        Param("by", "attribution_by", DIMENSIONS.keys(), default="channel"),
        Param("then", "attribution_then", DIMENSIONS.keys()),
        Param("count", "attribution_count", COUNTS, default="requests"),
    ),
    "calls": (Param("q", "calls_search"), Param("sort", "calls_sort", tuple(SORTS), default="newest")),
    "chats": (Param("q", "chat_search"), Param("chat", "chat_session")),
    "lead-prices": (Param("tab", "prices_tab", ("upload", "history"), default="upload"),),
    "lost-leads": (
        Param("show", "lost_show", CHOICES, default="lost"),
        Param("q", "lost_search", longest=SEARCH_MAX_CHARS),
        Param("by", "lost_speed_by", ("department", "widget"), default="department"),
    ),
}


def read_link_next_run() -> None:
    """Read the URL as a link on the next run (a saved view about to be opened), as when a session starts."""
    st.session_state[READ_NEXT_RUN] = True


def reading_link() -> bool:
    """Whether this run reads its state from the URL: a session's first run, or a saved view being opened. Call
    once per run, before anything is drawn."""
    fresh = not st.session_state.get(_STARTED) or bool(st.session_state.pop(READ_NEXT_RUN, False))
    st.session_state[_STARTED] = True
    return fresh


def will_read_link() -> bool:
    """Whether this run will read the URL as a link (`reading_link` not yet called): for what is chosen before
    the sidebar, such as the account."""
    return not st.session_state.get(_STARTED) or bool(st.session_state.get(READ_NEXT_RUN, False))


def start(page: str, reading: bool) -> None:
    """Before anything is drawn: take the page's values from a link being read, and keep every other page's
    values in the session (Streamlit forgets a widget's value on a run that does not draw it)."""
    for name, params in PAGES.items():
        for param in params:
            if name == page and reading:
                _take(param)
            elif name != page and param.key in st.session_state:
                st.session_state[param.key] = st.session_state[param.key]
    for param in PAGES.get(page, ()):
        if param.default is not None:
            st.session_state.setdefault(param.key, param.default)


def _take(param: Param) -> None:
    value = st.query_params.get(param.name)
    if value is not None and param.accepts(value):
        st.session_state[param.key] = value
    elif param.default is not None:
        st.session_state[param.key] = param.default
    else:
        st.session_state.pop(param.key, None)


def rewrite(page: str) -> None:
    """Write the page's values again, once it has drawn a widget whose value the link could not give."""
    found = page_params(page)
    for param in PAGES.get(page, ()):
        if param.name in found:
            st.query_params[param.name] = found[param.name]
        elif param.name in st.query_params:
            del st.query_params[param.name]


def page_params(page: str) -> dict[str, str]:
    """The page's own values as its URL carries them: only those that differ from the default."""
    found = {}
    for param in PAGES.get(page, ()):
        value = st.session_state.get(param.key)
        if isinstance(value, str) and value and value != param.default and param.accepts(value):
            found[param.name] = value
    return found
