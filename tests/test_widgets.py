"""mpkit.widgets: the explorer driven through its widgets' values, and explore.ipynb executed."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pandas as pd
import pytest

from conftest import DATA
from mpkit import report as R
from mpkit.bundle import load_bundle
from mpkit.derived import derive
from mpkit.plots import plain_times
from mpkit.widgets import ALL, NO_LEVEL, Explorer, events_html, filter_events, time_ticks

HOSTILE = Path(__file__).parent / "data" / "hostile"


def _timeline() -> pd.DataFrame:
    t = pd.to_datetime(["2024-01-01 10:00:00", "2024-01-01 10:01:00", "2024-01-01 10:02:00", None])
    return pd.DataFrame(
        {
            "time": t,
            "source": ["daemon_log", "daemon_log", "leases", "daemon_log"],
            "kind": ["log", "log", "lease-seen", "log"],
            "instance": ["a", "b", None, "a"],
            "level": ["info", "error", None, "debug"],
            "message": ["Starting", "DHCP failed", "lease entry", "untimed"],
            "file": ["multipassd.log"] * 4,
            "line": [1, 2, 3, 4],
        }
    )


def test_filter_events_each_filter() -> None:
    t = _timeline()
    assert len(filter_events(t)) == 4
    assert list(filter_events(t, start=pd.Timestamp("2024-01-01 10:00:30"))["line"]) == [
        2,
        3,
        4,
    ]  # untimed kept
    assert list(filter_events(t, end=pd.Timestamp("2024-01-01 10:01:00"))["line"]) == [1, 2, 4]
    assert list(filter_events(t, instance="a")["line"]) == [1, 3, 4]  # host events (no instance) kept
    assert list(filter_events(t, instance=ALL)["line"]) == [1, 2, 3, 4]
    assert list(filter_events(t, sources=["leases"])["line"]) == [3]
    assert list(filter_events(t, levels=["error", NO_LEVEL])["line"]) == [2, 3]
    assert list(filter_events(t, text="dhcp")["line"]) == [2]
    assert list(filter_events(t, text="[")["line"]) == []  # not a regex
    aware = pd.Timestamp("2024-01-01 10:01:30", tz="UTC")
    assert list(filter_events(t, start=aware)["line"]) == [3, 4]


def test_time_ticks() -> None:
    ticks = time_ticks(_timeline()["time"], n=5)
    assert len(ticks) == 5 and len({label for label, _ in ticks}) == 5
    assert ticks[0][1] == pd.Timestamp("2024-01-01 10:00:00") and ticks[-1][1] == pd.Timestamp(
        "2024-01-01 10:02:00"
    )
    assert len(time_ticks(pd.Series([], dtype="datetime64[ns]"))) == 1


def test_events_html_escapes() -> None:
    t = _timeline()
    t.loc[0, "message"] = "<script>alert(1)</script>"
    out = events_html(t, tz="UTC")
    assert "<script>" not in out and "&lt;script&gt;" in out and "time (UTC)" in out


@pytest.fixture()
def explorer() -> Explorer:
    return Explorer(DATA / "sequoia-ip-discovery", choices={"healthy-start": str(DATA / "healthy-start")})


def test_explorer_initial_state(explorer: Explorer) -> None:
    assert explorer.bundle is not None and Path(explorer.bundle.source).name == "sequoia-ip-discovery"
    assert len(explorer.events) == len(explorer.timeline) > 0
    assert explorer.instance.options[0] == ALL and len(explorer.instance.options) >= 2
    assert bytes(explorer.timeline_chart.value).startswith(b"\x89PNG") and bytes(
        explorer.attempts_chart.value
    ).startswith(b"\x89PNG")
    assert "<table" in explorer.table.value
    assert [label for label, _ in explorer.bundle_picker.options][:2] == [
        "sequoia-ip-discovery",
        "healthy-start",
    ]


def test_explorer_filters_rerender(explorer: Explorer) -> None:
    total = len(explorer.events)
    before = explorer.table.value
    explorer.search.value = "waiting for ssh"
    assert 0 < len(explorer.events) < total
    assert explorer.events["message"].str.lower().str.contains("waiting for ssh").all()
    assert explorer.table.value != before
    explorer.search.value = ""
    explorer.levels.value = ("info",)
    assert (explorer.events["level"] == "info").all()
    explorer.levels.value = tuple(explorer.levels.options)
    explorer.sources.value = ("daemon_log",)
    assert set(explorer.events["source"]) == {"daemon_log"}
    explorer.sources.value = tuple(explorer.sources.options)
    assert len(explorer.events) == total


def test_explorer_time_range_and_attempt(explorer: Explorer) -> None:
    n = len(explorer.time_range.options)
    explorer.time_range.index = (n // 2, n - 1)
    lo, hi = explorer.window()
    assert lo is not None and hi is None
    assert (plain_times(explorer.events["time"]).dropna() >= lo).all()
    explorer.attempt.value = 1  # jumps the window to the attempt
    lo, hi = explorer.window()
    att = derive(explorer.bundle).attempts.iloc[0]
    start = plain_times(pd.Series([att["started_at"]])).iloc[0]
    assert lo is None or lo <= start
    explorer.attempt.value = 0
    assert explorer.window() == (None, None)


def test_explorer_instance_and_bundle_switch(explorer: Explorer) -> None:
    inst = explorer.instance.options[1]
    explorer.instance.value = inst
    assert all(label == ALL or label.startswith(f"{inst} #") for label, _ in explorer.attempt.options)
    assert explorer.events["instance"].isna().sum() + (explorer.events["instance"] == inst).sum() == len(
        explorer.events
    )
    explorer.bundle_picker.value = str(DATA / "healthy-start")
    assert Path(explorer.bundle.source).name == "healthy-start"
    assert explorer.instance.value == ALL and explorer.search.value == ""


def test_explorer_on_hostile_bundle_escapes() -> None:
    ex = Explorer(load_bundle(HOSTILE), choices={})
    assert "<script>" not in ex.table.value and "&lt;script&gt;" in ex.table.value
    assert "<script>" not in ex.status.value


@pytest.mark.slow
def test_explore_notebook_executes(tmp_path: Path) -> None:
    import papermill as pm

    out = tmp_path / "explore.ipynb"
    pm.execute_notebook(
        str(R.notebook_path("explore")),
        str(out),
        parameters={"bundle": str(DATA / "healthy-start")},
        kernel_name=R.ensure_kernel(),
        progress_bar=False,
        cwd=str(tmp_path),
    )
    nb = nbformat.read(str(out), as_version=4)
    mimes = {m for c in nb.cells for o in c.get("outputs", []) for m in (o.get("data") or {})}
    assert "application/vnd.jupyter.widget-view+json" in mimes
    assert not [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
