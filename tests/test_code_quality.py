"""The house rules hold: ruff's lint and format, mypy strict, and no Streamlit below the UI layer."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CODE = ["dashboard", "tests", "app_pages", "benchmarks", "streamlit_app.py", "dashboard_app.py"]


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, check=False)


def _present() -> list[str]:
    return [path for path in CODE if (ROOT / path).exists()]


def test_ruff_finds_nothing() -> None:
    result = _run("ruff", "check", *_present())
    assert result.returncode == 0, result.stdout + result.stderr


def test_code_is_formatted() -> None:
    result = _run("ruff", "format", "--check", *_present())
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_passes() -> None:
    result = _run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_only_the_ui_layer_imports_streamlit() -> None:
    offenders = []
    for path in (ROOT / "dashboard").rglob("*.py"):
        if "ui" in path.relative_to(ROOT / "dashboard").parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(name == "streamlit" or name.startswith("streamlit.") for name in names):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
