"""Fresh data without thinking about it: sync on open when the cache is empty or old, with a progress bar."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

import polars as pl
import streamlit as st

from dashboard import cache, i18n
from dashboard.api import AuthError
from dashboard.connect import open_client
from dashboard.settings import Connection
from dashboard.sync import SyncFailed, SyncProgress, SyncResult, SyncRunning, sync
from dashboard.ui.safe import literal, visible
from dashboard.ui.session import Settings, View

log = logging.getLogger(__name__)

# One sync per server process at a time: a second session opening meanwhile reads what is there.
_syncing = threading.Lock()
# After an automatic sync failed, pages do not try again on every click for a while (the Sync page still can).
RETRY_AFTER_FAILURE = timedelta(minutes=5)
_failed_at: dict[Path, datetime] = {}


def data_state(settings: Settings) -> cache.DataState:
    """When the account's records were last synced, and the cache's data version."""
    with cache.connect(settings.cache_path) as con:
        return cache.read_data_state(con, settings.connection.credentials.user_id)


def ensure_fresh(settings: Settings, lang: str) -> cache.DataState:
    """Sync first when the cache is empty or older than the configured age; a damaged cache is set aside first.
    Returns the cache's state as this run will read it.

    A cache that cannot be used at all (permissions) stops the page with one message instead of a traceback.
    """
    try:
        state = data_state(settings)
    except cache.CacheDamaged:
        state = cache.UNKNOWN_STATE
        _set_aside(settings, lang)
    except cache.CacheBusy:
        raise
    except cache.CacheError as error:
        _stop_unusable(error, lang)
    updated = state.synced_at
    if updated is not None and cache.utc_now() - updated < timedelta(minutes=settings.max_age_minutes):
        return state
    failed = _failed_at.get(settings.cache_path)
    if failed is not None and cache.utc_now() - failed < RETRY_AFTER_FAILURE:
        return state
    if not _syncing.acquire(blocking=False):
        return state
    try:
        if run_sync(settings, lang) is None:
            _failed_at[settings.cache_path] = cache.utc_now()
        else:
            _failed_at.pop(settings.cache_path, None)
    finally:
        _syncing.release()
    return _state_after_sync(settings, lang)


def _state_after_sync(settings: Settings, lang: str) -> cache.DataState:
    try:
        return data_state(settings)
    except cache.CacheBusy:
        raise
    except cache.CacheError as error:
        _stop_unusable(error, lang)


def _set_aside(settings: Settings, lang: str) -> None:
    try:
        moved = cache.set_aside_if_damaged(settings.cache_path)
    except cache.CacheBusy:
        raise
    except cache.CacheError as error:
        _stop_unusable(error, lang)
    if moved is not None:
        show_set_aside(moved, lang)
        _failed_at.pop(settings.cache_path, None)  # a fresh, empty cache: fill it now, whatever failed before


def sync_now(settings: Settings, lang: str) -> SyncResult | None:
    """The Sync page's button: sync unless another session of this server is syncing already."""
    if not _syncing.acquire(blocking=False):
        st.info(i18n.text("sync_running", lang), icon=":material/sync:")
        return None
    try:
        result = run_sync(settings, lang)
    finally:
        _syncing.release()
    if result is not None:
        _failed_at.pop(settings.cache_path, None)
    return result


def run_sync(settings: Settings, lang: str) -> SyncResult | None:
    """Sync now, showing progress; a failure is shown as one message and keeps what was synced."""
    bar = st.progress(0.0, text=i18n.text("syncing", lang))

    def show(progress: SyncProgress) -> None:
        share = progress.windows_done / max(progress.windows_total, 1)
        bar.progress(min(share, 1.0), text=f"{i18n.text('syncing', lang)} {progress.records} / {progress.chats}")

    try:
        with open_client(settings.connection) as client:
            result = sync(client, settings.cache_path, settings.connection.credentials.user_id, on_progress=show)
    except SyncFailed as error:
        log.warning("Sync failed: %s", error)  # for whoever runs the server; Newton's words are already redacted
        bar.empty()
        # Newton's words (or a proxy's page) may hold Markdown or HTML: shown as plain text, never rendered.
        st.error(i18n.text("sync_failed", lang, error=""), icon=":material/sync_problem:")
        st.text(visible(str(error)))
        return None
    except AuthError as error:
        log.error("Sync refused: %s", error)
        bar.empty()
        st.error(i18n.text("credentials_refused", lang), icon=":material/key_off:")
        st.text(visible(str(error)))
        return None
    except SyncRunning:
        bar.empty()
        st.info(i18n.text("sync_running", lang), icon=":material/sync:")
        return None
    except cache.CacheBusy:
        bar.empty()
        st.warning(i18n.text("cache_busy", lang))
        return None
    except cache.CacheError as error:
        bar.empty()
        show_unusable(error, lang)
        return None
    bar.empty()
    if result.set_aside is not None:
        show_set_aside(result.set_aside, lang)
    return result


def show_set_aside(moved: cache.SetAside, lang: str) -> None:
    """Say that a damaged cache was renamed aside, where to, and that a full sync refills it."""
    message = i18n.text(
        "cache_set_aside", lang, reason=i18n.text(f"damage_{moved.kind}", lang), moved_to=literal(str(moved.moved_to))
    )
    if moved.wal_moved_to is not None:
        message += " " + i18n.text("cache_set_aside_wal", lang, wal=literal(str(moved.wal_moved_to)))
    st.warning(message, icon=":material/healing:")


def show_unusable(error: cache.CacheError, lang: str) -> None:
    """One message for a cache that cannot be used: what is wrong in the page's language, then the details (the
    path, DuckDB's or the system's words) as plain text, never rendered as Markdown."""
    if isinstance(error, cache.CacheStorageFailure):
        reason = i18n.text(f"storage_{error.reason}", lang)
        st.error(i18n.text("cache_storage_failure", lang, reason=reason), icon=":material/hard_drive:")
    else:
        st.error(i18n.text("cache_unusable", lang), icon=":material/database:")
    st.text(visible(str(error)))


def _stop_unusable(error: cache.CacheError, lang: str) -> NoReturn:
    show_unusable(error, lang)
    st.stop()


def _local(moment: datetime | None, view: View) -> str:
    if moment is None:
        return i18n.NO_VALUE
    return moment.replace(tzinfo=UTC).astimezone(view.zone).strftime("%Y-%m-%d %H:%M")


def last_synced_text(view: View) -> str:
    """ "Data synced 2026-11-26 14:05 (Europe/Moscow)." in the view's language, as the run found the cache."""
    updated = view.data.synced_at
    if updated is None:
        return i18n.text("never_synced", view.lang)
    return i18n.text("last_synced", view.lang, when=_local(updated, view), zone=view.zone.key)


def sync_tables(view: View) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The freshness per resource and the recent runs, in local time, with headers in the view's language."""
    with cache.connect(view.cache_path) as con:
        states = cache.sync_states(con, view.account)
        runs = cache.recent_runs(con, view.account)
    t = i18n.words(view.lang)
    states = pl.DataFrame(
        {
            t("resource"): [t(f"{r}_word") for r in states["resource"]],
            t("synced_from"): [_local(v, view) for v in states["synced_from"]],
            t("synced_through"): [_local(v, view) for v in states["synced_through"]],
            t("updated_at"): [_local(v, view) for v in states["updated_at"]],
        },
        schema={t(k): pl.String for k in ("resource", "synced_from", "synced_through", "updated_at")},
    )
    runs = pl.DataFrame(
        {
            t("started"): [_local(v, view) for v in runs["started_at"]],
            t("finished"): [_local(v, view) for v in runs["finished_at"]],
            t("outcome"): [i18n.label("sync_outcome", code, view.lang) for code in runs["outcome"]],
            t("records_word"): runs["records"].to_list(),
            t("chats_word"): runs["chats"].to_list(),
            t("message"): runs["message"].to_list(),
        },
        schema={t("started"): pl.String, t("finished"): pl.String, t("outcome"): pl.String,
                t("records_word"): pl.Int64, t("chats_word"): pl.Int64, t("message"): pl.String},
    )  # fmt: skip
    return states, runs


def account_text(connection: Connection, lang: str) -> str:
    """Which account the dashboard reads, in `lang` (never the token)."""
    if connection.demo:
        where = connection.api_url or i18n.text("embedded_demo", lang)
        return i18n.text("account_demo", lang, where=where)
    return i18n.text("account_newton", lang, user_id=connection.credentials.user_id, url=connection.api_url)


# The Sync page's column headers → their words key and, where it differs, their glossary key.
_HEADERS = {
    "resource": "resource", "synced_from": "synced_from", "synced_through": "synced_through",
    "updated_at": "updated_at", "started": "started", "finished": "finished", "outcome": "sync_outcome",
    "records_word": "records", "chats_word": "chats", "message": "message", "setting": "setting", "value": "value",
}  # fmt: skip


def help_for(frame: pl.DataFrame, lang: str) -> dict[str, Any]:
    """Column configs that give each of the Sync page's columns (headed in `lang`) its definition on hover."""
    t = i18n.words(lang)
    glossary = {t(words): term for words, term in _HEADERS.items()}
    return {
        name: st.column_config.Column(name, help=i18n.help_text(glossary[name], lang))
        for name in frame.columns
        if name in glossary
    }
