# ruff: noqa: RUF001, RUF002 - Russian text is meant to be Cyrillic
"""What a page's numbers are compared with, in words: "vs yesterday until 14:05" / «по сравнению со вчера до 14:05»."""

from __future__ import annotations

from datetime import timedelta

from babel.dates import format_date, format_interval

from dashboard import i18n
from dashboard.periods import Comparison
from dashboard.timezones import local_time
from dashboard.ui.session import View

TEXT = {
    "en": {
        "vs_yesterday": "vs yesterday",
        "vs_days": "vs {days}",
        "until": "{compared} until {time}",
    },
    "ru": {
        "vs_yesterday": "по сравнению со вчера",
        "vs_days": "по сравнению с {days}",
        "until": "{compared} до {time}",
    },
}


def compared_with(view: View, comparison: Comparison) -> str | None:
    """The compared period in the view's language, with the time of day both sides are counted up to when the
    period includes today; None when nothing is compared."""
    t = i18n.translator(view.lang, TEXT)
    lang = i18n.language(view.lang)
    other = comparison.other
    if other is None:
        return None
    today = local_time(view.filters.as_of, view.zone).date() if view.filters.as_of else view.today()
    if other.first == other.last == today - timedelta(days=1):
        said = t("vs_yesterday")
    elif other.first == other.last:
        said = t("vs_days", days=format_date(other.first, "medium", locale=lang))
    else:
        said = t("vs_days", days=format_interval(other.first, other.last, "yMMMd", locale=lang))
    if comparison.until is None:
        return said
    return t("until", compared=said, time=f"{local_time(comparison.until, view.zone):%H:%M}")
