"""The dashboard's script, which `streamlit_app.py` serves: page config, settings, fresh data, the shared sidebar and
navigation."""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from dashboard import cache, i18n
from dashboard.api import InvalidInput
from dashboard.ui.access import admit
from dashboard.ui.forms import render_write_forms
from dashboard.ui.freshness import data_state, ensure_fresh, show_unusable
from dashboard.ui.session import load_settings, remember
from dashboard.ui.sidebar import render_sidebar

st.set_page_config(page_title="Newton Dashboard", page_icon=":telephone_receiver:", layout="wide")
lang = i18n.language(st.session_state.get("lang") or st.query_params.get("lang"))
person = admit(lang)  # nobody who is not let in gets further: no cache read, no sync, no Newton
try:
    settings = load_settings()
except InvalidInput as error:
    st.error(i18n.text("bad_settings", lang, error=i18n.fields_message(error.fields, lang)), icon=":material/settings:")
    st.stop()
data = ensure_fresh(settings, lang)
view = render_sidebar(settings, person, data)
if person.can_write and render_write_forms(view):
    view = replace(view, data=data_state(settings))  # a price saved in the sidebar counts on this very page
remember(view)
if settings.connection.demo:
    st.sidebar.info(i18n.text("demo_banner", view.lang), icon=":material/science:")
pages = [
    st.Page("app_pages/overview.py", title=i18n.text("page_overview", view.lang), icon=":material/dashboard:",
            url_path="overview", default=True),
    st.Page("app_pages/attribution.py", title=i18n.text("page_attribution", view.lang), icon=":material/call_split:",
            url_path="attribution"),
    st.Page("app_pages/calls.py", title=i18n.text("page_calls", view.lang), icon=":material/call:", url_path="calls"),
    st.Page("app_pages/chats.py", title=i18n.text("page_chats", view.lang), icon=":material/chat:", url_path="chats"),
    st.Page("app_pages/lead_prices.py", title=i18n.text("page_lead_prices", view.lang), icon=":material/sell:",
            url_path="lead-prices"),
    st.Page("app_pages/widgets.py", title=i18n.text("page_widgets", view.lang), icon=":material/widgets:",
            url_path="widgets"),
    st.Page("app_pages/sync.py", title=i18n.text("page_sync", view.lang), icon=":material/sync:", url_path="sync"),
]  # fmt: skip
try:
    st.navigation(pages, position="top").run()
except cache.CacheError as error:
    # Damage found only when a page reads a block (the next run sets the file aside and syncs), or a write the disk
    # refused: say so plainly.
    show_unusable(error, view.lang)
