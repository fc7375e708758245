"""Sync: how fresh the data is, a button to fetch now, recent runs, and the settings in force (never the token)."""

from __future__ import annotations

from dataclasses import replace

import polars as pl
import streamlit as st

from dashboard import i18n
from dashboard.settings import load_settings
from dashboard.tables import Column
from dashboard.ui import tables
from dashboard.ui.freshness import account_text, help_for, last_synced_text, sync_now, sync_tables
from dashboard.ui.safe import visible_frame
from dashboard.ui.session import current_view

view = current_view()
lang = view.lang
t = i18n.translator(lang)
st.title(i18n.text("page_sync", lang))
st.caption(last_synced_text(view))

if st.button(i18n.text("sync_now", lang), key="sync_now", type="primary", icon=":material/sync:"):
    # The account this view shows (the settings' first is another one where several are configured, perhaps one
    # this person may not see): its connection and zone, the deployment's other settings.
    here = replace(load_settings(), connection=view.connection, cache_path=view.cache_path, zone=view.zone, accounts=())
    result = sync_now(here, lang)
    if result is not None:
        records, chats = i18n.plural(result.records, "records", lang), i18n.plural(result.chats, "chats", lang)
        st.success(i18n.text("sync_done", lang, records=records, chats=chats))

states, runs = sync_tables(view)
st.subheader(i18n.text("freshness", lang))
st.dataframe(visible_frame(states), hide_index=True, key="sync_states", column_config=help_for(states, lang))
st.subheader(i18n.text("recent_runs", lang))
counts = [Column(t("records_word"), "integer"), Column(t("chats_word"), "integer")]
st.dataframe(
    tables.styled(visible_frame(runs), counts, lang), hide_index=True, key="sync_runs",
    column_config=help_for(runs, lang), placeholder=i18n.NOT_SET[lang],
)  # fmt: skip

st.subheader(i18n.text("settings_in_force", lang))
settings = pl.DataFrame(
    {
        t("setting"): [i18n.text(k, lang) for k in ("account", "time_zone", "look_back", "cache_file")],
        t("value"): [
            account_text(view.connection, lang),
            view.zone.key,
            i18n.text("days", lang, n=i18n.plural(7, "days", lang)),
            str(view.cache_path),
        ],
    }
)
st.dataframe(settings, hide_index=True, key="settings_in_force", column_config=help_for(settings, lang))
