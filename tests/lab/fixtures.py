"""Pytest fixtures for the lab: one bundle per scenario, built once, lab always torn down."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from mpkit.collect import probe

from .netlab import INSTANCE, Lab, unavailable_reason


@dataclass
class LabRun:
    """What one scenario produced: the bundle, the lab's facts, timings, progress lines."""

    scenario: str
    bundle: Path
    mac: str
    bridge: str
    nft_table: str
    timings: dict[str, float] = field(default_factory=dict)
    progress: list[str] = field(default_factory=list)
    leftovers: list[str] = field(default_factory=list)


def require_lab() -> None:
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="module")
def lab_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], LabRun]]:
    """``lab_run(scenario)``: build the lab, probe one start (stop first), collect, tear down; cached."""
    cache: dict[str, LabRun] = {}
    old_path = os.environ.get("PATH", "")

    def run(scenario: str) -> LabRun:
        require_lab()
        if scenario in cache:
            return cache[scenario]
        base = tmp_path_factory.mktemp(f"lab-{scenario}")
        lab = Lab(base / "lab", scenario, timeout_s=8.0)
        lines: list[str] = []
        try:
            with lab:
                os.environ["PATH"] = f"{lab.bin}{os.pathsep}{old_path}"  # the stand-in, for this run only
                t0 = time.monotonic()
                bundle = probe(
                    INSTANCE,
                    attempts=1,
                    interval=1.0,
                    stop_first=True,
                    timeout=40.0,
                    out_dir=base / "bundle",
                    platform="linux",
                    targets=lab.targets(),
                    progress=lines.append,
                    since="15m",
                )
                lab.timings["probe_and_collect_s"] = round(time.monotonic() - t0, 3)
        finally:
            os.environ["PATH"] = old_path
        result = LabRun(
            scenario,
            bundle,
            lab.mac,
            lab.bridge,
            lab.nft_table,
            timings=dict(lab.timings),
            progress=lines,
            leftovers=lab.leftovers(),
        )
        cache[scenario] = result
        return result

    yield run
    os.environ["PATH"] = old_path
