"""The house rules hold: ruff's lint and format, mypy strict, and the layers' import contracts (pyproject.toml)."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CODE = ["dashboard", "tests", "app_pages", "benchmarks", "streamlit_app.py", "dashboard_app.py"]


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, check=False)


def _lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    """import-linter's check of the tree at `tree` against the contracts in its pyproject.toml."""
    command = [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"]
    # One contract a line, whatever the terminal. Without PYTHONPATH: app_pages has no __init__.py, so a second
    # tree on the path would join it as one namespace package.
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    env |= {"COLUMNS": "200", "NO_COLOR": "1"}
    return subprocess.run(command, cwd=tree, capture_output=True, text=True, check=False, env=env)


def _present() -> list[str]:
    return [path for path in CODE if (ROOT / path).exists()]


def test_ruff_finds_nothing() -> None:
    result = _run("ruff", "check", *_present())
    assert result.returncode == 0, result.stdout + result.stderr


def test_code_is_formatted() -> None:
    result = _run("ruff", "format", "--check", *_present())
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow  # mypy --strict over the whole tree: half a minute of CPU without its cache
def test_mypy_strict_passes() -> None:
    result = _run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_tests_do_not_import_the_benchmarks() -> None:
    """What both need lives in tests/support; a benchmark can change without a test breaking."""
    importers = []
    for path in (ROOT / "tests").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(name.split(".")[0] == "benchmarks" for name in names):
                importers.append(str(path.relative_to(ROOT)))
    assert importers == []


def test_import_contracts_hold() -> None:
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


# One forbidden import per contract: (file it is added to, the import, the contract it breaks).
FORBIDDEN = [
    ("dashboard/api/client.py", "from dashboard import metrics", "The Newton client imports nothing"),
    ("dashboard/metrics.py", "import streamlit", "Only the UI layer and the pages"),
    ("dashboard/metrics.py", "from dashboard.ui import safe", "Nothing below the UI layer imports it"),
    ("dashboard/reports.py", "from dashboard import charts", "Data modules do not import the charts"),
    ("app_pages/overview.py", "from dashboard.api import client", "Pages import only the UI layer"),
    ("app_pages/overview.py", "import duckdb", "Pages import only the UI layer"),
]


@pytest.mark.slow  # a copy of the tree and another Python for each
@pytest.mark.parametrize(("path", "statement", "contract"), FORBIDDEN)
def test_a_forbidden_import_breaks_its_contract(tmp_path: Path, path: str, statement: str, contract: str) -> None:
    for package in ("dashboard", "app_pages"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    with (tmp_path / path).open("a", encoding="utf-8") as module:
        module.write(f"\n{statement}  # the forbidden import\n")

    result = _lint_imports(tmp_path)

    assert result.returncode != 0
    broken = [line for line in result.stdout.splitlines() if " BROKEN" in line]
    assert len(broken) == 1, result.stdout
    assert broken[0].startswith(contract), result.stdout
