# ruff: noqa: RUF001, RUF002 - Russian text is meant to be Cyrillic
"""Words and number formats in English and Russian: the pages' words, codes in words, plural forms, the glossary
shown on hover and our own input checks' messages. Numbers and plurals follow CLDR's rules (Babel); the charts carry
their own labels but take codes' names and number formats from here."""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_UP, localcontext

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
        "pending_headline": "Pending",
        "no_calls": "No calls in this period. Try a longer period or fewer filters.",
        "last_synced": "Data synced {when} ({zone}).",
        "never_synced": "Not synced yet.",
        "syncing": "Fetching data from Newton…",
        "sync_now": "Sync now",
        "sync_done": "Synced {records} and {chats}.",
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
        "look_back": "Days each sync fetches again",
        "cache_file": "Cache file",
        "days": "the last {n}",
        "resource": "Data",
        "synced_from": "From",
        "synced_through": "Through",
        "updated_at": "Updated",
        "started": "Started",
        "finished": "Finished",
        "outcome": "Outcome",
        "message": "Message",
        "records_word": "Records",
        "chats_word": "Chats",
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
        "setting": "Setting",
        "value": "Value",
        "account_demo": "Demo mode: no Newton token configured; using {where}",
        "embedded_demo": "the embedded demo account",
        "account_newton": "Newton account {user_id} at {url}",
        "cache_people_carried": "Your change log and saved views were copied into the fresh file.",
        "cache_people_not_carried": "Your change log and saved views could not be read out of it; they stay in the "
        "file moved aside.",
        "page_lost_leads": "Lost leads",
        "callers_headline": "Callers",
        "new_callers_headline": "New callers",
        "repeat_callers_headline": "Repeat callers",
        "page_costs": "Costs",
        "spend_headline": "Ad spend",
        "cpl_headline": "Cost per request (CPL)",
        "romi_headline": "ROMI",
        "money_blocked": "Cost, CPL, ROMI and ad spend share (ДРР) are left empty: ad costs are known only by "
        "channel, UTM source, UTM medium and UTM campaign, not by {names}, and all of the spend set against part of "
        "the calls would mislead.",
        "money_no_costs": "No ad costs are stored for this account, so there is no cost, CPL or ROMI yet.",
        "money_to_costs": "Import ad costs",
        "cost_file_format": "The file format must be one of: {formats}.",
        "cost_file_too_large": "The file is larger than {limit_mb} MB. Split it into smaller files.",
        "cost_file_too_many_rows": "The file has {rows} rows; at most {limit} can be imported at once. Split it.",
        "cost_file_empty": "The file is empty.",
        "cost_file_no_rows": "The file has a header but no rows of costs.",
        "cost_file_encoding": "The file is neither UTF-8, UTF-16 nor Windows-1251 text. Save it as CSV (UTF-8) "
        "or XLSX.",
        "cost_file_unreadable": "The file is not a readable CSV or XLSX (check the quotes). Save it again as "
        "CSV or XLSX.",
        "cost_file_xls": "This is an old Excel file (.xls). Save it as .xlsx or CSV and upload that.",
        "cost_file_columns": "No header with the columns of a cost file in the first rows. Expected: {expected}. "
        "Row {row} has: {found}",
        "cost_file_unknown_column": "Row {row}, column {column} “{name}”: not a column of a cost file. The columns "
        "are {expected}.",
        "cost_file_duplicate_column": "Row {row}, column {column} “{name}”: the same column appears twice.",
        "cost_file_source_needed": "The file ({format}) does not say which utm_source its costs are: choose the "
        "source (--source), e.g. yandex.",
        "cost_file_source_twice": "The file has a utm_source column: leave the source (--source) empty, or remove "
        "the column.",
        "cost_file_long_option": "The {option} must be at most {limit} characters.",
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
        "answer_rate": "Доля принятых",
        "speed_median": "Медиана перезвона",
        "within_30s": "Перезвонили за 30 с",
        "lead_value": "Сумма лидов",
        "pending_headline": "Ждут результата",
        "no_calls": "За этот период звонков нет. Выберите период длиннее или уберите фильтры.",
        "last_synced": "Данные обновлены {when} ({zone}).",
        "never_synced": "Данные ещё не загружались.",
        "syncing": "Загружаем данные из Newton…",
        "sync_now": "Обновить сейчас",
        "sync_done": "Загружено: {records}, {chats}.",
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
        "look_back": "Дни, которые каждая синхронизация загружает заново",
        "cache_file": "Файл кэша",
        "days": "последние {n}",
        "resource": "Данные",
        "synced_from": "С",
        "synced_through": "По",
        "updated_at": "Обновлено",
        "started": "Начало",
        "finished": "Конец",
        "outcome": "Результат",
        "message": "Сообщение",
        "records_word": "Заявки",
        "chats_word": "Чаты",
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
        "setting": "Настройка",
        "value": "Значение",
        "account_demo": "Демо-режим: токен Newton не задан; используется {where}",
        "embedded_demo": "встроенный демо-аккаунт",
        "account_newton": "Аккаунт Newton {user_id}, {url}",
        "cache_people_carried": "Журнал изменений и сохранённые отчёты перенесены в новый файл.",
        "cache_people_not_carried": "Журнал изменений и сохранённые отчёты из него прочитать не удалось; они остались "
        "в перемещённом файле.",
        "page_lost_leads": "Потерянные клиенты",
        "callers_headline": "Клиенты",
        "new_callers_headline": "Новые клиенты",
        "repeat_callers_headline": "Повторные клиенты",
        "page_costs": "Расходы",
        "spend_headline": "Расход на рекламу",
        "cpl_headline": "Стоимость заявки (CPL)",
        "romi_headline": "ROMI",
        "money_blocked": "Расход, CPL, ROMI и ДРР не показаны: расходы известны только по каналу, UTM source, "
        "UTM medium и UTM campaign, их нельзя разделить по полям {names}, а весь расход против части звонков "
        "ввёл бы в заблуждение.",
        "money_no_costs": "Для этого аккаунта не загружены расходы на рекламу, поэтому расхода, CPL и ROMI пока нет.",
        "money_to_costs": "Загрузить расходы",
        "cost_file_format": "Формат файла должен быть одним из: {formats}.",
        "cost_file_too_large": "Файл больше {limit_mb} МБ. Разделите его на несколько файлов.",
        "cost_file_too_many_rows": "В файле строк: {rows}; за раз можно загрузить не больше {limit}. Разделите его.",
        "cost_file_empty": "Файл пуст.",
        "cost_file_no_rows": "В файле есть заголовок, но нет строк с расходами.",
        "cost_file_encoding": "Файл не в кодировке UTF-8, UTF-16 или Windows-1251. Сохраните его как CSV (UTF-8) "
        "или XLSX.",
        "cost_file_unreadable": "Файл не читается как CSV или XLSX (проверьте кавычки). Сохраните его заново как "
        "CSV или XLSX.",
        "cost_file_xls": "Это старый файл Excel (.xls). Сохраните его как .xlsx или CSV и загрузите заново.",
        "cost_file_columns": "В первых строках нет заголовка со столбцами файла расходов. Нужны: {expected}. "
        "В строке {row}: {found}",
        "cost_file_unknown_column": "Строка {row}, столбец {column} «{name}»: такого столбца в файле расходов нет. "
        "Столбцы: {expected}.",
        "cost_file_duplicate_column": "Строка {row}, столбец {column} «{name}»: этот столбец встречается дважды.",
        "cost_file_source_needed": "В файле ({format}) не сказано, к какому utm_source относятся расходы: укажите "
        "источник (--source), например yandex.",
        "cost_file_source_twice": "В файле есть столбец utm_source: оставьте источник (--source) пустым или "
        "уберите столбец.",
        "cost_file_long_option": "{option}: не длиннее {limit} символов.",
    },
}


def language(code: str | None) -> str:
    """A supported language for `code` ("ru", "ru-RU" → "ru"); English otherwise."""
    return "ru" if (code or "").lower().replace("_", "-").split("-")[0] == "ru" else "en"


def text(key: str, lang: str, table: Mapping[str, Mapping[str, str]] = STRINGS, **values: object) -> str:
    """The words for `key` in `lang` (English if missing there), with {placeholders} filled."""
    words = table.get(language(lang), {}).get(key) or table["en"][key]
    return words.format(**values) if values else words


# `text` bound to one language and table, always named `t`: `t = translator(lang, TEXT)`, then `t("key", n=3)`.
Translator = Callable[..., str]


def translator(lang: str, table: Mapping[str, Mapping[str, str]] = STRINGS) -> Translator:
    """`text` bound to one language and table: `t = translator(lang, TEXT)`, then `t("key", n=3)`."""

    def lookup(key: str, **values: object) -> str:
        return text(key, lang, table, **values)

    return lookup


def _locale(lang: str) -> Locale:
    return _LOCALES[language(lang)]


_LOCALES = {code: Locale.parse(code) for code in LANGUAGES}


@functools.lru_cache(maxsize=64)
def _pattern(decimals: int, lang: str, *, percent: bool = False) -> NumberPattern:
    """The language's own number (or percent) pattern from CLDR with exactly `decimals` decimals (parsed once: a
    table of 2,000 calls formats tens of thousands of cells; applying a pattern leaves it unchanged)."""
    locale = _locale(lang)
    pattern = copy.copy(parse_pattern((locale.percent_formats if percent else locale.decimal_formats)[None]))
    pattern.frac_prec = (decimals, decimals)
    return pattern


def _apply(pattern: NumberPattern, number: float, lang: str) -> str:
    # Halves round away from zero, as spreadsheets round them (81.35 % shows as 81.4 %, 81.25 % as 81.3 %): Babel
    # rounds by the decimal context, whose default is to the even digit.
    with localcontext(rounding=ROUND_HALF_UP):
        return str(pattern.apply(number, _locale(lang)))


@functools.lru_cache(maxsize=8192, typed=True)
def _group(number: float, decimals: int, lang: str) -> str:
    """1,234.5 in English; 1 234,5 in Russian (a non-breaking space between thousands, a decimal comma). Kept: a
    table repeats the same seconds and prices many times."""
    return _apply(_pattern(decimals, lang), number, lang)


def integer(value: float | None, lang: str) -> str:
    """1 234 567 or 1,234,567."""
    return NO_VALUE if value is None else _group(round(value), 0, lang)


def decimal(value: float | None, lang: str, decimals: int = 1) -> str:
    """131.1 or 131,1."""
    return NO_VALUE if value is None else _group(value, decimals, lang)


def percent(value: float | None, lang: str, decimals: int = 1) -> str:
    """A fraction as a percentage: 81.9% or 81,9 %."""
    return NO_VALUE if value is None else _apply(_pattern(decimals, lang, percent=True), value, lang)


def signed_percent(value: float | None, lang: str) -> str:
    """A relative change: +12.5%, −3.0%, ±0.0%."""
    return NO_VALUE if value is None else _signed(value, percent(abs(value), lang))


def points(value: float | None, lang: str) -> str:
    """A change of a rate already in percentage points: +1.3 pp / +1,3 п.п."""
    unit = "п.п." if language(lang) == "ru" else "pp"
    return NO_VALUE if value is None else _signed(value, f"{_group(abs(value), 1, lang)}\u00a0{unit}")


def _signed(value: float, shown: str) -> str:
    # The sign as the number is shown: a change that rounds to zero has no direction.
    if not any(character in "123456789" for character in shown):
        return f"±{shown}"
    return f"{'+' if value > 0 else '−'}{shown}"


def roubles(value: float | None, lang: str) -> str:
    """An amount of money in whole roubles, halves up as spreadsheets round them (a CPL of 1 234.50 ₽ shows as
    1 235 ₽): 12 500 ₽."""
    return NO_VALUE if value is None else f"{_group(value, 0, lang)}\u00a0₽"


def kopecks(value: float | None, lang: str) -> str:
    """An amount of money to the kopeck, as an invoice writes it: 12 500.50 ₽ / 12 500,50 ₽."""
    return NO_VALUE if value is None else f"{_group(value, 2, lang)}\u00a0₽"


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


def duration(value: float | None, lang: str) -> str:
    """A duration that may last days (how long until a lost caller was reached): as `seconds` under an hour,
    then 3 h 5 min / 3 ч 5 мин, then 7 d 15 h / 7 дн 15 ч."""
    if value is None or value < 3600:
        return seconds(value, lang)
    unit_h, unit_d, unit_m = ("ч", "дн", "мин") if language(lang) == "ru" else ("h", "d", "min")
    minutes = round(value) // 60
    hours, rest = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}\u00a0{unit_h} {rest}\u00a0{unit_m}" if rest else f"{hours}\u00a0{unit_h}"
    days, hours = divmod(hours, 24)
    shown = _group(days, 0, lang)
    return f"{shown}\u00a0{unit_d} {hours}\u00a0{unit_h}" if hours else f"{shown}\u00a0{unit_d}"


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


def plural(count: int, noun: str, lang: str) -> str:
    """The count with its noun in the form the language's plural rules (CLDR's, through Babel) ask for:
    1 call, 2 calls; 1 звонок, 2 звонка, 5 звонков, 21 звонок."""
    forms = PLURALS[language(lang)][noun]
    form = _locale(lang).plural_form(count)
    return forms.get(form, forms["other"]).format(n=integer(count, lang))


# Our own checks (shared with the CLI) raise a `Problem`: a key and its values, worded here in either language.
# Newton's own messages are Russian and shown as Newton wrote them.
FIELD_MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "phone_format": "must be +7 followed by 10 digits, e.g. {example}",
        "whole_roubles": "must be a whole number of roubles, 0 or more",
        "price_range": "must be between 0 and {limit}",
        "utc_date_or_time": "must be YYYY-MM-DD or YYYY-MM-DD HH:MM:SS (UTC)",
        "not_a_calendar_date": "is not a real calendar date",
        "empty": "must not be empty",
        "date_format": "must be a date YYYY-MM-DD",
        "date_range": "must be a date between {first} and {last}",
        "before_from": "must not be before from",
        "single_id": "must be a single id without spaces or invisible characters",
        "email_format": "must be an e-mail address such as {example}",
        "http_url": "must be an http:// or https:// address",
        "formula_not_id": "looks like a spreadsheet formula, not a call id",
        "cell_count": "has {cells} cells, the header has {header}",
        "view_only": "{who} may only view; {action} was not sent",
        "different_prices": "has different prices on rows {rows}: keep one row",
        "repeats_row": "repeats row {row}: sent once, from that row",
        "not_toml": "is not valid TOML ({where})",
        "not_a_table": "must be a table",
        "token_missing": "is not set: put it in NEWTON_TOKEN or [newton] token in secrets.toml",
        "token_format": "must be the 32 hexadecimal characters shown in Newton's settings",
        "user_id_format": "must be the decimal user id shown in Newton's settings",
        "unknown_zone": "unknown time zone {name}; use a name such as Europe/Moscow",
        "whole_minutes": "must be a whole number of minutes from 0 to {most}",
        "true_false": "must be true or false",
        "bot_token_format": "must be the bot token @BotFather gave, such as 123456789:AAE…",
        "chat_id_format": "must be a chat's numeric id (a group's starts with -) or a channel's @username",
        "host_name": "must be a host name or an IP address",
        "port_number": "must be a port number from 1 to 65535",
        "ascii_line": "must be one line of Latin letters, digits and punctuation (ASCII)",
        "one_of": "must be one of {choices}",
        "no_file": "no such file: {path}",
        "migrate_from_file": "must be the DuckDB file to copy from (migrate copies a file into a lake)",
        "migrate_to_lake": "must be a lake: ducklake:postgres:<libpq connection string>",
        "lake_catalog_missing": "needs a libpq connection string after {prefix} (host=… port=… dbname=… user=…)",
        "lake_password_in_string": "must not hold the PostgreSQL password ({value}): set PGPASSWORD, ~/.pgpass "
        "or [lake] password in secrets.toml",
        "lake_data_path_missing": "must be set with a ducklake: cache: a directory or s3://bucket/prefix for the "
        "lake's files",
        "set_with": "must be set too when {other} is set",
        "password_in_clear": "would be sent unencrypted with NEWTON_SMTP_SECURITY=none: use starttls or tls",
        "no_alert_channel": "has nowhere to send: set a Telegram bot and chat or a mail server and recipients "
        "(README, Alerts)",
        "weekdays": "must be days such as Mon-Fri or Mon,Wed,Fri",
        "clock_time": "must be a time HH:MM, from 00:00 to 23:59",
        "hours_range": "must be hours HH:MM-HH:MM, the first before the second, e.g. 09:00-18:00",
        "whole_or_off": "must be a whole number from {least} to {most}, or off",
        "whole_hours": "must be a whole number of hours from 1 to {most}",
        "digest_kind": "must be daily, weekly or off",
        "cost_date_format": "must be a date YYYY-MM-DD or DD.MM.YYYY",
        "cost_date_future": "is in the future (today is {today}): costs are what was spent",
        "cost_missing": "must hold the cost in roubles",
        "cost_negative": "must not be negative: a cost is 0 roubles or more",
        "cost_number": "must be a number of roubles, such as 1 234,50 or 1234.50",
        "cost_ambiguous": "{value} could be a thousand or a rouble and change: write 1234 or 1,23",
        "cost_range": "must be at most {limit} roubles a day",
        "cost_text_long": "must be at most {limit} characters",
        "cost_repeats_row": "repeats the day, source, medium and campaign of row {row}: keep one row (not stored)",
        "whole_number": "must be a whole number from {least} to {most}",
        "account_name": "must be an account name of lowercase Latin letters, digits, - and _ (at most 40, "
        "starting with a letter or digit), such as client-a",
        "account_name_all": "cannot be called {name}: the dashboard's link to every account together uses it",
        "account_key": "is not an account setting; the settings are {known}",
        "account_key_close": "is not an account setting (did you mean {close}?); the settings are {known}",
        "account_needs": "is not set: every [accounts.<name>] needs a token and a user_id",
        "account_title": "must be one line of at most {most} characters",
        "account_same_user": "is also the user id of account {other}: each Newton account is listed once",
        "account_unknown": "is not an account of this dashboard; the accounts are {known}",
        "account_default_twice": "[newton] holds a token, so it is the account {name}: rename [accounts.{name}]",
    },
    "ru": {
        "phone_format": "нужен номер: +7 и 10 цифр, например {example}",
        "whole_roubles": "нужно целое число рублей, 0 или больше",
        "price_range": "нужно число от 0 до {limit}",
        "utc_date_or_time": "нужна дата ГГГГ-ММ-ДД или ГГГГ-ММ-ДД ЧЧ:ММ:СС (UTC)",
        "not_a_calendar_date": "такой даты нет в календаре",
        "empty": "не может быть пустым",
        "date_format": "нужна дата ГГГГ-ММ-ДД",
        "date_range": "нужна дата с {first} по {last} год",
        "before_from": "не может быть раньше начала периода",
        "single_id": "нужен один id без пробелов и невидимых символов",
        "email_format": "нужен адрес электронной почты, например {example}",
        "http_url": "нужен адрес, начинающийся с http:// или https://",
        "formula_not_id": "похоже на формулу таблицы, а не на id звонка",
        "cell_count": "ячеек в строке: {cells}, в заголовке: {header}",
        "view_only": "{who}: только просмотр; {action} не отправлено",
        "different_prices": "разные цены в строках {rows}: оставьте одну строку",
        "repeats_row": "повторяет строку {row}: отправится один раз, из той строки",
        "not_toml": "не читается как TOML ({where})",
        "not_a_table": "должно быть таблицей",
        "token_missing": "не задан: укажите его в NEWTON_TOKEN или в [newton] token файла secrets.toml",
        "token_format": "нужны 32 шестнадцатеричных символа, как в настройках Newton",
        "user_id_format": "нужен числовой user id, как в настройках Newton",
        "unknown_zone": "неизвестный часовой пояс {name}; укажите, например, Europe/Moscow",
        "whole_minutes": "нужно целое число минут от 0 до {most}",
        "true_false": "нужно true или false",
        "bot_token_format": "нужен токен бота, который выдал @BotFather, например 123456789:AAE…",
        "chat_id_format": "нужен числовой id чата (у группы он начинается с -) или @имя канала",
        "host_name": "нужно имя хоста или IP-адрес",
        "port_number": "нужен номер порта от 1 до 65535",
        "ascii_line": "нужна одна строка из латинских букв, цифр и знаков (ASCII)",
        "one_of": "нужно одно из значений: {choices}",
        "no_file": "нет такого файла: {path}",
        "migrate_from_file": "нужен файл DuckDB, из которого копировать (migrate копирует файл в озеро)",
        "migrate_to_lake": "нужно озеро: ducklake:postgres:<строка подключения libpq>",
        "lake_catalog_missing": "нужна строка подключения libpq после {prefix} (host=… port=… dbname=… user=…)",
        "lake_password_in_string": "не должна содержать пароль PostgreSQL ({value}): задайте PGPASSWORD, "
        "~/.pgpass или [lake] password в secrets.toml",
        "lake_data_path_missing": "нужно задать при кэше ducklake: папку или s3://bucket/prefix для файлов озера",
        "set_with": "нужно задать и это, раз задано {other}",
        "password_in_clear": "ушёл бы без шифрования при NEWTON_SMTP_SECURITY=none: укажите starttls или tls",
        "no_alert_channel": "некуда отправлять: задайте бота и чат Telegram или почтовый сервер и получателей "
        "(README, раздел Alerts)",
        "weekdays": "нужны дни, например Mon-Fri или Mon,Wed,Fri",
        "clock_time": "нужно время ЧЧ:ММ, от 00:00 до 23:59",
        "hours_range": "нужны часы ЧЧ:ММ-ЧЧ:ММ, начало раньше конца, например 09:00-18:00",
        "whole_or_off": "нужно целое число от {least} до {most} или off",
        "whole_hours": "нужно целое число часов от 1 до {most}",
        "digest_kind": "нужно daily, weekly или off",
        "cost_date_format": "нужна дата ГГГГ-ММ-ДД или ДД.ММ.ГГГГ",
        "cost_date_future": "дата в будущем (сегодня {today}): расход — это то, что уже потрачено",
        "cost_missing": "нужен расход в рублях",
        "cost_negative": "не может быть отрицательным: расход — 0 рублей или больше",
        "cost_number": "нужно число рублей, например 1 234,50 или 1234.50",
        "cost_ambiguous": "{value} — то ли тысяча, то ли рубль с копейками: напишите 1234 или 1,23",
        "cost_range": "не больше {limit} рублей в день",
        "cost_text_long": "не длиннее {limit} символов",
        "cost_repeats_row": "повторяет день, источник, канал и кампанию строки {row}: оставьте одну строку "
        "(не сохраняется)",
        "whole_number": "нужно целое число от {least} до {most}",
        "account_name": "нужно имя аккаунта из строчных латинских букв, цифр, - и _ (не длиннее 40, "
        "в начале буква или цифра), например client-a",
        "account_name_all": "нельзя назвать {name}: так в ссылках дашборда называются все аккаунты вместе",
        "account_key": "неизвестная настройка аккаунта; настройки: {known}",
        "account_key_close": "неизвестная настройка аккаунта (возможно, имелось в виду {close}); настройки: {known}",
        "account_needs": "не задано: каждому [accounts.<имя>] нужны token и user_id",
        "account_title": "нужна одна строка не длиннее {most} символов",
        "account_same_user": "это же user id у аккаунта {other}: каждый аккаунт Newton указывается один раз",
        "account_unknown": "нет такого аккаунта в дашборде; аккаунты: {known}",
        "account_default_twice": "в [newton] есть токен, значит это аккаунт {name}: переименуйте [accounts.{name}]",
    },
}


class Problem(str):
    """What our own check found wrong with a field, as a message key and its values. As a string it is the English
    sentence (for the CLI, logs and raw exports); `field_message` words it in a page's language."""

    key: str
    values: dict[str, object]

    def __new__(cls, key: str, **values: object) -> Problem:
        problem = super().__new__(cls, text(key, "en", FIELD_MESSAGES, **values))
        problem.key, problem.values = key, values
        return problem

    def __reduce__(self) -> tuple[object, ...]:  # kept in session state and caches as what it is
        return (_problem, (self.key, self.values))


def _problem(key: str, values: dict[str, object]) -> Problem:
    return Problem(key, **values)


def field_message(message: str, lang: str) -> str:
    """A field message in `lang`: our own checks' from their key, anything else (Newton's words) as it came."""
    if isinstance(message, Problem):
        return text(message.key, lang, FIELD_MESSAGES, **message.values)
    return message


def fields_message(fields: Mapping[str, str], lang: str) -> str:
    """Every field's message in `lang`, as `field: message; field: message`."""
    return "; ".join(f"{name}: {field_message(message, lang)}" for name, message in fields.items())


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
        "pending_callbacks": {
            "one": "{n} callback is still pending (no result yet); it counts neither as answered nor as missed.",
            "other": "{n} callbacks are still pending (no result yet); they count neither as answered nor as missed.",
        },
        "ours_left_out": {
            "one": "{n} call back we placed ourselves from the dashboard is left out of these numbers: calling "
            "people back never adds requests or callers to a channel.",
            "other": "{n} call backs we placed ourselves from the dashboard are left out of these numbers: calling "
            "people back never adds requests or callers to a channel.",
        },
        "ours_listed": {
            "one": "{n} of them is a call back we placed ourselves, marked “our call back”: it is counted in no "
            "metric.",
            "other": "{n} of them are call backs we placed ourselves, marked “our call back”: they are counted in "
            "no metric.",
        },
    },
    "ru": {
        "pending_callbacks": {
            "one": "{n} обратный звонок ещё ждёт результата; он не считается ни принятым, ни пропущенным.",
            "few": "{n} обратных звонка ещё ждут результата; они не считаются ни принятыми, ни пропущенными.",
            "many": "{n} обратных звонков ещё ждут результата; они не считаются ни принятыми, ни пропущенными.",
            "other": "{n} обратного звонка ещё ждут результата; они не считаются ни принятыми, ни пропущенными.",
        },
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
        "ours_left_out": {
            "one": "{n} перезвон, который мы сделали сами из дашборда, не входит в эти цифры: перезвоны клиентам "
            "не добавляют каналу ни заявок, ни клиентов.",
            "few": "{n} перезвона, которые мы сделали сами из дашборда, не входят в эти цифры: перезвоны клиентам "
            "не добавляют каналу ни заявок, ни клиентов.",
            "many": "{n} перезвонов, которые мы сделали сами из дашборда, не входят в эти цифры: перезвоны клиентам "
            "не добавляют каналу ни заявок, ни клиентов.",
            "other": "{n} перезвона, которые мы сделали сами из дашборда, не входят в эти цифры: перезвоны клиентам "
            "не добавляют каналу ни заявок, ни клиентов.",
        },
        "ours_listed": {
            "one": "Из них {n} — наш собственный перезвон, он отмечен «наш перезвон» и не входит ни в одну метрику.",
            "few": "Из них {n} — наши собственные перезвоны, они отмечены «наш перезвон» и не входят ни в одну "
            "метрику.",
            "many": "Из них {n} — наши собственные перезвоны, они отмечены «наш перезвон» и не входят ни в одну "
            "метрику.",
            "other": "Из них {n} — наши собственные перезвоны, они отмечены «наш перезвон» и не входят ни в одну "
            "метрику.",
        },
    },
}

# What an empty value (the group dimensions.NONE, a null cell) is called on screen; data and raw exports keep `(none)`.
NOT_SET = {"en": "(not set)", "ru": "(не задано)"}
_EMPTY_CODES = frozenset({"", "(none)"})

# Codes from Newton and from our own logs, in words: (English, Russian). A code missing here is shown as sent.
CODE_NAMES: dict[str, dict[str, tuple[str, str]]] = {
    "call_status": {
        "CLIENT_ANSWER": ("Client answered", "Клиент ответил"),
        "CLIENT_NO_ANSWER": ("Client did not answer", "Клиент не ответил"),
        "OPERATOR_NO_ANSWER": ("Operator did not answer", "Оператор не ответил"),
        "CLIENT_BUSY": ("Client's line busy", "Клиент занят"),
        "OPERATOR_BUSY": ("Operator's line busy", "Оператор занят"),
        "FAILED": ("Call failed", "Звонок не состоялся"),
    },
    "type": {
        "callback": ("Callback request", "Обратный звонок"),
        "application": ("Form application", "Заявка с формы"),
    },
    "device_type": {
        "desktop": ("Desktop", "Компьютер"),
        "mobile": ("Mobile", "Смартфон"),
        "tablet": ("Tablet", "Планшет"),
    },
    "channel": {
        "paid_search": ("Paid search", "Платный поиск"),
        "organic_search": ("Organic search", "Органический поиск"),
        "social": ("Social", "Соцсети"),
        "email": ("E-mail", "E-mail"),
        "referral": ("Referral", "Переходы с сайтов"),
        "direct": ("Direct", "Прямые заходы"),
        "other": ("Other", "Другое"),
    },
    "write_outcome": {
        "ok": ("sent", "отправлено"),
        "refused": ("refused", "отклонено"),
        "failed": ("failed", "ошибка"),
        "unknown": (
            "outcome unknown — check before resubmitting",
            "результат неизвестен — проверьте перед повторной отправкой",
        ),
        "not_sent": ("not sent", "не отправлено"),
        "sending": (
            "sending, or cut short — check in Newton before resubmitting",
            "отправляется или прервано — проверьте в Newton перед повторной отправкой",
        ),
        "waiting": ("waiting", "ждёт отправки"),
    },
    "write_action": {
        "callback.SetLeadPrice": ("Lead price", "Цена лида"),
        "callback.CreateCrmLead": ("New deal", "Новая сделка"),
        "callback.CreateRequest": ("Test callback", "Тестовый звонок"),
        "callback.ApplicationRequest": ("Test application", "Тестовая заявка"),
        "call_back": ("Call back (lost lead)", "Перезвон потерянному клиенту"),
    },
    "sync_outcome": {
        "running": ("running", "идёт"),
        "ok": ("done", "готово"),
        "failed": ("failed", "ошибка"),
        "interrupted": ("interrupted", "прервано"),
    },
    "cost_origin": {
        "generic": ("File (date, source, campaign, cost)", "Файл (дата, источник, кампания, расход)"),
        "yandex-direct": ("Yandex Direct", "Яндекс Директ"),
        "vk-ads": ("VK Ads", "VK Реклама"),
        "demo": ("Demo costs", "Демо-расходы"),
    },
}


def names(kind: str, lang: str) -> dict[str, str]:
    """Every code of `kind` with its words in `lang`."""
    index = LANGUAGES.index(language(lang))
    return {code: words[index] for code, words in CODE_NAMES.get(kind, {}).items()}


def label(kind: str, code: object, lang: str) -> str:
    """A code in words ("CLIENT_NO_ANSWER" → "Client did not answer"); an empty one is "(not set)"; a code we do not
    know (Newton adds statuses) is shown as sent, made visible."""
    if code is None or str(code).strip() in _EMPTY_CODES:
        return NOT_SET[language(lang)]
    return _names(kind, language(lang)).get(str(code)) or visible(str(code))


@functools.lru_cache(maxsize=256)
def _names(kind: str, lang: str) -> Mapping[str, str]:
    """`names`, made once per kind and language for `label` (which never changes it): a table labels every cell."""
    return names(kind, lang)


def shown_value(value: object, lang: str) -> str:
    """Any text cell or category as shown: "(not set)" when empty, else the text made visible."""
    return label("", value, lang)


# A short definition of every metric, report column and table column, shown on hover (help=). The metrics' words
# follow docs/metrics.md; tests/test_words.py checks that every name defined there has one in both languages.
GLOSSARY: dict[str, dict[str, str]] = {
    "en": {
        "requests": "Records in the period: callback requests, form applications and any other type.",
        "callbacks": "Records that are callback requests.",
        "answered": "Callbacks the client answered (status: Client answered).",
        "missed": "Callbacks that ended without a conversation, and callbacks still without a result 24 hours "
        "after the request (or after the time they were deferred to).",
        "pending": "Callbacks with no result yet, less than 24 hours old; counted neither as answered nor as missed.",
        "answer_rate": "Answered ÷ (answered + missed). Empty when there are neither.",
        "avg_talk_seconds": "Average time the client talked, over answered callbacks.",
        "median_talk_seconds": "Half of the answered callbacks were shorter than this, half longer.",
        "lead_value": "Sum of the lead prices set on the records.",
        "priced_leads": "Records that have a lead price (a price of 0 counts).",
        "avg_lead_value": "Lead value ÷ priced leads.",
        "requests_change": "Requests against the compared period, as a percentage; (not set) when the compared "
        "period has fewer than 10 requests.",
        "answer_rate_change_pp": "Answer rate minus the compared period's, in percentage points; (not set) when "
        "either period has fewer than 10 callbacks with a result.",
        "speed_measured": "Callbacks whose speed was measured: called, and not deferred to working hours.",
        "callbacks_measured": "Callbacks whose speed was measured: called, and not deferred to working hours.",
        "speed_median_seconds": "Median time from the request to the call; requests deferred to working hours "
        "are left out.",
        "median_seconds": "Median time from the request to the call.",
        "speed_p90_seconds": "9 callbacks out of 10 were called within this time.",
        "p90_seconds": "9 callbacks out of 10 were called within this time.",
        "within_30s_share": "Share of measured callbacks called within 30 seconds of the request.",
        "within_5min_share": "Share of measured callbacks called within 5 minutes of the request.",
        "sessions": "Chat sessions started in the period.",
        "messages": "Messages in those chats, the visitor's and the operator's.",
        "unanswered_sessions": "Chats where the visitor wrote and no operator replied.",
        "first_response_median": "Median time from the visitor's first message to the operator's first reply.",
        "first_response_p90": "9 chats out of 10 got the operator's first reply within this time.",
        "first_response_median_seconds": "Median time from the visitor's first message to the operator's reply.",
        "first_response_p90_seconds": "9 chats out of 10 got the operator's first reply within this time.",
        "first_response_seconds": "Time from the visitor's first message to the operator's first reply.",
        "unanswered": "The visitor wrote and no operator replied.",
        "period_start": "The first day of the day, week or month.",
        "operator": "The operator who took the chat.",
        "channel": "Where the visitor came from, grouped: paid search, organic search, social, e-mail, referral, "
        "direct or other.",
        "utm_source": "The utm_source tag of the page the visitor landed on.",
        "utm_medium": "The utm_medium tag of the page the visitor landed on.",
        "utm_campaign": "The utm_campaign tag of the page the visitor landed on.",
        "utm_term": "The utm_term tag (usually the keyword) of the page the visitor landed on.",
        "utm_content": "The utm_content tag (usually the ad) of the page the visitor landed on.",
        "referrer_type": "The kind of referrer Newton recorded, such as yandex.search.",
        "referrer_host": "The site the visitor came from.",
        "landing_page": "The page the visitor landed on, without its query string.",
        "search_phrase": "The search phrase that brought the visitor.",
        "openstat_service": "The ad service from the Openstat tag.",
        "openstat_campaign": "The campaign from the Openstat tag.",
        "city": "The visitor's city, by IP address.",
        "device_type": "Desktop, mobile or tablet.",
        "device": "Desktop, mobile or tablet.",
        "browser": "The visitor's browser.",
        "os": "The visitor's operating system.",
        "widget": "The Newton widget the request or chat came through.",
        "department": "The department the widget passed the request to.",
        "type": "Callback request or form application.",
        "call_status": "How the call ended, as Newton reports it.",
        "id": "Newton's id of the call.",
        "request_time": "When the request was made, in the dashboard's time zone.",
        "talk_seconds": "How long the client talked.",
        "callback_seconds": "Seconds from the request to the call.",
        "lead_price": "The lead's price in roubles, as set in Newton.",
        "recording": "The address of the call's recording.",
        "start_time_local": "When the chat started, in the dashboard's time zone.",
        "client_id": "Newton's id of the visitor.",
        "widget_id": "Newton's id of the widget.",
        "department_id": "Newton's id of the department.",
        "row": "The row's number in the file; the header is row 1.",
        "phone": "The phone the lead called from.",
        "price": "The price in whole roubles.",
        "date": "The deal's date, in UTC.",
        "status": "Ready to send, or what must be fixed first.",
        "outcome": "How the write ended.",
        "message": "What Newton or the dashboard said.",
        "time": "When the write was made, in the dashboard's time zone.",
        "action": "What was written to Newton.",
        "parameters": "What was sent.",
        "actor": "Who made the write.",
        "resource": "Calls and applications, or chats.",
        "synced_from": "The first day fetched from Newton.",
        "synced_through": "The last day fetched from Newton.",
        "updated_at": "When this data was last fetched.",
        "started": "When the sync started.",
        "finished": "When the sync ended.",
        "records": "Calls and applications fetched.",
        "chats": "Chat sessions fetched.",
        "setting": "A setting the dashboard runs with.",
        "value": "Its value now.",
        "sync_outcome": "How the sync ended.",
        "missed_callers": "Phones with at least one missed callback in the period (each phone once, however typed).",
        "last_missed_at": "When the phone's latest missed callback was requested (local time).",
        "reached": "Whether the phone had an answered callback after its last miss, at any time up to now (our own "
        "call backs count).",
        "reached_after_seconds": "Time from the last miss to the first answered callback after it.",
        "lost": "Phones with a missed callback, not reached since and not marked.",
        "marked": "Phones marked handled elsewhere, not a lead or spam since their last miss.",
        "mark": "Handled elsewhere, not a lead or spam: set by a person, never sent to Newton; a newer miss reopens "
        "the phone.",
        "marked_by": "Who marked the phone.",
        "marked_at": "When the phone was marked (local time).",
        "recovery_rate": "Reached ÷ phones with a missed callback; marked phones are left out.",
        "recovery_median_seconds": "Median time from the last miss to reaching the phone, over reached phones.",
        "missed_without_phone": "Missed callbacks with no phone: no caller to count or call back.",
        "callers": "Unique phones among the requests: however the number was typed, one phone is one caller. "
        "Requests without a phone are no caller.",
        "new_callers": "Callers with no request before the period (in all the data the dashboard holds).",
        "repeat_callers": "Callers who had made a request before the period too.",
        "our_call_back": "A call back we placed ourselves from the dashboard: listed, but counted in no metric.",
        "cost": "Ad spend in the period, from the imported cost files, in roubles.",
        "cpl": "Cost ÷ requests: what a request cost. Empty when there are no requests.",
        "cost_per_answered": "Cost ÷ answered callbacks. Empty when none was answered.",
        "cpa": "Cost ÷ priced leads (a lead priced 0 counts). Empty when no lead is priced.",
        "romi": "Return on marketing investment: (lead value − cost) ÷ cost. Empty when nothing was spent.",
        "drr": "ДРР, the share of ad spend in revenue: cost ÷ lead value. Empty when lead value is 0.",
        "month": "The month of the costs' local days.",
        "origin": "The kind of file the costs came from: a generic file, Yandex Direct, VK Ads, or the demo.",
        "days": "Days of the month with a cost.",
        "rows": "Cost rows stored for the month (a row: a day's spend of a source, medium and campaign).",
    },
    "ru": {
        "requests": "Все обращения за период: заказы обратного звонка, заявки с форм и другие типы.",
        "callbacks": "Обращения, которые являются заказом обратного звонка.",
        "answered": "Обратные звонки, на которые клиент ответил (статус «Клиент ответил»).",
        "missed": "Обратные звонки, закончившиеся без разговора, и звонки без результата через 24 часа после "
        "заявки (или после времени, на которое их отложили).",
        "pending": "Обратные звонки без результата, которым меньше 24 часов; не считаются ни принятыми, "
        "ни пропущенными.",
        "answer_rate": "Принятые ÷ (принятые + пропущенные). Пусто, если нет ни тех, ни других.",
        "avg_talk_seconds": "Среднее время разговора с клиентом по принятым звонкам.",
        "median_talk_seconds": "Половина принятых звонков короче этого времени, половина — длиннее.",
        "lead_value": "Сумма цен лидов, заданных у обращений.",
        "priced_leads": "Обращения, у которых задана цена лида (цена 0 тоже считается).",
        "avg_lead_value": "Сумма лидов ÷ лиды с ценой.",
        "requests_change": "Заявки по сравнению с периодом сравнения, в процентах; «(не задано)», если в периоде "
        "сравнения меньше 10 заявок.",
        "answer_rate_change_pp": "Доля принятых минус доля в периоде сравнения, в процентных пунктах; «(не задано)», "
        "если в одном из периодов меньше 10 звонков с результатом.",
        "speed_measured": "Обратные звонки, у которых измерена скорость: звонок был и не переносился на рабочее время.",
        "callbacks_measured": "Обратные звонки, у которых измерена скорость: звонок был и не переносился "
        "на рабочее время.",
        "speed_median_seconds": "Медиана времени от заявки до звонка; заявки, перенесённые на рабочее время, "
        "не учитываются.",
        "median_seconds": "Медиана времени от заявки до звонка.",
        "speed_p90_seconds": "9 из 10 клиентам перезвонили не позже этого времени.",
        "p90_seconds": "9 из 10 клиентам перезвонили не позже этого времени.",
        "within_30s_share": "Доля измеренных обратных звонков, сделанных в течение 30 секунд после заявки.",
        "within_5min_share": "Доля измеренных обратных звонков, сделанных в течение 5 минут после заявки.",
        "sessions": "Чаты, начатые за период.",
        "messages": "Сообщения в этих чатах — посетителя и оператора.",
        "unanswered_sessions": "Чаты, где посетитель написал, а оператор не ответил.",
        "first_response_median": "Медиана времени от первого сообщения посетителя до первого ответа оператора.",
        "first_response_p90": "9 из 10 чатов получили первый ответ оператора не позже этого времени.",
        "first_response_median_seconds": "Медиана времени от первого сообщения посетителя до ответа оператора.",
        "first_response_p90_seconds": "9 из 10 чатов получили первый ответ оператора не позже этого времени.",
        "first_response_seconds": "Время от первого сообщения посетителя до первого ответа оператора.",
        "unanswered": "Посетитель написал, а оператор не ответил.",
        "period_start": "Первый день дня, недели или месяца.",
        "operator": "Оператор, который вёл чат.",
        "channel": "Откуда пришёл посетитель, по группам: платный поиск, органический поиск, соцсети, e-mail, "
        "переходы с сайтов, прямые заходы или другое.",
        "utm_source": "Метка utm_source на странице, куда пришёл посетитель.",
        "utm_medium": "Метка utm_medium на странице, куда пришёл посетитель.",
        "utm_campaign": "Метка utm_campaign на странице, куда пришёл посетитель.",
        "utm_term": "Метка utm_term (обычно ключевое слово) на странице, куда пришёл посетитель.",
        "utm_content": "Метка utm_content (обычно объявление) на странице, куда пришёл посетитель.",
        "referrer_type": "Тип перехода, как его записал Newton, например yandex.search.",
        "referrer_host": "Сайт, с которого пришёл посетитель.",
        "landing_page": "Страница, на которую пришёл посетитель, без параметров.",
        "search_phrase": "Поисковый запрос, по которому пришёл посетитель.",
        "openstat_service": "Рекламная система из метки Openstat.",
        "openstat_campaign": "Кампания из метки Openstat.",
        "city": "Город посетителя по IP-адресу.",
        "device_type": "Компьютер, смартфон или планшет.",
        "device": "Компьютер, смартфон или планшет.",
        "browser": "Браузер посетителя.",
        "os": "Операционная система посетителя.",
        "widget": "Виджет Newton, через который пришло обращение или чат.",
        "department": "Отдел, которому виджет передал заявку.",
        "type": "Обратный звонок или заявка с формы.",
        "call_status": "Чем закончился звонок, по данным Newton.",
        "id": "Id звонка в Newton.",
        "request_time": "Когда оставлена заявка, по часовому поясу дашборда.",
        "talk_seconds": "Сколько длился разговор с клиентом.",
        "callback_seconds": "Секунды от заявки до звонка.",
        "lead_price": "Цена лида в рублях, как она задана в Newton.",
        "recording": "Адрес записи разговора.",
        "start_time_local": "Когда начался чат, по часовому поясу дашборда.",
        "client_id": "Id посетителя в Newton.",
        "widget_id": "Id виджета в Newton.",
        "department_id": "Id отдела в Newton.",
        "row": "Номер строки в файле; заголовок — строка 1.",
        "phone": "Телефон, с которого звонил лид.",
        "price": "Цена в целых рублях.",
        "date": "Дата сделки, UTC.",
        "status": "Готово к отправке, или что нужно исправить.",
        "outcome": "Чем закончилась запись в Newton.",
        "message": "Что ответил Newton или дашборд.",
        "time": "Когда сделана запись, по часовому поясу дашборда.",
        "action": "Что записано в Newton.",
        "parameters": "Что было отправлено.",
        "actor": "Кто сделал запись.",
        "resource": "Звонки и заявки или чаты.",
        "synced_from": "Первый день, загруженный из Newton.",
        "synced_through": "Последний день, загруженный из Newton.",
        "updated_at": "Когда эти данные загружались в последний раз.",
        "started": "Когда началась загрузка.",
        "finished": "Когда закончилась загрузка.",
        "records": "Загружено звонков и заявок.",
        "chats": "Загружено чатов.",
        "setting": "Настройка, с которой работает дашборд.",
        "value": "Её текущее значение.",
        "sync_outcome": "Чем закончилась загрузка.",
        "missed_callers": "Номера хотя бы с одним пропущенным обратным звонком за период (каждый номер один раз, "
        "как бы его ни записали).",
        "last_missed_at": "Когда оставлена последняя пропущенная заявка с этого номера (местное время).",
        "reached": "Дозвонились ли до номера после последнего пропуска — в любой момент до сейчас (наши перезвоны "
        "тоже считаются).",
        "reached_after_seconds": "Время от последнего пропуска до первого отвеченного звонка после него.",
        "lost": "Номера с пропущенным звонком, до которых так и не дозвонились и которые не отмечены.",
        "marked": "Номера, отмеченные после последнего пропуска: обработан в другом месте, не лид или спам.",
        "mark": "Обработан в другом месте, не лид или спам: отметку ставит человек, в Newton она не уходит; новый "
        "пропуск снова открывает номер.",
        "marked_by": "Кто отметил номер.",
        "marked_at": "Когда номер отметили (местное время).",
        "recovery_rate": "Доля номеров с пропуском, до которых дозвонились; отмеченные номера не учитываются.",
        "recovery_median_seconds": "Медиана времени от последнего пропуска до разговора, по номерам, до которых "
        "дозвонились.",
        "missed_without_phone": "Пропущенные звонки без номера: некого посчитать и некому перезвонить.",
        "callers": "Уникальные телефоны среди обращений: как бы ни был записан номер, один телефон — один клиент. "
        "Обращения без телефона клиентов не добавляют.",
        "new_callers": "Клиенты, у которых не было обращений до начала периода (во всех данных дашборда).",
        "repeat_callers": "Клиенты, которые обращались и до начала периода.",
        "our_call_back": "Перезвон, который мы сделали сами из дашборда: он в списке, но не входит ни в одну метрику.",
        "cost": "Расход на рекламу за период по загруженным файлам расходов, в рублях.",
        "cpl": "Расход ÷ заявки: во что обошлась одна заявка. Пусто, если заявок нет.",
        "cost_per_answered": "Расход ÷ принятые обратные звонки. Пусто, если принятых нет.",
        "cpa": "Расход ÷ лиды с ценой (цена 0 тоже считается). Пусто, если ни у одного лида нет цены.",
        "romi": "Окупаемость рекламы: (сумма лидов − расход) ÷ расход. Пусто, если расхода нет.",
        "drr": "Доля рекламных расходов: расход ÷ сумма лидов. Пусто, если сумма лидов 0.",
        "month": "Месяц, к которому относятся дни расходов (по местному времени).",
        "origin": "Откуда расходы: обычный файл, Яндекс Директ, VK Реклама или демо-данные.",
        "days": "Дни месяца, за которые есть расход.",
        "rows": "Строки расходов за месяц (строка — расход за день по источнику, каналу и кампании).",
    },
}


def help_text(name: str, lang: str) -> str | None:
    """The definition of a metric or column for `help=`; None for a name without one."""
    return GLOSSARY[language(lang)].get(name)
