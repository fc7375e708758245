"""`newton-dashboard` as a person runs it: real processes against the demo server over a real socket."""

from __future__ import annotations

import getpass
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from dashboard import cli
from dashboard.demo import DEMO_TOKEN, DemoNewton
from dashboard.errors import EXIT_INPUT, EXIT_OK, EXIT_STORAGE, ConfigError, DashboardError
from dashboard.store.connection import connect

pytestmark = pytest.mark.slow  # real processes: the command line, run as its own process

CANARY = "feedfacefeedfacefeedfacefeedface"


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed command line as a separate process, with a clean Newton environment."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("NEWTON_")}
    return subprocess.run(
        [sys.executable, "-m", "dashboard.cli", *args],
        env={**base, **(env or {})},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def demo_env(server_url: str, tmp_path: Path) -> dict[str, str]:
    """Point the CLI at the demo server with the demo credentials, and at a cache of its own."""
    return {
        "NEWTON_API_URL": server_url, "NEWTON_TOKEN": DEMO_TOKEN, "NEWTON_USER_ID": "0",
        "NEWTON_CACHE": str(tmp_path / "cli.duckdb"),
    }  # fmt: skip


def _a_phone_that_called(newton: DemoNewton) -> str:
    return next(phone for r in newton.records_snapshot() if (phone := r.get("clientPhone")))


def test_widgets_lists_widgets_and_departments(demo_env: dict[str, str], newton: DemoNewton) -> None:
    result = run_cli("widgets", env=demo_env)
    assert result.returncode == 0, result.stderr
    for widget in newton.widgets:
        assert widget["id"] in result.stdout and widget["name"] in result.stdout
    assert "department" in result.stdout


def test_set_lead_price_reaches_newton(demo_env: dict[str, str], newton: DemoNewton) -> None:
    record_id = newton.records_snapshot()[-1]["id"]
    result = run_cli("set-lead-price", str(record_id), "5000", env=demo_env)
    assert result.returncode == 0, result.stderr
    assert "5000" in result.stdout
    assert {r["id"]: r["leadPrice"] for r in newton.records_snapshot()}[record_id] == "5000"
    with connect(Path(demo_env["NEWTON_CACHE"])) as con:
        logged = con.execute("SELECT action, params, outcome, actor FROM write_log").fetchall()
    assert logged == [
        ("callback.SetLeadPrice", f'{{"id":"{record_id}","price":"5000"}}', "ok", f"cli:{getpass.getuser()}")
    ]


def test_create_crm_lead_for_a_known_and_an_unknown_phone(demo_env: dict[str, str], newton: DemoNewton) -> None:
    ok = run_cli("create-crm-lead", "--phone", _a_phone_that_called(newton), "--price", "228", env=demo_env)
    assert ok.returncode == 0, ok.stderr
    unknown = run_cli("create-crm-lead", "--phone", "+70000000000", "--price", "228", env=demo_env)
    assert unknown.returncode == 1
    assert "По номеру не нашлся звонок" in unknown.stderr
    with connect(Path(demo_env["NEWTON_CACHE"])) as con:
        outcomes = con.execute("SELECT outcome, message FROM write_log ORDER BY written_at").fetchall()
    assert outcomes == [("ok", None), ("failed", "По номеру не нашлся звонок")]


def test_create_request_and_application_add_records(demo_env: dict[str, str], newton: DemoNewton) -> None:
    widget = newton.widgets[0]
    before = len(newton.records_snapshot())
    call = run_cli("create-request", "--phone", "+79991234567", "--widget", widget["id"], env=demo_env)
    app = run_cli(
        "application-request", "--phone", "+79991234567", "--widget", widget["id"], "--name", "Иван",
        "--email", "ivan@example.com", "--text", "Перезвоните", env=demo_env,
    )  # fmt: skip
    assert (call.returncode, app.returncode) == (0, 0), call.stderr + app.stderr
    assert len(newton.records_snapshot()) == before + 2


@pytest.mark.parametrize(
    ("args", "lines"),
    [
        (["set-lead-price", "1", "-5"], ["price: "]),
        (["create-crm-lead", "--phone", "8999", "--price", "x"], ["phone: ", "price: "]),
        (["create-request", "--phone", "+7999", "--widget", "w"], ["clientPhone: "]),
        (["application-request", "--phone", "+79991234567", "--widget", "w", "--email", "nope"], ["email: "]),
    ],
)
def test_bad_input_fails_before_sending_one_field_a_line(
    args: list[str], lines: list[str], demo_env: dict[str, str], newton: DemoNewton
) -> None:
    before = newton.records_snapshot()
    result = run_cli(*args, env=demo_env)
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if not line.startswith("Demo mode")]
    assert [line.split(": ")[0] + ": " for line in errors] == lines
    assert newton.records_snapshot() == before


def test_newtons_own_field_errors_are_printed_and_fail(demo_env: dict[str, str]) -> None:
    # Our checks pass (a well-formed id), Newton refuses it: its message, its field, exit 1.
    result = run_cli("create-request", "--phone", "+79991234567", "--widget", "no-such-widget", env=demo_env)
    assert result.returncode == 1
    assert "\nwidgetId: " in "\n" + result.stderr


def test_a_wrong_token_says_check_the_token_and_never_prints_it(server_url: str) -> None:
    env = {"NEWTON_API_URL": server_url, "NEWTON_TOKEN": CANARY, "NEWTON_USER_ID": "0"}
    result = run_cli("-v", "widgets", env=env)
    assert result.returncode == 1
    assert "check the token and user id" in result.stderr
    assert CANARY not in result.stdout + result.stderr


def test_an_unreachable_newton_exits_3(demo_env: dict[str, str]) -> None:
    env = {**demo_env, "NEWTON_API_URL": "http://127.0.0.1:9/api/v1/json"}
    result = run_cli("set-lead-price", "1", "10", env=env)
    assert result.returncode == 3
    assert "cannot connect" in result.stderr


def test_no_token_means_demo_mode_and_says_so(tmp_path: Path) -> None:
    result = run_cli("widgets", cwd=tmp_path, env={"NEWTON_CACHE": str(tmp_path / "c.duckdb")})
    assert result.returncode == 0, result.stderr
    assert "Demo mode" in result.stderr


def test_the_token_has_no_flag() -> None:
    result = run_cli("widgets", "--token", CANARY)
    assert result.returncode == 2
    assert "unrecognized arguments" in result.stderr


@pytest.fixture
def demo_server_process() -> Iterator[str]:
    """`newton-dashboard demo-server` started as a real process, as the README shows."""
    process = subprocess.Popen(
        [sys.executable, "-m", "dashboard.cli", "demo-server", "--port", "0", "--records", "3000", "--seed", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = ""
        for line in process.stdout:
            if "http://" in line:
                break
        url = line[line.index("http://") :].split()[0]
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def test_demo_server_command_serves_every_action(demo_server_process: str, tmp_path: Path) -> None:
    # No token: the demo credentials go to that URL.
    env = {"NEWTON_API_URL": demo_server_process, "NEWTON_CACHE": str(tmp_path / "c.duckdb")}
    widgets = run_cli("widgets", env=env)
    assert widgets.returncode == 0, widgets.stderr
    widget_id = widgets.stdout.split("\t")[0]
    assert run_cli("create-request", "--phone", "+79991234567", "--widget", widget_id, env=env).returncode == 0
    assert run_cli("application-request", "--phone", "+79991234567", "--widget", widget_id, env=env).returncode == 0
    assert run_cli("create-crm-lead", "--phone", "+79991234567", "--price", "1", env=env).returncode == 0
    bad = run_cli("create-crm-lead", "--phone", "+79991234567", "--price", "1.5", env=env)
    assert bad.returncode == 2 and "\nprice: " in "\n" + bad.stderr


@pytest.mark.parametrize("latency", ["-1", "fast", "nan", "600000"])
def test_a_bad_demo_server_latency_is_refused_by_name(latency: str) -> None:
    result = run_cli("demo-server", "--port", "0", "--latency-ms", latency)
    assert result.returncode == 2
    assert "--latency-ms" in result.stderr and "milliseconds" in result.stderr


def test_a_write_whose_cache_is_unusable_is_not_sent(
    demo_env: dict[str, str], newton: DemoNewton, tmp_path: Path
) -> None:
    broken = tmp_path / "not-a-cache.duckdb"
    broken.write_text("hello")
    before = newton.write_count
    result = run_cli("create-crm-lead", "--phone", _a_phone_that_called(newton), "--price", "228",
                     env={**demo_env, "NEWTON_CACHE": str(broken)})  # fmt: skip
    assert result.returncode == 2
    assert "cannot" in result.stderr.lower()
    assert newton.write_count == before  # nothing reached Newton, so nobody is tempted to repeat a deal


def test_refused_input_leaves_no_trace_in_the_write_log(demo_env: dict[str, str]) -> None:
    assert run_cli("set-lead-price", "1", "-5", env=demo_env).returncode == 2
    with connect(Path(demo_env["NEWTON_CACHE"])) as con:
        assert con.execute("SELECT count(*) FROM write_log").fetchall() == [(0,)]


@pytest.mark.parametrize(
    "args",
    [
        ["sync", "--history-days", "99999999"],
        ["sync", "--window-hours", "0"],
        ["export", "records", "--to", "9999-12-31"],
        ["sync", "--since", "0001-01-01"],
    ],
)
def test_absurd_numbers_and_dates_get_a_message_not_a_traceback(args: list[str], tmp_path: Path) -> None:
    result = run_cli(*args, "--cache", str(tmp_path / "c.duckdb"), env={"NEWTON_TOKEN": ""})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def _error_classes(root: type[DashboardError] = DashboardError) -> list[type[DashboardError]]:
    return [root, *(c for sub in root.__subclasses__() for c in _error_classes(sub))]


def test_the_readme_lists_each_exit_code_an_error_class_ends_in() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    table = readme.split("Exit codes:", 1)[1].split("\n\n", 2)[1]
    listed = {int(code) for code in re.findall(r"^\| `(\d+)` \|", table, re.M)}
    # 0 is success; a full disk met outside the cache (an output file) is an OSError, not one of ours.
    assert listed == {EXIT_OK, EXIT_STORAGE} | {error.exit_code for error in _error_classes()}


def test_a_bad_setting_exits_as_bad_input_and_names_the_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NEWTON_READ_ONLY", "maybe")
    assert cli.main(["set-lead-price", "1", "100"]) == ConfigError.exit_code == EXIT_INPUT
    assert capsys.readouterr().err.splitlines() == ["NEWTON_READ_ONLY: must be true or false"]


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["report", "daily"], {"NEWTON_TIMEZONE": "Mars/Olympus"}, "NEWTON_TIMEZONE: unknown time zone 'Mars/Olympus'"),
        (["report", "daily", "--tz", "Mars/Olympus"], {}, "tz: unknown time zone 'Mars/Olympus'"),
        (["export", "records"], {"NEWTON_USER_ID": "12a"}, "NEWTON_USER_ID: must be the decimal user id"),
        (["set-lead-price", "1", "5"], {"NEWTON_READ_ONLY": "perhaps"}, "NEWTON_READ_ONLY: must be true or false"),
        (["sync"], {"NEWTON_SYNC_CONCURRENCY": "0"}, "NEWTON_SYNC_CONCURRENCY: must be a whole number from 1 to 16"),
        (["sync", "--concurrency", "lots"], {}, "concurrency: must be a whole number from 1 to 16"),
    ],
)
def test_a_bad_setting_exits_2_naming_it(args: list[str], env: dict[str, str], message: str, tmp_path: Path) -> None:
    result = run_cli(*args, env={"NEWTON_CACHE": str(tmp_path / "none.duckdb"), **env}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith(message), result.stderr
    assert not (tmp_path / "none.duckdb").exists()
