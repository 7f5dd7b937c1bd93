from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# English unless a test chooses another language: the machine's locale (LANG=zh_CN.UTF-8) must not
# change what the suite expects
os.environ["MPKIT_LANG"] = "en"
CASES_DIR = ROOT.parent / "shared" / "cases"
DATA = ROOT / "mpkit" / "samples_data"  # the sample bundles (package data, their only copy)


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    return DATA


def shared_cases() -> list[Path]:
    if not CASES_DIR.is_dir():
        return []
    return sorted(p for p in CASES_DIR.iterdir() if (p / "expected.json").exists())
