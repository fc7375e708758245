# ruff: noqa: RUF001 - Russian text is meant to be Cyrillic
"""The sidebar's saved views: open one (everyone), save the view on screen or delete one (editors)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import streamlit as st

from dashboard import i18n, saved_views
from dashboard.errors import ViewRefused
from dashboard.saved_views import SavedView
from dashboard.store import LakeLocation, open_store
from dashboard.ui import links
from dashboard.ui.safe import literal, visible
from dashboard.ui.session import View

TEXT = {
    "en": {
        "saved_views": "Saved views",
        "none_yet": "No saved views yet.",
        "none_yet_viewer": "No saved views yet; editors can save one.",
        "view": "View",
        "open": "Open",
        "delete": "Delete",
        "deleted": "The view “{name}” was deleted.",
        "name": "Name of this view",
        "name_help": "Saves this page with its period, filters and choices, for everyone using this account.",
        "save": "Save this view",
        "saved": "Saved as “{name}”.",
        "name_empty": "Give the view a name.",
        "name_too_long": "The name is too long: at most {longest} characters.",
        "name_taken": "A view named “{name}” already exists: choose another name, or delete that view first.",
        "too_long": "This view has too many filters to save.",
        "editors_only": "Only editors can save and delete views.",
    },
    "ru": {
        "saved_views": "Сохранённые отчёты",
        "none_yet": "Сохранённых отчётов пока нет.",
        "none_yet_viewer": "Сохранённых отчётов пока нет; сохранять их могут редакторы.",
        "view": "Отчёт",
        "open": "Открыть",
        "delete": "Удалить",
        "deleted": "Отчёт «{name}» удалён.",
        "name": "Название этого отчёта",
        "name_help": "Сохраняет эту страницу с периодом, фильтрами и настройками для всех, кто работает "
        "с этим аккаунтом.",
        "save": "Сохранить отчёт",
        "saved": "Сохранено как «{name}».",
        "name_empty": "Дайте отчёту название.",
        "name_too_long": "Название слишком длинное: не больше {longest} символов.",
        "name_taken": "Отчёт «{name}» уже есть: выберите другое название или сначала удалите тот отчёт.",
        "too_long": "В этом отчёте слишком много фильтров, его нельзя сохранить.",
        "editors_only": "Сохранять и удалять отчёты могут только редакторы.",
    },
}
_NOTE = "_saved_view_note"  # what the last save or delete did, shown once on the next run


@st.cache_data(ttl=60, show_spinner=False)
def _listed(path: Path | LakeLocation, account: str) -> list[SavedView]:
    """The account's views, read at most once a minute by all sessions: the sidebar is drawn on every run, and
    the cache file may be busy with a sync. Cleared at once by a save or delete in this server."""
    return saved_views.listed(open_store(path), account)


def current_query() -> str:
    """The URL's query as this run wrote it, repeated parameters kept, but not the language: a view opens in the
    language of whoever opens it."""
    return urlencode([(name, value) for name in st.query_params if name != "lang"
                      for value in st.query_params.get_all(name)])  # fmt: skip


def open_saved(saved: SavedView, pages: Mapping[str, st.Page]) -> None:
    """Go to the view's page with its parameters; they are read on arrival as a link is (a value no longer
    accepted falls back to its default)."""
    params: dict[str, list[str]] = {}
    for name, value in parse_qsl(saved.query):
        params.setdefault(name, []).append(value)
    params["lang"] = [str(st.session_state.get("lang", "en"))]
    links.read_link_next_run()
    st.switch_page(pages.get(saved.page) or pages["overview"], query_params=params)


def render_saved_views(view: View, page: str, pages: Mapping[str, st.Page]) -> None:
    """The sidebar's "Saved views": a list to open from, and for editors a name to save this view under."""
    t = i18n.translator(view.lang, TEXT)
    editor = view.person.can_write
    box = st.sidebar.expander(t("saved_views"), icon=":material/bookmarks:")
    note = st.session_state.pop(_NOTE, None)
    if note:
        box.success(note, icon=":material/check_circle:")
    found = {saved.name: saved for saved in _listed(view.cache_path, view.account)}
    if not found:
        box.caption(t("none_yet" if editor else "none_yet_viewer"))
    else:
        chosen = box.selectbox(t("view"), list(found), key="saved_view", format_func=visible)
        left, right = box.columns(2)
        if left.button(t("open"), key="saved_view_open", icon=":material/open_in_browser:") and chosen in found:
            open_saved(found[chosen], pages)
        if editor and right.button(t("delete"), key="saved_view_delete", icon=":material/delete:") and chosen:
            saved_views.delete(view.store, view.account, view.person, chosen)
            _listed.clear()
            st.session_state[_NOTE] = t("deleted", name=literal(chosen))
            st.rerun()
    if not editor:
        return
    with box.form("save_view", clear_on_submit=True, border=False):
        name = st.text_input(t("name"), key="saved_view_name", max_chars=200, help=t("name_help"))
        pressed = st.form_submit_button(t("save"), icon=":material/bookmark_add:")
    if pressed:
        try:
            saved = saved_views.save(view.store, view.account, view.person, name, page, current_query())
        except ViewRefused as refused:
            values = {k: literal(str(v)) for k, v in refused.values.items()}
            box.error(t(refused.code, **values), icon=":material/error:")
        else:
            _listed.clear()
            st.session_state[_NOTE] = t("saved", name=literal(saved.name))
            st.rerun()  # the list above shows the new view
