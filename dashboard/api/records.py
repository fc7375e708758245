"""Callback records as one typed polars frame: the shape everything downstream (sync, cache, metrics) reads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import polars as pl

from dashboard.api.models import EARLIEST_TIME, LATEST_TIME, PartlyUnreadable, Unreadable, as_sent, text_or_none
from dashboard.errors import UnexpectedAnswer

# Newton's own way of writing a time (UTC): what it sends, what filters send back, what exports write.
NEWTON_TIME = "%Y-%m-%d %H:%M:%S"
TIMESTAMP_FIELDS = ("requestDate", "callDate", "delayDate")
INTEGER_FIELDS = (
    "callDurationOperator",
    "callDurationClient",
    "callAttempt",
    "callSequenceNumber",
    "leadPrice",
)
TEXT_FIELDS = (
    "id", "widgetId", "departmentId", "requestStatus", "callStatus", "conversationFile", "clientPhone",
    "callbackPhone", "referrerHost", "referrerPath", "landingReferrerType", "landingReferrer", "landingUrl",
    "landingSearchPhrase", "landingUtmSource", "landingUtmMedium", "landingUtmTerm", "landingUtmContent",
    "landingUtmCampaign", "landingOpenstatService", "landingOpenstatCampaign", "landingOpenstatAd",
    "landingOpenstatSource", "userAgent", "userAgentBrowser", "userAgentOs", "userAgentDevice",
    "userAgentDeviceType", "ip", "ipCountry", "ipCity", "comment", "type",
)  # fmt: skip
# The API's field order, which exports keep.
API_FIELDS = (
    "id", "widgetId", "departmentId", "requestDate", "requestStatus", "callStatus", "callDate",
    "callDurationOperator", "callDurationClient", "delayDate", "conversationFile", "callAttempt",
    "callSequenceNumber", "clientPhone", "callbackPhone", "referrerHost", "referrerPath", "landingReferrerType",
    "landingReferrer", "landingUrl", "landingSearchPhrase", "landingUtmSource", "landingUtmMedium",
    "landingUtmTerm", "landingUtmContent", "landingUtmCampaign", "landingOpenstatService",
    "landingOpenstatCampaign", "landingOpenstatAd", "landingOpenstatSource", "userAgent", "userAgentBrowser",
    "userAgentOs", "userAgentDevice", "userAgentDeviceType", "ip", "ipCountry", "ipCity", "comment",
    "leadPrice", "type",
)  # fmt: skip
KNOWN_FIELDS = frozenset(API_FIELDS)
# Larger numbers are not a price or a duration but a mistake; kept as sent in `unparsed`. The bound keeps the sum
# of millions of prices inside a 64-bit integer, which DuckDB, in some plans, would otherwise silently wrap.
MAX_INTEGER = 10**12
# Keys Newton sends that we do not know yet, as a JSON object; kept, never dropped.
EXTRA = "extra"
# Values of typed fields that could not be read as their type (e.g. a price "12,5"), as sent; kept, never dropped.
UNPARSED = "unparsed"

RECORD_SCHEMA: dict[str, pl.DataType] = {
    **{name: pl.String() for name in API_FIELDS},
    **{name: pl.Datetime("us") for name in TIMESTAMP_FIELDS},
    **{name: pl.Int64() for name in INTEGER_FIELDS},
    EXTRA: pl.String(),
    UNPARSED: pl.String(),
}
_RAW_SCHEMA = {name: pl.String() for name in API_FIELDS}


def empty_records() -> pl.DataFrame:
    """A frame with no records and the full schema."""
    return pl.DataFrame(schema=RECORD_SCHEMA)


@dataclass(frozen=True)
class UntypedRecords:
    """The records of one `callback.GetRecords` answer, checked and held as the text Newton sent, not yet typed:
    typing is a fixed cost per frame, so a sync types the answers of a whole window at once (`typed_records`)."""

    raw: pl.DataFrame  # every known field as text
    extra: pl.Series  # unknown keys, as JSON
    # Per record, the known fields that held no text, as sent; empty (not a row each) when the answer had none.
    unreadable: Sequence[dict[str, str]] = ()

    @property
    def height(self) -> int:
        """How many records the answer held."""
        return self.raw.height


def parse_records(answer: Mapping[str, Any]) -> pl.DataFrame:
    """The records of a `callback.GetRecords` answer, typed; timestamps are naive UTC."""
    return typed_records([read_records(answer)])


def read_records(answer: Mapping[str, Any]) -> UntypedRecords:
    """The records of a `callback.GetRecords` answer, checked (an answer that holds no list of records raises
    UnexpectedAnswer) but not typed yet; `typed_records` types them."""
    if "records" not in answer:
        raise UnexpectedAnswer("Newton's answer to callback.GetRecords has no `records`")
    items = answer["records"]
    if items is None or items == "" or items == {}:
        items = []
    if isinstance(items, Mapping):
        items = list(items.values())  # records keyed by id
    if not isinstance(items, list):
        raise UnexpectedAnswer("Newton's answer to callback.GetRecords has `records` that is not a list")
    for position, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise UnexpectedAnswer(f"Newton's answer to callback.GetRecords has a non-object at records[{position}]")
    unreadable: list[dict[str, str]] = []
    if isinstance(answer, PartlyUnreadable):  # rare: only then look at every value
        items, unreadable = _set_unreadable_aside(items)
    return UntypedRecords(_raw_text_frame(items), _extra_column(items), unreadable if any(unreadable) else ())


def typed_records(parts: Sequence[UntypedRecords]) -> pl.DataFrame:
    """The records of several answers, in order, typed in one pass: each record exactly as `parse_records` types it
    alone (every value is read on its own; one that does not read is kept in `unparsed`, never the record)."""
    parts = [part for part in parts if part.height]
    if not parts:
        return empty_records()
    raw = pl.concat([part.raw for part in parts]).rechunk()
    typed = _typed(raw, pl.concat([part.extra for part in parts]).rechunk())
    if any(part.unreadable for part in parts):
        unreadable = [bad for part in parts for bad in (part.unreadable or ({},) * part.height)]
        typed = typed.with_columns(_with_unreadable(typed[UNPARSED], unreadable))
    return typed


def _set_unreadable_aside(items: Sequence[Mapping[str, Any]]) -> tuple[list[Mapping[str, Any]], list[dict[str, str]]]:
    """The records without their unreadable fields (they become empty), and those fields as Newton sent them;
    unknown keys stay, for `extra`, which keeps them as sent."""
    kept: list[Mapping[str, Any]] = []
    aside: list[dict[str, str]] = []
    for item in items:
        bad = {key: value.sent for key, value in item.items() if isinstance(value, Unreadable) and key in KNOWN_FIELDS}
        kept.append({key: value for key, value in item.items() if key not in bad} if bad else item)
        aside.append(bad)
    return kept, aside


def _with_unreadable(unparsed: pl.Series, unreadable: Sequence[dict[str, str]]) -> pl.Series:
    """`unparsed` with each record's unreadable fields added, as sent."""
    values = unparsed.to_list()
    for row, bad in enumerate(unreadable):
        if bad:
            before = orjson.loads(values[row]) if values[row] else {}
            values[row] = orjson.dumps({**before, **bad}, option=orjson.OPT_SORT_KEYS).decode()
    return pl.Series(UNPARSED, values, dtype=pl.String)


def _raw_text_frame(items: Sequence[Mapping[str, Any]]) -> pl.DataFrame:
    """Every known field as text; polars does the common all-strings case in native code."""
    try:
        return pl.DataFrame(items, schema=_RAW_SCHEMA, strict=False)
    except (pl.exceptions.PolarsError, TypeError, ValueError):
        # Nested values or mixed types polars will not coerce: normalise in Python, slower but exact.
        columns = {name: [text_or_none(item.get(name)) for item in items] for name in API_FIELDS}
        return pl.DataFrame(columns, schema=_RAW_SCHEMA)


def _extra_column(items: Sequence[Mapping[str, Any]]) -> pl.Series:
    # A subset test per record runs in C; the slow part only for the records with a key we do not know.
    values: list[str | None] = [None] * len(items)
    for row, item in enumerate(items):
        if not item.keys() <= KNOWN_FIELDS:
            extra = {key: item[key] for key in item.keys() - KNOWN_FIELDS}
            values[row] = orjson.dumps(extra, default=as_sent, option=orjson.OPT_SORT_KEYS).decode()
    return pl.Series(EXTRA, values, dtype=pl.String)


def _timestamp(name: str, *, other_forms: bool) -> pl.Expr:
    value = pl.col(name).str.strip_chars()
    read = value.str.strptime(pl.Datetime("us"), NEWTON_TIME, strict=False)
    if other_forms:
        read = pl.coalesce(
            read,
            value.str.strptime(pl.Datetime("us"), "%Y-%m-%dT%H:%M:%S", strict=False),
            value.str.strptime(pl.Date, "%Y-%m-%d", strict=False).cast(pl.Datetime("us")),
        )
    # Outside the bounds (0000-01-01, 9999-12-31, years polars reads from "15-09-01" or "+12015-…"): not read.
    plausible = read.is_between(pl.lit(EARLIEST_TIME), pl.lit(LATEST_TIME), closed="left")
    return pl.when(plausible).then(read).otherwise(None).alias(name)


def _integer(name: str) -> pl.Expr:
    # "93", "93.0" and 93 all mean 93; "93.5" is not a whole number and is kept aside as unparsed.
    number = pl.col(name).str.strip_chars().cast(pl.Float64, strict=False)
    whole = number.is_finite() & (number == number.floor()) & (number.abs() <= MAX_INTEGER)
    return pl.when(whole).then(number.cast(pl.Int64)).otherwise(None).alias(name)


_TYPED_FIELDS = (*TIMESTAMP_FIELDS, *INTEGER_FIELDS)


def _typed(raw: pl.DataFrame, extra: pl.Series) -> pl.DataFrame:
    """Cast the typed fields in one pass, then keep aside (in `unparsed`) any non-empty value that did not read."""
    typed = _cast(raw, other_forms=False).with_columns(extra)
    lost = _lost(raw, typed)
    # Newton's own timestamp format nearly always reads; the slower other forms only where it did not.
    retry = [name for name in TIMESTAMP_FIELDS if lost[name].any()]
    if retry:
        typed = typed.with_columns(_cast(raw.select(retry), other_forms=True))
        lost = _lost(raw, typed)
    return typed.with_columns(_unparsed(raw, lost)).select(list(RECORD_SCHEMA))


def _cast(raw: pl.DataFrame, *, other_forms: bool) -> pl.DataFrame:
    return raw.with_columns(
        *(_timestamp(name, other_forms=other_forms) for name in TIMESTAMP_FIELDS if name in raw.columns),
        *(_integer(name) for name in INTEGER_FIELDS if name in raw.columns),
    )


def _lost(raw: pl.DataFrame, typed: pl.DataFrame) -> pl.DataFrame:
    """Per typed field, where it had a non-empty value that could not be read as its type."""
    present = raw.select(pl.col(_TYPED_FIELDS).str.strip_chars().str.len_chars().fill_null(0).gt(0))
    missing = typed.select(pl.col(_TYPED_FIELDS).is_null())
    return present.select(pl.col(name) & missing[name] for name in _TYPED_FIELDS)


def _unparsed(raw: pl.DataFrame, lost: pl.DataFrame) -> pl.Series:
    """A JSON object of the typed fields whose non-empty value could not be read, per record (usually none)."""
    values: list[str | None] = [None] * raw.height
    rows = lost.select(pl.any_horizontal(pl.all())).to_series().arg_true().to_list()
    for row in rows:
        kept = {name: raw[name][row] for name in _TYPED_FIELDS if lost[name][row]}
        values[row] = orjson.dumps(kept, option=orjson.OPT_SORT_KEYS).decode()
    return pl.Series(UNPARSED, values, dtype=pl.String)
