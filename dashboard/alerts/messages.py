# ruff: noqa: RUF001 - Russian text is meant to be Cyrillic
"""The words of alerts and digests, in English and Russian, as plain text with a link to the view.

Visitors' values (a phone as sent, UTM tags, widget names) are hostile: every one goes through `plain` (one line,
nothing hidden, no clickable address) and nothing is ever sent as Markdown or HTML. The link opens the page the
alert is about with its period, under the URL parameters the pages read (dashboard/ui/sidebar.py and
dashboard/ui/links.py; that module imports Streamlit, this one must not).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlencode

from dashboard import i18n
from dashboard.display import visible
from dashboard.periods import Period

PLAIN_LONGEST = 80
LOST_LEADS_PAGE = "lost-leads"
OVERVIEW = ""
# A dot inside a word, or a scheme's "://", would let Telegram or a mail program turn a visitor's value into a link.
_LINKABLE = re.compile(r"(?<=\w)\.(?=\w)|://")

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "open": "Open: {url}",
        "lost_subject": "Lost leads to call back: {n}",
        "lost_intro": "These callers were missed and nobody has reached them since:",
        "lost_line": "{phone}: {missed} missed, the last at {when}; {channel}, source {source}, widget {widget}",
        "more": "…and {n} more",
        "rate_started_subject": "Answer rate {rate} over the last {hours} h",
        "rate_started": "Of {decided} callbacks of the last {hours} hours (up to {when}), {answered} were answered: "
        "{rate}, below the alert threshold of {threshold}.",
        "rate_cleared_subject": "Answer rate back to {rate}",
        "rate_cleared": "Of {decided} callbacks of the last {hours} hours (up to {when}), {answered} were answered: "
        "{rate}, back at or above {threshold}.",
        "silent_started_subject": "No requests for {hours} working hours",
        "silent_started": "The last request arrived at {when}. Check that the widgets on the site work.",
        "silent_never": "No request has arrived yet. Check that the widgets on the site work.",
        "silent_cleared_subject": "Requests are coming in again",
        "silent_cleared": "A request arrived at {when}, after the silence reported at {since}.",
        "digest_daily": "Daily digest for {period}",
        "digest_weekly": "Weekly digest for {period}",
        "against": "Against {period}:",
        "line": "{name}: {value} (before: {before}, {change})",
        "requests": "Requests",
        "answered": "Answered",
        "answer_rate": "Answer rate",
        "lost_leads": "Lost leads",
        "lead_value": "Lead value",
        "top_sources": "Top channels:",
        "source_line": "  {name}: {value} (before: {before})",
        "no_requests": "  none",
    },
    "ru": {
        "open": "Открыть: {url}",
        "lost_subject": "Потерянные клиенты, перезвоните: {n}",
        "lost_intro": "Этим клиентам не ответили, и с тех пор до них никто не дозвонился:",
        "lost_line": "{phone}: пропущено {missed}, последний в {when}; {channel}, источник {source}, виджет {widget}",
        "more": "…и ещё {n}",
        "rate_started_subject": "Доля отвеченных {rate} за последние {hours} ч",
        "rate_started": "Из {decided} обратных звонков за последние {hours} ч (до {when}) отвечено {answered}: "
        "{rate}, ниже порога {threshold}.",
        "rate_cleared_subject": "Доля отвеченных снова {rate}",
        "rate_cleared": "Из {decided} обратных звонков за последние {hours} ч (до {when}) отвечено {answered}: "
        "{rate}, снова не ниже {threshold}.",
        "silent_started_subject": "Нет заявок уже {hours} рабочих ч",
        "silent_started": "Последняя заявка пришла {when}. Проверьте, работают ли виджеты на сайте.",
        "silent_never": "Ни одной заявки ещё не пришло. Проверьте, работают ли виджеты на сайте.",
        "silent_cleared_subject": "Заявки снова приходят",
        "silent_cleared": "Заявка пришла {when}, после затишья, о котором сообщили {since}.",
        "digest_daily": "Сводка за день: {period}",
        "digest_weekly": "Сводка за неделю: {period}",
        "against": "В сравнении с {period}:",
        "line": "{name}: {value} (было: {before}, {change})",
        "requests": "Заявки",
        "answered": "Отвечено",
        "answer_rate": "Доля отвеченных",
        "lost_leads": "Потерянные клиенты",
        "lead_value": "Ценность лидов",
        "top_sources": "Главные каналы:",
        "source_line": "  {name}: {value} (было: {before})",
        "no_requests": "  нет",
    },
}


def plain(value: object, lang: str) -> str:
    """A visitor's value as a message may carry it: one line, nothing hidden, no link, at most 80 characters;
    '(not set)' when empty."""
    text = i18n.shown_value(value, lang)
    text = " ".join(visible(text).split())
    if len(text) > PLAIN_LONGEST:
        text = text[: PLAIN_LONGEST - 1] + "…"
    return _LINKABLE.sub(lambda found: "[.]" if found.group() == "." else "[://]", text)


def link(public_url: str | None, page: str, period: Period, lang: str, extra: Mapping[str, str] | None = None) -> str:
    """The address of `page` (its url_path; "" for the Overview) showing `period`, or "" without a public URL."""
    if not public_url:
        return ""
    query = {"lang": i18n.language(lang), "preset": "custom", "from": period.first.isoformat(),
             "to": period.last.isoformat(), **(extra or {})}  # fmt: skip
    return f"{public_url}/{page}?{urlencode(query)}"


def with_link(text: str, url: str, lang: str) -> str:
    """The text, and the link on a line of its own when there is one."""
    return f"{text}\n\n{i18n.text('open', lang, TEXT, url=url)}" if url else text


def period_words(period: Period) -> str:
    """A period as people read it in a subject: `2026-12-06`, or the first and last days joined by a dash."""
    first, last = period.first.isoformat(), period.last.isoformat()
    return first if first == last else f"{first} – {last}"
