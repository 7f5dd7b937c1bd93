"""The code stays linted, formatted and typed (ruff check, ruff format, mypy on the package)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TREES = ["mpkit", "tests", "bench", "scripts"]  # mpkit/ holds the notebooks too


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True)


def test_ruff_check_and_format() -> None:
    check = _run("ruff", "check", *TREES)
    assert check.returncode == 0, check.stdout + check.stderr
    fmt = _run("ruff", "format", "--check", *TREES)
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_mypy_package() -> None:
    res = _run("mypy", "mpkit")
    assert res.returncode == 0, res.stdout + res.stderr
