"""Money: the ad costs (dashboard/costs.py) next to the calls they bought — cost, cost per lead, ROMI and ДРР.

Computed in DuckDB next to the data, like every metric (docs/metrics.md, "Money"). Costs are joined to the
records by match keys (trimmed, lower-case): a breakdown by a dimension costs reach (COST_DIMENSIONS) has one row
per key, labelled with the records' most frequent spelling (else the costs'), and a row for spend that brought no
call. Costs follow the period (local days) and chosen values of the dimensions they reach; any other chosen filter
or dimension blocks the money (`blocked_by`): the columns are then empty rather than all of the spend set against
part of the calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import polars as pl

from dashboard.channels import channel_rules
from dashboard.costs import has_costs, match_key, match_key_sql
from dashboard.dimensions import NONE, check_dimension
from dashboard.dimensions import dimension as dimension_named
from dashboard.metrics import (
    RECORD_FIELDS,
    Filters,
    Metrics,
    Reader,
    compared,
    grouped_with_callers,
    raw_fields,
    record_facts,
    row_changes,
)
from dashboard.results import memoized

MONEY_COLUMNS = ("cost", "cpl", "cost_per_answered", "cpa", "romi", "drr")
COST_DIMENSIONS = ("channel", "utm_source", "utm_medium", "utm_campaign")
# What each money column divides the cost by (romi and drr are about the lead value).
_BASES = {"cpl": "requests", "cost_per_answered": "answered", "cpa": "priced_leads"}

# The record fields a cost stands in for when the channel rules read it; every other field is unknown (NULL).
_COST_FIELDS = {"landingUtmSource": "c.utm_source", "landingUtmMedium": "c.utm_medium",
                "landingUtmCampaign": "c.utm_campaign"}  # fmt: skip


def cost_channel_sql() -> str:
    """The channel of a cost row `c`: the channel rules over its source and medium (medium cpc: paid_search)."""
    return channel_rules(lambda name: _COST_FIELDS.get(name, "NULL::VARCHAR"))


def blocked_by(filters: Filters, by: str | None = None, then: str | None = None) -> tuple[str, ...]:
    """The chosen filters and asked dimensions costs cannot follow (money cannot be shown); empty: it can."""
    asked = [name for name in (by, then) if name]
    return tuple(dict.fromkeys(name for name in (*filters.chosen, *asked) if name not in COST_DIMENSIONS))


class Money(Reader):
    """The money of one account's records and costs in an open cache connection."""

    @classmethod
    def beside(cls, reader: Reader) -> Money:
        """Money over the same connection, account, definitions and memoizing scope as `reader`."""
        money = cls(reader._connection, reader._account, reader.definitions)
        money.scope = reader.scope
        return money

    def _metrics(self) -> Metrics:
        metrics = Metrics(self._connection, self._account, self.definitions)
        metrics.scope = self.scope
        return metrics

    @memoized
    def has_costs(self) -> bool:
        """Whether the account has any cost stored (none: every money column is empty)."""
        return has_costs(self._con, self._account)

    def shown(self, filters: Filters, by: str | None = None, then: str | None = None) -> bool:
        """Whether money can be shown for this view: the account has costs and nothing chosen blocks them."""
        return self.has_costs() and not blocked_by(filters, by, then)

    @memoized
    def widened(self, filters: Filters) -> Filters:
        """`filters` with each chosen source, medium and campaign widened to every spelling of its key the records
        have: costs follow a chosen value by key, so the calls they are set against must too."""
        chosen = dict(filters.chosen)
        for name in ("utm_source", "utm_medium", "utm_campaign"):
            if name in chosen:
                value = dimension_named(name).over()
                sql = f"""SELECT DISTINCT {value} FROM records r
                    WHERE r.account = $account AND list_contains($keys, {match_key_sql(value)})"""  # noqa: S608
                keys = [match_key(value) for value in chosen[name]]
                found = self._con.sql(sql, params={"account": self._account, "keys": keys}).fetchall()
                chosen[name] = tuple(sorted({*chosen[name], *(row[0] for row in found)}))
        return replace(filters, chosen=chosen)

    @memoized
    def by(self, filters: Filters, by: str, then: str | None = None) -> pl.DataFrame:
        """The record metrics and the money by one or two of COST_DIMENSIONS, one row per key (the records' most
        frequent spelling, else the costs'), spend with no calls included (requests 0); by requests, then cost,
        descending. The money columns are empty when the account has no costs; a view costs cannot follow
        (`blocked_by`) is refused: its rows are `Metrics.breakdown`'s."""
        keys = [check_dimension(by)] + ([check_dimension(then, "then")] if then else [])
        if blocked := blocked_by(filters, by, then):
            raise ValueError(f"costs cannot follow {', '.join(blocked)}: ask `blocked_by` first")
        sql, params = self._joined(self.widened(filters), keys)
        labels = ", ".join(keys)
        frame = self._query(f"SELECT * FROM ({sql}) ORDER BY requests DESC, kopecks DESC, {labels}", params)  # noqa: S608
        return _with_money(frame, shown=self.has_costs())

    @memoized
    def spent_by(self, filters: Filters, bys: tuple[str, ...]) -> tuple[pl.DataFrame, ...]:
        """What the money charts draw by each of `bys` (of COST_DIMENSIONS): `by`'s rows (one per key, spend with
        no calls included, in the same order) with requests, answered, priced leads, lead value and the money, but
        not the callers and rates a chart does not draw (the callers cost most of a breakdown). Asked in one
        statement: the records are read, and counted per value sent, once for all of them."""
        if blocked := dict.fromkeys(name for by in bys for name in blocked_by(filters, by)):
            raise ValueError(f"costs cannot follow {', '.join(blocked)}: ask `blocked_by` first")
        widened = self.widened(filters)
        branches: list[str] = []
        params: dict[str, Any] = {}
        for by in bys:
            sql, params = self._joined(widened, [check_dimension(by)], _SPENT_COUNTS, outer_values=True)
            branches.append(f"SELECT '{by}' AS spent_by, * FROM ({sql})")  # noqa: S608 - a dimension's name
        # Each `by`'s rows in `by`'s order: the other `by`s' columns are empty there.
        order = f"spent_by, requests DESC, kopecks DESC, {', '.join(bys)}"
        sql = f"""WITH view_values AS ({self._values(widened, bys)})
SELECT * FROM ({" UNION ALL BY NAME ".join(branches)}) ORDER BY {order}"""  # noqa: S608 - our own names
        frame = self._query(sql, params)
        return tuple(
            _with_money(
                frame.filter(pl.col("spent_by") == by).select(by, *_SPENT_COUNTS, "kopecks"), shown=self.has_costs()
            )
            for by in bys
        )

    @memoized
    def counted_by(self, filters: Filters, keys: tuple[str, ...], counted: tuple[str, ...]) -> pl.DataFrame:
        """`by`'s rows by `keys` (one or two of COST_DIMENSIONS), in its order, with only the record metrics
        `counted` (of `_LIGHT_AGGREGATES`) and `kopecks`."""
        if blocked := blocked_by(filters, *keys):
            raise ValueError(f"costs cannot follow {', '.join(blocked)}: ask `blocked_by` first")
        sql, params = self._joined(self.widened(filters), [check_dimension(key) for key in keys], counted=counted)
        labels = ", ".join(keys)
        return self._query(f"SELECT * FROM ({sql}) ORDER BY requests DESC, kopecks DESC, {labels}", params)  # noqa: S608

    @memoized
    def headline(self, filters: Filters) -> dict[str, float | None]:
        """The money of the whole view (MONEY_COLUMNS), None where empty (no costs, blocked, divisor 0)."""
        if not self.shown(filters):
            return dict.fromkeys(MONEY_COLUMNS)
        filters = self.widened(filters)
        numbers = self._metrics().headline(filters)
        spent, params = self._spent(filters, [])
        (kopecks,) = self._con.sql(f"SELECT coalesce(sum(kopecks), 0) FROM ({spent})", params=params).fetchone() or (0,)  # noqa: S608
        row = pl.DataFrame([{**{k: numbers[k] for k in ("requests", "answered", "priced_leads", "lead_value")},
                             "kopecks": int(kopecks)}])  # fmt: skip
        return _with_money(row, shown=True).select(MONEY_COLUMNS).row(0, named=True)

    @memoized
    def compare(self, filters: Filters, kind: str = "previous", preset: str | None = None) -> pl.DataFrame:
        """Each money headline for the period and the one it is compared with (`Metrics.compare`'s columns and
        periods); `comparable` when both sides have a value and the compared period enough requests."""
        metrics = self._metrics()
        current, previous = self.on_both_sides(Money.headline, *metrics.sides(filters, kind, preset))
        # A money change rests on the requests of the compared period, like a count's (docs/metrics.md).
        enough = bool(
            metrics.compare(self.widened(filters), kind, preset)
            .filter(pl.col("metric") == "requests")["comparable"]
            .item()
        )
        return compared(current, previous, lambda metric: current[metric] is not None and enough)

    @memoized
    def compare_by(
        self, filters: Filters, kind: str, by: str, then: str | None = None, preset: str | None = None
    ) -> pl.DataFrame | None:
        """`Metrics.compare_by` over the rows of `by` (one per key): the change of requests and answer rate."""
        keys = [by] + ([then] if then else [])
        current_filters, other_filters = self._metrics().sides(filters, kind, preset)
        if other_filters is None:
            return None
        # The compared period's rows without their callers, which a change per row does not read (the period's
        # own rows are the table's, asked already).
        now, before = self.together(
            lambda money: money.by(current_filters, by, then),
            lambda money: money.counted_by(other_filters, tuple(keys), _CHANGE_COUNTS),
        )
        return row_changes(now, before, keys)

    # SQL -------------------------------------------------------------------------------------------------

    def _facts(self, filters: Filters, keys: Sequence[str]) -> tuple[str, dict[str, Any]]:
        # The campaign is always read (as sent): a cost's campaign is matched against the campaigns of the view.
        return record_facts(self._account, self.definitions, filters, sorted(keys), raw=(_CAMPAIGN_FIELD,))

    def _spent(self, filters: Filters, keys: Sequence[str], *, within: str | None = None) -> tuple[str, dict[str, Any]]:
        """The costs of the view (period, chosen values) summed by the keys of `keys`: `k_<key>`, `label_<key>`
        (the costs' most frequent spelling of the key), `kopecks`. `within` a query that has the view's records
        (or rows of them with their campaign as sent, `r_<field>`) under that name already, they are not read
        again."""
        matches = _matches_campaigns(filters, keys)
        # Alone (`within` nothing), the costs read the records only for their campaigns.
        alone: tuple[str, dict[str, Any]] = ("", {"account": self._account})
        facts, params = self._facts(filters, keys) if within or matches else alone
        period = filters.period
        params = params | {"first": period.first if period else None, "last": period.last if period else None}
        where = ["true"]
        for name, values in filters.chosen.items():
            params[f"cost_{name}"] = [match_key(value) for value in values]
            where.append(f"list_contains($cost_{name}, k_{name})")
        valued = ", ".join(
            f"{_COST_KEY[name]} AS k_{name}, {_COST_LABEL[name]} AS v_{name}" for name in COST_DIMENSIONS
        )
        grouped = ", ".join(f"k_{key}" for key in keys)
        labels = "".join(f"first(v_{key} ORDER BY n DESC, v_{key}) AS label_{key}, " for key in keys)
        spellings = ", ".join(f"k_{key}, v_{key}" for key in keys) or "true"
        if matches:
            own_facts = "" if within else f"view_facts AS ({facts}),"
            campaigns = f"""SELECT DISTINCT {match_key_sql(_CAMPAIGN.over(raw_fields("v")))} AS k
    FROM (SELECT DISTINCT r_{_CAMPAIGN_FIELD} FROM {within or "view_facts"}) v"""  # noqa: S608
        else:  # no campaign is asked for: the records' campaigns would change no sum, they are not read
            own_facts, campaigns = "", "SELECT NULL::VARCHAR AS k WHERE false"
        sql = f"""
WITH {own_facts}
view_campaigns AS ({campaigns}),
matched AS (
    -- A campaign is matched by its name's key, else its id's, against the campaigns the view's records carry.
    SELECT c.*, CASE WHEN c.campaign_key = '' THEN '' WHEN cn.k IS NOT NULL THEN cn.k WHEN ci.k IS NOT NULL THEN ci.k
                     ELSE c.campaign_key END AS campaign_matched
    FROM costs c
    -- (An empty key matches nothing; said of the cost's side, so that DuckDB does not push the test down onto
    -- every record's campaign below the view's distinct ones.)
    LEFT JOIN view_campaigns cn ON cn.k = {match_key_sql("c.utm_campaign")} AND {match_key_sql("c.utm_campaign")} <> ''
    LEFT JOIN view_campaigns ci ON ci.k = {match_key_sql("c.campaign_id")} AND {match_key_sql("c.campaign_id")} <> ''
    WHERE c.account = $account AND c.day >= coalesce($first, c.day) AND c.day <= coalesce($last, c.day)
),
chosen AS (SELECT * FROM (SELECT c.kopecks, {valued} FROM matched c) WHERE {" AND ".join(where)})
SELECT {grouped + ", " if keys else ""}{labels}sum(kopecks)::BIGINT AS kopecks
FROM (SELECT *, count(*) OVER (PARTITION BY {spellings}) AS n FROM chosen)
{"GROUP BY " + grouped if keys else ""}"""  # noqa: S608 - identifiers are ours, values are parameters
        return sql, params

    def _joined(
        self,
        filters: Filters,
        keys: Sequence[str],
        counted: Sequence[str] | None = None,
        *,
        outer_values: bool = False,
    ) -> tuple[str, dict[str, Any]]:
        """The records grouped by the keys of `keys` (labelled with their most frequent spelling) full-joined
        with the costs of the same keys; with `counted` (some of `_LIGHT_AGGREGATES`), only those counts,
        else every record metric and the callers. With `outer_values`, the query it is part of has the view's
        values (`_values`, by these keys and maybe others) as `view_values`."""
        grouped = ", ".join(f"k_{key}" for key in keys)
        # The values' spellings and the view's campaigns come from the records counted per value sent (a few dozen
        # rows): neither the values, their keys nor the campaigns are worked out over every record.
        ctes = [] if outer_values else [f"view_values AS ({self._values(filters, keys)})"]
        if counted is None:
            # Medians and callers cannot be summed from smaller groups: every record is keyed, as it is read (not
            # kept in memory for the two passes over it: reading the records twice costs less).
            facts, _ = self._facts(filters, keys)
            ctes.append(f"view_facts AS NOT MATERIALIZED ({facts})")
            rows, by_keys = "view_facts", grouped_with_callers("keyed", [f"k_{key}" for key in keys])
        else:  # counts and sums can: they are summed from the values' counts
            aggregates = ", ".join(f"{_LIGHT_AGGREGATES[name]} AS {name}" for name in counted)
            rows, by_keys = "view_values", f"SELECT {grouped}, {aggregates} FROM keyed GROUP BY {grouped}"  # noqa: S608
        spent, params = self._spent(filters, keys, within="view_values")  # the facts' parameters and the costs'
        # Each value's key and its count are worked out once per value, not once per record: trimming and
        # lower-casing half a million values cost more than the rest of the breakdown.
        record_keys = ", ".join(f"spelling_{key}.k AS k_{key}" for key in keys)
        ctes += [
            f"""spelling_{key} AS (
    SELECT v, {match_key_sql("v")} AS k, n FROM (SELECT {key} AS v, sum(requests) AS n FROM view_values GROUP BY v)),
spelled_{key} AS (SELECT k, first(v ORDER BY n DESC, v) AS label FROM spelling_{key} GROUP BY k)"""  # noqa: S608
            for key in keys
        ]
        keyed = "\n".join(f"JOIN spelling_{key} ON spelling_{key}.v IS NOT DISTINCT FROM f.{key}" for key in keys)
        labels = ", ".join(f"coalesce(spelled_{key}.label, s.label_{key}, '{NONE}') AS {key}" for key in keys)
        joins = "\n".join(f"LEFT JOIN spelled_{key} ON spelled_{key}.k = k_{key}" for key in keys)
        shown = (*_COUNTS, *_RATES) if counted is None else counted
        columns = ", ".join(f"coalesce(r.{name}, 0) AS {name}" if name in _COUNTS else f"r.{name}" for name in shown)
        sql = f"""
WITH {_CTE_SEPARATOR.join(ctes)},
keyed AS NOT MATERIALIZED (SELECT {record_keys}, f.* FROM {rows} f {keyed}),
records_by AS ({by_keys}),
spent AS ({spent})
SELECT {labels}, {columns}, s.kopecks
FROM records_by r FULL JOIN spent s USING ({grouped})
{joins}"""  # noqa: S608 - identifiers are ours, values are parameters
        return sql, params

    def _values(self, filters: Filters, keys: Sequence[str]) -> str:
        """SQL: the view's records counted (`_PARTS`) by the record fields the keys' values read and the campaign
        as sent, with the keys' values: a row per combination sent (rows may share values)."""
        sent = [key for key in keys if _READS_FIELDS[key]]  # a stored column (the channel) is read as it is
        campaign = [_CAMPAIGN_FIELD] if _matches_campaigns(filters, keys) else []
        raw = sorted({*campaign, *(name for key in sent for name in _READS_FIELDS[key])})
        facts, _ = record_facts(self._account, self.definitions, filters, sorted(set(keys) - set(sent)), raw)
        fields = ", ".join([*(key for key in keys if key not in sent), *(f"r_{name}" for name in raw)])
        valued = ", ".join(
            [f"{dimension_named(key).over(raw_fields('v'))} AS {key}" if key in sent else key for key in keys]
            + [f"r_{name}" for name in campaign]
        )
        return f"""SELECT {valued}, {", ".join(_PART_NAMES)}
    FROM (SELECT {fields}, {_PARTS} FROM ({facts}) GROUP BY ALL) v"""  # noqa: S608 - our own names


def _matches_campaigns(filters: Filters, keys: Sequence[str]) -> bool:
    """Whether the costs' campaigns are matched against the view's (`Money._spent`): only when the money is by
    campaign or a campaign is chosen; otherwise the match decides no key that is read, and no sum."""
    return "utm_campaign" in keys or "utm_campaign" in filters.chosen


# The view's campaigns are worked out from the distinct values of the field the campaign dimension reads.
_CAMPAIGN = dimension_named("utm_campaign")
(_CAMPAIGN_FIELD,) = _CAMPAIGN.fields_read()
# A cost row's key and label by each dimension costs reach (the campaign as matched against the view's records).
_COST_KEY = {
    "channel": cost_channel_sql(),
    "utm_source": "c.source_key",
    "utm_medium": "c.medium_key",
    "utm_campaign": f"CASE WHEN c.campaign_matched = '' THEN lower('{NONE}') ELSE c.campaign_matched END",
}
_COST_LABEL = {
    "channel": cost_channel_sql(),
    "utm_source": "c.utm_source",
    "utm_medium": "c.utm_medium",
    "utm_campaign": f"""CASE WHEN c.campaign_matched = '' THEN '{NONE}'
        WHEN c.campaign_matched = {match_key_sql("c.utm_campaign")} THEN c.utm_campaign ELSE c.campaign_id END""",
}
_CTE_SEPARATOR = ",\n"
# The record fields each dimension costs reach reads; none where it reads a column stored with the record (the
# channel), which is read as it is.
_READS_FIELDS = {
    name: fields if set(fields) <= RECORD_FIELDS else []
    for name, fields in ((name, dimension_named(name).fields_read()) for name in COST_DIMENSIONS)
}
_COUNTS = ("requests", "callbacks", "answered", "missed", "pending", "lead_value", "priced_leads", "callers",
           "new_callers", "repeat_callers")  # fmt: skip
# Record metrics as `_AGGREGATES` (dashboard/metrics.py) defines them, for rows that need only some: the money
# (`_with_money`) and a change per row (`row_changes`). Each is summed over the records' values (`_PARTS`, counted
# per value of the keys and the campaign), whose counts are those of the records: the same integers, the same rate.
_PARTS = """count(*) AS requests, count(*) FILTER (WHERE is_answered) AS answered,
    count(*) FILTER (WHERE is_callback AND NOT is_answered AND NOT is_pending) AS missed,
    count(*) FILTER (WHERE is_callback AND NOT is_pending) AS decided,
    coalesce(sum(lead_price), 0) AS lead_value, count(lead_price) AS priced_leads"""
_PART_NAMES = ("requests", "answered", "missed", "decided", "lead_value", "priced_leads")
_LIGHT_AGGREGATES = {
    "requests": "sum(requests)::BIGINT",
    "answered": "sum(answered)::BIGINT",
    "missed": "sum(missed)::BIGINT",
    "answer_rate": "(sum(answered))::DOUBLE / nullif(sum(decided)::BIGINT, 0)",
    "lead_value": "sum(lead_value)::BIGINT",
    "priced_leads": "sum(priced_leads)::BIGINT",
}
_SPENT_COUNTS = ("requests", "answered", "priced_leads", "lead_value")
_CHANGE_COUNTS = ("requests", "answered", "missed", "answer_rate")
_RATES = ("answer_rate", "avg_talk_seconds", "median_talk_seconds", "avg_lead_value")


def with_money(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` of summed counts (requests, answered, priced_leads, lead_value and kopecks) with MONEY_COLUMNS
    computed as for one account: for totals over several accounts, never an average of their ratios."""
    return _with_money(frame, shown=True)


def _with_money(frame: pl.DataFrame, *, shown: bool) -> pl.DataFrame:
    """`frame` (with kopecks and the record counts) with MONEY_COLUMNS in place of kopecks: empty unless `shown`,
    each empty where its divisor is 0."""
    if not shown:
        return frame.drop("kopecks").with_columns(pl.lit(None, pl.Float64).alias(name) for name in MONEY_COLUMNS)
    cost = pl.col("kopecks").fill_null(0).cast(pl.Float64) / 100
    value = pl.col("lead_value").cast(pl.Float64)

    def over(divisor: pl.Expr, dividend: pl.Expr = cost) -> pl.Expr:
        return pl.when(divisor != 0).then(dividend / divisor)

    money = [cost.alias("cost")]
    money += [over(pl.col(base).cast(pl.Float64)).alias(name) for name, base in _BASES.items()]
    money += [over(cost, value - cost).alias("romi"), over(value).alias("drr")]
    return frame.with_columns(money).drop("kopecks")
