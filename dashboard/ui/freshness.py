"""Fresh data without thinking about it: sync on open when the cache is empty or old, with a progress bar.

The first open of an empty cache must show a chart within seconds, so a page run syncs only the last 30 days
(`FIRST_DAYS`) itself; older days up to the dashboard's history are filled by a thread in this server process
(`Backfill`), one per account in a store. Why a thread here and not a separate process: the server already holds the
settings and the client, the sync writes in short bursts and closes the file between them (pages keep reading),
and a thread's progress can be shown to every session from memory on each rerun. Two sessions, or a session and
cron's `newton-dashboard sync`, never fill the same file at once: the thread holds this process's `_syncing` lock
and the sync's own file lock beside the cache (`dashboard.sync`). A backfill stopped midway (the server
restarted, Newton down) leaves complete ranges behind; the next page run, or cron's sync, fetches what is missing.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any, NoReturn

import duckdb
import polars as pl
import streamlit as st
from babel.dates import format_date

from dashboard import i18n
from dashboard.connect import open_client
from dashboard.errors import (
    AuthError,
    CacheBusy,
    CacheDamaged,
    CacheError,
    CacheStorageFailure,
    NewtonError,
    SyncFailed,
    SyncRunning,
)
from dashboard.metrics import Period
from dashboard.settings import Connection, Settings
from dashboard.store import UNKNOWN_STATE, DataState, LakeLocation, Quarantined, data, logs, open_store, utc_now
from dashboard.sync import SyncOptions, SyncProgress, SyncResult, sync
from dashboard.ui.safe import literal, visible
from dashboard.ui.session import View

log = logging.getLogger(__name__)

# One sync per server process at a time: a second session opening meanwhile reads what is there.
_syncing = threading.Lock()
# After an automatic sync failed, pages do not try again on every click for a while (the Sync page still can).
RETRY_AFTER_FAILURE = timedelta(minutes=5)
# Keyed by store and account: one account's failed sync (its Newton down, its token refused) must not hold back
# another account's sync into the same store.
_failed_at: dict[tuple[Path | LakeLocation, str], datetime] = {}
# A page run syncs this much itself (a chart within seconds); older days are filled in the background.
FIRST_DAYS = timedelta(days=30)
HISTORY = SyncOptions().history  # what the dashboard keeps complete, as `newton-dashboard sync` by default
PROGRESS_EVERY = 2.0  # seconds between refreshes of the background progress on every open page


@dataclass
class Backfill:
    """The background fill of one account's older days into its store, shared by every session of this server."""

    records: int = 0  # in the cache when it started
    chats: int = 0
    progress: SyncProgress | None = None  # the latest, replaced whole by the thread (one reference: no lock)
    running: bool = True
    failed_at: datetime | None = None
    thread: threading.Thread | None = None

    def label(self, lang: str) -> str:
        """ "Calls: 13,847 · chats: 3,602 · 120 of 180 days" in `lang`."""
        progress = self.progress
        if progress is None:
            return i18n.text("backfill_starting", lang)
        return i18n.text(
            "backfill_progress", lang, records=i18n.integer(self.records + progress.records, lang),
            chats=i18n.integer(self.chats + progress.chats, lang), done=progress.days_done, total=progress.days_total,
        )  # fmt: skip

    def share(self) -> float:
        """How much of the wanted history is complete, 0 to 1."""
        progress = self.progress
        return 0.0 if progress is None else min(progress.days_done / max(progress.days_total, 1), 1.0)


_backfills: dict[tuple[Path | LakeLocation, str], Backfill] = {}  # by store and account, as `_failed_at`
_backfills_lock = threading.Lock()
_SEEN_BACKFILL = "_seen_backfill"  # this session showed a running backfill: rerun the page once it ends


def data_state(settings: Settings) -> DataState:
    """When the account's records were last synced, and the cache's data version."""
    return open_store(settings.cache_path).read(data.read_data_state, settings.connection.credentials.user_id)


def ensure_fresh(settings: Settings, lang: str) -> DataState:
    """Sync the last days first when the cache is empty or older than the configured age, and older days in the
    background while the history is incomplete; a damaged cache is quarantined first. Returns the cache's state as
    this run will read it.

    A cache that cannot be used at all (permissions) stops the page with one message instead of a traceback.
    """
    try:
        state = data_state(settings)
    except CacheDamaged:
        state = UNKNOWN_STATE
        _quarantine(settings, lang)
    except CacheBusy:
        raise
    except CacheError as error:
        _stop_unusable(error, lang)
    if _sync_due(settings, state) and _syncing.acquire(blocking=False):
        try:
            if run_sync(settings, lang, SyncOptions(recent=FIRST_DAYS, concurrency=settings.sync_concurrency)) is None:
                _failed_at[_key(settings)] = utc_now()
            else:
                _failed_at.pop(_key(settings), None)
        finally:
            _syncing.release()
        state = _state_after_sync(settings, lang)
    if history_incomplete(state):
        _start_backfill(settings)
    show_backfill(_key(settings), lang)
    return state


def _key(settings: Settings) -> tuple[Path | LakeLocation, str]:
    """The store and the account (its Newton user id) a sync of `settings` fills."""
    return settings.cache_path, settings.connection.credentials.user_id


def _sync_due(settings: Settings, state: DataState) -> bool:
    updated = state.synced_at
    if updated is not None and utc_now() - updated < timedelta(minutes=settings.max_age_minutes):
        return False
    failed = _failed_at.get(_key(settings))
    return failed is None or utc_now() - failed >= RETRY_AFTER_FAILURE


def history_incomplete(state: DataState) -> bool:
    """Whether older days of the dashboard's history are still missing from the cache."""
    return state.complete_from is not None and state.complete_from > utc_now() - HISTORY


def _start_backfill(settings: Settings) -> None:
    """Start filling older days in a thread, unless one runs for this account's store or failed a moment ago."""
    key = _key(settings)
    with _backfills_lock:
        known = _backfills.get(key)
        if known is not None and known.running:
            return
        if known is not None and known.failed_at is not None and utc_now() - known.failed_at < RETRY_AFTER_FAILURE:
            return
        if not _syncing.acquire(blocking=False):
            return  # a session of this server syncs now; a later run starts the backfill
        backfill = Backfill()
        _backfills[key] = backfill
    backfill.thread = threading.Thread(target=_fill_history, args=(settings, backfill), name="backfill", daemon=True)
    backfill.thread.start()


def _fill_history(settings: Settings, backfill: Backfill) -> None:
    """The backfill thread: the history's missing days, newest first, without a look-back (the page run that
    started it has just fetched the last days); releases `_syncing`, which its starter acquired for it."""
    account = settings.connection.credentials.user_id
    failed = True
    try:
        backfill.records, backfill.chats = open_store(settings.cache_path).read(data.counts, account)

        def note(progress: SyncProgress) -> None:
            backfill.progress = progress

        older = SyncOptions(lookback=timedelta(0), concurrency=settings.sync_concurrency)
        with open_client(settings.connection) as client:
            sync(client, open_store(settings.cache_path), account, older, on_progress=note)
        failed = False
    except (SyncFailed, SyncRunning, NewtonError, CacheError) as error:
        # Shown to nobody in particular: the pages keep saying older days are loading, and retry in a while.
        log.warning("Filling older days stopped: %s", error)
    finally:
        backfill.failed_at = utc_now() if failed else None
        backfill.running = False
        _syncing.release()


def join_backfills(timeout: float) -> bool:
    """Wait up to `timeout` seconds for this process's backfills to end (a server shutting down, tests); whether
    they all did."""
    with _backfills_lock:
        threads = [b.thread for b in _backfills.values() if b.thread is not None]
    for thread in threads:
        thread.join(timeout)
    return not any(thread.is_alive() for thread in threads)


def show_backfill(key: tuple[Path | LakeLocation, str], lang: str) -> None:
    """The background fill's labelled progress (of the store and account `key`), refreshed every few seconds, while
    it runs."""
    backfill = _backfills.get(key)
    if backfill is not None and (backfill.running or st.session_state.get(_SEEN_BACKFILL)):
        _backfill_progress(key, lang)


@st.fragment(run_every=PROGRESS_EVERY)
def _backfill_progress(key: tuple[Path | LakeLocation, str], lang: str) -> None:
    backfill = _backfills.get(key)
    if backfill is None:
        return
    if backfill.running:
        st.session_state[_SEEN_BACKFILL] = True
        st.progress(backfill.share(), text=backfill.label(lang))
    elif st.session_state.pop(_SEEN_BACKFILL, False):
        st.rerun(scope="app")  # the older days are in: every number on the page counts them now


def show_still_loading(view: View, *compared: Period | None) -> None:
    """On a page showing a period: say so when the period, or a period it is `compared` with, reaches into days
    not loaded yet. One call per page."""
    complete_from = view.data.complete_from
    if complete_from is None or not history_incomplete(view.data):
        return
    local = complete_from.replace(tzinfo=UTC).astimezone(view.zone)
    first_whole = local.date() if local.time() == time(0) else local.date() + timedelta(days=1)
    read = [view.filters.period, *compared]
    # No period: every day the cache holds, the incomplete ones too.
    earliest = min(p.first for p in read if p is not None) if view.filters.period is not None else None
    if earliest is not None and earliest >= first_whole:
        return
    day = format_date(first_whole, "d MMMM" if view.lang == "ru" else "d MMM", locale=view.lang)
    st.caption(i18n.text("older_days_loading", view.lang, day=day))


def _state_after_sync(settings: Settings, lang: str) -> DataState:
    try:
        return data_state(settings)
    except CacheBusy:
        raise
    except CacheError as error:
        _stop_unusable(error, lang)


def _quarantine(settings: Settings, lang: str) -> None:
    try:
        moved = open_store(settings.cache_path).quarantine_if_damaged()
    except CacheBusy:
        raise
    except CacheError as error:
        _stop_unusable(error, lang)
    if moved is not None:
        show_quarantined(moved, lang)
        for key in [key for key in _failed_at if key[0] == settings.cache_path]:
            _failed_at.pop(key, None)  # a fresh, empty cache: fill it now, whatever failed before, for every account


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
        _failed_at.pop(_key(settings), None)
    return result


def run_sync(settings: Settings, lang: str, options: SyncOptions | None = None) -> SyncResult | None:
    """Sync now, showing progress; a failure is shown as one message and keeps what was synced."""
    bar = st.progress(0.0, text=i18n.text("syncing", lang))

    def show(progress: SyncProgress) -> None:
        share = progress.windows_done / max(progress.windows_total, 1)
        bar.progress(min(share, 1.0), text=f"{i18n.text('syncing', lang)} {progress.records} / {progress.chats}")

    options = options or SyncOptions(concurrency=settings.sync_concurrency)
    try:
        with open_client(settings.connection) as client:
            result = sync(
                client, open_store(settings.cache_path), settings.connection.credentials.user_id, options, show
            )
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
    except CacheBusy:
        bar.empty()
        st.warning(i18n.text("cache_busy", lang))
        return None
    except CacheError as error:
        bar.empty()
        show_unusable(error, lang)
        return None
    bar.empty()
    if result.quarantined is not None:
        show_quarantined(result.quarantined, lang)
    return result


def show_quarantined(moved: Quarantined, lang: str) -> None:
    """Say that a damaged cache was renamed aside, where to, and that a full sync refills it."""
    message = i18n.text(
        "cache_set_aside", lang, reason=i18n.text(f"damage_{moved.kind}", lang), moved_to=literal(str(moved.moved_to))
    )
    if moved.wal_moved_to is not None:
        message += " " + i18n.text("cache_set_aside_wal", lang, wal=literal(str(moved.wal_moved_to)))
    if moved.not_carried:
        message += " " + i18n.text("cache_people_not_carried", lang)
    elif moved.carried:
        message += " " + i18n.text("cache_people_carried", lang)
    st.warning(message, icon=":material/healing:")


def show_unusable(error: CacheError, lang: str) -> None:
    """One message for a cache that cannot be used: what is wrong in the page's language, then the details (the
    path, DuckDB's or the system's words) as plain text, never rendered as Markdown."""
    if isinstance(error, CacheStorageFailure):
        reason = i18n.text(f"storage_{error.reason}", lang)
        st.error(i18n.text("cache_storage_failure", lang, reason=reason), icon=":material/hard_drive:")
    else:
        st.error(i18n.text("cache_unusable", lang), icon=":material/database:")
    st.text(visible(str(error)))


def _stop_unusable(error: CacheError, lang: str) -> NoReturn:
    show_unusable(error, lang)
    st.stop()


def _sync_tables(con: duckdb.DuckDBPyConnection, account: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    return data.sync_states(con, account), logs.recent_runs(con, account)


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
    states, runs = view.store.read(_sync_tables, view.account)
    t = i18n.translator(view.lang)
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
            # A finished run's message only repeats its counts, in English (sync.py writes it for the CLI's log);
            # a failed run's message is the error, which is the point of the column.
            t("message"): [
                None if code == "ok" else message
                for message, code in zip(runs["message"], runs["outcome"], strict=True)
            ],
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
    t = i18n.translator(lang)
    glossary = {t(words): term for words, term in _HEADERS.items()}
    return {
        name: st.column_config.Column(name, help=i18n.help_text(glossary[name], lang))
        for name in frame.columns
        if name in glossary
    }
