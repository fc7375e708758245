# ruff: noqa: RUF001 - Russian labels are meant to be Cyrillic
"""Every dimension a breakdown can use, each declared once: its SQL, its name in both languages and, when the sidebar
filters by it, how (its place, its label, its URL parameter, its choices).

Everything else is derived from this table: the metrics' SQL and filters, `Filters.chosen`, the sidebar's
multiselects and the link's parameters, the Attribution page's choices, the report CLI's `--by` and filter options,
and the column headers and chart axis titles. Adding a dimension is adding one `Dimension(...)` below.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from dashboard.channels import CHANNELS, Fields, on_records, referrer_host, trim
from dashboard.errors import InvalidInput
from dashboard.i18n import language

NONE = "(none)"


def text(expr: str) -> str:
    """An empty or missing value is the group `(none)`."""
    return f"coalesce(nullif({trim(expr)}, ''), '{NONE}')"


@dataclass(frozen=True)
class Words:
    """One name in each language the dashboard speaks."""

    en: str
    ru: str

    def __call__(self, lang: str) -> str:
        """The name in `lang` ("ru", "ru-RU" → Russian; English otherwise)."""
        return self.ru if language(lang) == "ru" else self.en


@dataclass(frozen=True)
class Filter:
    """How the sidebar filters by a dimension: a multiselect kept in the link as `url_param` (the dimension's key
    unless given), offering `choices` (the values found in the data unless given)."""

    place: int  # its place among the sidebar's filters, first to last
    label: Words  # the multiselect's label
    url_param: str | None = None
    choices: tuple[str, ...] | None = None
    # The value over chat sessions `s` (their widget `w`), for a filter that applies to chats too.
    chat_sql: str | None = None


@dataclass(frozen=True)
class Dimension:
    """A way to group and filter records: `sql(fields)` is its value over a record whose fields `fields` names
    (`r.<field>` over `records r`, joined to its widget `w` and department `d`)."""

    key: str
    sql: Callable[[Fields], str]
    label: Words  # column header and chart axis title
    filter: Filter | None = None

    def over(self, fields: Fields = on_records) -> str:
        """The value's SQL over the records in `fields` (`records r` by default)."""
        return self.sql(fields)

    def filter_label(self, lang: str) -> str:
        """The label of its sidebar filter in `lang`."""
        return (self.filter.label if self.filter else self.label)(lang)

    @property
    def url_param(self) -> str:
        """The link's parameter of its filter."""
        return (self.filter.url_param if self.filter else None) or self.key

    def fields_read(self) -> list[str]:
        """The record fields its value reads, so a query can first count records by them (see Metrics.values)."""
        read: set[str] = set()

        def noting(name: str) -> str:
            read.add(name)
            return on_records(name)

        self.sql(noting)
        return sorted(read)


def _device(f: Fields) -> str:
    # Newton's codes: 0 is a desktop computer (the reference's Windows example); 1 and 2 as the widget reports them.
    return text(
        f"CASE {trim(f('userAgentDeviceType'))} WHEN '0' THEN 'desktop' WHEN '1' THEN 'mobile' WHEN '2' THEN 'tablet' "
        f"ELSE {f('userAgentDeviceType')} END"
    )


# The table. Its order is the order the Attribution page offers them in.
DIMENSIONS: dict[str, Dimension] = {
    d.key: d
    for d in (
        # Stored with each record when it is written (dashboard/channels.py's rules; dashboard/store/schema.py works
        # them out again for every record when they change): read, never worked out per question.
        Dimension("channel", lambda f: f("channel"), Words("Channel", "Канал"),
                  Filter(3, Words("Channels", "Каналы"), choices=CHANNELS)),
        Dimension("utm_source", lambda f: text(f("landingUtmSource")),
                  Words("Source (utm_source)", "Источник (utm_source)"),
                  Filter(4, Words("UTM source", "UTM source"))),
        Dimension("utm_medium", lambda f: text(f("landingUtmMedium")),
                  Words("Medium (utm_medium)", "Тип трафика (utm_medium)")),
        Dimension("utm_campaign", lambda f: text(f("landingUtmCampaign")),
                  Words("Campaign (utm_campaign)", "Кампания (utm_campaign)"),
                  Filter(5, Words("UTM campaign", "UTM campaign"))),
        Dimension("utm_term", lambda f: text(f("landingUtmTerm")),
                  Words("Keyword (utm_term)", "Ключевое слово (utm_term)")),
        Dimension("utm_content", lambda f: text(f("landingUtmContent")),
                  Words("Ad content (utm_content)", "Объявление (utm_content)")),
        Dimension("referrer_type", lambda f: text(f("landingReferrerType")), Words("Referrer type", "Тип перехода")),
        Dimension("referrer_host", lambda f: text(referrer_host(f)),
                  Words("Referring site", "Сайт, с которого перешли")),
        Dimension("landing_page", lambda f: text(f"regexp_replace({f('landingUrl')}, '[?#].*$', '')"),
                  Words("Landing page", "Страница входа")),
        Dimension("search_phrase", lambda f: text(f("landingSearchPhrase")), Words("Search phrase", "Поисковая фраза")),
        Dimension("openstat_service", lambda f: text(f("landingOpenstatService")),
                  Words("Ad service (openstat)", "Рекламная система (openstat)")),
        Dimension("openstat_campaign", lambda f: text(f("landingOpenstatCampaign")),
                  Words("Campaign (openstat)", "Кампания (openstat)")),
        Dimension("city", lambda f: text(f("ipCity")), Words("City", "Город")),
        Dimension("device_type", _device, Words("Device", "Устройство")),
        Dimension("browser", lambda f: text(f("userAgentBrowser")), Words("Browser", "Браузер")),
        Dimension("os", lambda f: text(f("userAgentOs")), Words("Operating system", "Операционная система")),
        # By name (its id when Newton no longer lists it); chat sessions belong to widgets too.
        Dimension("widget", lambda f: text(f"coalesce(w.name, {f('widgetId')})"), Words("Widget", "Виджет"),
                  Filter(1, Words("Widgets", "Виджеты"), chat_sql=text("coalesce(w.name, s.widget_id)"))),
        Dimension("department", lambda f: text(f"coalesce(d.name, {f('departmentId')})"), Words("Department", "Отдел"),
                  Filter(2, Words("Departments", "Отделы"))),
        Dimension("type", lambda f: text(f("type")), Words("Request type", "Тип заявки"),
                  Filter(6, Words("Type", "Тип"))),
        Dimension("call_status", lambda f: text(f("callStatus")), Words("Call status", "Статус звонка"),
                  Filter(7, Words("Call status", "Статус звонка"), url_param="status")),
    )
}  # fmt: skip


def check_dimension(name: str, field_name: str = "by") -> str:
    """A dimension's key, or a clear message listing the valid ones."""
    if name not in DIMENSIONS:
        raise InvalidInput({field_name: f"unknown dimension {name[:40]!r}; use one of: {', '.join(DIMENSIONS)}"})
    return name


def dimension(name: str, field_name: str = "by") -> Dimension:
    """The dimension called `name`, or a clear message listing the valid ones."""
    return DIMENSIONS[check_dimension(name, field_name)]


def filterable() -> list[Dimension]:
    """The dimensions the sidebar filters by, in its order."""
    return sorted((d for d in DIMENSIONS.values() if d.filter), key=lambda d: d.filter.place if d.filter else 0)


def label(name: str, lang: str) -> str:
    """A dimension's name in `lang` for column headers and axis titles; an unknown one as it is."""
    found = DIMENSIONS.get(name)
    return found.label(lang) if found else name


class Chosen(Mapping[str, tuple[str, ...]]):
    """The values picked for each dimension (an empty pick means "all" and is left out). Hashable and equal by
    content, since filters are part of every kept answer's key."""

    __slots__ = ("_picked",)

    def __init__(self, picked: Mapping[str, Sequence[str]] | None = None) -> None:
        for name, values in (picked or {}).items():
            check_dimension(name, "filter")
            if isinstance(values, str):  # a lone string would be taken letter by letter
                raise TypeError(f"the values of {name!r} must be a sequence of strings, not one string")
        self._picked = tuple(sorted((name, tuple(values)) for name, values in (picked or {}).items() if values))

    def __getitem__(self, name: str) -> tuple[str, ...]:
        for key, values in self._picked:
            if key == name:
                return values
        raise KeyError(name)

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._picked)

    def __len__(self) -> int:
        return len(self._picked)

    def __hash__(self) -> int:
        return hash(self._picked)

    def __eq__(self, other: object) -> bool:
        return dict(self._picked) == dict(other) if isinstance(other, Mapping) else NotImplemented

    def __repr__(self) -> str:
        return f"Chosen({dict(self._picked)!r})"
