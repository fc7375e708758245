"""The dashboard's script, which `streamlit_app.py` serves: page config, settings, fresh data, the shared sidebar and
navigation."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import streamlit as st

from dashboard import i18n
from dashboard.errors import CacheError, ConfigError
from dashboard.settings import load_settings
from dashboard.ui.access import admit, uploads_only_where_writing
from dashboard.ui.accounts import choose_account, pick_one, settings_of
from dashboard.ui.forms import render_write_forms
from dashboard.ui.freshness import data_state, ensure_fresh, show_unusable
from dashboard.ui.safe import literal
from dashboard.ui.saved_views import render_saved_views
from dashboard.ui.session import remember
from dashboard.ui.sidebar import render_sidebar

st.set_page_config(page_title="Newton Dashboard", page_icon=":telephone_receiver:", layout="wide")
lang = i18n.language(st.session_state.get("lang") or st.query_params.get("lang"))
person = admit(lang)  # nobody who is not let in gets further: no cache read, no sync, no Newton
try:
    settings = load_settings()
except ConfigError as error:
    # Settings may name a path or a zone as typed: plain text, never Markdown.
    st.error(
        literal(i18n.text("bad_settings", lang, error=i18n.fields_message({error.setting: error.problem}, lang))),
        icon=":material/settings:",
    )
    st.stop()
choice = choose_account(settings, person, lang)  # only the accounts this person may see; none: the run stops
here = choice.settings(settings)
# The sync on open brings the chosen account up to date; under "All accounts", each of the person's accounts.
states = [ensure_fresh(settings_of(settings, account), lang) for account in choice.accounts]
# Under "All accounts", "data synced at" is the oldest of them (an account whose sync fails must not look fresh);
# its data version was read before the page reads anything, like every account's.
data = min(states, key=lambda state: state.synced_at or datetime.min)
# url_path → (the page's script in app_pages/, its icon). The Overview is served at "/" (its url_path "home" only
# tells it apart from the "/overview" below, which leads to it).
PAGES = {
    "overview": ("overview", ":material/dashboard:"),
    "attribution": ("attribution", ":material/call_split:"),
    "calls": ("calls", ":material/call:"),
    "lost-leads": ("lost_leads", ":material/phone_missed:"),
    "chats": ("chats", ":material/chat:"),
    "lead-prices": ("lead_prices", ":material/sell:"),
    "costs": ("costs", ":material/payments:"),
    "widgets": ("widgets", ":material/widgets:"),
    "sync": ("sync", ":material/sync:"),
}
pages = {
    name: st.Page(f"app_pages/{script}.py", title=i18n.text(f"page_{script}", lang), icon=icon,
                  url_path="home" if name == "overview" else name, default=name == "overview")
    for name, (script, icon) in PAGES.items()
}  # fmt: skip


def _to_overview() -> None:
    """`/overview`, as people type it: the Overview at "/", with the link's parameters."""
    st.switch_page(pages["overview"], query_params={k: st.query_params.get_all(k) for k in st.query_params})


# The page is known before the sidebar is drawn, so the sidebar shows only what applies to it.
page = st.navigation(
    [*pages.values(), st.Page(_to_overview, title=i18n.text("page_overview", lang), url_path="overview",
                              visibility="hidden")],
    position="top",
)  # fmt: skip
if page.url_path == "overview":
    page.run()  # switches page before anything is drawn or read
name = page.url_path or "overview"
# The view acts with the person's role in the chosen account only: writes are for editors of that account.
view = render_sidebar(here, person.in_account(choice.name), data, name, choice)
uploads_only_where_writing(view.person, choice.together)
# Under "All accounts" no write is offered: a price or a deal belongs to one account, which the person picks first.
if view.person.can_write and not choice.together and render_write_forms(view):
    view = replace(view, data=data_state(here))  # a price saved in the sidebar counts on this very page
remember(view)
render_saved_views(view, name, pages)
if choice.together and name not in ("overview", "attribution"):
    pick_one(view.lang)
if here.connection.demo:
    st.sidebar.info(i18n.text("demo_banner", view.lang), icon=":material/science:")
try:
    page.run()
except CacheError as error:
    # Damage found only when a page reads a block (the next run sets the file aside and syncs), or a write the disk
    # refused: say so plainly.
    show_unusable(error, view.lang)
