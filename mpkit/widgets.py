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
from .i18n import N_, _, current_language, localize

log = logging.getLogger(__name__)

__all__ = ["ALL", "Explorer", "attempts_in_window", "filter_events", "time_ticks", "events_html"]

#: the dropdown choice meaning "no filter"
ALL = N_("(all)")
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


def attempts_in_window(
    attempts: pd.DataFrame, start: pd.Timestamp | None = None, end: pd.Timestamp | None = None
) -> pd.DataFrame:
    """The start attempts that overlap ``[start, end]`` (attempts with an unknown start are kept)."""
    if attempts is None or attempts.empty or (start is None and end is None):
        return attempts
    t0 = plots.plain_times(attempts["started_at"])
    t1 = plots.plain_times(attempts["ended_at"]).fillna(t0)
    keep = pd.Series(True, index=attempts.index)
    if start is not None:
        keep &= ~(t1 < _plain(start))
    if end is not None:
        keep &= ~(t0 > _plain(end))
    return attempts[keep]


def _plain(ts: pd.Timestamp) -> pd.Timestamp:
    ts = pd.Timestamp(ts)
    return ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo is not None else ts


def _instance_options(names: Iterable[str]) -> list[Any]:
    """The instance choices: "all" then each name (the "all" label in the current language)."""
    if current_language() == "en":
        return [ALL, *names]
    return [(_(ALL), ALL), *((n, n) for n in names)]


def time_ticks(times: pd.Series, n: int = TICKS) -> list[tuple[str, pd.Timestamp]]:
    """Evenly spaced (label, time) options for a range slider over ``times``."""
    t = plots.plain_times(times).dropna()
    if t.empty:
        return [(_("no timed events"), pd.Timestamp(0))]
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


#: the event table fits the notebook's width: the short columns stay on one line, the message and
#: the file (the 6th and 7th columns) wrap anywhere and take the rest
EVENTS_CSS = (
    "<style>table.mpkit-events{width:100%;border-collapse:collapse;font-size:12px;line-height:1.35}"
    "table.mpkit-events th,table.mpkit-events td{text-align:left;vertical-align:top;padding:2px 6px;"
    "white-space:nowrap;border-bottom:1px solid #e0e0e0}"
    "table.mpkit-events td:nth-child(6),table.mpkit-events td:nth-child(7)"
    "{white-space:normal;overflow-wrap:anywhere;min-width:8em}</style>"
)


def events_html(events: pd.DataFrame, *, tz: str, max_rows: int = MAX_TABLE_ROWS) -> str:
    """The event table as escaped HTML (newest last)."""
    if events is None or events.empty:
        return f"<p><em>{html.escape(_('No event matches the filters.'))}</em></p>"
    cols = ["time", "source", "kind", "instance", "level", "message", "file", "line"]
    shown = events[[c for c in cols if c in events.columns]].tail(max_rows).astype("object")
    shown["time"] = [
        ("" if v is pd.NaT else v.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3])
        for v in plots.plain_times(shown["time"])
    ]
    shown = shown.where(shown.notna(), "").rename(columns={"time": _("time ({tz})").format(tz=_(tz))})
    if current_language() != "en":
        from .report.views import column_labels

        shown = column_labels(shown)
    note = (
        "<p>"
        + html.escape(_("{n} event(s); the last {shown} shown.").format(n=len(events), shown=max_rows))
        + "</p>"
        if len(events) > max_rows
        else "<p>" + html.escape(_("{n} event(s).").format(n=len(events))) + "</p>"
    )
    return EVENTS_CSS + note + shown.to_html(index=False, escape=True, border=0, classes="mpkit-events")


class Explorer:
    """Interactive explorer over one bundle at a time (see the module docstring)."""

    def __init__(
        self, bundle: str | os.PathLike[str] | Bundle | None = None, *, choices: dict[str, str] | None = None
    ) -> None:
        from .samples import DEFAULT, samples

        opts = dict(choices) if choices is not None else {name: str(p) for name, p in samples().items()}
        initial: str | None
        if isinstance(bundle, Bundle):
            initial = bundle.source
            opts.setdefault(Path(bundle.source).name, bundle.source)
        elif bundle is not None:
            initial = str(Path(bundle).resolve())
            opts = {Path(initial).name: initial, **{k: v for k, v in opts.items() if v != initial}}
        else:
            initial = opts.get(DEFAULT) or next(iter(opts.values()), None)
        if initial is None:
            raise ValueError("no bundle given and no sample bundle installed; pass a bundle path")
        self.bundle: Bundle | None = bundle if isinstance(bundle, Bundle) else None
        self.timeline = pd.DataFrame()
        self.events = pd.DataFrame()
        self.tz = "UTC"
        self._busy = False
        self.bundle_picker = W.Dropdown(options=list(opts.items()), value=initial, description=_("bundle"))
        self.instance = W.Dropdown(options=_instance_options([]), value=ALL, description=_("instance"))
        self.attempt = W.Dropdown(options=[(_(ALL), 0)], value=0, description=_("attempt"))
        self.time_range = W.SelectionRangeSlider(
            options=[("-", pd.Timestamp(0))],
            description=_("time"),
            continuous_update=False,
            layout=W.Layout(width="95%"),
        )
        self.sources = W.SelectMultiple(options=[], description=_("sources"), rows=6)
        self.levels = W.SelectMultiple(options=[], description=_("levels"), rows=6)
        self.search = W.Text(
            value="", description=_("search"), placeholder=_("text in messages"), continuous_update=False
        )
        self.status = W.HTML()
        self.timeline_chart = W.Image(format="png", layout=W.Layout(max_width="100%"))
        self.attempts_chart = W.Image(format="png", layout=W.Layout(max_width="100%"))
        self.table = W.HTML(layout=W.Layout(width="100%"))
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
            self.instance.options = _instance_options(names)
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
        opts: list[tuple[str, int]] = [(_(ALL), 0)]
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
        att = attempts_in_window(att, lo, hi)
        self.timeline_chart.value = plots.event_timeline(self.events, tz=self.tz).png()
        self.attempts_chart.value = plots.attempts_gantt(att, tz=self.tz).png()
        self.table.value = events_html(self.events, tz=self.tz)
        src = html.escape(self.bundle.source if self.bundle is not None else "")
        shown = _("{shown} of {total} events; clock: {clock} ({note})").format(
            shown=len(self.events),
            total=len(self.timeline),
            clock=_(self.tz),
            note=localize(self.bundle.clock_note) if self.bundle else "",
        )
        self.status.value = f"<b>{html.escape(Path(src).name)}</b>: {html.escape(shown)}"
