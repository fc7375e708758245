# ruff: noqa: RUF001, RUF002 - Russian text is meant to be Cyrillic
"""Words and number formats in English and Russian, for the pages (the charts carry their own labels)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

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
        "compare": "Compare with",
        "compare_previous": "Previous period",
        "compare_year": "Same period last year",
        "compare_none": "No comparison",
        "too_few_to_compare": "Too few to compare",
        "backfill_starting": "Older days are loading in the background…",
        "backfill_progress": "Older days are loading in the background. Calls: {records} · chats: {chats} · "
        "{done} of {total} days",
        "older_days_loading": "Older days are still loading: data before {day} is incomplete.",
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
        "compare": "Сравнить с",
        "compare_previous": "Предыдущим периодом",
        "compare_year": "Тем же периодом год назад",
        "compare_none": "Без сравнения",
        "too_few_to_compare": "Слишком мало для сравнения",
        "backfill_starting": "Более ранние дни загружаются в фоне…",
        "backfill_progress": "Более ранние дни загружаются в фоне. Звонки: {records} · чаты: {chats} · "
        "дни: {done} из {total}",
        "older_days_loading": "Более ранние дни ещё загружаются: данные до {day} неполные.",
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


def _group(number: float, decimals: int, lang: str) -> str:
    formatted = f"{number:,.{decimals}f}"
    if language(lang) == "ru":
        # Russian: a (non-breaking) space between thousands and a decimal comma.
        formatted = formatted.replace(",", "\u00a0").replace(".", ",")
    return formatted


def integer(value: float | None, lang: str) -> str:
    """1 234 567 or 1,234,567."""
    return NO_VALUE if value is None else _group(round(value), 0, lang)


def percent(value: float | None, lang: str, decimals: int = 1) -> str:
    """A fraction as a percentage: 81.9% or 81,9 %."""
    if value is None:
        return NO_VALUE
    number = _group(value * 100, decimals, lang)
    return f"{number}\u00a0%" if language(lang) == "ru" else f"{number}%"


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
        return f"{whole}\u00a0{unit_s}"
    minutes, rest = divmod(whole, 60)
    return f"{minutes}\u00a0{unit_m} {rest}\u00a0{unit_s}" if rest else f"{minutes}\u00a0{unit_m}"


NO_CHANGE = "±0"  # how a change that shows as zero starts: st.metric must draw it neutral, not red or green


def change(
    current: float | None, previous: float | None, lang: str, *, as_points: bool = False, comparable: bool = True
) -> str | None:
    """The change against the compared period, for st.metric's delta: +12.5% or +1.3 pp; ±0 when it shows as
    zero; "too few to compare" when it rests on too few records (`comparable`, see Metrics.compare); None when
    unknown."""
    if current is None or previous is None:
        return None
    if not comparable:
        return text("too_few_to_compare", lang)
    if as_points:
        change = (current - previous) * 100
        unit = "п.п." if language(lang) == "ru" else "pp"
        shown = f"{_group(abs(change), 1, lang)}\u00a0{unit}"
    elif previous == 0:
        return None
    else:
        change = (current - previous) / previous
        shown = percent(abs(change), lang)
    if not any(character in "123456789" for character in shown.split("\u00a0")[0]):
        return f"{NO_CHANGE}{shown.lstrip('0,.')}"  # -0.04 % shows as 0: "±0 %", with no direction to colour
    return f"{'+' if change >= 0 else '-'}{shown}"


def is_neutral(delta: str | None) -> bool:
    """Whether a `change` text has no direction (±0, too few to compare): st.metric must not colour it."""
    return delta is not None and (
        delta.startswith(NO_CHANGE) or delta in {text("too_few_to_compare", lang) for lang in LANGUAGES}
    )


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
