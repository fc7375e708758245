"""The one place that knows the dashboard's time zone: Newton speaks UTC, marketers think in local days.

Every local day, hour and weekday comes from one source: Python's zoneinfo reading the rules of the `tzdata`
package (a dependency, so every machine has the same rules whatever its operating system ships). DuckDB gets UTC
bounds only, and for a local time per record a small table of the zone's UTC offsets (`OFFSETS_CTE`): its own
time zone support (ICU) has rules of its own, and once counted a day of `America/Havana` an hour off.
"""

from __future__ import annotations

import functools
import importlib.resources
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

from dashboard.api.models import EARLIEST_TIME, LATEST_TIME
from dashboard.errors import ConfigError
from dashboard.i18n import Problem

DEFAULT_TIMEZONE = "Europe/Moscow"

# No zone's offset changes and changes back within a week after 1900 (the shortest such spell, in tzdata 2025-2026,
# lasts 167 hours), so looking every two days finds every change; each is then placed to the second.
_STEP = timedelta(days=2)

# The zone's offsets as a table for SQL: `utc_start` (naive UTC) and `seconds`, each offset holding until the next
# start. Join it with `ASOF LEFT JOIN zone_offsets o ON <utc column> >= o.utc_start`; the local time is then
# `<utc column> + to_seconds(o.seconds)`. Its parameters come from `offsets_params`.
OFFSETS_CTE = "zone_offsets AS (SELECT unnest($zone_starts) AS utc_start, unnest($zone_seconds) AS seconds)"


def zone_names() -> frozenset[str]:
    """Every zone the `tzdata` package knows."""
    return _zone_names()


@functools.cache
def _zone_names() -> frozenset[str]:
    return frozenset(importlib.resources.files("tzdata").joinpath("zones").read_text(encoding="utf-8").split())


def zone_named(name: str, setting: str = "tz") -> ZoneInfo:
    """The zone `name` with the `tzdata` package's rules (one object per name); an unknown name is a ConfigError
    naming `setting`, where the name came from."""
    if name not in _zone_names():
        raise ConfigError(setting, Problem("unknown_zone", name=repr(name[:60])))
    return _zone_rules(name)


@functools.cache
def _zone_rules(name: str) -> ZoneInfo:
    with importlib.resources.files("tzdata.zoneinfo").joinpath(*name.split("/")).open("rb") as rules:
        return ZoneInfo.from_file(rules, key=name)


def parse_local_date(field: str, value: str) -> date:
    """A `YYYY-MM-DD` typed by a person."""
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise ConfigError(field, Problem("date_format")) from None
    if not 2000 <= day.year <= 2100:
        raise ConfigError(field, Problem("date_range", first=2000, last=2100))
    return day


def local_midnight_utc(day: date, zone: ZoneInfo) -> datetime:
    """The naive UTC instant at which local `day` begins in `zone` (at a skipped midnight: when the day starts)."""
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC).replace(tzinfo=None)


def local_days_utc(first: date | None, last: date | None, zone: ZoneInfo) -> tuple[datetime | None, datetime | None]:
    """Local days `first`..`last` inclusive as a half-open naive-UTC range; None leaves that side open."""
    if first and last and last < first:
        raise ConfigError("to", Problem("before_from"))
    start = local_midnight_utc(first, zone) if first else None
    end = local_midnight_utc(last + timedelta(days=1), zone) if last else None
    return start, end


def local_time(moment: datetime, zone: ZoneInfo) -> datetime:
    """The naive local wall-clock time of the naive UTC `moment`."""
    return moment + _offset(zone, moment)


def _offset(zone: ZoneInfo, moment: datetime) -> timedelta:
    offset = zone.utcoffset(moment.replace(tzinfo=UTC).astimezone(zone))
    assert offset is not None  # a ZoneInfo always has one  # noqa: S101
    return offset


def utc_offsets(zone: ZoneInfo, start: datetime | None, end: datetime | None) -> tuple[tuple[datetime, int], ...]:
    """The zone's UTC offsets from naive-UTC `start` to `end`, as (utc_start, seconds), each holding until the next.

    The first starts at `start`; None means the first (or last) time a record can have.
    """
    start = max(start or EARLIEST_TIME, datetime(1900, 1, 1)).replace(microsecond=0)  # changes fall on whole seconds
    end = min(max(end or LATEST_TIME, start), datetime(2200, 1, 1))
    return _utc_offsets(zone, start, end)


@functools.lru_cache(maxsize=512)
def _utc_offsets(zone: ZoneInfo, start: datetime, end: datetime) -> tuple[tuple[datetime, int], ...]:
    offsets = [(start, _offset(zone, start))]
    moment = start
    while moment < end:
        following = min(moment + _STEP, end)
        while _offset(zone, following) != offsets[-1][1]:  # one change or more in (moment, following]
            change = _first_change(zone, max(moment, offsets[-1][0]), following)
            offsets.append((change, _offset(zone, change)))
        moment = following
    return tuple((begins, int(offset.total_seconds())) for begins, offset in offsets)


def _first_change(zone: ZoneInfo, before: datetime, after: datetime) -> datetime:
    """The first whole second in (before, after] whose offset differs from the one at `before` (tzdata's changes
    fall on whole seconds)."""
    offset = _offset(zone, before)
    low, high = 0, int((after - before).total_seconds())  # seconds after `before`: same offset at low, not at high
    while high - low > 1:
        middle = (low + high) // 2
        if _offset(zone, before + timedelta(seconds=middle)) == offset:
            low = middle
        else:
            high = middle
    return before + timedelta(seconds=high)


def offsets_params(zone: ZoneInfo, start: datetime | None, end: datetime | None) -> dict[str, Any]:
    """The parameters of `OFFSETS_CTE` for records from `start` to `end` (naive UTC; None: any)."""
    offsets = utc_offsets(zone, start, end)
    return {"zone_starts": [begins for begins, _ in offsets], "zone_seconds": [seconds for _, seconds in offsets]}


# Up to this many offsets over a span, a CASE per row gives the local time; beyond, the join of `OFFSETS_CTE`.
# Most spans have one offset (Moscow has had one since 2014) or two, and a join per row costs several times more.
CASE_LIMIT = 16


@dataclass(frozen=True)
class LocalTimeSql:
    """SQL that turns naive-UTC `column` into local wall-clock time with the zone's offsets (never DuckDB's own):
    `expression` is the local time; `with_` (for a WITH clause) and `join` (after FROM) are empty unless the span
    holds more than CASE_LIMIT offsets."""

    expression: str
    with_: str
    join: str
    params: dict[str, Any]


def local_time_sql(column: str, zone: ZoneInfo, start: datetime | None, end: datetime | None) -> LocalTimeSql:
    """The local time of `column` for rows from `start` to `end` (naive UTC; None: any)."""
    offsets = utc_offsets(zone, start, end)
    if len(offsets) > CASE_LIMIT:
        join = f"ASOF LEFT JOIN zone_offsets o ON {column} >= o.utc_start"
        return LocalTimeSql(f"{column} + to_seconds(o.seconds)", OFFSETS_CTE, join, offsets_params(zone, start, end))
    params: dict[str, Any] = {f"zone_seconds_{i}": seconds for i, (_, seconds) in enumerate(offsets)}
    params |= {f"zone_start_{i}": begins for i, (begins, _) in enumerate(offsets) if i}
    later = " ".join(f"WHEN {column} >= $zone_start_{i} THEN $zone_seconds_{i}" for i in range(len(offsets) - 1, 0, -1))
    seconds = f"CASE {later} ELSE $zone_seconds_0 END" if later else "$zone_seconds_0"
    return LocalTimeSql(f"{column} + to_seconds({seconds})", "", "", params)


def local_times(moments: pl.Series, zone: ZoneInfo) -> pl.Series:
    """The naive local wall-clock times of a series of naive UTC datetimes (nulls stay null)."""
    known = moments.drop_nulls()
    if known.is_empty():
        return moments
    offsets = utc_offsets(zone, known.min(), known.max())  # type: ignore[arg-type]
    starts = pl.Series([begins for begins, _ in offsets], dtype=moments.dtype)
    seconds = pl.Series([seconds for _, seconds in offsets], dtype=pl.Int64)
    index = starts.search_sorted(moments, side="right").cast(pl.Int64) - 1
    shift = seconds.gather(index.clip(0, len(seconds) - 1))
    frame = pl.DataFrame({"moment": moments, "shift": shift})
    return frame.select((pl.col("moment") + pl.duration(seconds=pl.col("shift"))).alias(moments.name)).to_series()
