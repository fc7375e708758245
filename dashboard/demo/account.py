# ruff: noqa: RUF001 - the account's data is Russian text; its Cyrillic letters are meant.
"""A deterministic, realistic Newton account: КлиматДом, a Moscow seller and installer of air conditioners.

Everything is derived from `(seed, records, day)`: a UTC day is generated on its own from
`random.Random(f"{seed}:{day}")`, so any day can be produced lazily, in any order, in any process, and a day
always comes out the same. Record ids are `days since 2020-01-01 * 100000 + index within the day`, so ids stay
stable from one run (or one calendar day) to the next and a cache synced yesterday still matches today.

The business works in Moscow time (UTC+3): Mon-Fri 09:00-20:00, Sat 10:00-16:00, closed on Sundays and public
holidays. Requests outside those hours are deferred: `delayDate` is the next opening, `callDate` follows it.
"""

from __future__ import annotations

import base64
import bisect
import calendar
import math
import random
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, Final, Generic, TypeVar
from urllib.parse import quote, quote_plus, urlsplit

Fields = dict[str, str | None]
ChatSession = dict[str, Any]

T = TypeVar("T")

ID_EPOCH: Final = date(2020, 1, 1)
ID_EPOCH_TS: Final = calendar.timegm(ID_EPOCH.timetuple())
IDS_PER_DAY: Final = 100_000
# Ids k >= this within a day belong to records made while the demo runs (CreateRequest, add_record).
FIRST_ADDED_INDEX: Final = 90_000
HISTORY_DAYS: Final = 180
# Keeps the generated part of the busiest day well below FIRST_ADDED_INDEX.
MAX_RECORDS: Final = 5_000_000
DAY_SECONDS: Final = 86_400
MOSCOW_OFFSET: Final = 3 * 3600
# The owner tests the widget with the reference's example number every two weeks, so the reference's
# CreateCrmLead example finds a call in any 180-day history.
OWNER_TEST_PHONE: Final = "+79991234567"
OWNER_TEST_EVERY_DAYS: Final = 14
HOSTILE_CYCLE_DAYS: Final = 30

RECORD_KEYS: Final = (
    "id", "widgetId", "departmentId", "requestDate", "requestStatus", "callStatus", "callDate",
    "callDurationOperator", "callDurationClient", "delayDate", "conversationFile", "callAttempt",
    "callSequenceNumber", "clientPhone", "callbackPhone", "referrerHost", "referrerPath", "landingReferrerType",
    "landingReferrer", "landingUrl", "landingSearchPhrase", "landingUtmSource", "landingUtmMedium",
    "landingUtmTerm", "landingUtmContent", "landingUtmCampaign", "landingOpenstatService",
    "landingOpenstatCampaign", "landingOpenstatAd", "landingOpenstatSource", "userAgent", "userAgentBrowser",
    "userAgentOs", "userAgentDevice", "userAgentDeviceType", "ip", "ipCountry", "ipCity", "comment",
    "leadPrice", "type",
)  # fmt: skip
# What a callback shows while its call has not happened yet (deferred, queued or ringing).
PENDING_CALL_KEYS: Final = (
    "callStatus", "callDate", "callDurationOperator", "callDurationClient", "conversationFile", "callAttempt",
    "callSequenceNumber",
)  # fmt: skip

# Values real visitors put into URLs, forms and chats; the dashboard must show them inertly.
HOSTILE_UTM_SOURCE: Final = "<script>alert(1)</script>"
HOSTILE_UTM_CAMPAIGN: Final = '=HYPERLINK("http://evil.example","click")'
HOSTILE_PHRASE_PLUS: Final = "+7 (999) 123-45-67 перезвоните"
HOSTILE_PHRASE_MINUS: Final = "-кондиционер дешево"
JAVASCRIPT_URL: Final = "javascript:alert(1)"
HOSTILE_COMMENT: Final = "**Срочно!** перезвонить после обеда <img src=x onerror=alert(1)>"
EMOJI_COMMENT: Final = "🔥 Хочу кондиционер в детскую 👶❄️ до жары"
RTL_UTM_CONTENT: Final = "banner\u202egnp.exe"
LONG_UTM_TERM: Final = ("кондиционер купить недорого с установкой " * 130)[:5000]
HOSTILE_CHAT_TEXT: Final = "[x](javascript:alert(1))"
EXTRA_KEY: Final = "tags"


@dataclass(frozen=True, slots=True)
class Weighted(Generic[T]):
    """A table to draw items from in proportion to their weights."""

    items: tuple[T, ...]
    cumulative: tuple[float, ...]

    def pick(self, rng: random.Random) -> T:
        return self.items[bisect.bisect(self.cumulative, rng.random() * self.cumulative[-1])]


def _choice(rng: random.Random, items: Sequence[T]) -> T:
    # Faster than Random.choice, which matters at a million records; fine for sequences shorter than 2**50.
    return items[int(rng.random() * len(items))]


def _below(rng: random.Random, bound: int) -> int:
    return int(rng.random() * bound)


def weighted(pairs: Sequence[tuple[T, float]]) -> Weighted[T]:
    total = 0.0
    cumulative = []
    for _, weight in pairs:
        total += weight
        cumulative.append(total)
    return Weighted(tuple(item for item, _ in pairs), tuple(cumulative))


# ---------------------------------------------------------------------------------------------- time


def format_ts(ts: int) -> str:
    """An epoch second as Newton writes dates: `YYYY-MM-DD HH:MM:SS`, UTC."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts))


def day_number(day: date) -> int:
    """Days since 2020-01-01: the high part of a record id."""
    return (day - ID_EPOCH).days


def day_of_number(number: int) -> date:
    return date.fromordinal(ID_EPOCH.toordinal() + number)


def day_start_ts(number: int) -> int:
    return ID_EPOCH_TS + number * DAY_SECONDS


def record_id(number: int, index: int) -> int:
    return number * IDS_PER_DAY + index


_HOLIDAYS: Final = frozenset(
    {(1, 1), (1, 2), (1, 3), (1, 4), (1, 5), (1, 6), (1, 7), (1, 8), (2, 23), (3, 8), (5, 1), (5, 9), (6, 12), (11, 4)}
)
# Moscow opening hours by weekday (Monday = 0); Sunday closed.
_OPENING_HOURS: Final[dict[int, tuple[int, int]]] = {
    0: (9, 20),
    1: (9, 20),
    2: (9, 20),
    3: (9, 20),
    4: (9, 20),
    5: (10, 16),
}
_UNIX_EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()


def is_holiday(day: date) -> bool:
    return (day.month, day.day) in _HOLIDAYS


@lru_cache(maxsize=4096)
def _opening_hours(local_day: int) -> tuple[int, int] | None:
    """Opening hours on a Moscow calendar day (days since 1970-01-01), or None when closed."""
    day = date.fromordinal(_UNIX_EPOCH_ORDINAL + local_day)
    if is_holiday(day):
        return None
    return _OPENING_HOURS.get(day.weekday())


def next_opening(ts: int) -> int | None:
    """None when `ts` falls within working hours; otherwise the epoch second of the next opening."""
    local = ts + MOSCOW_OFFSET
    local_day, second = divmod(local, DAY_SECONDS)
    hours = _opening_hours(local_day)
    if hours is not None:
        if hours[0] * 3600 <= second < hours[1] * 3600:
            return None
        if second < hours[0] * 3600:
            return local_day * DAY_SECONDS + hours[0] * 3600 - MOSCOW_OFFSET
    for ahead in range(1, 32):
        hours = _opening_hours(local_day + ahead)
        if hours is not None:
            return (local_day + ahead) * DAY_SECONDS + hours[0] * 3600 - MOSCOW_OFFSET
    raise AssertionError("no working day within a month")


def moscow_hour(ts: int) -> int:
    return ((ts + MOSCOW_OFFSET) % DAY_SECONDS) // 3600


# Requests by Moscow hour: a midday plateau, a quiet night, evening browsing.
_MOSCOW_HOUR_WEIGHTS: Final = (
    0.35, 0.2, 0.12, 0.08, 0.08, 0.12, 0.3, 0.8, 2.0, 4.2, 5.8, 6.4,
    6.6, 6.0, 6.2, 6.1, 5.7, 5.1, 4.3, 3.6, 3.0, 2.4, 1.6, 0.9,
)  # fmt: skip
# The same weights indexed by UTC hour, cumulative, for drawing a second of a UTC day.
_UTC_HOUR_CUMULATIVE: Final = tuple(
    sum(_MOSCOW_HOUR_WEIGHTS[(hour + 3) % 24] for hour in range(upto + 1)) for upto in range(24)
)
_RAW_WEEKDAY_FACTORS: Final = (1.18, 1.14, 1.10, 1.06, 0.98, 0.56, 0.38)
_WEEKDAY_FACTORS: Final = tuple(f * 7 / sum(_RAW_WEEKDAY_FACTORS) for f in _RAW_WEEKDAY_FACTORS)


def _second_of_day(rng: random.Random) -> int:
    hour = bisect.bisect(_UTC_HOUR_CUMULATIVE, rng.random() * _UTC_HOUR_CUMULATIVE[-1])
    return hour * 3600 + int(rng.random() * 3600)


# ---------------------------------------------------------------------------------------------- widgets


@dataclass(frozen=True, slots=True)
class Department:
    """A branch calls are distributed to; `callback_phone` is the line the operator answers on."""

    id: str
    name: str
    callback_phone: str


@dataclass(frozen=True, slots=True)
class Widget:
    """A callback widget on one of the company's sites."""

    id: str
    name: str
    host: str
    pages: tuple[str, ...]
    departments: tuple[Department, ...]
    callback_phone: str
    operators: tuple[str, ...]

    def api_shape(self) -> dict[str, Any]:
        """As `callback.GetWidgets` lists it (departments always as a list, possibly empty)."""
        return {
            "id": self.id,
            "name": self.name,
            "departments": [{"id": d.id, "name": d.name} for d in self.departments],
        }

    def department(self, department_id: str) -> Department | None:
        return next((d for d in self.departments if d.id == department_id), None)

    def page_url(self, path: str) -> str:
        return f"https://{self.host}{path}"


MAIN_SITE = Widget(
    # Not the reference's example widget id: that string is also its example token (the demo's token), and a
    # widget id equal to the token would put the token into every answer and export.
    id="e3b7c41f09a24d6c8f5a2b1d7c9e0f36",
    name="Основной сайт klimatdom-demo.ru",
    host="www.klimatdom-demo.ru",
    pages=(
        "/",
        "/kondicionery/",
        "/kondicionery/split-sistemy/",
        "/kondicionery/invertornye/",
        "/montazh-kondicionerov/",
        "/ceny/",
        "/akcii/",
        "/kontakty/",
        "/servis/chistka-kondicionera/",
        "/blog/kak-vybrat-kondicioner/",
    ),
    departments=(
        # "0" and "99999" are the department ids of the reference's examples.
        Department("0", "Отдел продаж", "+74950000101"),
        Department("99999", "Сервис и монтаж", "+74950000102"),
        Department("100001", "Филиал Санкт-Петербург", "+78120000103"),
    ),
    callback_phone="+74950000101",
    operators=("Анна Смирнова", "Дмитрий Козлов", "Екатерина Новикова"),
)
PROMO_SITE = Widget(
    id="3f9c2a7e5b1d4c8e9a6f0b2d7c4e1a85",
    name="Лендинг акций akcii.klimatdom-demo.ru",
    host="akcii.klimatdom-demo.ru",
    pages=("/", "/skidka-na-montazh/", "/rassrochka/", "/trade-in/"),
    departments=(Department("100002", "Отдел продаж (акции)", "+74950000104"),),
    callback_phone="+74950000104",
    operators=("Мария Волкова", "Анна Смирнова"),
)
SERVICE_SITE = Widget(
    id="b71e4d2c9a3f48e6a0c5d9e2f1b7a364",
    name="Сервисный центр servis.klimatdom-demo.ru",
    host="servis.klimatdom-demo.ru",
    pages=("/", "/remont/", "/zapravka-freonom/", "/chistka/", "/ceny/"),
    # Call distribution is off on this widget, so it has no departments and its records none either.
    departments=(),
    callback_phone="+74950000105",
    operators=("Игорь Петров", "Сергей Орлов"),
)
WIDGETS: Final = (MAIN_SITE, PROMO_SITE, SERVICE_SITE)
_RECORD_WIDGETS: Final = weighted([(MAIN_SITE, 74), (PROMO_SITE, 18), (SERVICE_SITE, 8)])
_CHAT_WIDGETS: Final = weighted([(MAIN_SITE, 70), (PROMO_SITE, 12), (SERVICE_SITE, 18)])

# ---------------------------------------------------------------------------------------------- traffic

_ORGANIC_PHRASES: Final = weighted(
    [
        ("купить кондиционер москва", 9), ("установка кондиционера цена", 8), ("сплит система с установкой", 7),
        ("монтаж кондиционера недорого", 5), ("кондиционер в квартиру", 4), ("инверторный кондиционер 25 м2", 3),
        ("заправка кондиционера фреоном", 4), ("чистка кондиционера на дому", 4), ("ремонт кондиционера", 3),
        ("кондиционер daikin купить", 2), ("кондиционер haier цена", 2), ("какой кондиционер выбрать", 2),
        ("климатдом", 4), ("климатдом отзывы", 2), ("климатдом кондиционеры телефон", 1),
        ("кондиционер спб с установкой", 2), ("мобильный кондиционер без воздуховода", 1),
        ("кондиционер в рассрочку", 1), ("", 2),
    ]
)  # fmt: skip
_PAID_CAMPAIGNS: Final[dict[str, tuple[str, ...]]] = {
    "brand_msk": ("климатдом", "климатдом официальный сайт", "климатдом кондиционеры"),
    "generic_msk": (
        "купить кондиционер",
        "кондиционер с установкой",
        "сплит система купить москва",
        "установка кондиционера цена",
        "кондиционер недорого",
    ),
    "generic_spb": ("кондиционер спб", "установка кондиционера санкт петербург", "сплит система спб"),
    "competitors_msk": ("холодок климат", "бриз кондиционеры", "полярис климат"),
    "remarketing": ("---autotargeting",),
    "yan_msk": ("---autotargeting", "кондиционер"),
}
_YANDEX_SEARCH_CAMPAIGNS: Final = weighted(
    [("brand_msk", 3), ("generic_msk", 9), ("generic_spb", 3), ("competitors_msk", 2)]
)
_YANDEX_NETWORK_CAMPAIGNS: Final = weighted([("remarketing", 3), ("yan_msk", 4)])
_GOOGLE_CAMPAIGNS: Final = weighted([("brand_msk", 2), ("generic_msk", 6), ("remarketing", 2), ("pmax_msk", 2)])
_NETWORK_SITES: Final = (
    "https://dzen.ru/",
    "https://www.avito.ru/",
    "https://pogoda.mail.ru/",
    "https://www.kinopoisk.ru/",
)
_REFERRAL_SITES: Final = weighted(
    [
        ("https://2gis.ru/moscow/firm/70000001012345678", 4), ("https://yandex.ru/maps/org/klimatdom/1234567890/", 4),
        ("https://zoon.ru/msk/repair/klimatdom/", 2), ("https://otzovik.com/reviews/klimatdom/", 1),
        ("https://www.remont-forum.example/topic/kondicioner-v-kvartire/", 1),
    ]
)  # fmt: skip
_SOCIAL: Final = weighted([("vk", 5), ("telegram", 3), ("ok", 1)])
_SOCIAL_REFERRERS: Final = {"vk": "https://vk.com/", "telegram": "https://web.telegram.org/", "ok": "https://ok.ru/"}
_MONTH_SLUGS: Final = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")

_CHANNELS_BY_WIDGET: Final = {
    MAIN_SITE.id: weighted(
        [
            ("yandex_organic", 28),
            ("google_organic", 10),
            ("yandex_direct", 17),
            ("yandex_network", 4),
            ("google_ads", 6),
            ("social", 6),
            ("email", 3),
            ("direct", 17),
            ("referral", 9),
        ]
    ),
    PROMO_SITE.id: weighted(
        [("yandex_direct", 40), ("yandex_network", 15), ("google_ads", 15), ("social", 18), ("email", 12)]
    ),
    SERVICE_SITE.id: weighted([("yandex_organic", 38), ("google_organic", 12), ("direct", 30), ("referral", 20)]),
}

# ---------------------------------------------------------------------------------------------- visitors

# (userAgent, browser, OS, device, device type "0" desktop / "1" mobile / "2" tablet)
_USER_AGENTS: Final = weighted(
    [
        (("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 "
          "Safari/537.36", "Chrome 130.0", "Windows 10", None, "0"), 16),
        (("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/128.0.0.0 "
          "YaBrowser/24.10.0.0 Safari/537.36", "Yandex Browser 24.10", "Windows 10", None, "0"), 12),
        (("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0", "Firefox 132.0",
          "Windows 10", None, "0"), 4),
        (("Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 "
          "Safari/537.36", "Chrome 109.0", "Windows 7", None, "0"), 3),
        (("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 "
          "Safari/605.1.15", "Safari 17.6", "Mac OS X 10.15", None, "0"), 5),
        (("Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0", "Firefox 131.0",
          "Ubuntu", None, "0"), 1),
        (("Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/17.6 Mobile/15E148 Safari/604.1", "Mobile Safari 17.6", "iOS 17.6", "iPhone", "1"), 17),
        (("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/18.1 YaBrowser/24.10.5.300.10 Mobile/15E148 Safari/604.1", "Yandex Browser 24.10", "iOS 18.1",
          "iPhone", "1"), 5),
        (("Mozilla/5.0 (Linux; Android 14; SM-A546B) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/130.0.6723.102 Mobile Safari/537.36", "Chrome Mobile 130.0", "Android 14", "Samsung Galaxy A54",
          "1"), 13),
        (("Mozilla/5.0 (Linux; Android 13; 23021RAAEG) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/129.0.6668.100 YaBrowser/24.7.6.93.00 SA/3 Mobile Safari/537.36", "Yandex Browser 24.7",
          "Android 13", "Xiaomi Redmi Note 12", "1"), 10),
        (("Mozilla/5.0 (Linux; Android 12; NOH-NX9) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.5735.196 "
          "HuaweiBrowser/14.0.5.302 Mobile Safari/537.36", "Huawei Browser 14.0", "Android 12", "Huawei Mate 40 Pro",
          "1"), 3),
        (("Mozilla/5.0 (iPad; CPU OS 16_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 "
          "Mobile/15E148 Safari/604.1", "Mobile Safari 16.6", "iOS 16.7", "iPad", "2"), 3),
        (("Mozilla/5.0 (Linux; Android 13; SM-X200) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 "
          "Safari/537.36", "Chrome 130.0", "Android 13", "Samsung Galaxy Tab A8", "2"), 2),
        ((None, None, None, None, None), 1),
    ]
)  # fmt: skip
_MOSCOW_IPS: Final = ("95.24.", "95.25.", "178.176.", "83.220.", "91.77.", "46.242.", "37.110.", "176.59.", "188.162.")
_SPB_IPS: Final = ("5.18.", "5.19.", "95.55.", "178.66.", "46.138.", "31.173.")
_REGION_IPS: Final = ("85.140.", "109.252.", "217.66.", "213.87.")
_FOREIGN_IPS: Final = ("185.220.", "45.142.", "194.36.", "93.84.", "2.133.")
# (country, city, IP prefixes); a null city is what Newton shows when geolocation fails.
_GEO: Final = weighted(
    [
        (("RU", "Москва", _MOSCOW_IPS), 50), (("RU", "Санкт-Петербург", _SPB_IPS), 14),
        (("RU", "Химки", _MOSCOW_IPS), 3), (("RU", "Балашиха", _MOSCOW_IPS), 3),
        (("RU", "Мытищи", _MOSCOW_IPS), 2.5), (("RU", "Подольск", _MOSCOW_IPS), 2.5),
        (("RU", "Люберцы", _MOSCOW_IPS), 2), (("RU", "Королёв", _MOSCOW_IPS), 2),
        (("RU", "Одинцово", _MOSCOW_IPS), 2), (("RU", "Красногорск", _MOSCOW_IPS), 2),
        (("RU", "Гатчина", _SPB_IPS), 0.7), (("RU", "Колпино", _SPB_IPS), 0.6),
        (("RU", "Тверь", _REGION_IPS), 0.8), (("RU", "Казань", _REGION_IPS), 0.8),
        (("RU", "Нижний Новгород", _REGION_IPS), 0.8), (("RU", "Екатеринбург", _REGION_IPS), 0.7),
        (("RU", None, _MOSCOW_IPS), 8), (("BY", "Минск", _FOREIGN_IPS), 0.7), (("KZ", "Алматы", _FOREIGN_IPS), 0.5),
        (("NL", None, _FOREIGN_IPS), 1.0), (("DE", None, _FOREIGN_IPS), 0.5), (("FI", None, _FOREIGN_IPS), 0.3),
    ]
)  # fmt: skip
_FIRST_NAMES: Final = (
    ("Александр", "aleksandr"), ("Ольга", "olga"), ("Сергей", "sergey"), ("Наталья", "natalia"), ("Дмитрий", "dmitry"),
    ("Елена", "elena"), ("Андрей", "andrey"), ("Ирина", "irina"), ("Михаил", "mikhail"), ("Татьяна", "tatiana"),
)  # fmt: skip
_MAIL_DOMAINS: Final = ("mail.ru", "yandex.ru", "gmail.com", "bk.ru", "inbox.ru")
_APPLICATION_TEXTS: Final = (
    "Нужен кондиционер в спальню 18 м², перезвоните вечером",
    "Сколько стоит монтаж двух сплит-систем?",
    "Интересует рассрочка на Daikin",
    "Кондиционер не холодит, нужен мастер",
    "Прошу рассчитать стоимость для офиса 60 м²",
)
_COMMENTS: Final = weighted(
    [
        ("Клиент просит перезвонить после 18:00", 3), ("Интересует монтаж 2 кондиционеров", 3), ("Дубль", 2),
        ("Не целевой: искали работу", 1), ("Спам", 1), ("Договорились на замер в субботу", 2),
        ("Ждёт КП на почту", 2), ("Постоянный клиент", 1),
    ]
)  # fmt: skip
_TAGS: Final = ("повторный", "vip", "опт", "повторный,vip")

# ---------------------------------------------------------------------------------------------- calls

_ANSWERED = "CLIENT_ANSWER"
_UNANSWERED: Final = weighted(
    [
        ("CLIENT_NO_ANSWER", 44), ("OPERATOR_NO_ANSWER", 22), ("CLIENT_BUSY", 14), ("OPERATOR_BUSY", 9),
        ("FAILED", 9),
        # A status newer than the dashboard: it must be shown as it is, not crash anything.
        ("CALLBACK_CANCELLED", 2),
    ]
)  # fmt: skip
_CHANNEL_ANSWER_SHIFT: Final = {
    "social": -0.07, "yandex_network": -0.05, "email": 0.03, "direct": 0.02, "referral": 0.02,
}  # fmt: skip
_URL_SAFE: Final = re.compile(r"[A-Za-z0-9_.~-]*")
_RECORDING_HOST: Final = "https://newton-callback.s3-eu-west-1.amazonaws.com"


@dataclass(slots=True)
class GeneratedRecord:
    """A record in its final (settled) state plus the moments that decide what a client sees and when.

    `settles_at` is when the call is over; before that (but after `request_at`) the record shows as pending.
    """

    fields: Fields
    request_at: int
    call_start: int | None
    call_end: int | None
    settles_at: int


@dataclass(slots=True)
class GeneratedChat:
    """A chat session in API shape; `message_times` lets a client see only the messages already written."""

    widget_id: str
    start_at: int
    message_times: list[int]
    session: ChatSession

    @property
    def end_at(self) -> int:
        return self.message_times[-1] if self.message_times else self.start_at


@dataclass(slots=True)
class DemoDay:
    """Everything requested or chatted on one UTC day, ordered by time then id."""

    day: date
    records: list[GeneratedRecord]
    chats: list[GeneratedChat]


def pending_view(fields: Fields) -> Fields:
    """A record as Newton shows it before its call has happened: no outcome yet."""
    view = dict(fields)
    for key in PENDING_CALL_KEYS:
        view[key] = None
    return view


def blank_record() -> Fields:
    return dict.fromkeys(RECORD_KEYS)


class DemoAccount:
    """The generator: widgets, and any UTC day's records and chats from `(seed, records, day)`."""

    def __init__(self, seed: int = 42, records: int = 30_000) -> None:
        if not 0 <= records <= MAX_RECORDS:
            raise ValueError(f"records must be between 0 and {MAX_RECORDS}")
        self.seed = seed
        self.records = records
        self.widgets: tuple[Widget, ...] = WIDGETS
        self._regulars = self._regular_clients()

    def widget(self, widget_id: str) -> Widget | None:
        return next((w for w in self.widgets if w.id == widget_id), None)

    def expected_records_on(self, day: date) -> float:
        """The mean number of requests on a UTC day: weekday, season (air conditioners sell in summer), holidays."""
        season = 1 + 0.12 * math.sin(2 * math.pi * (day.timetuple().tm_yday - 100) / 365.25)
        holiday = 0.35 if is_holiday(day) else 1.0
        return self.records / HISTORY_DAYS * _WEEKDAY_FACTORS[day.weekday()] * season * holiday

    def generate_day(self, day: date) -> DemoDay:
        """All records and chats of one UTC day; the same every time for the same seed and size."""
        number = day_number(day)
        rng = random.Random(f"{self.seed}:{day.isoformat()}")
        count = max(0, round(self.expected_records_on(day) * rng.gauss(1.0, 0.07)))
        start = day_start_ts(number)
        seconds = sorted(_second_of_day(rng) for _ in range(count))
        records = [self._record(rng, record_id(number, k), start + s) for k, s in enumerate(seconds)]
        self._add_owner_test(number, records)
        self._add_hostile_value(number, records)
        chats = self._chats(rng, number, start, count)
        return DemoDay(day, records, chats)

    def requested_record(
        self,
        rid: int,
        request_at: int,
        widget: Widget,
        department: Department | None,
        phone: str,
        referer: str | None,
        application: Fields | None = None,
    ) -> GeneratedRecord:
        """A request made through the API (CreateRequest, or ApplicationRequest when `application` is given).

        A callback is simulated like a visitor's: dialled 10-40 s later (or at the next opening), with an outcome
        drawn from its id that shows once the call is over; until then the record shows as just made.
        An application's name, e-mail and text go into `comment`, as Newton shows form applications.
        """
        rng = random.Random(f"{self.seed}:request:{rid}")
        fields = blank_record()
        fields.update(
            id=str(rid),
            widgetId=widget.id,
            departmentId=department.id if department else None,
            requestDate=format_ts(request_at),
            clientPhone=phone,
            referrerHost=_host_of(referer),
            referrerPath=referer,
            landingUrl=referer,
        )
        if application is not None:
            fields.update(type="application", requestStatus="success", comment=_application_comment(application))
            return GeneratedRecord(fields, request_at, None, None, request_at)
        callback_phone = department.callback_phone if department else widget.callback_phone
        return _callback(rng, fields, request_at, "direct", False, callback_phone, may_fail=False)

    # ------------------------------------------------------------------------------------ one record

    def _regular_clients(self) -> list[str]:
        """Phones of returning clients, shared by all days so the same people call again."""
        rng = random.Random(f"{self.seed}:regulars:{self.records}")
        return [_mobile_phone(rng) for _ in range(max(20, self.records // 25))]

    def _client_phone(self, rng: random.Random) -> str:
        if rng.random() < 0.18:
            # Skewed: a few clients call very often, most regulars now and then.
            return self._regulars[int(len(self._regulars) * rng.random() ** 1.2)]
        if rng.random() < 0.05:
            return _choice(rng, ("+7495", "+7499", "+7812")) + f"{_below(rng, 10**7):07d}"
        return _mobile_phone(rng)

    def _record(self, rng: random.Random, rid: int, request_at: int) -> GeneratedRecord:
        widget = _RECORD_WIDGETS.pick(rng)
        channel = _CHANNELS_BY_WIDGET[widget.id].pick(rng)
        country, city, ip_prefixes = _GEO.pick(rng)
        department = _department_for(rng, widget, city)
        fields = blank_record()
        fields["id"] = str(rid)
        fields["widgetId"] = widget.id
        fields["departmentId"] = department.id if department else None
        fields["requestDate"] = format_ts(request_at)
        fields["clientPhone"] = self._client_phone(rng)
        _fill_visit(rng, fields, widget, channel, request_at)
        ua, browser, os_name, device, device_type = _USER_AGENTS.pick(rng)
        fields.update(
            userAgent=ua,
            userAgentBrowser=browser,
            userAgentOs=os_name,
            userAgentDevice=device,
            userAgentDeviceType=device_type,
            ip=_ip(rng, ip_prefixes),
            ipCountry=country,
            ipCity=city,
        )
        if rng.random() < 0.10:
            record = _application(rng, fields, request_at)
        else:
            callback_phone = department.callback_phone if department else widget.callback_phone
            record = _callback(rng, fields, request_at, channel, device_type == "1", callback_phone)
        _add_outcome_notes(rng, record)
        if rng.random() < 0.004:
            # A field newer than the documentation; clients must keep it.
            record.fields[EXTRA_KEY] = _choice(rng, _TAGS)
        return record

    # ------------------------------------------------------------------------------------ deterministic extras

    def _add_owner_test(self, number: int, records: list[GeneratedRecord]) -> None:
        if number % OWNER_TEST_EVERY_DAYS or not records:
            return
        fields = records[len(records) // 2].fields
        fields["clientPhone"] = OWNER_TEST_PHONE
        fields["comment"] = "Тест виджета"
        fields["leadPrice"] = None

    def _add_hostile_value(self, number: int, records: list[GeneratedRecord]) -> None:
        """One hostile value on some days, in a 30-day cycle, so every 180-day history holds each one."""
        variant = number % HOSTILE_CYCLE_DAYS
        if variant >= len(_HOSTILE_RECORD_VARIANTS) or not records:
            return
        _HOSTILE_RECORD_VARIANTS[variant](records[len(records) // 3].fields)

    # ------------------------------------------------------------------------------------ chats

    def _chats(self, rng: random.Random, number: int, start: int, record_count: int) -> list[GeneratedChat]:
        count = round(record_count * rng.uniform(0.2, 0.33))
        starts = sorted(start + _second_of_day(rng) for _ in range(count))
        chats = [_chat(rng, at) for at in starts]
        if number % HOSTILE_CYCLE_DAYS == len(_HOSTILE_RECORD_VARIANTS) and chats:
            first_from_client = next(m for m in chats[0].session["messages"] if m["from"])
            first_from_client["text"] = HOSTILE_CHAT_TEXT
        chats.sort(key=lambda c: (c.start_at, c.session["clientId"]))
        return chats


def _ip(rng: random.Random, prefixes: tuple[str, ...]) -> str:
    return f"{_choice(rng, prefixes)}{_below(rng, 256)}.{1 + _below(rng, 254)}"


def _host_of(url: str | None) -> str | None:
    try:
        return urlsplit(url).hostname if url else None
    except ValueError:
        return None


def _application_comment(application: Fields) -> str | None:
    labels = (("name", "Имя"), ("email", "E-mail"), ("text", "Сообщение"))
    lines = [f"{label}: {application[key]}" for key, label in labels if application.get(key)]
    return "\n".join(lines) or None


def _mobile_phone(rng: random.Random) -> str:
    return f"+79{_below(rng, 10**9):09d}"


def _department_for(rng: random.Random, widget: Widget, city: str | None) -> Department | None:
    if not widget.departments:
        return None
    if len(widget.departments) == 1:
        return widget.departments[0]
    if city in ("Санкт-Петербург", "Гатчина", "Колпино") and rng.random() < 0.85:
        return widget.departments[2]
    return widget.departments[0] if rng.random() < 0.72 else widget.departments[1]


# ---------------------------------------------------------------------------------------------- visits


def _fill_visit(rng: random.Random, fields: Fields, widget: Widget, channel: str, request_at: int) -> None:
    """Where the visitor came from and which pages they saw, as Newton's landing* and referrer* fields."""
    landing_page = _choice(rng, widget.pages)
    params: dict[str, str] = {}
    if channel == "yandex_organic":
        phrase = _ORGANIC_PHRASES.pick(rng)
        fields.update(
            landingReferrerType="yandex.search",
            landingReferrer=f"https://yandex.ru/search/?text={_quoted(phrase)}&lr=213",
            landingSearchPhrase=phrase,
        )
    elif channel == "google_organic":
        # Google hides the query: the phrase is unknown.
        fields.update(landingReferrerType="google.search", landingReferrer="https://www.google.com/")
    elif channel == "yandex_direct":
        params = _yandex_ad(rng, fields, _YANDEX_SEARCH_CAMPAIGNS.pick(rng))
        phrase = fields["landingUtmTerm"] or ""
        fields.update(
            landingReferrerType="yandex.search",
            landingReferrer=f"https://yandex.ru/search/?text={_quoted(phrase)}&lr=213",
            landingSearchPhrase=phrase,
        )
    elif channel == "yandex_network":
        params = _yandex_ad(rng, fields, _YANDEX_NETWORK_CAMPAIGNS.pick(rng))
        fields.update(landingReferrerType="ad", landingReferrer=_choice(rng, _NETWORK_SITES))
    elif channel == "google_ads":
        params = _google_ad(rng, fields)
        fields.update(landingReferrerType="google.search", landingReferrer="https://www.google.com/")
    elif channel == "social":
        params = _social(rng, fields, request_at)
    elif channel == "email":
        month = _MONTH_SLUGS[time.gmtime(request_at).tm_mon - 1]
        params = {"utm_source": "newsletter", "utm_medium": "email", "utm_campaign": f"rassylka_{month}"}
        fields.update(
            landingReferrerType="email",
            landingReferrer=_choice(rng, ("https://mail.yandex.ru/", "https://e.mail.ru/", None)),
            landingUtmSource="newsletter",
            landingUtmMedium="email",
            landingUtmCampaign=params["utm_campaign"],
        )
    elif channel == "referral":
        fields.update(landingReferrerType="referral", landingReferrer=_REFERRAL_SITES.pick(rng))
    else:
        fields["landingReferrerType"] = "direct"
    landing = widget.page_url(landing_page)
    fields["landingUrl"] = f"{landing}?{_query(params)}" if params else landing
    # Most visitors order a call on the page they landed on; some browse on first.
    fields["referrerHost"] = widget.host
    fields["referrerPath"] = landing if rng.random() < 0.6 else widget.page_url(_choice(rng, widget.pages))


@lru_cache(maxsize=4096)
def _quoted(text: str) -> str:
    return quote(text)


@lru_cache(maxsize=4096)
def _quoted_plus(text: str) -> str:
    return quote_plus(text)


def _query(params: dict[str, str]) -> str:
    """`urlencode`, with the (few, repeated) values that need escaping escaped once."""
    return "&".join(f"{k}={v if _URL_SAFE.fullmatch(v) else _quoted_plus(v)}" for k, v in params.items())


def _yandex_ad(rng: random.Random, fields: Fields, campaign: str) -> dict[str, str]:
    term = _choice(rng, _PAID_CAMPAIGNS[campaign])
    ad_id = str(13_500_000_000 + _below(rng, 2_000_000))
    placement = "search" if campaign not in ("remarketing", "yan_msk") else "context"
    content = f"{ad_id}_{_choice(rng, ('premium', 'other', 'none'))}" if placement == "search" else f"{ad_id}_none"
    fields.update(
        landingUtmSource="yandex",
        landingUtmMedium="cpc",
        landingUtmCampaign=campaign,
        landingUtmTerm=term,
        landingUtmContent=content,
    )
    params = {
        "utm_source": "yandex",
        "utm_medium": "cpc",
        "utm_campaign": campaign,
        "utm_term": term,
        "utm_content": content,
        "yclid": str(10**17 + rng.getrandbits(59)),
    }
    if rng.random() < 0.3:
        # Older campaigns still carry openstat tags.
        campaign_id = str(51_000_000 + sum(map(ord, campaign)) * 1000)
        source = "" if placement == "search" else _choice(rng, _NETWORK_SITES)[8:].rstrip("/")
        fields.update(
            landingOpenstatService="direct.yandex.ru",
            landingOpenstatCampaign=campaign_id,
            landingOpenstatAd=ad_id,
            landingOpenstatSource=source,
        )
        raw = f"direct.yandex.ru;{campaign_id};{ad_id};{source}".encode()
        params["_openstat"] = base64.urlsafe_b64encode(raw).decode()
    return params


def _google_ad(rng: random.Random, fields: Fields) -> dict[str, str]:
    campaign = _GOOGLE_CAMPAIGNS.pick(rng)
    terms = _PAID_CAMPAIGNS.get(campaign, ("кондиционер купить",))
    term = _choice(rng, terms) if campaign != "remarketing" else None
    content = f"ad_{600_000_000_000 + _below(rng, 10**11)}"
    fields.update(
        landingUtmSource="google",
        landingUtmMedium="cpc",
        landingUtmCampaign=campaign,
        landingUtmTerm=term,
        landingUtmContent=content,
    )
    params = {"utm_source": "google", "utm_medium": "cpc", "utm_campaign": campaign, "utm_content": content}
    if term:
        params["utm_term"] = term
    params["gclid"] = base64.urlsafe_b64encode(rng.randbytes(24)).decode().rstrip("=")
    return params


def _social(rng: random.Random, fields: Fields, request_at: int) -> dict[str, str]:
    network = _SOCIAL.pick(rng)
    fields.update(landingReferrerType="social", landingReferrer=_SOCIAL_REFERRERS[network])
    if rng.random() < 0.5:
        return {}
    month = _MONTH_SLUGS[time.gmtime(request_at).tm_mon - 1]
    campaign = _choice(rng, (f"post_{month}", "target_ads", "stories"))
    fields.update(landingUtmSource=network, landingUtmMedium="social", landingUtmCampaign=campaign)
    return {"utm_source": network, "utm_medium": "social", "utm_campaign": campaign}


# ---------------------------------------------------------------------------------------------- outcomes


def _application(rng: random.Random, fields: Fields, request_at: int) -> GeneratedRecord:
    """A form application: no call, the visitor's name, e-mail and text in the comment."""
    fields["type"] = "application"
    fields["requestStatus"] = "success"
    if rng.random() < 0.7:
        name, latin = _choice(rng, _FIRST_NAMES)
        email = f"{latin}.{1 + _below(rng, 998)}@{_choice(rng, _MAIL_DOMAINS)}"
        fields["comment"] = _application_comment(
            {"name": name, "email": email, "text": _choice(rng, _APPLICATION_TEXTS)}
        )
    return GeneratedRecord(fields, request_at, None, None, request_at)


def _callback(
    rng: random.Random,
    fields: Fields,
    request_at: int,
    channel: str,
    mobile: bool,
    callback_phone: str,
    *,
    may_fail: bool = True,
) -> GeneratedRecord:
    fields["type"] = "callback"
    fields["callbackPhone"] = callback_phone
    if may_fail and rng.random() < 0.03:
        # Never reached the phone exchange (blacklisted number, limit, PBX down).
        fields["requestStatus"] = "fail"
        return GeneratedRecord(fields, request_at, None, None, request_at)
    fields["requestStatus"] = "success"
    opening = next_opening(request_at)
    if opening is None:
        first_call = request_at + _callback_speed(rng)
    else:
        fields["delayDate"] = format_ts(opening)
        # Deferred requests queue up at opening time and are dialled one after another.
        first_call = opening + int(rng.expovariate(1 / 90))
    answer_chance = _answer_chance(moscow_hour(first_call), channel, mobile, deferred=opening is not None)
    if fields["landingUtmCampaign"] == "brand_msk":
        answer_chance += 0.04
    status = _ANSWERED if rng.random() < answer_chance else _UNANSWERED.pick(rng)
    return _call(rng, fields, request_at, first_call, status)


def _callback_speed(rng: random.Random) -> int:
    """Seconds from request to the call: mostly 10-40 s, a tail of minutes when operators are busy."""
    roll = rng.random()
    if roll < 0.78:
        return 10 + int(30 * rng.random())
    if roll < 0.95:
        return 40 + int(140 * rng.random())
    return 180 + int(720 * rng.random())


def _answer_chance(hour: int, channel: str, mobile: bool, *, deferred: bool) -> float:
    chance = 0.86 + _CHANNEL_ANSWER_SHIFT.get(channel, 0.0)
    if hour == 13:
        chance -= 0.10  # lunch
    elif hour in (18, 19):
        chance -= 0.08  # on the way home
    if deferred:
        chance -= 0.06  # the visitor has moved on by morning
    if mobile:
        chance += 0.02
    return min(0.98, max(0.4, chance))


def _call(rng: random.Random, fields: Fields, request_at: int, first_call: int, status: str) -> GeneratedRecord:
    attempts = _attempts(rng, status)
    call_at = first_call + sum(120 + int(180 * rng.random()) for _ in range(attempts - 1))
    operator, client = _durations(rng, status)
    fields.update(
        callStatus=status,
        callDate=format_ts(call_at),
        callAttempt=str(attempts),
        callSequenceNumber=str(0 if rng.random() < 0.8 else _choice(rng, (1, 1, 1, 2))),
        callDurationOperator=None if operator is None else str(operator),
        callDurationClient=None if client is None else str(client),
    )
    if status == _ANSWERED and rng.random() < 0.98:
        fields["conversationFile"] = _recording_url(rng, call_at)
    call_end = call_at + (operator or 0)
    return GeneratedRecord(fields, request_at, call_at, call_end, call_end)


def _attempts(rng: random.Random, status: str) -> int:
    roll = rng.random()
    if status == _ANSWERED:
        return 1 if roll < 0.84 else 2 if roll < 0.96 else 3
    if status in ("CLIENT_NO_ANSWER", "CLIENT_BUSY"):
        return 3 if roll < 0.55 else 2 if roll < 0.8 else 1
    if status in ("OPERATOR_NO_ANSWER", "OPERATOR_BUSY"):
        return 1 if roll < 0.7 else 2
    return 1


def _durations(rng: random.Random, status: str) -> tuple[int | None, int | None]:
    """(operator, client) seconds. The operator's leg is dialled first, so it is always the longer one."""
    if status == _ANSWERED:
        client = min(3600, max(4, int(rng.lognormvariate(math.log(90), 0.85))))
        return client + 6 + int(20 * rng.random()), client
    if status == "CLIENT_NO_ANSWER":
        return 25 + int(20 * rng.random()), 0
    if status == "CLIENT_BUSY":
        return 3 + int(10 * rng.random()), 0
    if status in ("OPERATOR_NO_ANSWER", "OPERATOR_BUSY"):
        return 0, 0
    return None, None


def _recording_url(rng: random.Random, call_at: int) -> str:
    t = time.gmtime(call_at)
    stamp = time.strftime("%Y/%m/%d/%Y%m%d%H%M", t)
    return f"{_RECORDING_HOST}/{stamp}-{call_at}.{_below(rng, 10**6):06d}-{100 + _below(rng, 899)}.mp3"


def _add_outcome_notes(rng: random.Random, record: GeneratedRecord) -> None:
    """Lead prices (mostly after answered calls, some 0 for a lost deal) and managers' comments."""
    fields = record.fields
    status = fields["callStatus"]
    chance = 0.14 if status == _ANSWERED else 0.10 if fields["type"] == "application" else 0.015
    if rng.random() < chance:
        price = 0 if rng.random() < 0.12 else int(rng.lognormvariate(math.log(18_000), 0.7)) // 100 * 100
        fields["leadPrice"] = str(min(price, 450_000))
    if fields["comment"] is None and rng.random() < 0.03:
        fields["comment"] = _COMMENTS.pick(rng)


# ---------------------------------------------------------------------------------------------- hostile values


def _hostile_utm_source(fields: Fields) -> None:
    fields.update(landingUtmSource=HOSTILE_UTM_SOURCE, landingUtmMedium="cpc")
    fields["landingUrl"] = f"{_without_query(fields)}?{_query({'utm_source': HOSTILE_UTM_SOURCE})}"


def _hostile_utm_campaign(fields: Fields) -> None:
    fields.update(landingUtmSource="yandex", landingUtmMedium="cpc", landingUtmCampaign=HOSTILE_UTM_CAMPAIGN)
    fields["landingUrl"] = f"{_without_query(fields)}?{_query({'utm_campaign': HOSTILE_UTM_CAMPAIGN})}"


def _hostile_phrase(phrase: str) -> Callable[[Fields], None]:
    def apply(fields: Fields) -> None:
        fields.update(
            landingReferrerType="yandex.search",
            landingSearchPhrase=phrase,
            landingReferrer=f"https://yandex.ru/search/?text={_quoted(phrase)}&lr=213",
        )

    return apply


def _javascript_landing(fields: Fields) -> None:
    fields["landingUrl"] = JAVASCRIPT_URL


def _javascript_recording(fields: Fields) -> None:
    fields["conversationFile"] = JAVASCRIPT_URL


def _hostile_comment(fields: Fields) -> None:
    fields["comment"] = HOSTILE_COMMENT


def _emoji_comment(fields: Fields) -> None:
    fields["comment"] = EMOJI_COMMENT


def _rtl_override(fields: Fields) -> None:
    fields["landingUtmContent"] = RTL_UTM_CONTENT


def _long_utm_term(fields: Fields) -> None:
    fields.update(landingUtmSource="yandex", landingUtmMedium="cpc", landingUtmTerm=LONG_UTM_TERM)


def _extra_key(fields: Fields) -> None:
    fields[EXTRA_KEY] = "повторный,vip"


def _without_query(fields: Fields) -> str:
    return (fields["landingUrl"] or "").split("?", 1)[0]


_HOSTILE_RECORD_VARIANTS: Final[tuple[Callable[[Fields], None], ...]] = (
    _hostile_utm_source,
    _hostile_utm_campaign,
    _hostile_phrase(HOSTILE_PHRASE_PLUS),
    _hostile_phrase(HOSTILE_PHRASE_MINUS),
    _javascript_landing,
    _javascript_recording,
    _hostile_comment,
    _emoji_comment,
    _rtl_override,
    _long_utm_term,
    _extra_key,
)

# ---------------------------------------------------------------------------------------------- chats

# (client, operator) turns of typical conversations; a chat uses the first few turns of one.
_CHAT_SCRIPTS: Final = (
    (
        ("Здравствуйте! Сколько стоит установка кондиционера 2,5 кВт?",
         "Добрый день! Стандартный монтаж — от 9 900 ₽, точную цену мастер назовёт после осмотра."),
        ("А на этой неделе можно?", "Да, есть окно в четверг с 12 до 16. Записать вас?"),
        ("Да, давайте 🙂", "Записала! Оставьте, пожалуйста, номер телефона для подтверждения."),
    ),
    (
        ("Есть в наличии Daikin FTXF25?", "Здравствуйте! Да, есть на складе, 42 500 ₽."),
        ("Спасибо, подумаю", "Хорошо, если появятся вопросы — пишите!"),
    ),
    (
        ("Кондиционер потёк, что делать?",
         "Здравствуйте! Скорее всего, засорился дренаж. Можем прислать мастера, выезд 1 500 ₽."),
        ("Давайте на завтра", "Мастер приедет завтра с 10 до 14 и позвонит перед выездом."),
    ),
    (("Вы работаете в Подмосковье?", "Да, выезжаем по всей Московской области до 50 км от МКАД."),),
    (
        ("Можно в рассрочку?", "Да, рассрочка на 6 месяцев без переплаты через банк-партнёр."),
        ("👍", "Обращайтесь!"),
    ),
    (
        ("Добрый вечер, сколько стоит чистка?", "Здравствуйте! Чистка сплит-системы — 3 500 ₽."),
        ("А заправка фреоном?", "Дозаправка — от 2 500 ₽, полная заправка — от 4 500 ₽."),
        ("Ок, спасибо", "Всегда рады помочь!"),
    ),
    (
        ("Вы есть в Питере?", "Да, у нас филиал в Санкт-Петербурге, выезд мастера бесплатный."),
        ("Отлично", "Оставьте номер — менеджер филиала перезвонит."),
    ),
    (
        ("здравствуйте", "Здравствуйте! Чем могу помочь?"),
        ("перезвоните мне пожалуйста", "Конечно! Оставьте номер телефона, перезвоним в течение 5 минут."),
    ),
)  # fmt: skip
_UNANSWERED_CHAT_LINES: Final = (
    ("Здравствуйте, вы работаете?",),
    ("Добрый вечер", "Перезвоните мне завтра утром"),
    ("Сколько стоит монтаж?",),
    ("Алло", "Есть кто-нибудь?"),
)


def _chat(rng: random.Random, start_at: int) -> GeneratedChat:
    """One session: optional greeting, then alternating client/operator messages; none answered after hours."""
    widget = _CHAT_WIDGETS.pick(rng)
    _, _, ip_prefixes = _GEO.pick(rng)
    client_id = (
        f"2|{10**9 + _below(rng, 9 * 10**9)}|{''.join(rng.choices('abcdefghijklmnopqrstuvwxyz', k=5))}"
        f"|{10**7 + _below(rng, 9 * 10**7)}|{rng.randbytes(3).hex()}"
    )
    staffed = next_opening(start_at) is None and rng.random() > 0.06
    operator = _choice(rng, widget.operators) if staffed else None
    lines = _chat_lines(rng, operator)
    messages: list[dict[str, Any]] = []
    times: list[int] = []
    at = start_at
    for from_client, text, pause in lines:
        at += pause
        messages.append({"from": from_client, "text": text, "time": format_ts(at)})
        times.append(at)
    session: ChatSession = {
        "startTime": format_ts(start_at),
        "clientId": client_id,
        "operator": operator,
        "ip": _ip(rng, ip_prefixes),
        "messages": messages,
    }
    return GeneratedChat(widget.id, start_at, times, session)


def _chat_lines(rng: random.Random, operator: str | None) -> list[tuple[bool, str, int]]:
    """(from client, text, seconds since the previous message) for one session."""
    if operator is None:
        lines = _choice(rng, _UNANSWERED_CHAT_LINES)
        return [(True, text, 0 if n == 0 else 15 + int(90 * rng.random())) for n, text in enumerate(lines)]
    result: list[tuple[bool, str, int]] = []
    if rng.random() < 0.35:
        result.append((False, f"Здравствуйте! Меня зовут {operator.split()[0]}. Чем могу помочь?", 0))
    script = _choice(rng, _CHAT_SCRIPTS)
    for number, (client_text, operator_text) in enumerate(script[: 1 + int(len(script) * rng.random())]):
        typing = 0 if not result else 8 + int(112 * rng.random())
        result.append((True, client_text, typing))
        # The first answer takes seconds to minutes; later ones are quicker.
        if number == 0:
            wait = min(900, max(3, int(rng.lognormvariate(math.log(40), 1.0))))
        else:
            wait = 5 + int(55 * rng.random())
        result.append((False, operator_text, wait))
    return result
