"""The explorer: ipywidgets over a bundle's timeline, for interactive investigation in JupyterLab.

:class:`Explorer` lets you pick the bundle, instance and attempt, narrow the time range, the sources
and the levels, and search the messages; the charts (from :mod:`mpkit.plots`) and the event table
re-render on every change.  The filtering itself is :func:`filter_events`, a pure function over the
timeline frame, so it is tested without any widget.

>>> ex = Explorer(mpkit.sample("default"))         # doctest: +SKIP
>>> ex.search.value = "DHCP"; len(ex.events)       # doctest: +SKIP
"""

from __future__ import annotations

import html
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import ipywidgets as W
import pandas as pd

from . import plots
from .bundle import Bundle, load_bundle
from .derived import derive

log = logging.getLogger(__name__)

__all__ = ["ALL", "Explorer", "filter_events", "time_ticks", "events_html"]

#: the dropdown choice meaning "no filter"
ALL = "(all)"
NO_LEVEL = "(none)"
MAX_TABLE_ROWS = 200
TICKS = 100


def filter_events(
    timeline: pd.DataFrame,
    *,
    start: pd.Timestamp | None = None,
    end: pd.Timestamp | None = None,
    instance: str | None = None,
    sources: Iterable[str] | None = None,
    levels: Iterable[str] | None = None,
    text: str = "",
) -> pd.DataFrame:
    """Timeline rows in ``[start, end]`` (naive times are the bundle clock, compared as UTC when
    aware), about ``instance`` (or about no instance in particular), from ``sources``, at ``levels``
    (``"(none)"`` for rows without a level), whose message contains ``text`` (case-insensitive)."""
    t = timeline
    if t is None or t.empty:
        return t
    keep = pd.Series(True, index=t.index)
    times = plots.plain_times(t["time"])
    if start is not None:
        keep &= ~(times < _plain(start))
    if end is not None:
        keep &= ~(times > _plain(end))
    if instance and instance != ALL:
        inst = t["instance"].astype("object")
        keep &= inst.isna() | (inst == instance)
    if sources is not None:
        keep &= t["source"].astype("object").isin(list(sources))
    if levels is not None:
        lv = t["level"].astype("object").fillna(NO_LEVEL)
        keep &= lv.isin(list(levels))
    if text:
        keep &= (
            t["message"].astype("object").fillna("").astype("str").str.contains(text, case=False, regex=False)
        )
    return t[keep]


def _plain(ts: pd.Timestamp) -> pd.Timestamp:
    ts = pd.Timestamp(ts)
    return ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo is not None else ts


def time_ticks(times: pd.Series, n: int = TICKS) -> list[tuple[str, pd.Timestamp]]:
    """Evenly spaced (label, time) options for a range slider over ``times``."""
    t = plots.plain_times(times).dropna()
    if t.empty:
        return [("no timed events", pd.Timestamp(0))]
    lo, hi = t.min(), t.max()
    if hi <= lo:
        return [(lo.strftime("%Y-%m-%d %H:%M:%S"), lo)]
    stamps = pd.date_range(lo, hi, periods=n)
    fmt = "%H:%M:%S" if lo.date() == hi.date() else "%m-%d %H:%M:%S"
    seen: set[str] = set()
    out = []
    for s in stamps:
        label = s.strftime(fmt)
        if label in seen:
            label = s.strftime(fmt + ".%f")[:-3]
        seen.add(label)
        out.append((label, s))
    out[-1] = (out[-1][0], hi)
    return out


def events_html(events: pd.DataFrame, *, tz: str, max_rows: int = MAX_TABLE_ROWS) -> str:
    """The event table as escaped HTML (newest last)."""
    if events is None or events.empty:
        return "<p><em>No event matches the filters.</em></p>"
    cols = ["time", "source", "kind", "instance", "level", "message", "file", "line"]
    shown = events[[c for c in cols if c in events.columns]].tail(max_rows).astype("object")
    shown["time"] = [
        ("" if v is pd.NaT else v.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3])
        for v in plots.plain_times(shown["time"])
    ]
    shown = shown.where(shown.notna(), "").rename(columns={"time": f"time ({tz})"})
    note = (
        f"<p>{len(events)} event(s); the last {max_rows} shown.</p>"
        if len(events) > max_rows
        else f"<p>{len(events)} event(s).</p>"
    )
    return note + shown.to_html(index=False, escape=True, border=0, classes="mpkit-events")


class Explorer:
    """Interactive explorer over one bundle at a time (see the module docstring)."""

    def __init__(
        self, bundle: str | os.PathLike[str] | Bundle | None = None, *, choices: dict[str, str] | None = None
    ) -> None:
        from .samples import samples

        opts = dict(choices) if choices is not None else {name: str(p) for name, p in samples().items()}
        initial: str | None
        if isinstance(bundle, Bundle):
            initial = bundle.source
            opts.setdefault(Path(bundle.source).name, bundle.source)
        elif bundle is not None:
            initial = str(Path(bundle).resolve())
            opts = {Path(initial).name: initial, **{k: v for k, v in opts.items() if v != initial}}
        else:
            initial = next(iter(opts.values()), None)
        if initial is None:
            raise ValueError("no bundle given and no sample bundle installed; pass a bundle path")
        self.bundle: Bundle | None = bundle if isinstance(bundle, Bundle) else None
        self.timeline = pd.DataFrame()
        self.events = pd.DataFrame()
        self.tz = "UTC"
        self._busy = False
        self.bundle_picker = W.Dropdown(options=list(opts.items()), value=initial, description="bundle")
        self.instance = W.Dropdown(options=[ALL], value=ALL, description="instance")
        self.attempt = W.Dropdown(options=[(ALL, 0)], value=0, description="attempt")
        self.time_range = W.SelectionRangeSlider(
            options=[("-", pd.Timestamp(0))],
            description="time",
            continuous_update=False,
            layout=W.Layout(width="95%"),
        )
        self.sources = W.SelectMultiple(options=[], description="sources", rows=6)
        self.levels = W.SelectMultiple(options=[], description="levels", rows=6)
        self.search = W.Text(
            value="", description="search", placeholder="text in messages", continuous_update=False
        )
        self.status = W.HTML()
        self.timeline_chart = W.Image(format="png", layout=W.Layout(max_width="100%"))
        self.attempts_chart = W.Image(format="png", layout=W.Layout(max_width="100%"))
        self.table = W.HTML()
        self.ui = W.VBox(
            [
                W.HBox([self.bundle_picker, self.instance, self.attempt]),
                self.time_range,
                W.HBox([self.sources, self.levels, self.search]),
                self.status,
                self.attempts_chart,
                self.timeline_chart,
                self.table,
            ]
        )
        self.bundle_picker.observe(self._on_bundle, names="value")
        self.instance.observe(self._on_instance, names="value")
        self.attempt.observe(self._on_attempt, names="value")
        for w in (self.time_range, self.sources, self.levels, self.search):
            w.observe(self._on_filter, names="value")
        if self.bundle is not None:
            self._setup(self.bundle)
        else:
            self.load(initial)

    # -- display -------------------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.ui._repr_mimebundle_(**kwargs)

    # -- state changes -------------------------------------------------------------------------
    def load(self, path: str | os.PathLike[str]) -> None:
        """Load the bundle at ``path`` and reset every filter."""
        if self.bundle is not None and self.bundle.source != str(path):
            self.bundle.close()
        self._setup(load_bundle(Path(path)))

    def _setup(self, bundle: Bundle) -> None:
        self.bundle = bundle
        self.tz = plots.clock_label(bundle.clock, bundle.clock_note)
        self.timeline = derive(bundle).timeline
        self._busy = True
        try:
            names = sorted(
                set(derive(bundle).attempts["instance"].dropna().astype(str))
                | set(self.timeline["instance"].dropna().astype(str))
            )
            self.instance.options = [ALL, *names]
            self.instance.value = ALL
            self._set_attempts()
            self.sources.options = sorted(self.timeline["source"].dropna().astype(str).unique())
            self.sources.value = tuple(self.sources.options)
            lv = self.timeline["level"].astype("object").fillna(NO_LEVEL).astype(str).unique()
            self.levels.options = sorted(lv, key=lambda v: plots.LEVELS.index(v) if v in plots.LEVELS else 99)
            self.levels.value = tuple(self.levels.options)
            self.search.value = ""
            self._reset_range()
        finally:
            self._busy = False
        self.refresh()

    def _set_attempts(self) -> None:
        a = self._attempts_frame()
        opts: list[tuple[str, int]] = [(ALL, 0)]
        for i, r in a.reset_index(drop=True).iterrows():
            opts.append((f"{r['instance']} #{r['attempt']}: {r['outcome']}", int(i) + 1))
        self.attempt.options = opts
        self.attempt.value = 0

    def _attempts_frame(self) -> pd.DataFrame:
        a = derive(self.bundle).attempts if self.bundle is not None else pd.DataFrame()
        if len(a) and self.instance.value != ALL:
            a = a[a["instance"] == self.instance.value]
        return a

    def _reset_range(self) -> None:
        ticks = (
            time_ticks(self.timeline["time"])
            if len(self.timeline)
            else time_ticks(pd.Series([], dtype="object"))
        )
        self.time_range.options = ticks
        self.time_range.index = (0, len(ticks) - 1)
        self.time_range.disabled = len(ticks) < 2

    def _on_bundle(self, change: dict[str, Any]) -> None:
        if not self._busy:
            self.load(change["new"])

    def _on_instance(self, change: dict[str, Any]) -> None:
        if self._busy:
            return
        self._busy = True
        try:
            self._set_attempts()
        finally:
            self._busy = False
        self.refresh()

    def _on_attempt(self, change: dict[str, Any]) -> None:
        if self._busy:
            return
        self._busy = True
        try:
            if change["new"] == 0:
                self.time_range.index = (0, len(self.time_range.options) - 1)
            else:
                r = self._attempts_frame().reset_index(drop=True).iloc[change["new"] - 1]
                t0, t1 = plots.plain_times(pd.Series([r["started_at"], r["ended_at"]]))
                self._select_range(t0, t1 if t1 is not pd.NaT else t0)
        finally:
            self._busy = False
        self.refresh()

    def _select_range(self, t0: pd.Timestamp, t1: pd.Timestamp) -> None:
        times = [v for _, v in self.time_range.options]
        if t0 is pd.NaT or len(times) < 2:
            return
        lo = max((i for i, v in enumerate(times) if v <= t0), default=0)
        hi = min((i for i, v in enumerate(times) if v >= t1), default=len(times) - 1)
        self.time_range.index = (lo, max(hi, lo))

    def _on_filter(self, change: dict[str, Any]) -> None:
        if not self._busy:
            self.refresh()

    # -- rendering -----------------------------------------------------------------------------
    def window(self) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
        """The selected time range (None at the ends: the full range keeps untimed events too)."""
        n = len(self.time_range.options)
        i, j = self.time_range.index
        if n < 2:
            return None, None
        lo = None if i == 0 else self.time_range.options[i][1]
        hi = None if j == n - 1 else self.time_range.options[j][1]
        return lo, hi

    def refresh(self) -> None:
        """Re-filter the events and re-render the charts and the table."""
        lo, hi = self.window()
        self.events = filter_events(
            self.timeline,
            start=lo,
            end=hi,
            instance=self.instance.value,
            sources=self.sources.value,
            levels=self.levels.value,
            text=self.search.value.strip(),
        )
        att = self._attempts_frame()
        if self.attempt.value:
            att = att.reset_index(drop=True).iloc[[self.attempt.value - 1]]
        self.timeline_chart.value = plots.event_timeline(self.events, tz=self.tz).png()
        self.attempts_chart.value = plots.attempts_gantt(att, tz=self.tz).png()
        self.table.value = events_html(self.events, tz=self.tz)
        src = html.escape(self.bundle.source if self.bundle is not None else "")
        self.status.value = (
            f"<b>{html.escape(Path(src).name)}</b>: {len(self.events)} of {len(self.timeline)} events; "
            f"clock: {html.escape(self.tz)} ({html.escape(self.bundle.clock_note if self.bundle else '')})"
        )
