# ruff: noqa: RUF001, RUF002, RUF003 - Russian column names are meant to be Cyrillic
"""Cost files: a marketer's ad spend read from a file and checked row by row, then stored as `costs.Cost`s.

Three kinds of file (the `origin` of what they hold, see dashboard/costs.py), each CSV (`,`, `;` or tab; UTF-8 with
or without a BOM, UTF-16 with a BOM, or Windows-1251) or XLSX (the first sheet):

- `generic`: our own columns, in English or Russian (GENERIC_COLUMNS): `date, utm_source, cost` and optionally
  `utm_medium, utm_campaign, campaign_id`. Every column must be one of them: a misspelt header would otherwise
  drop a campaign or a cost without a word.
- `yandex-direct`: Yandex Direct's "Statistics" (Report Wizard) report as its interface saves it: a title line or
  a few before the header, `День`/`Дата`, `Кампания`, `№ Кампании`, `Расход (руб.)`, a totals line at the end.
- `vk-ads`: VK Ads' statistics export: `Дата`, `Кампания`, `ID кампании`, `Потрачено`.
The two reports name no source: `source` (the CLI's `--source`) says whose campaigns they are; their other columns
(impressions, clicks, CTR, ...) are ignored, and rows that split one day's campaign by something we ignore
(placement, device) are added up.

Reading never fails on what a row holds: each `CostLine` says what is wrong with it (problems named by the file's
own column), and the other rows are still offered. A file that cannot be read at all raises `UploadError` with a
code (`error_message` words it). Cells are kept as text exactly as the file has them; only checked values are
stored, and every CSV we write goes through `export.to_csv_bytes` (formulas neutralised).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import unicodedata
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import duckdb
import polars as pl

from dashboard import i18n
from dashboard.checked import CheckedRow
from dashboard.costs import NAME_LONGEST, Cost, CostImport, Saved, save_costs
from dashboard.errors import UploadError
from dashboard.i18n import Problem
from dashboard.lead_prices import decode_text
from dashboard.store import AnyStore

FORMATS = ("auto", "generic", "yandex-direct", "vk-ads")
MAX_BYTES = 5 * 1024 * 1024
MAX_UNPACKED_BYTES = 100 * 1024 * 1024  # an XLSX is a zip: what it may unpack to (a "zip bomb" is refused)
MAX_ROWS = 50_000  # a year of a daily report of 130 campaigns
HEADER_SEARCH_ROWS = 20  # a report's title lines before its header
MAX_ROUBLES = 10**9  # a day's spend of one campaign above this is a typo (an extra 0…0), not a cost
CANONICAL = ("date", "utm_source", "utm_medium", "utm_campaign", "campaign_id", "cost")
SEPARATORS = ("\t", ";", ",")

# Header names each kind of file may use for our columns, compared trimmed, lower-case, with runs of spaces as one
# and a currency note dropped ("Расход (руб.)", "Расход, ₽", "cost, rub" are all "расход"/"cost").
GENERIC_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "date": ("date", "day", "дата", "день"),
    "utm_source": ("utm_source", "source", "источник"),
    "utm_medium": ("utm_medium", "medium", "канал", "тип трафика"),
    "utm_campaign": ("utm_campaign", "campaign", "кампания"),
    "campaign_id": ("campaign_id", "id кампании", "№ кампании", "номер кампании"),
    "cost": ("cost", "spend", "расход", "расходы"),
}
YANDEX_DIRECT_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "date": ("день", "дата", "date", "day"),
    "utm_campaign": ("кампания", "название кампании", "campaign", "campaign name"),
    "campaign_id": ("№ кампании", "id кампании", "номер кампании", "campaign id", "campaign no."),
    "cost": ("расход", "cost"),
}
VK_ADS_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "date": ("дата", "день", "date", "day"),
    "utm_campaign": ("кампания", "название кампании", "campaign", "campaign name"),
    "campaign_id": ("id кампании", "campaign id"),
    "cost": ("потрачено", "расход", "списано", "spent", "cost"),
}
COLUMNS_OF: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "generic": GENERIC_COLUMNS,
    "yandex-direct": YANDEX_DIRECT_COLUMNS,
    "vk-ads": VK_ADS_COLUMNS,
}
# What the header must hold, as the error says it.
EXPECTED = {
    "generic": "date, utm_source, cost (optional: utm_medium, utm_campaign, campaign_id) or "
    "дата, источник, расход (кампания, канал, id кампании)",
    "yandex-direct": "День (or Дата), Расход (руб.); optional: Кампания, № Кампании",
    "vk-ads": "Дата, Потрачено (or Расход); optional: Кампания, ID кампании",
}
# Only these names tell one report from the other when the file does not say (`auto`).
_VK_ONLY = frozenset({"потрачено", "списано", "spent"})
_CURRENCY_NOTE = re.compile(
    r"\s*(?:[,(]\s*(?:руб\.?|₽|rub\.?|rur)(?:\s*,\s*(?:с|без)\s+ндс)?\s*\)?|\(\s*(?:с|без)\s+ндс\s*\))$"
)
_TOTALS = re.compile(r"(?:итого|всего|total)\b", re.IGNORECASE)
# Spaces people (and Excel in a Russian locale) put between thousands.
_GROUPING = re.compile(r"[ \u00a0\u202f\u2009]")
_PLAIN_AMOUNT = re.compile(r"[0-9]+(?:[.,][0-9]+)?")
_AMBIGUOUS = re.compile(r"[0-9]{1,3}[.,][0-9]{3}")  # 1,234 or 1.234: a thousand, or one rouble and change?
_EN_GROUPED = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?")
_RU_GROUPED = re.compile(r"[0-9]{1,3}(?:\.[0-9]{3})+(?:,[0-9]+)?")
_CURRENCY_SIGN = re.compile(r"\s*(?:₽|руб\.?|р\.|rub)$", re.IGNORECASE)
_NEGATIVE = re.compile(r"^\s*(?:[-\u2212\u2012\u2013]|\(.*\)\s*$)")
_ISO_DAY = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[ T]00:00(?::00)?)?")
_RU_DAY = re.compile(r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4}|[0-9]{2})")


@dataclass(frozen=True)
class CostLine(CheckedRow):
    """One data row of a cost file: its cells as written (by our column names), what is wrong with it (by the
    file's own column names; nothing: it will be stored) and the cost it gives when it is ready."""

    row: int  # the spreadsheet row number, as Excel shows it (a report's title lines count)
    cells: Mapping[str, str]
    problems: Mapping[str, str] = field(default_factory=dict)
    cost: Cost | None = None


@dataclass(frozen=True)
class CostFile:
    """A cost file read and checked: what kind it is, its name and type, and its rows in file order."""

    origin: str  # generic, yandex-direct or vk-ads
    file_type: str  # csv or xlsx
    file_name: str
    rows: tuple[CostLine, ...]
    header: tuple[str, ...] = ()  # the file's header as written
    header_row: int = 1

    @property
    def ready(self) -> list[Cost]:
        """The costs that will be stored: one per day, source, medium and campaign (a report's rows that split
        one such cost by something we ignore are added up)."""
        summed: dict[tuple[object, ...], Cost] = {}
        for line in self.rows:
            if line.cost is None or not line.ready:
                continue
            key = _key(line.cost)
            earlier = summed.get(key)
            summed[key] = (
                line.cost
                if earlier is None
                else dataclasses.replace(earlier, kopecks=earlier.kopecks + line.cost.kopecks)
            )
        return list(summed.values())

    @property
    def bad(self) -> list[CostLine]:
        """The rows that will not be stored."""
        return [line for line in self.rows if not line.ready]


# Reading ----------------------------------------------------------------------------------------------------


def read_cost_file(
    data: bytes,
    file_name: str,
    *,
    file_format: str = "auto",
    source: str | None = None,
    medium: str | None = None,
    today: date,
) -> CostFile:
    """Read and check a cost file; raises only `UploadError`. `source` (and `medium`, default cpc) are the
    utm_source and utm_medium of a Yandex Direct or VK Ads report's campaigns; `today` is the local date, after
    which no cost can be."""
    if file_format not in FORMATS:
        raise UploadError("format", formats=", ".join(FORMATS))
    if len(data) > MAX_BYTES:
        raise UploadError("too_large", limit_mb=MAX_BYTES // (1024 * 1024))
    source = (source or "").strip() or None
    medium = (medium or "").strip()
    for name, value in (("source", source), ("medium", medium)):
        if value is not None and len(value) > NAME_LONGEST:
            raise UploadError("long_option", option=name, limit=NAME_LONGEST)
    file_type, table = _table(data)
    origin, header_at, columns = _header(table, file_format)
    if source is None and "utm_source" not in columns.values():
        raise UploadError("source_needed", format=origin)
    if origin == "generic" and source is not None and "utm_source" in columns.values():
        raise UploadError("source_twice")
    header_number, header = table[header_at]
    body = [(number, cells) for number, cells in table[header_at + 1 :] if not _totals(cells)]
    if not body:
        raise UploadError("no_rows")
    if len(body) > MAX_ROWS:
        raise UploadError("too_many_rows", limit=MAX_ROWS, rows=len(body))
    names = {index: _shown_name(header, index) for index in columns}
    width = max((i + 1 for i, cell in enumerate(header) if cell.strip()), default=0)
    lines = [_check(number, cells, width, columns, names, source, medium, today) for number, cells in body]
    if origin == "generic":
        lines = _mark_repeats(lines, names, columns)
    return CostFile(origin, file_type, file_name, tuple(lines), tuple(c.strip() for c in header), header_number)


def _table(data: bytes) -> tuple[str, list[tuple[int, list[str]]]]:
    """The file's non-empty rows as text cells, each with its spreadsheet row number, and the file's type."""
    if data.startswith(b"PK\x03\x04"):
        return "xlsx", _xlsx_rows(data)
    if data.startswith(b"\xd0\xcf\x11\xe0"):  # the old binary .xls
        raise UploadError("xls")
    text = _decode(data)
    if not text.strip():
        raise UploadError("empty")
    tables = []
    for separator in SEPARATORS:
        try:
            rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=separator, strict=True))
        except csv.Error:
            continue
        tables.append(_numbered(rows))
    if not tables:
        raise UploadError("unreadable")
    # The separator is the one that finds a header; `_header` says which (or that none does) from these.
    return "csv", _best_split(tables)


def _best_split(tables: list[list[tuple[int, list[str]]]]) -> list[tuple[int, list[str]]]:
    for table in tables:
        for _, cells in table[:HEADER_SEARCH_ROWS]:
            if any(_found_in(cells, columns) for columns in COLUMNS_OF.values()):
                return table
    return tables[0]


def _found_in(cells: Sequence[str], columns: Mapping[str, tuple[str, ...]]) -> bool:
    names = {_header_key(c) for c in cells}
    return any(n in names for n in columns["date"]) and any(n in names for n in columns["cost"])


def _numbered(rows: list[list[str]]) -> list[tuple[int, list[str]]]:
    return [(number, cells) for number, cells in enumerate(rows, start=1) if any(c.strip() for c in cells)]


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text": UTF-16 with a BOM
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise UploadError("encoding") from None
    return decode_text(data)  # as a lead-price file: UTF-8 or Windows-1251


def _xlsx_rows(data: bytes) -> list[tuple[int, list[str]]]:
    import openpyxl  # type: ignore[import-untyped]  # only for XLSX files: it takes a while to import

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if sum(item.file_size for item in archive.infolist()) > MAX_UNPACKED_BYTES:
                raise UploadError("too_large", limit_mb=MAX_BYTES // (1024 * 1024))
        # data_only: a formula cell gives the value Excel saved with it, never the formula.
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except UploadError:
        raise
    except Exception:  # noqa: BLE001 - openpyxl raises anything on a broken file; all mean "cannot read it"
        raise UploadError("unreadable") from None
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            raise UploadError("empty")
        rows: list[tuple[int, list[str]]] = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_cell_text(v) for v in values]
            if any(c.strip() for c in cells):
                rows.append((number, cells))
            if len(rows) > MAX_ROWS + HEADER_SEARCH_ROWS + 1:
                break  # more than we take: `read_cost_file` says so
    finally:
        book.close()
    if not rows:
        raise UploadError("empty")
    return rows


def _cell_text(value: object) -> str:
    """A spreadsheet cell as the text a CSV of it would hold."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))  # an id or a whole cost typed as a number: 12345678, not 12345678.0
        return format(Decimal(repr(value)), "f")  # never 1e-05
    if isinstance(value, bool):
        return str(value).upper()
    return str(value)


def _header_key(cell: str) -> str:
    name = " ".join(cell.replace("\ufeff", "").split()).lower()
    return _CURRENCY_NOTE.sub("", name)


def _header(table: list[tuple[int, list[str]]], file_format: str) -> tuple[str, int, dict[int, str]]:
    """The kind of file, where its header is, and which of its columns are ours (column index → our name)."""
    for at, (_, cells) in enumerate(table[:HEADER_SEARCH_ROWS]):
        origin = _origin(cells) if file_format == "auto" else file_format
        if origin is None or not _found_in(cells, COLUMNS_OF[origin]):
            continue
        return origin, at, _columns(table[at][0], cells, origin)
    number, first = table[0]
    found = ", ".join(c.strip() for c in first if c.strip())[:200]
    expected = EXPECTED.get(file_format) or " | ".join(EXPECTED.values())
    raise UploadError("columns", expected=expected, found=found, row=number)


def _origin(cells: Sequence[str]) -> str | None:
    """`auto`: a header naming a source, or only our columns (a sheet kept by hand), is our own format; else a
    report, VK Ads' by its word for the spend."""
    names = {_header_key(c) for c in cells} - {""}
    ours = {alias for aliases in GENERIC_COLUMNS.values() for alias in aliases}
    if names & set(GENERIC_COLUMNS["utm_source"]) or (names <= ours and _found_in(cells, GENERIC_COLUMNS)):
        return "generic"
    if not _found_in(cells, YANDEX_DIRECT_COLUMNS) and not _found_in(cells, VK_ADS_COLUMNS):
        return None
    return "vk-ads" if names & _VK_ONLY else "yandex-direct"


def _columns(number: int, cells: Sequence[str], origin: str) -> dict[int, str]:
    aliases = {alias: name for name, names in COLUMNS_OF[origin].items() for alias in names}
    columns: dict[int, str] = {}
    for index, cell in enumerate(cells):
        key = _header_key(cell)
        name = aliases.get(key)
        if name is None:
            if key and origin == "generic":
                raise UploadError(
                    "unknown_column", row=number, column=_letter(index), name=cell.strip()[:100],
                    expected=EXPECTED["generic"],
                )  # fmt: skip
            continue  # a report's impressions, clicks, CTR ...: not ours
        if name in columns.values():
            raise UploadError("duplicate_column", row=number, column=_letter(index), name=cell.strip()[:100])
        columns[index] = name
    return columns


def _letter(index: int) -> str:
    """The spreadsheet's name of column `index` (0 → A, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _shown_name(header: Sequence[str], index: int) -> str:
    return " ".join(header[index].split()) or _letter(index)


def _totals(cells: Sequence[str]) -> bool:
    """A report's totals line ("Итого", "Всего", "Total rows: 31"): not a day's cost."""
    first = next((c.strip() for c in cells if c.strip()), "")
    return bool(_TOTALS.match(first))


def _check(
    number: int,
    cells: Sequence[str],
    width: int,
    columns: Mapping[int, str],
    names: Mapping[int, str],
    source: str | None,
    medium: str,
    today: date,
) -> CostLine:
    values = {name: (cells[i] if i < len(cells) else "") for i, name in columns.items()}
    shown = {name: names[i] for i, name in columns.items()}  # our name → the file's
    written = {name: values.get(name, "") for name in CANONICAL}
    if source is not None and "utm_source" not in values:
        written["utm_source"] = source
    if medium and "utm_medium" not in values:
        written["utm_medium"] = medium
    problems: dict[str, str] = {}
    if any(c.strip() for c in cells[width:]):  # a cell past the header's last: the row is shifted
        problems["row"] = Problem("cell_count", cells=len(cells), header=width)
    day = _day(written["date"], today)
    if isinstance(day, Problem):
        problems[shown["date"]] = day
    kopecks = _kopecks(written["cost"])
    if isinstance(kopecks, Problem):
        problems[shown["cost"]] = kopecks
    texts = {name: written[name].strip() for name in ("utm_source", "utm_medium", "utm_campaign", "campaign_id")}
    if not texts["utm_source"]:
        problems[shown.get("utm_source", "utm_source")] = Problem("empty")
    for name, text in texts.items():
        if len(text) > NAME_LONGEST:
            problems[shown.get(name, name)] = Problem("cost_text_long", limit=NAME_LONGEST)
    if problems or isinstance(day, Problem) or isinstance(kopecks, Problem):
        return CostLine(number, written, problems)
    cost = Cost(day, texts["utm_source"], kopecks, texts["utm_campaign"], texts["campaign_id"], texts["utm_medium"])
    return CostLine(number, written, {}, cost)


def _day(text: str, today: date) -> date | Problem:
    text = text.strip()
    iso, ru = _ISO_DAY.fullmatch(text), _RU_DAY.fullmatch(text)
    try:
        if iso:
            day = date(int(iso[1]), int(iso[2]), int(iso[3]))
        elif ru:
            year = int(ru[3]) + (2000 if len(ru[3]) == 2 else 0)
            day = date(year, int(ru[2]), int(ru[1]))
        else:
            return Problem("cost_date_format")
    except ValueError:
        return Problem("not_a_calendar_date")
    if day.year < 2000:
        return Problem("cost_date_format")
    if day > today:
        return Problem("cost_date_future", today=today.isoformat())
    return day


def _kopecks(text: str) -> int | Problem:
    """Roubles as a file writes them, in kopecks: 1 234,50 / 1234.5 / 1 234 ₽ / 1,234.50 / 1.234,50."""
    text = unicodedata.normalize("NFKC", text).strip()
    if not text:
        return Problem("cost_missing")
    if _NEGATIVE.match(text):
        return Problem("cost_negative")
    amount = _GROUPING.sub("", _CURRENCY_SIGN.sub("", text)).lstrip("+")
    if _EN_GROUPED.fullmatch(amount) and amount.count(",") and "." in amount:
        amount = amount.replace(",", "")
    elif _RU_GROUPED.fullmatch(amount) and amount.count(".") and "," in amount:
        amount = amount.replace(".", "")
    elif _AMBIGUOUS.fullmatch(amount):
        return Problem("cost_ambiguous", value=text[:40])
    if not _PLAIN_AMOUNT.fullmatch(amount):
        return Problem("cost_number")
    try:
        roubles = Decimal(amount.replace(",", "."))
    except InvalidOperation:
        return Problem("cost_number")
    if roubles > MAX_ROUBLES:
        return Problem("cost_range", limit=f"{MAX_ROUBLES:,}".replace(",", " "))
    # A report may give fractions of a kopeck (VK Ads' spend does): rounded as a bank would.
    return int((roubles * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _key(cost: Cost) -> tuple[object, ...]:
    return (cost.day, cost.utm_source.strip().lower(), cost.utm_medium.strip().lower(), cost.campaign_key)


def _mark_repeats(lines: list[CostLine], names: Mapping[int, str], columns: Mapping[int, str]) -> list[CostLine]:
    """In our own format a day's cost of a source, medium and campaign is one row: a second one is a mistake
    (pasted twice, or a split a report would add up), not stored, and said so."""
    first: dict[tuple[object, ...], int] = {}
    date_name = next(names[i] for i, name in columns.items() if name == "date")
    marked = []
    for line in lines:
        if line.cost is not None and line.ready:
            key = _key(line.cost)
            if key in first:
                line = CostLine(line.row, line.cells, {date_name: Problem("cost_repeats_row", row=first[key])})
            else:
                first[key] = line.row
        marked.append(line)
    return marked


def error_message(error: UploadError, lang: str) -> str:
    """What an `UploadError` of a cost file says, in `lang`."""
    return i18n.text(f"cost_file_{error.code}", lang, i18n.STRINGS, **error.values)


# Storing ----------------------------------------------------------------------------------------------------


def import_costs(
    store: AnyStore, account: str, cost_file: CostFile, *, by: str | None, now: datetime, replace: bool = False
) -> Saved:
    """Store the file's ready costs for `account` (one transaction): rows already stored under the same key and
    kind of file are replaced; with `replace`, the stored costs of this kind of file for each source over the
    file's days are cleared first. `by` is who imported it, `now` when (naive UTC)."""
    batch = CostImport(cost_file.origin, cost_file.file_name[:NAME_LONGEST], cost_file.file_type, by, now)
    return store.write(save_costs, account, batch, cost_file.ready, replace=replace)


MONTHLY_COLUMNS = ("month", "utm_source", "origin", "days", "rows", "cost")


def monthly_costs(
    con: duckdb.DuckDBPyConnection, account: str, first: date | None = None, last: date | None = None
) -> pl.DataFrame:
    """What is stored per month, source and kind of file (MONTHLY_COLUMNS): days with a cost, cost rows and the
    cost in roubles (exact, 2 decimals), on the local days from `first` to `last` (each optional)."""
    frame: pl.DataFrame = con.sql(
        """SELECT strftime(day, '%Y-%m') AS month, min(utm_source) AS utm_source, origin,
            count(DISTINCT day) AS days, count(*) AS rows, CAST(sum(kopecks) AS DECIMAL(18, 0)) / 100 AS cost
        FROM costs
        WHERE account = $account AND day >= coalesce($first, day) AND day <= coalesce($last, day)
        GROUP BY month, source_key, origin
        ORDER BY month, source_key, origin""",
        params={"account": account, "first": first, "last": last},
    ).pl()
    return frame.with_columns(pl.col("cost").cast(pl.Decimal(18, 2)))
