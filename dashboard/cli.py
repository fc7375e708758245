"""`newton-dashboard`: the command line, a thin front over the same functions the pages use."""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from dashboard import datasets
from dashboard.access import Person, Role, cli_read_only
from dashboard.api import NewtonClient, validate
from dashboard.connect import open_client
from dashboard.cost_files import FORMATS
from dashboard.dimensions import DIMENSIONS, check_dimension, filterable
from dashboard.errors import (
    EXIT_INPUT,
    EXIT_OK,
    EXIT_STORAGE,
    EXIT_UNREACHABLE,
    AlreadySent,
    ConfigError,
    DashboardError,
    FieldErrors,
    InvalidInput,
    NotAllowed,
)
from dashboard.export import to_csv_bytes, write_csv
from dashboard.i18n import Problem
from dashboard.progress import ProgressBar
from dashboard.settings import (
    Account,
    Connection,
    account_named,
    cache_path,
    configured,
    load_accounts,
    read_secrets,
    sync_concurrency,
)
from dashboard.store import LakeLocation, open_store, utc_now
from dashboard.store.damage import is_storage_errno
from dashboard.store.lake import maintain as maintain_lake
from dashboard.store.migrate import migrate
from dashboard.sync import DEFAULT_CONCURRENCY, MOST_CONCURRENCY, SyncOptions, SyncResult, sync
from dashboard.timezones import local_days_utc, local_midnight_utc, parse_local_date
from dashboard.writes import Writer

if TYPE_CHECKING:
    import polars as pl

    from dashboard.demo.faults import Fault
    from dashboard.metrics import Filters, Metrics

log = logging.getLogger("dashboard.cli")

# DuckDB's memory during the command line's sync writes: a 1M-record first sync stays under 1 GB (README,
# Performance). The dashboard's own syncs leave it (its pages share DuckDB's settings).
SYNC_WRITE_MEMORY_LIMIT = "200MB"
# By default cron's sync waits this long for the dashboard's (or a previous cron's) to end, then exits 3.
OTHER_SYNC_WAIT_SECONDS = 600.0
PHONE_HELP = "a Russian phone as people write it: +79991234567, 8 999 123-45-67, 9991234567"


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit code."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    command: Callable[[argparse.Namespace], int] = args.command
    try:
        return command(args)
    except DashboardError as error:
        # The class decides the exit code (see dashboard.errors); this only words it.
        for line in _error_lines(error):
            print(line, file=sys.stderr)
        return error.exit_code
    except OSError as error:
        if not is_storage_errno(error):
            raise
        # An output file on a full disk, or in a folder this user may not write.
        print(f"error: local storage failure: {error}", file=sys.stderr)
        return EXIT_STORAGE
    except KeyboardInterrupt:
        return 130


def _error_lines(error: DashboardError) -> list[str]:
    """What stderr says about an error: a field per line for refused input, else the message."""
    if isinstance(error, AlreadySent):
        again = not error.waited or error.earlier.outcome != "sending"
        return [f"not sent: {error}", *(["To send it anyway, run the same command again with --send-again."] * again)]
    if isinstance(error, FieldErrors):
        return [f"{field}: {message}" for field, message in error.fields.items()]
    if isinstance(error, ConfigError):
        return [str(error)]  # "setting: problem", as a refused field
    return [f"error: {error}"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newton-dashboard",
        description="Newton Dashboard: analytics for Newton (eyenewton.ru) callbacks, call tracking and chats.",
        epilog="The token is read from NEWTON_TOKEN or .streamlit/secrets.toml, never from a flag. "
        "With no token configured, commands use the embedded demo account.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log retries and requests (never the token)")
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    connection = argparse.ArgumentParser(add_help=False)
    connection.add_argument(
        "--account", metavar="NAME",
        help="the Newton account, by its name in [accounts.NAME] of secrets.toml (default: the first one listed)",
    )  # fmt: skip
    connection.add_argument("--api-url", help="Newton JSON endpoint (default: NEWTON_API_URL, secrets or eyenewton.ru)")
    connection.add_argument("--user-id", help="Newton user id (default: NEWTON_USER_ID or secrets)")

    stored = argparse.ArgumentParser(add_help=False)
    stored.add_argument("--cache", help="the cache file, or ducklake:postgres:<libpq string> (default: NEWTON_CACHE, "
                        "or cache/newton.duckdb; cache/demo.duckdb in demo mode)")  # fmt: skip

    demo = commands.add_parser("demo-server", help="serve the embedded demo Newton over HTTP")
    demo.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    demo.add_argument("--port", type=_port, default=8765, help="port (default 8765; 0 picks a free one)")
    demo.add_argument("--records", type=_positive, default=30_000, help="records over 180 days (default 30000)")
    demo.add_argument("--seed", type=int, default=42, help="seed of the simulated account (default 42)")
    demo.add_argument("--warm", action="store_true", help="generate the whole account before listening")
    demo.add_argument(
        "--faults",
        type=_fault_rate,
        metavar="RATE",
        help="inject faults into this share of API requests, from 0 to 1 (e.g. 0.2; default none)",
    )
    demo.add_argument(
        "--fault-kinds",
        type=_fault_kinds,
        metavar="KINDS",
        help="comma-separated: slow, 429, 5xx, drop-before, drop-after, html-200, truncated (default all)",
    )
    demo.add_argument(
        "--latency-ms",
        type=_milliseconds,
        default=0.0,
        metavar="MS",
        help="delay every answer by this many milliseconds, as a real network does (default 0)",
    )
    demo.set_defaults(command=_demo_server)

    widgets = commands.add_parser("widgets", parents=[connection], help="list widgets and their departments")
    widgets.set_defaults(command=_widgets)

    price = commands.add_parser("set-lead-price", parents=[connection, stored], help="set what a call's lead was worth")
    price.add_argument("id", help="the call id")
    price.add_argument("price", help="whole roubles, 0 or more")
    price.set_defaults(command=_set_lead_price)

    deal = commands.add_parser(
        "create-crm-lead", parents=[connection, stored], help="create a deal for a caller's phone"
    )
    deal.add_argument("--phone", required=True, help=PHONE_HELP)
    deal.add_argument("--price", required=True, help="whole roubles, 0 or more")
    deal.add_argument("--date", help="YYYY-MM-DD or 'YYYY-MM-DD HH:MM:SS', UTC")
    _once(deal)
    deal.set_defaults(command=_create_crm_lead)

    call = commands.add_parser("create-request", parents=[connection, stored], help="place a REAL test callback")
    call.add_argument("--phone", required=True, help=f"{PHONE_HELP}: this phone will ring")
    call.add_argument("--widget", required=True, help="widget id")
    call.add_argument("--department", help="department id (when call distribution is on)")
    call.add_argument("--referer", help="the page the request claims to come from")
    _once(call)
    call.set_defaults(command=_create_request)

    app = commands.add_parser("application-request", parents=[connection, stored], help="send a test application")
    app.add_argument("--phone", required=True, help=PHONE_HELP)
    app.add_argument("--widget", required=True, help="widget id")
    app.add_argument("--department", help="department id")
    app.add_argument("--name", help="the applicant's name")
    app.add_argument("--email", help="the applicant's e-mail")
    app.add_argument("--text", help="the application's text")
    app.add_argument("--referer", help="the page the application claims to come from")
    _once(app)
    app.set_defaults(command=_application_request)

    local = argparse.ArgumentParser(add_help=False, parents=[stored])
    local.add_argument("--tz", help="time zone of dates you type (default: the account's timezone, else "
                       "NEWTON_TIMEZONE or Europe/Moscow)")  # fmt: skip

    sync = commands.add_parser("sync", parents=[connection, local], help="bring the local cache up to date")
    sync.add_argument("--since", help="fetch from this local date YYYY-MM-DD (default: 180 days, then incremental)")
    sync.add_argument("--full", action="store_true", help="re-fetch the whole history, not just what changed")
    sync.add_argument("--history-days", type=_days, default=180, help="days of history kept complete (default 180)")
    sync.add_argument("--lookback-days", type=_whole_days, default=7, help="re-fetch this many days (default 7)")
    sync.add_argument(
        "--window-hours", type=_hours, default=24,
        help="hours of the first request when no earlier sync found what fits (default 24, at most 744); requests "
        "then grow up to 31 days where Newton's answers are small",
    )  # fmt: skip
    sync.add_argument(
        "--concurrency", metavar="N",
        help=f"requests sent to Newton at once, 1 to {MOST_CONCURRENCY} (default: NEWTON_SYNC_CONCURRENCY or "
        f"{DEFAULT_CONCURRENCY}; 1: one after another)",
    )  # fmt: skip
    sync.add_argument(
        "--split-threshold", type=_positive, default=1000, help="split a window answering this many (default 1000)"
    )
    sync.add_argument(
        "--wait-for-other-sync", type=_seconds, default=OTHER_SYNC_WAIT_SECONDS, metavar="SECONDS",
        help="when another sync of the same cache runs, wait this long for it (default 600), then exit 3",
    )  # fmt: skip
    sync.add_argument(
        "--all-accounts", action="store_true",
        help="sync every account of secrets.toml, one after another; one failing does not stop the others",
    )  # fmt: skip
    sync.add_argument(
        "--parallel", type=_positive, default=1, metavar="N",
        help="with --all-accounts: sync this many accounts at once (default 1); only on the lake store, the cache "
        "file keeps one writer",
    )  # fmt: skip
    sync.set_defaults(command=_sync)

    export = commands.add_parser("export", parents=[connection, local], help="write cached records or chats as CSV")
    export.add_argument("what", choices=["records", "chats"], help="records (one row a request) or chats (a message)")
    export.add_argument("--from", dest="first", help="first local date YYYY-MM-DD, inclusive")
    export.add_argument("--to", dest="last", help="last local date YYYY-MM-DD, inclusive")
    export.add_argument("-o", "--output", type=Path, help="file to write (default: standard output)")
    export.add_argument("--separator", choices=[",", ";"], default=",", help="',' (default) or ';' for Russian Excel")
    export.set_defaults(command=_export)

    report = commands.add_parser("report", parents=[connection, local], help="write a metrics table as CSV")
    report.add_argument("what", choices=["attribution", "daily", "speed", "chats", "lost-leads"], help="which report")
    report.add_argument("--by", help=f"dimension (attribution: required; speed: optional): {', '.join(DIMENSIONS)}")
    report.add_argument("--then", help="a second dimension for a cross-tab (attribution)")
    for dimension in filterable():  # the sidebar's filters, under the names a link gives them
        report.add_argument(
            f"--{dimension.url_param}", dest=f"only_{dimension.key}", action="append", metavar="VALUE",
            help=f"{dimension.label('en')}: only records with this value (repeat for several; '(none)': empty)",
        )  # fmt: skip
    report.add_argument("--grain", choices=["day", "week", "month"], default="day", help="daily: the period length")
    report.add_argument("--from", dest="first", help="first local date YYYY-MM-DD, inclusive")
    report.add_argument("--to", dest="last", help="last local date YYYY-MM-DD, inclusive")
    report.add_argument(
        "--compare", choices=["previous", "year", "none"], default="none",
        help="attribution: add the change per row against the previous period or the same period last year",
    )  # fmt: skip
    report.add_argument(
        "--only-lost", action="store_true", help="lost-leads: only the callers not reached since and not marked"
    )
    report.add_argument(
        "--first-touch", action="store_true",
        help="attribution: count each caller once, under the values of its first request in the cache",
    )  # fmt: skip
    report.add_argument("-o", "--output", type=Path, help="file to write (default: standard output)")
    report.add_argument("--separator", choices=[",", ";"], default=",", help="',' (default) or ';' for Russian Excel")
    report.set_defaults(command=_report)

    alerts = commands.add_parser(
        "alerts", parents=[connection, local], help="send the alerts and the digest that are due (after a sync)"
    )
    alerts.add_argument(
        "--now", help="check as if it were this UTC time, 'YYYY-MM-DD HH:MM:SS' (to try the settings; default: now)"
    )
    alerts.add_argument(
        "--all-accounts",
        action="store_true",
        help="check every account of secrets.toml, one after another (each message names its account)",
    )
    alerts.set_defaults(command=_alerts)

    costs = commands.add_parser("costs", help="ad costs: import a cost file, list what is stored")
    actions = costs.add_subparsers(title="actions", required=True, metavar="ACTION")
    imported = actions.add_parser(
        "import", parents=[connection, local], help="store the costs of a file (README: Costs)",
        description="Read a cost file (CSV or XLSX): our own columns, or a Yandex Direct or VK Ads statistics "
        "report. Bad rows are listed and not stored; the others are. Importing the same rows again replaces them.",
    )  # fmt: skip
    imported.add_argument("file", type=Path, help="the CSV or XLSX file")
    imported.add_argument(
        "--format", dest="file_format", choices=FORMATS, default="auto", help="the kind of file (default: auto)"
    )
    imported.add_argument("--source", help="a Yandex Direct or VK Ads report: the utm_source of its campaigns")
    imported.add_argument("--medium", help="a Yandex Direct or VK Ads report: their utm_medium (default: cpc)")
    imported.add_argument(
        "--replace", action="store_true",
        help="first clear the stored costs of this kind of file for each source over the file's days",
    )  # fmt: skip
    imported.set_defaults(command=_costs_import)
    listed = actions.add_parser(
        "list", parents=[connection, local], help="what is stored, per month, source and kind of file (CSV)"
    )
    listed.add_argument("--from", dest="first", help="first local date YYYY-MM-DD, inclusive")
    listed.add_argument("--to", dest="last", help="last local date YYYY-MM-DD, inclusive")
    listed.add_argument("-o", "--output", type=Path, help="file to write (default: standard output)")
    listed.add_argument("--separator", choices=[",", ";"], default=",", help="',' (default) or ';' for Russian Excel")
    listed.set_defaults(command=_costs_list)

    maintain = commands.add_parser(
        "maintain", parents=[connection, stored], help="compact a lake's small files, expire old snapshots (cron)"
    )
    maintain.add_argument(
        "--keep-days", type=_whole_days, default=7, help="keep the snapshots of the last N days (default 7)"
    )
    maintain.set_defaults(command=_maintain)
    migrating = commands.add_parser(
        "migrate", parents=[connection, stored], help="copy the cache file (--cache) into a lake, exactly"
    )
    migrating.add_argument(
        "--to", required=True, help="ducklake:postgres:<libpq string> (files at NEWTON_LAKE_DATA_PATH)"
    )
    migrating.add_argument("--replace", action="store_true", help="overwrite a lake that already holds data")
    migrating.set_defaults(command=_migrate)
    return parser


def _once(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--send-again", action="store_true",
        help="send it even though the same write was made in the last 10 minutes (without it: exit 2, nothing sent)",
    )  # fmt: skip


def _port(value: str) -> int:
    number = int(value) if value.isdigit() else -1
    if not 0 <= number <= 65535:
        raise argparse.ArgumentTypeError("must be a port number from 0 to 65535")
    return number


def _whole_days(value: str) -> int:
    if not value.isdigit() or int(value) > 3650:
        raise argparse.ArgumentTypeError("must be a whole number of days from 0 to 3650")
    return int(value)


def _days(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 3650:
        raise argparse.ArgumentTypeError("must be a whole number of days from 1 to 3650")
    return int(value)


def _hours(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 744:
        raise argparse.ArgumentTypeError("must be a whole number of hours from 1 to 744")
    return int(value)


def _seconds(value: str) -> float:
    if not value.isdigit() or int(value) > 86_400:
        raise argparse.ArgumentTypeError("must be a whole number of seconds from 0 to 86400")
    return float(value)


def _positive(value: str) -> int:
    number = int(value) if value.isdigit() else 0
    if number < 1:
        raise argparse.ArgumentTypeError("must be a whole number above 0")
    return number


def _accounts(args: argparse.Namespace) -> tuple[Account, tuple[Account, ...]]:
    """The account the command is about (`--account`, else the first) and every account of the deployment."""
    accounts = load_accounts(chosen=args.account, api_url=args.api_url, user_id=args.user_id)
    account = accounts[0] if args.account is None else account_named(accounts, args.account, "--account")
    return account, accounts


def _account(args: argparse.Namespace, *, reaches_newton: bool = False) -> tuple[Account, Path | LakeLocation]:
    """The command's account and the store all accounts share: `--cache`, NEWTON_CACHE or the default (demo data
    gets its own file when the deployment's first account is the demo). A command that `reaches_newton` says so
    when that is the demo."""
    account, accounts = _accounts(args)
    if reaches_newton and account.connection.demo:
        print(account.connection.describe(), file=sys.stderr)
    return account, cache_path(args.cache if "cache" in args else None, accounts[0].connection)


def _zone(args: argparse.Namespace, account: Account) -> ZoneInfo:
    """`--tz`, else the account's time zone (its `timezone`, else NEWTON_TIMEZONE or the default)."""
    zone: ZoneInfo | None = configured("timezone", flag=args.tz, env={})
    return account.zone if zone is None else zone


def _connection(args: argparse.Namespace) -> Connection:
    return _account(args, reaches_newton=True)[0].connection


def _client(args: argparse.Namespace) -> NewtonClient:
    return open_client(_connection(args))


def _sync(args: argparse.Namespace) -> int:
    concurrency = sync_concurrency(args.concurrency)
    if args.all_accounts:
        return _sync_all(args, concurrency)
    if args.parallel > 1:
        raise InvalidInput({"parallel": "syncs several accounts at once: use it with --all-accounts"})
    account, path = _account(args, reaches_newton=True)
    connection = account.connection
    progress = ProgressBar(sys.stderr)
    with open_client(connection) as client:
        try:
            result = sync(
                client,
                open_store(path),
                connection.credentials.user_id,
                _sync_options(args, account, concurrency),
                progress.show,
            )
        finally:
            progress.stop()  # an error is printed on a line of its own
    print(
        f"Synced {result.records} records and {result.chats} chats from {result.start:%Y-%m-%d %H:%M} "
        f"to {result.end:%Y-%m-%d %H:%M} UTC into {path}."
    )
    for window in result.capped_windows:
        print(f"warning: Newton's answer for {window.start} was at the limit; some records may be missing")
    return EXIT_OK


def _sync_all(args: argparse.Namespace, concurrency: int) -> int:
    """Every account into the one store; each account's failure is reported and the others still synced."""
    if args.account is not None:
        raise InvalidInput({"all-accounts": "syncs every account: leave out --account"})
    if args.user_id or args.api_url:
        raise InvalidInput({"all-accounts": "--user-id and --api-url change one account: use them with --account"})
    accounts = load_accounts()
    path = cache_path(args.cache, accounts[0].connection)
    if args.parallel > 1 and isinstance(path, Path):
        raise InvalidInput({"parallel": "must be 1 with a cache file: the file store keeps one writer (several "
                            "accounts at once need the lake store, NEWTON_CACHE=ducklake:postgres:...)"})  # fmt: skip
    _sync_options(args, accounts[0], concurrency)  # a bad --since or --tz is refused once, before any account
    at_once = min(args.parallel, len(accounts))

    def one(account: Account) -> tuple[Account, SyncResult | DashboardError]:
        try:
            return account, _sync_account(args, account, path, concurrency, lines=at_once > 1)
        except DashboardError as error:
            print(f"error: account {account.name}: {error}", file=sys.stderr)
            return account, error

    if at_once > 1:
        with ThreadPoolExecutor(max_workers=at_once, thread_name_prefix="sync-account") as pool:
            outcomes = list(pool.map(one, accounts))
    else:
        outcomes = [one(account) for account in accounts]
    for account, outcome in outcomes:  # one summary line per account, in the order secrets.toml lists them
        if isinstance(outcome, DashboardError):
            print(f"Account {account.name}: failed (exit {outcome.exit_code}): {outcome}")
        else:
            print(f"Account {account.name}: synced {outcome.records} records and {outcome.chats} chats.")
    failed = [outcome.exit_code for _, outcome in outcomes if isinstance(outcome, DashboardError)]
    print(f"{len(outcomes) - len(failed)} of {len(outcomes)} accounts synced into {path}.")
    return failed[0] if failed else EXIT_OK


def _sync_account(
    args: argparse.Namespace, account: Account, path: Path | LakeLocation, concurrency: int, *, lines: bool
) -> SyncResult:
    connection = account.connection
    options = _sync_options(args, account, concurrency)
    progress = ProgressBar(sys.stderr, account.name, lines=lines)
    print(f"sync {account.name}: {connection.describe()}", file=sys.stderr)
    with open_client(connection) as client:
        try:
            result = sync(client, open_store(path), connection.credentials.user_id, options, progress.show)
        finally:
            progress.stop()
    for window in result.capped_windows:
        print(f"warning: account {account.name}: Newton's answer for {window.start} was at the limit; some records "
              "may be missing")  # fmt: skip
    return result


def _sync_options(args: argparse.Namespace, account: Account, concurrency: int) -> SyncOptions:
    zone = _zone(args, account)
    since = local_midnight_utc(parse_local_date("since", args.since), zone) if args.since else None
    return SyncOptions(
        history=timedelta(days=args.history_days),
        lookback=timedelta(days=args.lookback_days),
        window=timedelta(hours=args.window_hours),
        split_threshold=args.split_threshold,
        since=since,
        full=args.full,
        wait_for_other_sync=args.wait_for_other_sync,
        concurrency=concurrency,
        write_memory_limit=SYNC_WRITE_MEMORY_LIMIT,
    )


def _report(args: argparse.Namespace) -> int:
    from dashboard import reports
    from dashboard.lost_leads import LostLeads
    from dashboard.metrics import Definitions, Filters, Metrics, Period

    if args.what == "attribution" and not args.by:
        raise InvalidInput({"by": "is required for the attribution report, e.g. --by channel"})
    if args.first_touch and (args.what != "attribution" or args.compare != "none"):
        raise InvalidInput({"first-touch": "applies to the attribution report only, without --compare"})
    for field, value in (("by", args.by), ("then", args.then)):
        if value:
            check_dimension(value, field)
    account, path = _account(args)
    connection, zone = account.connection, _zone(args, account)
    first = parse_local_date("from", args.first) if args.first else None
    last = parse_local_date("to", args.last) if args.last else None
    if isinstance(path, Path) and not path.is_file():  # a lake is there once its catalog is
        print(f"error: no cache at {path}: run `newton-dashboard sync` first", file=sys.stderr)
        return EXIT_INPUT
    with open_store(path).reading() as reading:
        metrics = Metrics(reading, connection.credentials.user_id, Definitions(zone=zone))
        period = None
        if first is not None or last is not None:
            # With one date only, the data's own first or last day closes the period (an empty one stays empty).
            span = metrics.chat_span() if args.what == "chats" else metrics.data_span()
            if first is None:
                first = min(span.first, last) if span and last else last
            if last is None:
                last = max(span.last, first) if span and first else first
            period = Period(first, last) if first and last else None
        # Callbacks without a status yet are pending for 24 hours, counted from the moment the report is made.
        chosen = {d.key: tuple(getattr(args, f"only_{d.key}", None) or ()) for d in filterable()}
        filters = Filters(period=period, chosen=chosen, as_of=utc_now())
        if args.what == "attribution" and args.first_touch:
            frame = reports.first_touch(metrics, filters, reports.Breakdown(args.by, args.then))
        elif args.what == "attribution":
            frame = reports.attribution(metrics, filters, reports.Breakdown(args.by, args.then, args.compare))
            _note_blocked_money(metrics, filters, args.by, args.then)
        elif args.what == "daily":
            frame = reports.daily(metrics, filters, args.grain)
        elif args.what == "speed":
            frame = reports.speed(metrics, filters, args.by)
        elif args.what == "lost-leads":
            frame = reports.lost_leads(LostLeads.beside(metrics), filters, only_lost=args.only_lost)
        else:
            frame = reports.chats(metrics, filters)
    _write_table(frame, args.output, args.separator, args.what)
    return EXIT_OK


def _note_blocked_money(metrics: Metrics, filters: Filters, by: str, then: str | None) -> None:
    """Say why the money columns are empty when costs are stored but cannot follow the report's view."""
    from dashboard.money import Money, blocked_by

    blocked = blocked_by(filters, by, then)
    if blocked and Money.beside(metrics).has_costs():
        print(f"note: the money columns are empty: ad costs cannot follow {', '.join(blocked)} "
              "(only the period, channel, utm_source, utm_medium and utm_campaign)", file=sys.stderr)  # fmt: skip


def _write_table(frame: pl.DataFrame, output: Path | None, separator: str, what: str) -> None:
    if output is None:
        sys.stdout.buffer.write(to_csv_bytes(frame, separator=separator))
        sys.stdout.flush()
    else:
        write_csv(frame, output, separator=separator)
        print(f"Wrote {frame.height} rows of {what} to {output}.", file=sys.stderr)


def _export(args: argparse.Namespace) -> int:
    account, path = _account(args)
    connection, zone = account.connection, _zone(args, account)
    first = parse_local_date("from", args.first) if args.first else None
    last = parse_local_date("to", args.last) if args.last else None
    start, end = local_days_utc(first, last, zone)
    if isinstance(path, Path) and not path.is_file():  # a lake is there once its catalog is
        print(f"error: no cache at {path}: run `newton-dashboard sync` first", file=sys.stderr)
        return EXIT_INPUT
    shape = datasets.records_for_export if args.what == "records" else datasets.chats_for_export
    frame = open_store(path).read(shape, connection.credentials.user_id, start, end, zone)
    _write_table(frame, args.output, args.separator, args.what)
    return EXIT_OK


def _alerts(args: argparse.Namespace) -> int:
    from dashboard.alerts import delivery
    from dashboard.alerts import run as alerts

    if args.all_accounts and (args.account is not None or args.user_id or args.api_url):
        raise InvalidInput({"all-accounts": "checks every account: leave out --account, --user-id and --api-url"})
    account, accounts = _accounts(args)
    path = cache_path(args.cache, accounts[0].connection)
    settings = alerts.load_settings()
    channels = delivery.channels_from()
    if not channels:
        raise ConfigError("alerts", Problem("no_alert_channel"))
    now = datetime.fromisoformat(validate.date("now", args.now)) if args.now else utc_now()
    if isinstance(path, Path) and not path.is_file():  # a lake is there once its catalog is
        print(f"error: no cache at {path}: run `newton-dashboard sync` first", file=sys.stderr)
        return EXIT_INPUT
    worst = EXIT_OK
    for one in accounts if args.all_accounts else (account,):
        # With several accounts every message says whose it is and links to it: one chat gets them all.
        label = alerts.AccountLabel(one.name, one.title) if len(accounts) > 1 else None
        outcome = alerts.run(open_store(path), one.connection.credentials.user_id, _zone(args, one), settings,
                             channels, now, label)  # fmt: skip
        whose = f"Account {one.name}: " if args.all_accounts else ""
        print(f"{whose}Messages sent: {outcome.messages}; alerts in them: {len(outcome.sent)}.")
        for carried, reason in outcome.failed:
            # The alert stays due: the next run tries that channel again (and only that one).
            print(f"error: {whose}not sent ({len(carried)} alerts), tried again on the next run: {reason}",
                  file=sys.stderr)  # fmt: skip
            worst = EXIT_UNREACHABLE
    return worst


def _costs_import(args: argparse.Namespace) -> int:
    from dashboard import cost_files
    from dashboard.errors import UploadError

    if cli_read_only(read_secrets(section="access")):
        raise NotAllowed("this deployment is read-only (NEWTON_READ_ONLY or [access] read_only); nothing was imported")
    account, path = _account(args)
    connection = account.connection
    today = datetime.now(_zone(args, account)).date()  # the local date: no cost can be after it
    if not args.file.is_file():
        print(f"error: no such file: {args.file}", file=sys.stderr)
        return EXIT_INPUT
    with args.file.open("rb") as file:
        data = file.read(cost_files.MAX_BYTES + 1)  # one byte over is enough to say it is too large
    try:
        cost_file = cost_files.read_cost_file(
            data, args.file.name, file_format=args.file_format, source=args.source, medium=args.medium, today=today
        )
    except UploadError as error:
        print(f"error: {args.file}: {cost_files.error_message(error, 'en')}", file=sys.stderr)
        return EXIT_INPUT
    for line in cost_file.bad:
        print(f"row {line.row}: {line.status}", file=sys.stderr)
    bad = len(cost_file.bad)
    if not cost_file.ready:
        print(f"Nothing imported: none of the {len(cost_file.rows)} rows of {args.file} can be stored.")
        return EXIT_INPUT
    store = open_store(path)
    saved = cost_files.import_costs(
        store, connection.credentials.user_id, cost_file, by=f"cli:{_login_name()}", now=utc_now(),
        replace=args.replace,
    )  # fmt: skip
    print(
        f"Imported {args.file} ({cost_file.origin}): {saved.added} added, {saved.replaced} replaced, "
        f"{saved.cleared} cleared; {bad} bad rows not imported."
    )
    return EXIT_OK


def _maintain(args: argparse.Namespace) -> int:
    location = _account(args)[1]
    if isinstance(location, Path):
        open_store(location).read(lambda con: con.execute("CHECKPOINT"))
        print(f"{location}: a DuckDB file needs no maintenance (checkpointed); nothing else to do")
        return EXIT_OK
    for line in maintain_lake(location, args.keep_days, utc_now()):
        print(line)
    return EXIT_OK


def _migrate(args: argparse.Namespace) -> int:
    account, source = _account(args)
    target = cache_path(args.to, account.connection)
    if not isinstance(source, Path):
        raise ConfigError("--cache", Problem("migrate_from_file"))
    if not isinstance(target, LakeLocation):
        raise ConfigError("--to", Problem("migrate_to_lake"))
    copied = migrate(source, target, replace=args.replace)
    print("table,file_rows,lake_rows,file_checksum,lake_checksum,same")
    for table in copied:
        print(f"{table.table},{table.file_rows},{table.lake_rows},{table.file_checksum},{table.lake_checksum},"
              f"{'yes' if table.same else 'NO'}")  # fmt: skip
    if not all(table.same for table in copied):
        print(f"error: the lake {target} differs from {source} (see the rows marked NO)", file=sys.stderr)
        return EXIT_INPUT
    print(f"copied {sum(t.lake_rows for t in copied)} rows of {len(copied)} tables into {target}", file=sys.stderr)
    return EXIT_OK


def _costs_list(args: argparse.Namespace) -> int:
    from dashboard.cost_files import monthly_costs

    account, path = _account(args)
    connection = account.connection
    if isinstance(path, Path) and not path.is_file():  # a lake is there once its catalog is
        print(f"error: no cache at {path}: import costs or run `newton-dashboard sync` first", file=sys.stderr)
        return EXIT_INPUT
    span = [
        parse_local_date(name, value) if value else None for name, value in (("from", args.first), ("to", args.last))
    ]
    frame = open_store(path).read(monthly_costs, connection.credentials.user_id, *span)
    _write_table(frame, args.output, args.separator, "costs per month")
    return EXIT_OK


def _fault_rate(value: str) -> float:
    return _number_between(value, 0.0, 1.0, "must be a share of requests from 0 to 1, e.g. 0.2")


def _milliseconds(value: str) -> float:
    return _number_between(value, 0.0, 60_000.0, "must be milliseconds from 0 to 60000, e.g. 100")


def _number_between(value: str, low: float, high: float, problem: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = low - 1
    if not low <= number <= high:  # also refuses nan
        raise argparse.ArgumentTypeError(problem)
    return number


def _fault_kinds(value: str) -> frozenset[Fault]:
    from dashboard.demo.faults import parse_kinds

    try:
        return parse_kinds(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _demo_server(args: argparse.Namespace) -> int:
    from dashboard.demo import DemoNewton
    from dashboard.demo.faults import ALL_FAULTS, Faults
    from dashboard.demo.server import run_forever

    if args.fault_kinds is not None and args.faults is None:
        print("error: --fault-kinds needs --faults RATE, e.g. --faults 0.2", file=sys.stderr)
        return EXIT_INPUT
    logging.getLogger("dashboard.demo").setLevel(logging.INFO)  # its "listening on URL" line is the output
    newton = DemoNewton(records=args.records, seed=args.seed)
    if args.warm:
        newton.warm_up()  # otherwise each day is made on first request, inside whoever is measuring
    faults = None
    if args.faults:
        faults = Faults(args.faults, args.fault_kinds or ALL_FAULTS, seed=args.seed)
    run_forever(newton, args.host, args.port, faults, args.latency_ms / 1000)
    return EXIT_OK


def _widgets(args: argparse.Namespace) -> int:
    with _client(args) as client:
        widgets = client.get_widgets()
    for widget in widgets:
        print(f"{widget.id}\t{widget.name}")
        for department in widget.departments:
            print(f"  department {department.id}\t{department.name}")
    if not widgets:
        print("No widgets in this account.")
    return EXIT_OK


def _writer(args: argparse.Namespace) -> Writer:
    if cli_read_only(read_secrets(section="access")):
        raise NotAllowed("this deployment is read-only (NEWTON_READ_ONLY or [access] read_only); nothing was sent")
    account, path = _account(args, reaches_newton=True)
    connection = account.connection
    # The write log lives in the cache, beside the data the write changes.
    author = Person(f"cli:{_login_name()}", Role.EDITOR)
    return Writer(open_client(connection), open_store(path), connection.credentials.user_id, author)


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name in some containers
        return "unknown"


def _report_unrecorded(writer: Writer) -> None:
    for problem in writer.unrecorded:
        print(f"warning: done in Newton, but not recorded in the local cache: {problem}", file=sys.stderr)


def _set_lead_price(args: argparse.Namespace) -> int:
    writer = _writer(args)
    with writer.client:
        writer.set_lead_price(args.id, args.price)
    _report_unrecorded(writer)
    print(f"Lead price of call {args.id} set to {args.price}.")
    return EXIT_OK


def _create_crm_lead(args: argparse.Namespace) -> int:
    writer = _writer(args)
    with writer.client:
        writer.create_crm_lead(args.phone, args.price, args.date, send_again=args.send_again)
    _report_unrecorded(writer)
    print(f"Deal created for {args.phone} at {args.price}.")
    return EXIT_OK


def _create_request(args: argparse.Namespace) -> int:
    writer = _writer(args)
    with writer.client:
        writer.create_request(args.phone, args.widget, args.department, args.referer, send_again=args.send_again)
    _report_unrecorded(writer)
    print(f"Callback requested: Newton will call {args.phone} through widget {args.widget}.")
    return EXIT_OK


def _application_request(args: argparse.Namespace) -> int:
    writer = _writer(args)
    with writer.client:
        writer.application_request(
            args.phone,
            args.widget,
            department_id=args.department,
            referer=args.referer,
            name=args.name,
            email=args.email,
            text=args.text,
            send_again=args.send_again,
        )
    _report_unrecorded(writer)
    print(f"Application sent through widget {args.widget}.")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
