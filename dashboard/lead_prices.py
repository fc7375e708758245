"""Bulk lead prices: a CSV read and checked row by row, the ready rows sent to Newton, and the write history.

A file is `id,price` (one `callback.SetLeadPrice` per row) or `phone,price[,date]` (one `callback.CreateCrmLead`
per row). Reading never fails on what a file holds: it gives an `Upload` whose rows each say whether they can be
sent, or raises `UploadError` with a code the page turns into a message. Cells are kept as text exactly as the file
has them; only checked values are ever sent.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

import polars as pl

from dashboard import i18n, timezones, writes
from dashboard.api import validate
from dashboard.checked import CheckedRow
from dashboard.errors import InvalidInput, UploadError
from dashboard.export import starts_like_formula, to_csv_bytes
from dashboard.store import AnyStore, LoggedWrite, logs
from dashboard.writes import Writer

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 10_000
SET_PRICE = "callback.SetLeadPrice"
CRM_LEAD = "callback.CreateCrmLead"
# The header (lower-cased, trimmed) decides what a file is; `date` is optional for deals.
KINDS: dict[frozenset[str], str] = {
    frozenset({"id", "price"}): SET_PRICE,
    frozenset({"phone", "price"}): CRM_LEAD,
    frozenset({"phone", "price", "date"}): CRM_LEAD,
}
EXPECTED_COLUMNS = "id,price | phone,price | phone,price,date"
# Tried in this order: UTF-8 (a BOM is dropped), then the code page Russian Excel saves "CSV" in.
ENCODINGS = ("utf-8-sig", "cp1251")
# 'sending': another run or process is sending it now, or was cut short; 'waiting': not sent yet.
OUTCOMES = ("ok", "refused", "failed", "unknown", "not_sent", "sending", "waiting")


@dataclass(frozen=True)
class Row(CheckedRow):
    """One data row of the file, as written, and what is wrong with it (nothing: it is ready to send)."""

    row: int  # the spreadsheet row number: the header is row 1
    target: str  # the call id or the phone, as in the file
    price: str
    date: str
    problems: Mapping[str, str] = field(default_factory=dict)  # field → message
    params: Mapping[str, str] = field(default_factory=dict)  # the checked values sent, when ready


@dataclass(frozen=True)
class Upload:
    """A file read and checked: its kind (the Newton action) and its rows in file order."""

    action: str
    rows: tuple[Row, ...]
    digest: str  # identifies the file's bytes, so the same file is not applied twice by accident

    @property
    def target_field(self) -> str:
        """`id` or `phone`: what each row points at."""
        return "id" if self.action == SET_PRICE else "phone"

    @property
    def ready(self) -> list[Row]:
        """The rows that will be sent."""
        return [r for r in self.rows if r.ready]

    @property
    def bad(self) -> list[Row]:
        """The rows that will not be sent."""
        return [r for r in self.rows if not r.ready]


@dataclass(frozen=True)
class Result:
    """How sending one row ended: `outcome` is one of OUTCOMES; `message` is Newton's (or the client's) words."""

    row: Row
    outcome: str
    message: str | None = None

    @property
    def sent(self) -> bool:
        """Whether Newton accepted it."""
        return self.outcome == "ok"


# Reading ----------------------------------------------------------------------------------------------------


def parse(data: bytes) -> Upload:
    """Read and check an uploaded CSV; raises only `UploadError`."""
    if len(data) > MAX_BYTES:
        raise UploadError("too_large", limit_mb=MAX_BYTES // (1024 * 1024))
    text = decode_text(data)
    if not text.strip():
        raise UploadError("empty")
    try:
        table = list(csv.reader(io.StringIO(text, newline=""), delimiter=_separator(text), strict=True))
    except csv.Error:
        raise UploadError("unreadable") from None
    lines = [(number, cells) for number, cells in enumerate(table, start=1) if any(c.strip() for c in cells)]
    if not lines:
        raise UploadError("empty")
    (_, header), body = lines[0], lines[1:]
    columns = [c.strip().lower() for c in header]
    while columns and not columns[-1]:  # Excel writes `id;price;;` for a sheet with empty columns
        columns.pop()
    action = KINDS.get(frozenset(columns))
    if action is None or len(set(columns)) != len(columns):
        raise UploadError("columns", expected=EXPECTED_COLUMNS, found=",".join(columns)[:200])
    if not body:
        raise UploadError("no_rows")
    if len(body) > MAX_ROWS:
        raise UploadError("too_many_rows", limit=MAX_ROWS, rows=len(body))
    rows = [_check(action, columns, number, cells) for number, cells in body]
    return Upload(action, tuple(_mark_duplicates(action, rows)), hashlib.sha256(data).hexdigest())


def decode_text(data: bytes) -> str:
    """An uploaded file's text: UTF-8 (a BOM is dropped) or Windows-1251; raises UploadError('encoding')."""
    if b"\x00" in data:  # no text CSV holds NUL; UTF-16 ("Unicode text" from Excel) and .xls/.xlsx files do
        raise UploadError("encoding")
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UploadError("encoding")


def _separator(text: str) -> str:
    """`;` when the first line has more of them than commas (what Excel writes where `,` is the decimal mark)."""
    first = text.lstrip("\r\n").split("\n", 1)[0]
    return ";" if first.count(";") > first.count(",") else ","


def _check(action: str, columns: list[str], number: int, cells: list[str]) -> Row:
    values = {name: cells[i].strip() if i < len(cells) else "" for i, name in enumerate(columns)}
    problems: dict[str, str] = {}
    if any(c.strip() for c in cells[len(columns) :]):
        problems["row"] = i18n.Problem("cell_count", cells=len(cells), header=len(columns))
    checks = validate.Params()
    if action == SET_PRICE:
        checks.add("id", _call_id, values["id"])
    else:
        checks.add("phone", validate.phone, values["phone"])
        checks.add_optional("date", validate.date, values.get("date", ""))
    checks.add("price", validate.price, values["price"])
    params: dict[str, str] = {}
    try:
        params = checks.result()
    except InvalidInput as error:
        problems.update(error.fields)
    target = values["id"] if action == SET_PRICE else values["phone"]
    return Row(number, target, values["price"], values.get("date", ""), problems, {} if problems else params)


def _call_id(name: str, value: object) -> str:
    text = validate.identifier(name, value)
    if starts_like_formula(text):  # `=1+1`, `@SUM(…)`, `-5`: a formula or a number, never one of Newton's ids
        raise InvalidInput({name: i18n.Problem("formula_not_id")})
    return text


def _mark_duplicates(action: str, rows: list[Row]) -> list[Row]:
    """A call id (for deals: the same phone, price and date) is sent once; an id with two prices is not sent."""
    groups: dict[tuple[str, ...], list[Row]] = {}
    for row in rows:
        if row.ready:
            groups.setdefault(_key(action, row), []).append(row)
    name = "id" if action == SET_PRICE else "phone"
    marked: dict[int, Row] = {}
    for group in groups.values():
        if len({r.params["price"] for r in group}) > 1:
            numbers = ", ".join(str(r.row) for r in group)
            for row in group:
                marked[id(row)] = _with_problem(row, name, i18n.Problem("different_prices", rows=numbers))
        else:
            for row in group[1:]:
                marked[id(row)] = _with_problem(row, name, i18n.Problem("repeats_row", row=group[0].row))
    return [marked.get(id(row), row) for row in rows]


def _key(action: str, row: Row) -> tuple[str, ...]:
    if action == SET_PRICE:
        return (row.params["id"],)
    return (row.params["phone"], row.params["price"], row.params.get("date", ""))


def _with_problem(row: Row, name: str, message: str) -> Row:
    return Row(row.row, row.target, row.price, row.date, {name: message}, {})


# Sending ----------------------------------------------------------------------------------------------------


def progress(store: AnyStore, account: str, upload: Upload, now: datetime) -> list[Result]:
    """Where sending the upload's ready rows stands, read from the write log: per row, what the write log says
    happened to the same write within the last `writes.CLAIM_WINDOW`, or 'waiting'.

    An apply cut short (a second click, a reload) is then resumed from here: only the waiting rows are sent.
    """
    keys = {row.row: writes.claim_key(upload.action, account, row.params) for row in upload.ready}
    logged = store.read(logs.claimed_writes, account, list(keys.values()), now - writes.CLAIM_WINDOW)
    return [_standing(upload.action, row, logged.get(keys[row.row], []), now) for row in upload.ready]


def _standing(action: str, row: Row, logged: list[LoggedWrite], now: datetime) -> Result:
    if action == SET_PRICE:  # keyed by the call: only its newest price counts, and only if it is this row's
        newest = logged[0] if logged else None
        if newest is None or str(newest.params.get("price")) != row.params["price"]:
            return Result(row, "waiting")
        return Result(row, writes.state(newest, now), newest.message)
    deciding = writes.deciding(logged, now)
    if deciding is None:
        return Result(row, "waiting")
    return Result(row, writes.state(deciding, now), deciding.message)


def apply(writer: Writer, upload: Upload) -> Iterator[Result]:
    """Send each ready row that is still waiting through `writer`, one result per row as it is known; a row the
    write log shows as sent (or tried) in the last minutes is reported as it stands, not sent again; one row's
    failure stops nothing."""
    for standing in progress(writer.store, writer.account, upload, writer.clock()):
        if standing.outcome != "waiting":
            yield standing
            continue
        row = standing.row
        if upload.action == SET_PRICE:
            send = functools.partial(writer.set_lead_price, row.params["id"], row.params["price"])
        else:
            send = functools.partial(
                writer.create_crm_lead, row.params["phone"], row.params["price"], row.params.get("date")
            )
        sent = writes.attempt(writer, send)
        yield Result(row, sent.outcome, sent.message)


def results_csv(action: str, results: list[Result]) -> bytes:
    """The per-row results as the CSV a person downloads (UTF-8 with a BOM, formulas neutralised)."""
    return to_csv_bytes(results_frame(action, results))


def results_frame(action: str, results: list[Result]) -> pl.DataFrame:
    """The per-row results: the file's row number and cells as written, the outcome's code and Newton's words."""
    target = "id" if action == SET_PRICE else "phone"
    frame = pl.DataFrame(
        {
            "row": [r.row.row for r in results],
            target: [r.row.target for r in results],
            "price": [r.row.price for r in results],
            "date": [r.row.date or None for r in results],
            "outcome": [r.outcome for r in results],
            "message": [r.message for r in results],
        },
        schema={"row": pl.Int64, target: pl.String, "price": pl.String, "date": pl.String, "outcome": pl.String,
                "message": pl.String},
    )  # fmt: skip
    return frame.drop("date") if action == SET_PRICE else frame


# History ----------------------------------------------------------------------------------------------------

HISTORY_COLUMNS = ("time", "action", "parameters", "outcome", "message", "actor")


def history(store: AnyStore, account: str, zone: ZoneInfo) -> pl.DataFrame:
    """Every write logged for `account`, newest first, with the local wall-clock time."""
    frame = store.read(logs.write_history, account)
    return frame.with_columns(timezones.local_times(frame["time"], zone))  # the zone's rules, as every page


def history_csv(frame: pl.DataFrame) -> bytes:
    """The history as a CSV download."""
    return to_csv_bytes(frame.rename({"time": "time_local"}))
