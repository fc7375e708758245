# ruff: noqa: RUF001, RUF002 - Russian text is meant to be Cyrillic
"""Words and number formats in English and Russian, for the pages (the charts carry their own labels)."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping

from babel import Locale
from babel.numbers import NumberPattern, parse_pattern

from dashboard.display import visible

LANGUAGES = ("en", "ru")
NO_VALUE = "—"

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "app_title": "Newton Dashboard",
        "language": "Language",
        "demo_banner": "Demo mode: simulated data of a made-up business. Put your Newton token in the settings "
        "to see your own account.",
        "open_note": "Open access: anyone who can reach this address can use the dashboard.",
        "filters": "Filters",
        "period": "Period",
        "from": "From",
        "to": "To",
        "widgets": "Widgets",
        "departments": "Departments",
        "channels": "Channels",
        "utm_sources": "UTM source",
        "utm_campaigns": "UTM campaign",
        "types": "Type",
        "call_statuses": "Call status",
        "all": "All",
        "preset_today": "Today",
        "preset_yesterday": "Yesterday",
        "preset_last_7_days": "Last 7 days",
        "preset_last_30_days": "Last 30 days",
        "preset_last_90_days": "Last 90 days",
        "preset_this_month": "This month",
        "preset_last_month": "Last month",
        "preset_custom": "Custom",
        "page_overview": "Overview",
        "page_sync": "Sync",
        "page_attribution": "Attribution",
        "page_calls": "Calls",
        "page_chats": "Chats",
        "page_lead_prices": "Lead prices",
        "page_widgets": "Widgets",
        "requests": "Requests",
        "answer_rate": "Answer rate",
        "speed_median": "Median callback speed",
        "within_30s": "Reached within 30 s",
        "lead_value": "Lead value",
        "vs_previous": "vs previous {days} days",
        "no_calls": "No calls in this period. Try a longer period or fewer filters.",
        "last_synced": "Data synced {when} ({zone}).",
        "never_synced": "Not synced yet.",
        "syncing": "Fetching data from Newton…",
        "sync_now": "Sync now",
        "sync_done": "Synced {records} records and {chats} chats.",
        "sync_failed": "Sync failed. {error}",
        "bad_settings": "The settings need fixing: {error}",
        "bad_link_dates": "The link's period cannot be used, so the last 30 days are shown:",
        "cache_busy": "The data is being updated by another process; try again in a moment.",
        "sync_running": "A sync is already running (from this dashboard or another process); the pages show its data "
        "when it ends.",
        "credentials_refused": "Newton refused the credentials: check the token and user id "
        "(NEWTON_TOKEN and NEWTON_USER_ID, or [newton] in .streamlit/secrets.toml) and restart the dashboard.",
        "freshness": "Freshness",
        "recent_runs": "Recent syncs",
        "settings_in_force": "Settings in force",
        "account": "Account",
        "time_zone": "Time zone",
        "look_back": "Look-back",
        "cache_file": "Cache file",
        "days": "{n} days",
        "resource": "Data",
        "synced_from": "From",
        "synced_through": "Through",
        "updated_at": "Updated",
        "started": "Started",
        "finished": "Finished",
        "outcome": "Outcome",
        "message": "Message",
        "records_word": "records",
        "chats_word": "chats",
        "cache_set_aside": "The local data file was damaged ({reason}), so it was moved aside to {moved_to}; nothing "
        "was deleted. Fetching all the data from Newton again.",
        "cache_set_aside_wal": "Its write-ahead log went to {wal}.",
        "cache_unusable": "The local data file cannot be used.",
        "damage_not_a_database": "it is not a DuckDB database",
        "damage_truncated": "it is cut short",
        "damage_incompatible_version": "it was written by a DuckDB version this program cannot read (a cache made "
        "before the move to DuckDB 1.5.5, with DuckDB 2.0.1, is one); its write history stays in the file set aside",
        "damage_corrupt_wal": "its write-ahead log is corrupt",
        "damage_corrupt": "its contents are corrupt",
        "cache_storage_failure": "The local data file cannot be written: {reason}. Nothing was half-written or "
        "sent to Newton; what was saved before is kept.",
        "storage_disk_full": "the disk is full",
        "storage_too_large": "the file would grow past the size allowed",
        "storage_read_only": "the disk is read-only",
        "storage_permission": "permission denied",
    },
    "ru": {
        "app_title": "Панель Newton",
        "language": "Язык",
        "demo_banner": "Демо-режим: смоделированные данные вымышленной компании. Укажите токен Newton в настройках, "
        "чтобы увидеть свой аккаунт.",
        "open_note": "Открытый доступ: панелью может пользоваться любой, кто откроет этот адрес.",
        "filters": "Фильтры",
        "period": "Период",
        "from": "С",
        "to": "По",
        "widgets": "Виджеты",
        "departments": "Отделы",
        "channels": "Каналы",
        "utm_sources": "UTM source",
        "utm_campaigns": "UTM campaign",
        "types": "Тип",
        "call_statuses": "Статус звонка",
        "all": "Все",
        "preset_today": "Сегодня",
        "preset_yesterday": "Вчера",
        "preset_last_7_days": "Последние 7 дней",
        "preset_last_30_days": "Последние 30 дней",
        "preset_last_90_days": "Последние 90 дней",
        "preset_this_month": "Этот месяц",
        "preset_last_month": "Прошлый месяц",
        "preset_custom": "Свой период",
        "page_overview": "Обзор",
        "page_sync": "Синхронизация",
        "page_attribution": "Источники",
        "page_calls": "Звонки",
        "page_chats": "Чаты",
        "page_lead_prices": "Цены лидов",
        "page_widgets": "Виджеты",
        "requests": "Заявки",
        "answer_rate": "Доля отвеченных",
        "speed_median": "Медианная скорость перезвона",
        "within_30s": "Дозвон за 30 с",
        "lead_value": "Ценность лидов",
        "vs_previous": "к предыдущим {days} дн.",
        "no_calls": "За этот период звонков нет. Выберите период длиннее или уберите фильтры.",
        "last_synced": "Данные обновлены {when} ({zone}).",
        "never_synced": "Данные ещё не загружались.",
        "syncing": "Загружаем данные из Newton…",
        "sync_now": "Обновить сейчас",
        "sync_done": "Загружено заявок: {records}, чатов: {chats}.",
        "sync_failed": "Не удалось обновить данные. {error}",
        "bad_settings": "Исправьте настройки: {error}",
        "bad_link_dates": "Период из ссылки использовать нельзя, поэтому показаны последние 30 дней:",
        "cache_busy": "Данные сейчас обновляет другой процесс; попробуйте через минуту.",
        "sync_running": "Данные уже обновляются; страницы покажут их, когда обновление закончится.",
        "credentials_refused": "Newton не принял учётные данные: проверьте токен и user id "
        "(NEWTON_TOKEN и NEWTON_USER_ID или [newton] в .streamlit/secrets.toml) и перезапустите дашборд.",
        "freshness": "Свежесть данных",
        "recent_runs": "Последние обновления",
        "settings_in_force": "Действующие настройки",
        "account": "Аккаунт",
        "time_zone": "Часовой пояс",
        "look_back": "Перезагрузка за",
        "cache_file": "Файл кэша",
        "days": "{n} дн.",
        "resource": "Данные",
        "synced_from": "С",
        "synced_through": "По",
        "updated_at": "Обновлено",
        "started": "Начало",
        "finished": "Конец",
        "outcome": "Результат",
        "message": "Сообщение",
        "records_word": "заявки",
        "chats_word": "чаты",
        "cache_set_aside": "Локальный файл данных был повреждён ({reason}), поэтому он перемещён в {moved_to}; ничего "
        "не удалено. Загружаем все данные из Newton заново.",
        "cache_set_aside_wal": "Его журнал предзаписи перемещён в {wal}.",
        "cache_unusable": "Локальный файл данных нельзя использовать.",
        "damage_not_a_database": "это не база данных DuckDB",
        "damage_truncated": "файл обрезан",
        "damage_incompatible_version": "он записан версией DuckDB, которую эта программа не читает (например, кэш, "
        "созданный до перехода на DuckDB 1.5.5, в DuckDB 2.0.1); история записей остаётся в отложенном файле",
        "damage_corrupt_wal": "повреждён его журнал предзаписи",
        "damage_corrupt": "его содержимое повреждено",
        "cache_storage_failure": "Локальный файл данных нельзя записать: {reason}. Ничего не записано наполовину и "
        "не отправлено в Newton; сохранённое раньше на месте.",
        "storage_disk_full": "диск заполнен",
        "storage_too_large": "файл превысил бы допустимый размер",
        "storage_read_only": "диск доступен только для чтения",
        "storage_permission": "нет прав доступа",
    },
}


def language(code: str | None) -> str:
    """A supported language for `code` ("ru", "ru-RU" → "ru"); English otherwise."""
    return "ru" if (code or "").lower().replace("_", "-").split("-")[0] == "ru" else "en"


def text(key: str, lang: str, table: Mapping[str, Mapping[str, str]] = STRINGS, **values: object) -> str:
    """The words for `key` in `lang` (English if missing there), with {placeholders} filled."""
    words = table.get(language(lang), {}).get(key) or table["en"][key]
    return words.format(**values) if values else words


def words(lang: str, table: Mapping[str, Mapping[str, str]] = STRINGS) -> Callable[..., str]:
    """`text` bound to one language and table: `t = words(lang, TEXT)`, then `t("key", n=3)`."""

    def lookup(key: str, **values: object) -> str:
        return text(key, lang, table, **values)

    return lookup


def _locale(lang: str) -> Locale:
    return _LOCALES[language(lang)]


_LOCALES = {code: Locale.parse(code) for code in LANGUAGES}


def _pattern(decimals: int, lang: str, *, percent: bool = False) -> NumberPattern:
    """The language's own number (or percent) pattern from CLDR with exactly `decimals` decimals."""
    locale = _locale(lang)
    pattern = copy.copy(parse_pattern((locale.percent_formats if percent else locale.decimal_formats)[None]))
    pattern.frac_prec = (decimals, decimals)
    return pattern


def _group(number: float, decimals: int, lang: str) -> str:
    """1,234.5 in English; 1 234,5 in Russian (a non-breaking space between thousands, a decimal comma)."""
    return str(_pattern(decimals, lang).apply(number, _locale(lang)))


def integer(value: float | None, lang: str) -> str:
    """1 234 567 or 1,234,567."""
    return NO_VALUE if value is None else _group(round(value), 0, lang)


def decimal(value: float | None, lang: str, decimals: int = 1) -> str:
    """131.1 or 131,1."""
    return NO_VALUE if value is None else _group(value, decimals, lang)


def percent(value: float | None, lang: str, decimals: int = 1) -> str:
    """A fraction as a percentage: 81.9% or 81,9 %."""
    return NO_VALUE if value is None else str(_pattern(decimals, lang, percent=True).apply(value, _locale(lang)))


def roubles(value: float | None, lang: str) -> str:
    """An amount of money in whole roubles: 12 500 ₽."""
    return NO_VALUE if value is None else f"{_group(round(value), 0, lang)}\u00a0₽"


def seconds(value: float | None, lang: str) -> str:
    """A duration: 34 s, 6 min 27 s / 34 с, 6 мин 27 с."""
    if value is None:
        return NO_VALUE
    whole = round(value)
    unit_s, unit_m = ("с", "мин") if language(lang) == "ru" else ("s", "min")
    if whole < 60:
        return f"{_group(whole, 0, lang)}\u00a0{unit_s}"
    minutes, rest = divmod(whole, 60)
    shown = _group(minutes, 0, lang)
    return f"{shown}\u00a0{unit_m} {rest}\u00a0{unit_s}" if rest else f"{shown}\u00a0{unit_m}"


def change(current: float | None, previous: float | None, lang: str, *, as_points: bool = False) -> str | None:
    """The change against the previous period, for st.metric's delta: +12.5% or +1.3 pp; None when unknown."""
    if current is None or previous is None:
        return None
    if as_points:
        points = (current - previous) * 100
        unit = "п.п." if language(lang) == "ru" else "pp"
        return f"{'+' if points >= 0 else '-'}{_group(abs(points), 1, lang)}\u00a0{unit}"
    if previous == 0:
        return None
    relative = (current - previous) / previous
    return f"{'+' if relative >= 0 else '-'}{percent(abs(relative), lang)}"


def plural(count: int, noun: str, lang: str) -> str:
    """The count with its noun in the form the language's plural rules (CLDR's, through Babel) ask for:
    1 call, 2 calls; 1 звонок, 2 звонка, 5 звонков, 21 звонок."""
    forms = PLURALS[language(lang)][noun]
    form = _locale(lang).plural_form(count)
    return forms.get(form, forms["other"]).format(n=integer(count, lang))


# Our own checks speak English (they are shared with the CLI); the pages show them in the chosen language.
# Newton's own messages are Russian and shown as Newton wrote them.
_FIELD_MESSAGES_RU: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), russian)
    for pattern, russian in (
        (r"must be \+7 followed by 10 digits, e\.g\. (\S+)", r"нужен номер: +7 и 10 цифр, например \1"),
        (r"must be a whole number of roubles, 0 or more", "нужно целое число рублей, 0 или больше"),
        (r"must be between 0 and (\d+)", r"нужно число от 0 до \1"),
        (r"must be YYYY-MM-DD or YYYY-MM-DD HH:MM:SS \(UTC\)", "нужна дата ГГГГ-ММ-ДД или ГГГГ-ММ-ДД ЧЧ:ММ:СС (UTC)"),
        (r"is not a real calendar date", "такой даты нет в календаре"),
        (r"must not be empty", "не может быть пустым"),
        (r"must be a date YYYY-MM-DD", "нужна дата ГГГГ-ММ-ДД"),
        (r"must be a date between 2000 and 2100", "нужна дата с 2000 по 2100 год"),
        (r"must not be before from", "не может быть раньше начала периода"),
        (
            r"must be a single id without spaces or invisible characters",
            "нужен один id без пробелов и невидимых символов",
        ),
        (r"must be an e-mail address such as (\S+)", r"нужен адрес электронной почты, например \1"),
        (r"must be an http:// or https:// address", "нужен адрес, начинающийся с http:// или https://"),
        (r"looks like a spreadsheet formula, not a call id", "похоже на формулу таблицы, а не на id звонка"),
        (r"has (\d+) cells, the header has (\d+)", r"ячеек в строке: \1, в заголовке: \2"),
        (r"(.*) may only view; (\S+) was not sent", r"\1: только просмотр; \2 не отправлено"),
    )
)


def field_message(message: str, lang: str) -> str:
    """A field message from our own checks in `lang`; anything else (Newton's words) exactly as it came."""
    if language(lang) != "ru":
        return message
    for pattern, russian in _FIELD_MESSAGES_RU:
        if pattern.fullmatch(message):
            return pattern.sub(russian, message)
    return message


def grid_integer_format(lang: str, unit: str = "") -> str:
    """A whole-number format for Streamlit's tables, the same in every browser: 1,234 in English; in Russian
    without grouping (1234), because the grid's separator is always a comma and "12,500" reads as 12.5 there."""
    number = "%d" if language(lang) == "ru" else "%,d"
    return f"{number} {unit}" if unit else number


# Nouns next to a count, in every plural form the language has (CLDR's names: one, few, many, other).
PLURALS: dict[str, dict[str, dict[str, str]]] = {
    "en": {
        "calls": {"one": "{n} call", "other": "{n} calls"},
        "records": {"one": "{n} record", "other": "{n} records"},
        "chats": {"one": "{n} chat", "other": "{n} chats"},
        "sessions": {"one": "{n} session", "other": "{n} sessions"},
        "changes": {"one": "{n} change", "other": "{n} changes"},
        "rows": {"one": "{n} row", "other": "{n} rows"},
        "ready_rows": {"one": "{n} ready row", "other": "{n} ready rows"},
        "waiting_rows": {"one": "{n} waiting row", "other": "{n} waiting rows"},
        "days": {"one": "{n} day", "other": "{n} days"},
        "values": {"one": "{n} value", "other": "{n} values"},
        "callbacks": {"one": "{n} callback", "other": "{n} callbacks"},
    },
    "ru": {
        "calls": {"one": "{n} звонок", "few": "{n} звонка", "many": "{n} звонков", "other": "{n} звонка"},
        "records": {"one": "{n} заявка", "few": "{n} заявки", "many": "{n} заявок", "other": "{n} заявки"},
        "chats": {"one": "{n} чат", "few": "{n} чата", "many": "{n} чатов", "other": "{n} чата"},
        "sessions": {"one": "{n} сессия", "few": "{n} сессии", "many": "{n} сессий", "other": "{n} сессии"},
        "changes": {"one": "{n} изменение", "few": "{n} изменения", "many": "{n} изменений", "other": "{n} изменения"},
        "rows": {"one": "{n} строка", "few": "{n} строки", "many": "{n} строк", "other": "{n} строки"},
        "ready_rows": {
            "one": "{n} готовую строку",
            "few": "{n} готовые строки",
            "many": "{n} готовых строк",
            "other": "{n} готовой строки",
        },
        "waiting_rows": {
            "one": "{n} ожидающую строку",
            "few": "{n} ожидающие строки",
            "many": "{n} ожидающих строк",
            "other": "{n} ожидающей строки",
        },
        "days": {"one": "{n} день", "few": "{n} дня", "many": "{n} дней", "other": "{n} дня"},
        "values": {"one": "{n} значение", "few": "{n} значения", "many": "{n} значений", "other": "{n} значения"},
        "callbacks": {
            "one": "{n} обратный звонок",
            "few": "{n} обратных звонка",
            "many": "{n} обратных звонков",
            "other": "{n} обратного звонка",
        },
    },
}

# What an empty value (the group metrics.NONE, a null cell) is called on screen; data and raw exports keep `(none)`.
NOT_SET = {"en": "(not set)", "ru": "(не задано)"}
_EMPTY_CODES = frozenset({"", "(none)"})

# Codes from Newton and from our own logs, in words. A code missing here is shown as sent (see `label`).
CODE_NAMES: dict[str, dict[str, dict[str, str]]] = {
    "en": {
        "call_status": {
            "CLIENT_ANSWER": "Client answered",
            "CLIENT_NO_ANSWER": "Client did not answer",
            "OPERATOR_NO_ANSWER": "Operator did not answer",
            "CLIENT_BUSY": "Client's line busy",
            "OPERATOR_BUSY": "Operator's line busy",
            "FAILED": "Call failed",
        },
        "type": {"callback": "Callback request", "application": "Form application"},
        "device_type": {"desktop": "Desktop", "mobile": "Mobile", "tablet": "Tablet"},
        "channel": {
            "paid_search": "Paid search",
            "organic_search": "Organic search",
            "social": "Social",
            "email": "E-mail",
            "referral": "Referral",
            "direct": "Direct",
            "other": "Other",
        },
        "write_outcome": {
            "ok": "sent",
            "refused": "refused",
            "failed": "failed",
            "unknown": "outcome unknown — check before resubmitting",
            "not_sent": "not sent",
            "sending": "sending, or cut short — check in Newton before resubmitting",
            "waiting": "waiting",
        },
        "write_action": {
            "callback.SetLeadPrice": "Lead price",
            "callback.CreateCrmLead": "New deal",
            "callback.CreateRequest": "Test callback",
            "callback.ApplicationRequest": "Test application",
        },
        "sync_outcome": {"running": "running", "ok": "done", "failed": "failed", "interrupted": "interrupted"},
    },
    "ru": {
        "call_status": {
            "CLIENT_ANSWER": "Клиент ответил",
            "CLIENT_NO_ANSWER": "Клиент не ответил",
            "OPERATOR_NO_ANSWER": "Оператор не ответил",
            "CLIENT_BUSY": "Клиент занят",
            "OPERATOR_BUSY": "Оператор занят",
            "FAILED": "Звонок не состоялся",
        },
        "type": {"callback": "Обратный звонок", "application": "Заявка с формы"},
        "device_type": {"desktop": "Компьютер", "mobile": "Смартфон", "tablet": "Планшет"},
        "channel": {
            "paid_search": "Платный поиск",
            "organic_search": "Органический поиск",
            "social": "Соцсети",
            "email": "E-mail",
            "referral": "Переходы с сайтов",
            "direct": "Прямые заходы",
            "other": "Другое",
        },
        "write_outcome": {
            "ok": "отправлено",
            "refused": "отклонено",
            "failed": "ошибка",
            "unknown": "результат неизвестен — проверьте перед повторной отправкой",
            "not_sent": "не отправлено",
            "sending": "отправляется или прервано — проверьте в Newton перед повторной отправкой",
            "waiting": "ждёт отправки",
        },
        "write_action": {
            "callback.SetLeadPrice": "Цена лида",
            "callback.CreateCrmLead": "Новая сделка",
            "callback.CreateRequest": "Тестовый звонок",
            "callback.ApplicationRequest": "Тестовая заявка",
        },
        "sync_outcome": {"running": "идёт", "ok": "готово", "failed": "ошибка", "interrupted": "прервано"},
    },
}
# The dimensions whose values are codes with names; every other dimension's values are the visitors' own text.
NAMED_DIMENSIONS = ("call_status", "type", "device_type", "channel")


def label(kind: str, code: object, lang: str) -> str:
    """A code in words ("CLIENT_NO_ANSWER" → "Client did not answer"); an empty one is "(not set)"; a code we do not
    know (Newton adds statuses) is shown as sent, made visible."""
    if code is None or str(code).strip() in _EMPTY_CODES:
        return NOT_SET[language(lang)]
    names = CODE_NAMES[language(lang)].get(kind, {})
    return names.get(str(code)) or visible(str(code))


def shown_value(value: object, lang: str) -> str:
    """Any text cell or category as shown: "(not set)" when empty, else the text made visible."""
    return label("", value, lang)
