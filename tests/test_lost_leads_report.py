"""`newton-dashboard report lost-leads`: its columns and options as a process, and every row equal to an independent
Python reading of docs/metrics.md ("Callers and lost leads") over generated accounts, from the store's raw records.

The reference below never calls the lost-leads SQL: it reads the records as they were stored (`records_between`,
the records export's source) and works everything out record by record. Only a record's channel is taken as stored,
since channels have their own rules and tests; which record's channel a caller gets is the reference's business.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from dashboard import cli
from dashboard.api import Department, Widget
from dashboard.api.records import parse_records
from dashboard.callers import OUR_CALLBACK_REFERER
from dashboard.demo.newton import DEMO_USER_ID
from dashboard.store import Store, data, marks
from tests.test_cli import run_cli

pytestmark = pytest.mark.slow  # the command line as its own process; hypothesis over generated accounts

ACCOUNT = DEMO_USER_ID  # the account the command line reads without a token
COLUMNS = ["phone", "missed", "last_missed_at", "reached", "reached_after_seconds", "channel", "utm_source",
           "widget", "lead_value", "mark", "marked_by", "marked_at"]  # fmt: skip
WIDGETS = [Widget("w1", "Main site", (Department("s", "Sales"),)), Widget("w2", "Landing", ())]
NEWTON_TIME = "%Y-%m-%d %H:%M:%S"


def _fill(store: Store, records: list[dict[str, Any]]) -> None:
    store.write(lambda con: con.execute("DELETE FROM records; DELETE FROM lead_marks"))
    store.write(data.upsert_records, ACCOUNT, parse_records({"records": records}), datetime(2024, 1, 1))
    store.write(data.replace_widgets, ACCOUNT, WIDGETS, datetime(2024, 1, 1))


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


# The command line as a process ------------------------------------------------------------------------------


def test_report_lost_leads_as_a_process_newest_first_with_only_lost_and_safe_values(tmp_path: Path) -> None:
    store = Store(tmp_path / "cache.duckdb")
    hostile = '=HYPERLINK("http://evil.example","click")'
    _fill(store, [
        {"id": "1", "type": "callback", "requestDate": "2024-03-01 21:30:00", "clientPhone": "8 (999) 111-22-33",
         "callStatus": "CLIENT_MISSED", "widgetId": "w1", "landingUtmSource": "@evil", "leadPrice": "700"},
        {"id": "2", "type": "callback", "requestDate": "2024-03-01 21:31:00", "clientPhone": "9991112233",
         "callStatus": "CLIENT_ANSWER", "widgetId": "w1"},
        {"id": "3", "type": "callback", "requestDate": "2024-03-02 08:00:00", "clientPhone": hostile,
         "callStatus": "OPERATOR_MISSED", "widgetId": "w2"},
        {"id": "4", "type": "callback", "requestDate": "2024-03-02 09:00:00", "clientPhone": "+79995556677",
         "callStatus": "CLIENT_MISSED", "widgetId": "w2"},
    ])  # fmt: skip
    store.write(marks.mark_phone, ACCOUNT, "+79995556677", "spam", "ann", datetime(2024, 3, 2, 10, 0))
    common = ["report", "lost-leads", "--cache", str(store.location), "--from", "2024-03-01", "--to", "2024-03-02"]

    everyone = run_cli(*common, "--tz", "Europe/Moscow", env={"NEWTON_TOKEN": ""})
    assert everyone.returncode == 0, everyone.stderr
    rows = _rows(everyone.stdout)
    assert list(rows[0]) == COLUMNS
    # In Moscow the first miss is on 2 March at 00:30; the hostile phone and source cannot run as formulas.
    assert [(r["phone"], r["last_missed_at"], r["reached"], r["mark"]) for r in rows] == [
        ("+79995556677", "2024-03-02 12:00:00", "no", "spam"),
        ("'" + hostile, "2024-03-02 11:00:00", "no", ""),
        ("+79991112233", "2024-03-02 00:30:00", "yes", ""),
    ]  # fmt: skip
    assert (rows[2]["reached_after_seconds"], rows[2]["utm_source"], rows[2]["lead_value"]) == ("60", "'@evil", "700")

    output = tmp_path / "lost.csv"
    lost = run_cli(*common, "--tz", "UTC", "--only-lost", "-o", str(output), env={"NEWTON_TOKEN": ""})
    assert lost.returncode == 0, lost.stderr
    only = _rows(output.read_text(encoding="utf-8"))
    assert [(r["phone"], r["last_missed_at"]) for r in only] == [("'" + hostile, "2024-03-02 08:00:00")]


# The reference: docs/metrics.md in plain Python ------------------------------------------------------------


def reference_phone(sent: str | None) -> str | None:
    """`+7` and 10 digits for a Russian number however written, else the value as sent; None when blank."""
    value = (sent or "").strip()
    if not value:
        return None
    bare = re.sub(r"[\s().\-]", "", value)
    if re.fullmatch(r"(\+7|7|8)\d{10}", bare):
        return "+7" + bare[-10:]
    if re.fullmatch(r"[0-69]\d{9}", bare):
        return "+7" + bare
    return value


def group(value: str | None) -> str:
    return (value or "").strip() or "(none)"


def local(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None)


def utc_bounds(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants where local day `first` starts and the day after `last` starts."""

    def start(day: date) -> datetime:
        return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC).replace(tzinfo=None)

    return start(first), start(last + timedelta(days=1))


@dataclass(frozen=True)
class Seen:
    """A stored record as the reference reads it."""

    id: str
    request: datetime
    phone: str | None
    ours: bool
    callback: bool
    answered: bool
    status_blank: bool
    delay: datetime | None
    price: int | None
    utm_source: str
    widget: str
    channel: str


def stored(store: Store) -> list[Seen]:
    frame = store.read(data.records_between, ACCOUNT)
    channels = dict(store.read(lambda con: con.execute("SELECT id, channel FROM records").fetchall()))
    seen = []
    for r in frame.iter_rows(named=True):
        if r["requestDate"] is None:
            continue
        seen.append(Seen(
            r["id"], r["requestDate"], reference_phone(r["clientPhone"]),
            (r["landingUrl"] or "").startswith(OUR_CALLBACK_REFERER), r["type"] == "callback",
            r["type"] == "callback" and r["callStatus"] == "CLIENT_ANSWER", not (r["callStatus"] or "").strip(),
            r["delayDate"], r["leadPrice"], group(r["landingUtmSource"]),
            group(r["widget_name"] or r["widgetId"]), channels[r["id"]],
        ))  # fmt: skip
    return seen


def expected_report(
    records: list[Seen], lead_marks: dict[str, tuple[str, str, datetime]], zone: ZoneInfo, first: date, last: date,
    as_of: datetime, *, only_lost: bool, widget: str | None,
) -> list[dict[str, str]]:  # fmt: skip
    start, end = utc_bounds(first, last, zone)

    def missed(r: Seen) -> bool:
        pending = r.callback and r.status_blank and (r.delay or r.request) > as_of - timedelta(hours=24)
        return r.callback and not r.answered and not pending

    requests = [r for r in records if start <= r.request < end and r.phone is not None and not r.ours
                and widget in (None, r.widget)]  # fmt: skip
    rows = []
    for phone in {r.phone for r in requests if missed(r) and r.phone is not None}:
        own = sorted((r for r in requests if r.phone == phone), key=lambda r: (r.request, r.id))
        misses = [r for r in own if missed(r)]
        last_miss = max(r.request for r in misses)
        answers = [r.request for r in records
                   if r.phone == phone and r.answered and last_miss < r.request <= as_of]  # fmt: skip
        mark = lead_marks.get(phone)
        if mark is not None and mark[2] < last_miss:
            mark = None  # a newer miss reopened the phone
        if only_lost and (answers or mark):
            continue
        rows.append((last_miss, phone, {
            "phone": phone, "missed": str(len(misses)),
            "last_missed_at": local(last_miss, zone).strftime(NEWTON_TIME), "reached": "yes" if answers else "no",
            "reached_after_seconds": str(int((min(answers) - last_miss).total_seconds())) if answers else "",
            "channel": own[0].channel, "utm_source": own[0].utm_source, "widget": own[0].widget,
            "lead_value": str(sum(r.price or 0 for r in own)),
            "mark": mark[0] if mark else "", "marked_by": mark[1] if mark else "",
            "marked_at": local(mark[2], zone).strftime(NEWTON_TIME) if mark else "",
        }))  # fmt: skip
    rows.sort(key=lambda row: (-row[0].timestamp(), row[1]))
    return [row for _, _, row in rows]


# Generated accounts -----------------------------------------------------------------------------------------

SUBSCRIBERS = ["9991112233", "9162223344", "4953334455", "8123334455", "9034445566"]
# Every way a phone is written, for one subscriber's 10 digits.
FORMATS = [
    lambda d: f"+7{d}", lambda d: f"8{d}", lambda d: f"7{d}", lambda d: d,
    lambda d: f"+7 ({d[:3]}) {d[3:6]}-{d[6:8]}-{d[8:]}", lambda d: f"8 {d[:3]} {d[3:6]} {d[6:8]} {d[8:]}",
    lambda d: f" 7-{d[:3]}-{d[3:6]}-{d[6:]} ", lambda d: f"({d[:3]}) {d[3:]}",
]  # fmt: skip
ODD_PHONES = ["call me", "12345", "", "   ", None]
START = datetime(2026, 3, 1)
DAYS = 12  # the records lie in the first DAYS days from START
ZONES = [ZoneInfo(name) for name in ("Europe/Moscow", "UTC", "America/New_York", "Asia/Kolkata", "Asia/Kamchatka")]


@st.composite
def phones(draw: st.DrawFn) -> str | None:
    if draw(st.integers(0, 5)) == 0:
        odd: str | None = draw(st.sampled_from(ODD_PHONES))
        return odd
    written: str = draw(st.sampled_from(FORMATS))(draw(st.sampled_from(SUBSCRIBERS)))
    return written


@st.composite
def accounts(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Repeat callers writing their phone every way, misses, answers, pending callbacks and our own call backs. Each
    list starts with the common case (a caller's missed callback), since hypothesis draws the first most often."""
    records = []
    for number in range(draw(st.integers(4, 40))):
        moment = START + timedelta(minutes=draw(st.integers(0, DAYS * 24 * 60)), seconds=draw(st.integers(0, 59)))
        delay = moment + timedelta(hours=draw(st.integers(1, 48))) if draw(st.integers(0, 9)) == 0 else None
        records.append({
            "id": f"r{number:02d}", "type": draw(st.sampled_from(["callback", "callback", "callback", "call"])),
            "requestDate": moment.strftime(NEWTON_TIME), "clientPhone": draw(phones()),
            "callStatus": draw(st.sampled_from(["CLIENT_MISSED", "CLIENT_ANSWER", "OPERATOR_MISSED", None, ""])),
            "delayDate": delay.strftime(NEWTON_TIME) if delay else None,
            "widgetId": draw(st.sampled_from(["w1", "w2", "w9", None])),
            "landingUtmSource": draw(st.sampled_from(["ya", " ya ", "vk", "", None])),
            "landingUrl": draw(st.sampled_from(["https://shop.example/a", None, OUR_CALLBACK_REFERER])),
            "leadPrice": draw(st.sampled_from([None, "100", "2500"])),
        })  # fmt: skip
    return records


@dataclass(frozen=True)
class Asked:
    """One run of the report: its zone, period, moment, `--only-lost` and a `--widget` filter (or none)."""

    zone: ZoneInfo
    first: date
    last: date
    as_of: datetime
    only_lost: bool
    widget: str | None


@st.composite
def asked(draw: st.DrawFn) -> Asked:
    first = START.date() + timedelta(days=draw(st.integers(0, DAYS - 2)))
    last = first + timedelta(days=6 - draw(st.integers(0, 6)))  # a week at the simplest: callers to list
    # Now is around the end of the records: the last day's callbacks without a status may still be pending, and
    # an answer of the last hours may not have happened yet.
    as_of = START + timedelta(minutes=draw(st.integers((DAYS - 2) * 24 * 60, (DAYS + 1) * 24 * 60)))
    widget = draw(st.sampled_from([None, None, None, "Main site", "w9", "(none)"]))
    return Asked(draw(st.sampled_from(ZONES)), first, last, as_of, draw(st.booleans()), widget)


@st.composite
def lead_marks(draw: st.DrawFn) -> dict[str, tuple[str, str, datetime]]:
    chosen = draw(st.lists(st.sampled_from([f"+7{d}" for d in SUBSCRIBERS] + ["call me"]), unique=True, max_size=3))
    return {
        phone: (draw(st.sampled_from(marks.MARK_KINDS)), draw(st.sampled_from(["ann", "bob"])),
                START + timedelta(minutes=draw(st.integers(0, DAYS * 24 * 60))))
        for phone in chosen
    }  # fmt: skip


@pytest.fixture(scope="module")
def account_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    folder = tmp_path_factory.mktemp("lost")
    with pytest.MonkeyPatch.context() as patch:
        for name in ("NEWTON_TOKEN", "NEWTON_USER_ID", "NEWTON_API_URL", "NEWTON_CACHE", "NEWTON_TIMEZONE"):
            patch.delenv(name, raising=False)
        patch.chdir(folder)  # no secrets file: the demo account
        yield Store(folder / "cache.duckdb")


def report_lines(store: Store, run: Asked) -> str:
    """`report lost-leads` run by the command line's own entry point, at `run.as_of` instead of the clock's now."""
    output = store.location.with_name("lost.csv")
    args = ["report", "lost-leads", "--cache", str(store.location), "--tz", run.zone.key, "--from", str(run.first),
            "--to", str(run.last), "-o", str(output), *(["--only-lost"] if run.only_lost else []),
            *(["--widget", run.widget] if run.widget else [])]  # fmt: skip
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cli, "utc_now", lambda: run.as_of)
        assert cli.main(args) == 0
    return output.read_text(encoding="utf-8")


@settings(max_examples=40, deadline=None)
@given(accounts(), lead_marks(), asked())
def test_report_lost_leads_equals_an_independent_reading_of_the_records(
    account_store: Store,
    records: list[dict[str, Any]],
    kept_marks: dict[str, tuple[str, str, datetime]],
    run: Asked,
) -> None:
    _fill(account_store, records)
    for phone, (kind, by, at) in kept_marks.items():
        account_store.write(marks.mark_phone, ACCOUNT, phone, kind, by, at)

    got = _rows(report_lines(account_store, run))

    expected = expected_report(stored(account_store), kept_marks, run.zone, run.first, run.last, run.as_of,
                               only_lost=run.only_lost, widget=run.widget)  # fmt: skip
    event("some rows" if expected else "no rows")
    assert got == expected
