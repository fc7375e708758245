"""The shared sidebar: language, period and filters, kept in the URL so a link reproduces the view."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import partial

import streamlit as st

from dashboard import i18n
from dashboard.access import Person
from dashboard.dimensions import Dimension, filterable
from dashboard.errors import ConfigError
from dashboard.metrics import Filters, Period
from dashboard.periods import COMPARISONS, DEFAULT_PRESET, PRESETS, comparison_kind, preset_period
from dashboard.settings import Settings
from dashboard.store import DataState, utc_now
from dashboard.timezones import local_time, parse_local_date
from dashboard.ui import accounts, links
from dashboard.ui.accounts import Choice
from dashboard.ui.safe import visible
from dashboard.ui.session import View, open_metrics


def filter_key(dimension: Dimension) -> str:
    """The session key of a dimension's multiselect (`f_` and its URL parameter)."""
    return f"f_{dimension.url_param}"


# The days a person may pick, as the command line accepts them: beyond, a local midnight may not exist in UTC.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 31)
_BAD_LINK = "_bad_link_dates"
# Pages the call filters and the period do not apply to: the sidebar does not show them there, and keeps them.
WITHOUT_FILTERS = frozenset({"widgets", "lead-prices", "costs", "sync"})


def _url_dates() -> tuple[date, date] | None:
    """The link's period; a hand-edited link with a bad or absurd date falls back to the preset, and says why."""
    if "from" not in st.query_params and "to" not in st.query_params:
        return None
    try:
        first = parse_local_date("from", st.query_params.get("from", ""))
        last = parse_local_date("to", st.query_params.get("to", ""))
        if last < first:
            raise ConfigError("to", i18n.Problem("before_from"))
    except ConfigError as error:
        st.session_state[_BAD_LINK] = {error.setting: error.problem}
        return None
    return first, last


def _start_from_url() -> None:
    """Take the language, period and filters from the link being read (a session's first run, a saved view)."""
    st.session_state["lang"] = i18n.language(st.query_params.get("lang"))
    preset = st.query_params.get("preset", DEFAULT_PRESET)
    st.session_state["preset"] = preset if preset in PRESETS else DEFAULT_PRESET
    dates = _url_dates()
    if dates:
        st.session_state["custom_period"] = dates
    elif st.session_state["preset"] == "custom":
        st.session_state["preset"] = DEFAULT_PRESET
    for dimension in filterable():
        st.session_state[filter_key(dimension)] = [v for v in st.query_params.get_all(dimension.url_param) if v][:50]
    st.session_state["compare"] = comparison_kind(st.query_params.get("compare"))


def _period(view_lang: str, today: date) -> Period:
    preset = st.sidebar.selectbox(
        i18n.text("period", view_lang),
        PRESETS,
        key="preset",
        format_func=lambda p: i18n.text(f"preset_{p}", view_lang),
    )
    if preset != "custom":
        return preset_period(preset, today)
    default = preset_period(DEFAULT_PRESET, today)
    st.session_state.setdefault("custom_period", (default.first, default.last))
    chosen = st.sidebar.date_input(
        i18n.text("period", view_lang), key="custom_period", format="YYYY-MM-DD", min_value=FIRST_DAY,
        max_value=LAST_DAY,
    )  # fmt: skip
    dates = [d for d in (chosen if isinstance(chosen, Sequence) else [chosen]) if isinstance(d, date)]
    if not dates:
        return default
    return Period(min(dates), max(dates))  # while the second date is being picked, a one-day period


def _comparison(view_lang: str) -> str:
    """What the period is compared with: the previous period, the same period last year, or nothing."""
    st.session_state.setdefault("compare", comparison_kind(None))
    label = i18n.text("compare", view_lang)
    kind = st.sidebar.selectbox(
        label, COMPARISONS, key="compare", format_func=lambda k: i18n.text(f"compare_{k}", view_lang)
    )
    return str(kind)


def _choices(lang: str, options: dict[str, list[str]]) -> dict[str, tuple[str, ...]]:
    chosen = {}
    for dimension in filterable():
        key = filter_key(dimension)
        # Values from a link stay selectable even when the cache no longer has them.
        values = list(dict.fromkeys([*st.session_state.get(key, []), *options.get(dimension.key, [])]))
        picked = st.sidebar.multiselect(
            dimension.filter_label(lang), values, key=key,
            format_func=partial(i18n.label, dimension.key, lang=lang), placeholder=i18n.text("all", lang),
        )  # fmt: skip
        chosen[dimension.key] = tuple(picked)
    return chosen


def _options(settings: Settings, view_lang: str, data: DataState) -> dict[str, list[str]]:
    """Each filter's choices: its declared ones, or the values found in the cache."""
    probe = View(
        settings.connection, settings.cache_path, settings.zone, view_lang, Filters(), DEFAULT_PRESET, data=data
    )
    with open_metrics(probe) as metrics:
        return {
            d.key: list(d.filter.choices) if d.filter and d.filter.choices is not None else metrics.values(d.key)
            for d in filterable()
        }


def render_sidebar(
    settings: Settings, person: Person, data: DataState, page: str, choice: Choice | None = None
) -> View:
    """Draw the sidebar for `page` (its url_path) and return the view it describes, of the cache as `data` says;
    the URL is updated to the language, the account `choice` where several are configured, and the period,
    filters and page's own values where they apply. `settings` are those of the chosen account."""
    # One moment per run: today, the period, which callbacks are still pending and the comparison's cut-off agree.
    now = utc_now()
    today = local_time(now, settings.zone).date()
    reading = links.reading_link()
    if reading:
        _start_from_url()
    links.start(page, reading)
    _restore_filters()
    lang = st.sidebar.radio(
        "Language / Язык", i18n.LANGUAGES, key="lang", horizontal=True,
        format_func=lambda code: {"en": "English", "ru": "Русский"}[code],
    )  # fmt: skip
    _redraw_choices_in(lang)
    if page in WITHOUT_FILTERS:
        period, compare, chosen = _kept_filters(today)
    else:
        period, compare, chosen = _drawn_filters(settings, lang, data, today)
    filters = Filters(period=period, chosen=chosen, as_of=now)
    view = View(
        settings.connection, settings.cache_path, settings.zone, lang, filters, st.session_state["preset"], person,
        data, comparison=compare, account_name=choice.name if choice and choice.in_url else "",
        together=choice.accounts if choice and choice.together else (),
    )  # fmt: skip
    _write_url(view, page)
    _keep_filters()
    return view


# Where the sidebar's choices are kept between runs, apart from their widgets: Streamlit forgets a widget's value
# when a run on another page does not draw it (or draws it on a page switch as a new widget), and the period then
# fell back to its first choice, "Today", two switches after a page without filters.
_KEPT = "_sidebar_choices"


def _filter_keys() -> tuple[str, ...]:
    return ("preset", "custom_period", "compare", *(filter_key(d) for d in filterable()))


def _keep_filters() -> None:
    st.session_state[_KEPT] = {key: st.session_state[key] for key in _filter_keys() if key in st.session_state}


def _restore_filters() -> None:
    for key, value in st.session_state.get(_KEPT, {}).items():
        if key not in st.session_state:
            st.session_state[key] = value


Chosen = tuple[Period, str, dict[str, tuple[str, ...]]]  # the period, the comparison, each filter's values
_DRAWN_IN = "_choices_drawn_in"


# The pages' own choices whose words change with the language (the sort order, a dimension, a mark, a file format).
_PAGE_CHOICES = (accounts.KEY, "calls_sort", "attribution_by", "attribution_then", "lost_mark_kind", "costs_format")


def _redraw_choices_in(lang: str) -> None:
    """After a switch of language, give the period, the comparison, each filter and the pages' worded choices
    their own values again.

    Streamlit's browser side keeps showing a kept choice in the words it was first drawn in ("Last 30 days" under
    Russian labels; streamlit/streamlit#13788); a value set from the script is drawn anew, in the new language."""
    if st.session_state.get(_DRAWN_IN, lang) != lang:
        for key in (*_filter_keys(), *_PAGE_CHOICES):
            if key in st.session_state:
                st.session_state[key] = st.session_state[key]
    st.session_state[_DRAWN_IN] = lang


def _drawn_filters(settings: Settings, lang: str, data: DataState, today: date) -> Chosen:
    st.sidebar.header(i18n.text("filters", lang))
    bad_link = st.session_state.pop(_BAD_LINK, None)  # said where the period is shown (kept until then)
    if bad_link:  # once, on the run that read the link; the link is then rewritten to the period shown
        # The link's words are shown as plain text, never as Markdown.
        st.sidebar.warning(i18n.text("bad_link_dates", lang), icon=":material/event_busy:")
        st.sidebar.text(visible(i18n.fields_message(bad_link, lang)))
    period = _period(lang, today)
    compare = _comparison(lang)
    return period, compare, _choices(lang, _options(settings, lang, data))


def _kept_filters(today: date) -> Chosen:
    """On a page that does not draw the filters: their values, kept for the pages that do."""
    chosen = {d.key: tuple(st.session_state.get(filter_key(d), ())) for d in filterable()}
    return _kept_period(today), comparison_kind(st.session_state.get("compare")), chosen


def _kept_period(today: date) -> Period:
    """The period the sidebar would show, without drawing it."""
    preset = st.session_state.get("preset", DEFAULT_PRESET)
    dates = st.session_state.get("custom_period")
    if preset == "custom" and isinstance(dates, Sequence) and dates and all(isinstance(d, date) for d in dates):
        return Period(min(dates), max(dates))
    return preset_period(preset if preset in PRESETS and preset != "custom" else DEFAULT_PRESET, today)


def _write_url(view: View, page: str) -> None:
    params: dict[str, str | list[str]] = {"lang": view.lang}
    if view.account_name:
        params[accounts.KEY] = view.account_name
    if page in WITHOUT_FILTERS:  # a link to such a page carries no filters that do nothing there
        st.query_params.from_dict({**params, **links.page_params(page)})
        return
    params["preset"] = view.preset
    if view.preset == "custom" and view.filters.period:
        params |= {"from": view.filters.period.first.isoformat(), "to": view.filters.period.last.isoformat()}
    for dimension in filterable():
        if dimension.key in view.filters.chosen:
            params[dimension.url_param] = list(view.filters.chosen[dimension.key])
    if view.comparison != comparison_kind(None):
        params["compare"] = view.comparison
    st.query_params.from_dict({**params, **links.page_params(page)})
