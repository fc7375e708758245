"""Sync: how fresh the data is, a button to fetch now, recent runs, and the settings in force (never the token)."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboard import i18n
from dashboard.ui.freshness import last_synced_text, sync_now, sync_tables
from dashboard.ui.safe import visible_frame
from dashboard.ui.session import current_view, load_settings

view = current_view()
lang = view.lang
st.title(i18n.text("page_sync", lang))
st.caption(last_synced_text(view))

if st.button(i18n.text("sync_now", lang), key="sync_now", type="primary", icon=":material/sync:"):
    result = sync_now(load_settings(), lang)
    if result is not None:
        st.success(i18n.text("sync_done", lang, records=result.records, chats=result.chats))

states, runs = sync_tables(view)
st.subheader(i18n.text("freshness", lang))
st.dataframe(visible_frame(states), hide_index=True, key="sync_states")
st.subheader(i18n.text("recent_runs", lang))
st.dataframe(visible_frame(runs), hide_index=True, key="sync_runs")  # run messages quote Newton

st.subheader(i18n.text("settings_in_force", lang))
settings = pl.DataFrame(
    {
        "setting": [i18n.text(k, lang) for k in ("account", "time_zone", "look_back", "cache_file")],
        "value": [
            view.connection.describe(),
            view.zone.key,
            i18n.text("days", lang, n=7),
            str(view.cache_path),
        ],
    }
)
st.dataframe(settings, hide_index=True, key="settings_in_force")
