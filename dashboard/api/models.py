"""Typed shapes of what Newton returns, parsed liberally: strings, numbers, "", null, missing and extra keys."""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, overload

import orjson
import polars as pl

from dashboard.errors import UnexpectedAnswer

# Newton's times fall well inside these bounds. A time outside them (a placeholder such as 0000-01-01 or
# 9999-12-31, a year 12015) is a mistake: read, it would overflow when shifted to local time or handed to Python.
EARLIEST_TIME = datetime(2000, 1, 1)
LATEST_TIME = datetime(2100, 1, 1)


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class Unreadable:
    """A JSON string that is no text: it holds a lone surrogate (`"\\udc80"`), which JSON's syntax allows but no
    UTF-8 text, database or browser can hold. `sent` is it as Newton wrote it (JSON escapes, without the quotes);
    `readable` is it with each lone surrogate replaced by U+FFFD. (A plain class, not a dataclass, which orjson
    would write as an object: it goes through `as_sent`.)"""

    __slots__ = ("readable", "sent")

    def __init__(self, text: str) -> None:
        self.sent = json.dumps(text)[1:-1]
        self.readable = _LONE_SURROGATE.sub("\ufffd", text)

    def __repr__(self) -> str:
        return f"Unreadable({self.sent!r})"


class PartlyUnreadable(dict[str, Any]):
    """An answer (an object) that holds `Unreadable` strings somewhere: the parsers look for them only then."""


def parse_json(content: bytes) -> Any:
    """An answer's JSON. Only orjson's refusal costs the slower way: Python's parser, which reads a lone surrogate,
    then each such string made `Unreadable`, so one bad value costs that value, not the whole answer.
    Raises ValueError when it is not JSON at all."""
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError as refusal:
        try:
            answer = json.loads(content, parse_constant=_no_constant)
        except (ValueError, RecursionError):
            raise refusal from None
    found: list[bool] = []
    answer = _without_lone_surrogates(answer, found)
    return PartlyUnreadable(answer) if found and isinstance(answer, dict) else answer


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")  # NaN, Infinity: orjson refuses them too


def _without_lone_surrogates(value: Any, found: list[bool]) -> Any:
    if isinstance(value, str):
        if _LONE_SURROGATE.search(value) is None:
            return value
        found.append(True)
        return Unreadable(value)
    if isinstance(value, list):
        return [_without_lone_surrogates(item, found) for item in value]
    if isinstance(value, dict):
        # A key cannot be an object: an unreadable key keeps its escaped form, which is text.
        return {
            (k if _LONE_SURROGATE.search(k) is None else Unreadable(k).sent): _without_lone_surrogates(v, found)
            for k, v in value.items()
        }
    return value


def as_sent(value: object) -> object:
    """orjson's `default`: an `Unreadable` string as Newton wrote it."""
    if isinstance(value, Unreadable):
        return value.sent
    raise TypeError(f"{type(value).__name__} is not JSON")


def text_or_none(value: object) -> str | None:
    """Any JSON scalar as the text Newton meant; nested values as compact JSON so nothing is lost. A string with a
    lone surrogate, which no text can hold, as its readable part (see `Unreadable`)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Unreadable):
        return value.readable
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
    return orjson.dumps(value, default=as_sent).decode()


def timestamp_or_none(value: object) -> datetime | None:
    """`YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS` (UTC, returned naive); anything else, "" included, is None."""
    text = (text_or_none(value) or "").strip()
    if len(text) not in (10, 19) or not text[:4].isdigit():
        return None
    try:
        # fromisoformat is C code, ~50 times faster than strptime: it matters for a million chat messages.
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if EARLIEST_TIME <= moment < LATEST_TIME else None


@dataclass(frozen=True)
class Department:
    """A branch of a widget, to which calls can be distributed."""

    id: str
    name: str


@dataclass(frozen=True)
class Widget:
    """A callback widget on a website."""

    id: str
    name: str
    departments: tuple[Department, ...]


@dataclass(frozen=True)
class ChatMessage:
    """One message; `from_client` is False for the operator."""

    from_client: bool
    text: str
    time: datetime | None


# The columns of a chat answer's messages, as `ChatMessages` holds them and the store writes them.
MESSAGE_SCHEMA: dict[str, pl.DataType] = {"from_client": pl.Boolean(), "text": pl.String(), "time": pl.Datetime("us")}


class ChatMessages(Sequence[ChatMessage]):
    """A session's messages held as columns: rows [start, start + length) of one answer's message frame, which the
    store writes without making a Python object per message. Reads as a sequence of `ChatMessage`, equal to the
    tuple of the same messages."""

    __slots__ = ("block", "length", "start")

    def __init__(self, block: pl.DataFrame, start: int, length: int) -> None:
        self.block = block
        self.start = start
        self.length = length

    def __len__(self) -> int:
        return self.length

    @overload
    def __getitem__(self, index: int) -> ChatMessage: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[ChatMessage, ...]: ...

    def __getitem__(self, index: int | slice) -> ChatMessage | tuple[ChatMessage, ...]:
        if isinstance(index, slice):
            return tuple(self)[index]
        if not -self.length <= index < self.length:
            raise IndexError("message index out of range")
        return ChatMessage(*self.block.row(self.start + index % self.length))

    def __iter__(self) -> Iterator[ChatMessage]:
        for row in self.block.slice(self.start, self.length).iter_rows():
            yield ChatMessage(*row)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return tuple(self) == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return repr(tuple(self))


@dataclass(frozen=True)
class ChatSession:
    """A chat, identified by (client_id, start_time) since Newton gives it no id."""

    client_id: str
    start_time: datetime | None
    operator: str | None
    ip: str | None
    messages: Sequence[ChatMessage]


def _objects(value: object, where: str) -> list[Mapping[str, Any]]:
    """A list of JSON objects, accepting the reference's single-object and empty shapes as well."""
    if value is None or value == "" or value == []:
        return []
    if isinstance(value, Mapping):
        # A single object (as the reference shows departments), or objects keyed by id.
        if all(isinstance(item, Mapping) for item in value.values()) and value:
            return list(value.values())
        return [value]
    if isinstance(value, list) and all(isinstance(item, Mapping) for item in value):
        return value
    raise UnexpectedAnswer(f"Newton's answer has an unexpected {where}: expected a list of objects")


def parse_widgets(answer: Mapping[str, Any]) -> list[Widget]:
    """Widgets with their departments from a `callback.GetWidgets` answer."""
    if "widgets" not in answer:
        raise UnexpectedAnswer("Newton's answer to callback.GetWidgets has no `widgets`")
    widgets = []
    for item in _objects(answer["widgets"], "`widgets`"):
        departments = tuple(
            Department(id=text_or_none(d.get("id")) or "", name=text_or_none(d.get("name")) or "")
            for d in _objects(item.get("departments"), "`departments`")
        )
        widgets.append(
            Widget(
                id=text_or_none(item.get("id")) or "",
                name=text_or_none(item.get("name")) or "",
                departments=departments,
            )
        )
    return widgets


def _from_client(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "client", "yes"}
    return bool(value)


ChatKey = tuple[str, datetime | None]


def parse_chats(answer: object, known: Collection[ChatKey] = ()) -> list[ChatSession]:
    """Chat sessions from a `chat.GetHistory` answer (a JSON array), leaving out those whose key is `known`.
    Each field is read for the whole answer at once (see `texts`, `moments`): a million messages make no objects."""
    if isinstance(answer, Mapping) and not answer:
        return []
    if isinstance(answer, Mapping) and not all(isinstance(v, Mapping) for v in answer.values()):
        # A single object is not a list of sessions: {"result": "ok"} must not become an empty session.
        raise UnexpectedAnswer("Newton's answer to chat.GetHistory is an object, not a list of chat sessions")
    items = _objects(answer, "chat history")
    client_ids = [text or "" for text in texts([item.get("clientId") for item in items]).to_list()]
    keys = list(zip(client_ids, moments([item.get("startTime") for item in items]).to_list(), strict=True))
    # Sessions already read from another answer: skip the costly part, their messages.
    wanted = [row for row, key in enumerate(keys) if key not in known] if known else range(len(items))
    said = [_messages(items[row].get("messages")) for row in wanted]
    flat = [message for messages in said for message in messages]
    block = pl.DataFrame(
        {
            "from_client": _flags([message.get("from") for message in flat]),
            "text": texts([message.get("text") for message in flat]).fill_null(""),
            "time": moments([message.get("time") for message in flat]),
        },
        schema=MESSAGE_SCHEMA,
    )
    operators = texts([items[row].get("operator") for row in wanted]).to_list()
    ips = texts([items[row].get("ip") for row in wanted]).to_list()
    sessions, start = [], 0
    for place, row in enumerate(wanted):
        length = len(said[place])
        messages = ChatMessages(block, start, length)
        sessions.append(ChatSession(keys[row][0], keys[row][1], operators[place], ips[place], messages))
        start += length
    return sessions


def _messages(value: object) -> list[Mapping[str, Any]]:
    # What orjson makes of Newton's usual list of message objects passes as it is; any other shape is checked.
    if type(value) is list and all(type(message) is dict for message in value):
        return value
    return _objects(value, "chat `messages`")


def texts(values: Sequence[object]) -> pl.Series:
    """`text_or_none` of each value, as a column: polars takes strings and nulls as they are; any other value sends
    the whole column through `text_or_none`."""
    try:
        return pl.Series(values, dtype=pl.String, strict=True)
    except (TypeError, ValueError, pl.exceptions.PolarsError):
        return pl.Series([text_or_none(value) for value in values], dtype=pl.String)


_NEWTON_MOMENT = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-2][0-9]:[0-5][0-9]:[0-5][0-9])?$"
# Below this many values a Python loop is cheaper than polars' fixed cost per expression (a day's small answer).
_COLUMN_PAYS_FROM = 1_000


def moments(values: Sequence[object]) -> pl.Series:
    """`timestamp_or_none` of each value, as a column. In a large answer Newton's own forms (`YYYY-MM-DD HH:MM:SS`,
    `YYYY-MM-DD`) are read by polars; every other value that is not null (spaces around, other forms, numbers,
    hostile text) goes through `timestamp_or_none` itself, so the column is exactly what it would give."""
    if len(values) < _COLUMN_PAYS_FROM:
        return pl.Series([timestamp_or_none(value) for value in values], dtype=pl.Datetime("us"))
    text = pl.col("text")
    newton_form = text.str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S", strict=False).fill_null(
        text.str.strptime(pl.Date, "%Y-%m-%d", strict=False).cast(pl.Datetime("us"))
    )
    plausible = text.str.contains(_NEWTON_MOMENT) & newton_form.is_between(EARLIEST_TIME, LATEST_TIME, closed="left")
    read = pl.when(plausible).then(newton_form)
    frame = pl.DataFrame({"text": texts(values)}).select(read.alias("read"), (read.is_null() & text.is_not_null()))
    # Rare: a value that is there but not in Newton's form, or out of bounds; Python decides, as before.
    others = frame.to_series(1).arg_true().to_list()  # text is null only where the value is
    if others:
        fallback = pl.Series([timestamp_or_none(values[row]) for row in others], dtype=pl.Datetime("us"))
        return frame.to_series(0).scatter(others, fallback)
    return frame.to_series(0)


def _flags(values: Sequence[object]) -> pl.Series:
    """`_from_client` of each value, worked out once per distinct value (a chat has few: "client", "operator")."""
    try:
        known = {value: _from_client(value) for value in set(values)}
    except TypeError:  # an unhashable value (a list, an object): each on its own
        return pl.Series([_from_client(value) for value in values], dtype=pl.Boolean)
    return pl.Series([known[value] for value in values], dtype=pl.Boolean)
