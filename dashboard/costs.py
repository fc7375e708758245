"""Ad costs: what a marketer spent per day, source, medium and campaign, imported from files (never from Newton).

What only we know, kept in the people's table `costs` (it survives rebuilds and quarantine). Money is an integer
of kopecks, never a float. A cost row is keyed by account, day, source, medium, campaign and `origin` (the kind of
file it came from: generic, yandex-direct, vk-ads, or demo): importing the same rows again replaces them, so a file
imported twice never doubles a cost. Source, medium and campaign are matched trimmed and case-insensitively (the
`*_key` columns); the values as the file wrote them are kept for display.

A campaign may be named by the file (`utm_campaign`), identified (`campaign_id`, as Yandex Direct's reports give
it and `utm_campaign` often holds), or both; a cost with neither is spend of its source that no campaign carries.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import duckdb
import polars as pl

from dashboard.errors import InvalidInput
from dashboard.store.schema import new_data_version

ORIGINS = ("generic", "yandex-direct", "vk-ads", "demo")
FILE_TYPES = ("csv", "xlsx", "generated")
DEFAULT_MEDIUM = "cpc"  # an empty medium is read as paid clicks: what a cost report is about
NAME_LONGEST = 500  # a source, medium, campaign or file name: bounded like any text from a file

# What a stored cost row reads as (`stored_costs`), in this order.
COST_COLUMNS = ("day", "utm_source", "utm_medium", "utm_campaign", "campaign_id", "kopecks", "origin", "file_name",
                "file_type", "imported_by", "imported_at")  # fmt: skip


def match_key(value: str) -> str:
    """How a source, medium or campaign is compared: trimmed, lower-case (Python's idea of both, as the import
    stores it; records' values are compared through the same key in SQL, `match_key_sql`)."""
    return value.strip().lower()


def match_key_sql(expr: str) -> str:
    """SQL for `match_key` of a record's value (NULL reads as '')."""
    return f"lower(trim(coalesce({expr}, '')))"


@dataclass(frozen=True)
class Cost:
    """One day's spend of a source (and medium, and campaign) in kopecks, as a file gave it, checked."""

    day: date
    utm_source: str
    kopecks: int
    utm_campaign: str = ""  # the campaign's name (or id) as the file wrote it; '' when the file gives none
    campaign_id: str = ""  # the campaign's id when the file gives it beside the name
    utm_medium: str = DEFAULT_MEDIUM

    def __post_init__(self) -> None:
        problems = {}
        if not match_key(self.utm_source):
            problems["utm_source"] = "must not be empty"
        if not isinstance(self.kopecks, int) or isinstance(self.kopecks, bool) or self.kopecks < 0:
            problems["cost"] = "must be zero or more roubles"
        for name in ("utm_source", "utm_medium", "utm_campaign", "campaign_id"):
            if len(getattr(self, name)) > NAME_LONGEST:
                problems[name] = f"must be at most {NAME_LONGEST} characters"
        if problems:
            raise InvalidInput(problems)
        object.__setattr__(self, "utm_medium", self.utm_medium.strip() or DEFAULT_MEDIUM)

    @property
    def campaign_key(self) -> str:
        """The campaign as costs are keyed and matched: its name, else its id ('' when neither)."""
        return match_key(self.utm_campaign) or match_key(self.campaign_id)


@dataclass(frozen=True)
class CostImport:
    """Where a batch of costs came from: the kind of file (`origin`), its name and type, who imported it and when
    (naive UTC)."""

    origin: str
    file_name: str
    file_type: str
    imported_by: str | None
    imported_at: datetime

    def __post_init__(self) -> None:
        if self.origin not in ORIGINS:
            raise InvalidInput({"format": f"must be one of: {', '.join(ORIGINS)}"})
        if self.file_type not in FILE_TYPES:
            raise InvalidInput({"file": f"must be one of: {', '.join(FILE_TYPES)}"})
        if len(self.file_name) > NAME_LONGEST:
            raise InvalidInput({"file": f"its name must be at most {NAME_LONGEST} characters"})


@dataclass(frozen=True)
class Saved:
    """What saving a batch did: rows new to the store, rows that replaced a stored one, rows cleared first."""

    added: int
    replaced: int
    cleared: int = 0


def save_costs(
    con: duckdb.DuckDBPyConnection,
    account: str,
    batch: CostImport,
    costs: Sequence[Cost],
    *,
    replace: bool = False,
) -> Saved:
    """Store `costs` under `batch` in one transaction (the store's write): a row with the same key as a stored one
    replaces it. With `replace`, every stored cost of the batch's origin for each source in `costs`, from its first
    to its last day in `costs`, is cleared first (what `costs import --replace` promises)."""
    cleared = _clear_ranges(con, account, batch.origin, costs) if replace else 0
    rows = [_row(account, batch, cost) for cost in _last_of_each_key(costs)]
    if not rows:
        return Saved(0, 0, cleared)
    incoming = pl.DataFrame(rows, schema=_STORED_SCHEMA, orient="row")  # noqa: F841 - read by name in the SQL
    (replaced,) = con.execute(
        """SELECT count(*) FROM incoming i JOIN costs c USING (account, day, source_key, medium_key, campaign_key,
        origin)"""
    ).fetchone() or (0,)
    # A delete and an insert in the write's transaction, not INSERT OR REPLACE: a lake has no keys to replace by.
    con.execute(
        """DELETE FROM costs WHERE EXISTS (SELECT 1 FROM incoming i WHERE i.account = costs.account
        AND i.day = costs.day AND i.source_key = costs.source_key AND i.medium_key = costs.medium_key
        AND i.campaign_key = costs.campaign_key AND i.origin = costs.origin)"""
    )
    con.execute(f"INSERT INTO costs ({', '.join(_STORED_SCHEMA)}) SELECT * FROM incoming")  # noqa: S608
    new_data_version(con)
    return Saved(len(rows) - int(replaced), int(replaced), cleared)


def _last_of_each_key(costs: Iterable[Cost]) -> list[Cost]:
    """One cost per key, the file's last (a file that repeats a row means its last word, not the sum)."""
    by_key = {(c.day, match_key(c.utm_source), match_key(c.utm_medium), c.campaign_key): c for c in costs}
    return list(by_key.values())


_STORED_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "account": pl.String, "day": pl.Date, "utm_source": pl.String, "utm_medium": pl.String,
    "utm_campaign": pl.String, "campaign_id": pl.String, "kopecks": pl.Int64, "origin": pl.String,
    "file_name": pl.String, "file_type": pl.String, "imported_by": pl.String, "imported_at": pl.Datetime("us"),
    "source_key": pl.String, "medium_key": pl.String, "campaign_key": pl.String,
}  # fmt: skip


def _row(account: str, batch: CostImport, cost: Cost) -> tuple[object, ...]:
    return (
        account, cost.day, cost.utm_source.strip(), cost.utm_medium.strip(), cost.utm_campaign.strip(),
        cost.campaign_id.strip(), cost.kopecks, batch.origin, batch.file_name, batch.file_type, batch.imported_by,
        batch.imported_at, match_key(cost.utm_source), match_key(cost.utm_medium), cost.campaign_key,
    )  # fmt: skip


def _clear_ranges(con: duckdb.DuckDBPyConnection, account: str, origin: str, costs: Sequence[Cost]) -> int:
    spans: dict[str, tuple[date, date]] = {}
    for cost in costs:
        key = match_key(cost.utm_source)
        first, last = spans.get(key, (cost.day, cost.day))
        spans[key] = (min(first, cost.day), max(last, cost.day))
    cleared = 0
    for source_key, (first, last) in spans.items():
        # Counted first, then deleted (a lake's DELETE has no RETURNING), in the import's transaction.
        where = "FROM costs WHERE account = ? AND origin = ? AND source_key = ? AND day BETWEEN ? AND ?"
        params = [account, origin, source_key, first, last]
        cleared += int(con.execute(f"SELECT count(*) {where}", params).fetchall()[0][0])
        con.execute(f"DELETE {where}", params)
    if cleared:
        new_data_version(con)
    return cleared


def stored_costs(
    con: duckdb.DuckDBPyConnection, account: str, first: date | None = None, last: date | None = None
) -> pl.DataFrame:
    """The account's stored cost rows (COST_COLUMNS) on the local days from `first` to `last` (each optional), by
    day, source, medium, campaign and origin."""
    frame: pl.DataFrame = con.sql(
        f"""SELECT {", ".join(COST_COLUMNS)} FROM costs
        WHERE account = $account AND day >= coalesce($first, day) AND day <= coalesce($last, day)
        ORDER BY day, source_key, medium_key, campaign_key, origin""",  # noqa: S608 - our own columns
        params={"account": account, "first": first, "last": last},
    ).pl()
    return frame


def has_costs(con: duckdb.DuckDBPyConnection, account: str) -> bool:
    """Whether the account has any cost stored (no costs: the money columns are empty, not zero)."""
    return bool(con.execute("SELECT count(*) > 0 FROM costs WHERE account = ?", [account]).fetchone()[0])  # type: ignore[index]
