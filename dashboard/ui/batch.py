"""A batch of writes sent with a progress bar: the Calls page's new prices, the Lead prices page's upload."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

import streamlit as st

from dashboard.connect import open_client
from dashboard.ui.session import View
from dashboard.writes import Writer

T = TypeVar("T")


def send_with_progress(
    view: View, label: str, total: int, send: Callable[[Writer], Iterable[T]], results: list[T] | None = None
) -> list[T]:
    """Send a batch as the view's person (`send` yields one result per write, as each is known), the bar counting
    them up to `total`; each result is appended to `results` at once, so a run cut short still has what was done."""
    done: list[T] = [] if results is None else results
    bar = st.progress(0.0, text=label)
    with open_client(view.connection) as client:
        writer = Writer(client, view.store, view.account, view.person)
        for result in send(writer):
            done.append(result)
            bar.progress(len(done) / total, text=f"{label} {len(done)} / {total}")
    return done
