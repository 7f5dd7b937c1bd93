"""Matplotlib figures for reports and the explorer: pure functions of frames and a Diagnosis.

Every function takes frames (as found in :attr:`mpkit.bundle.Bundle.frames`,
:attr:`~mpkit.bundle.Bundle.attempts`, …) and plain arguments, and returns a
:class:`matplotlib.figure.Figure` with a title, labelled axes (units and the
clock: ``UTC`` or host-local time) and a legend.  Figures are built with
:class:`~matplotlib.figure.Figure` directly, not with ``pyplot``: nothing is
registered globally, nothing needs closing, and a notebook shows a figure
exactly once, when it is displayed.

Empty inputs give a figure that says what is missing instead of failing.

The small frame helpers (:func:`dhcp_messages`, :func:`lease_history`,
:func:`arp_history`) shape frames for the charts; the explorer uses them too.
"""

from __future__ import annotations

import base64
import html
import io
import logging
import re
from collections.abc import Iterable
from functools import cache
from typing import Any

import matplotlib
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from . import i18n
from .i18n import N_

log = logging.getLogger(__name__)

__all__ = [
    "ReportFigure",
    "OUTCOME_COLOURS",
    "LEVEL_COLOURS",
    "clock_label",
    "plain_times",
    "attempts_gantt",
    "dhcp_messages",
    "lease_history",
    "arp_history",
    "dhcp_story",
    "log_activity",
    "candidates_chart",
    "coverage_chart",
    "fleet_causes",
    "event_timeline",
    "CJK_FONTS",
    "cjk_font",
    "chart_language",
]

#: colour of an attempt's bar by its outcome
OUTCOME_COLOURS: dict[str, str] = {
    "ok": "#2e7d32",
    "timeout": "#ef6c00",
    "qemu-exited": "#c62828",
    "refused": "#6a1b9a",
    "in-progress": "#1565c0",
    "unknown": "#757575",
}
#: colour of a log level
LEVEL_COLOURS: dict[str, str] = {
    "error": "#c62828",
    "warning": "#ef6c00",
    "info": "#1565c0",
    "debug": "#9e9e9e",
    "trace": "#cfd8dc",
    "(none)": "#8d6e63",
}
LEVELS = ["error", "warning", "info", "debug", "trace", "(none)"]

#: the stage timestamps of an attempt, in order, with the marker that shows them
STAGE_MARKS: list[tuple[str, str, str]] = [
    ("qemu_at", N_("QEMU spawned"), ">"),
    ("running_at", N_("QEMU running"), "o"),
    ("nic_up_at", N_("guest NIC up"), "s"),
    ("ssh_wait_at", N_("waiting for SSH (IP discovery)"), "D"),
    ("dhcp_at", N_("DHCP seen"), "P"),
    ("ip_found_at", N_("IP found"), "*"),
    ("ssh_up_at", N_("SSH up"), "^"),
]
SSH_BUDGET_S = 300.0
DHCP_TYPES = ["DISCOVER", "OFFER", "REQUEST", "ACK", "NAK", "DECLINE", "RELEASE", "INFORM"]
_DHCP_WORD = re.compile(r"DHCP\s*(DISCOVER|OFFER|REQUEST|ACK|NAK|DECLINE|RELEASE|INFORM)", re.I)
_FIG_W = 10.0
_DPI = 90
#: fonts with Simplified Chinese glyphs, preferred first (Debian's fonts-noto-cjk gives the first)
CJK_FONTS = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Noto Sans CJK JP",
    "Noto Sans CJK TC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Droid Sans Fallback",
)
#: the font family the charts use for Latin text, before the CJK fallback
LATIN_FONT = "DejaVu Sans"
_CJK_FILE = re.compile(r"cjk|wqy|wenquanyi|sourcehan|droidsansfallback", re.I)
_DEFAULT_FAMILY = list(matplotlib.rcParams["font.family"])


@cache
def cjk_font() -> str | None:
    """The installed font the charts use for Chinese text (see :data:`CJK_FONTS`), or None.

    Fonts installed after matplotlib built its font cache are found by scanning the system's font
    files, so installing ``fonts-noto-cjk`` needs no cache rebuild.
    """
    from matplotlib import font_manager

    def known() -> str | None:
        names = {f.name for f in font_manager.fontManager.ttflist}
        return next((n for n in CJK_FONTS if n in names), None)

    found = known()
    if found is None:
        for path in font_manager.findSystemFonts():
            if _CJK_FILE.search(path):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    log.debug("cannot read font %s", path)
        found = known()
    return found


def chart_language() -> str:
    """The language of chart texts: the current one, or English when it needs a font that is missing."""
    lang = i18n.current_language()
    if lang == "zh-CN" and cjk_font() is None:
        return "en"
    return lang


def _(message: str) -> str:
    """Chart text in :func:`chart_language`."""
    return i18n.gettext(message) if chart_language() != "en" else message


def _use_fonts() -> None:
    """Point matplotlib at the fonts the chart language needs (Latin first, then the CJK fallback)."""
    cjk = cjk_font() if chart_language() == "zh-CN" else None
    matplotlib.rcParams["font.family"] = [LATIN_FONT, cjk] if cjk else _DEFAULT_FAMILY


# -- helpers ---------------------------------------------------------------------------------------


class ReportFigure(Figure):
    """A Figure that shows itself in a notebook as one embedded PNG with its title as alt text.

    No pyplot backend is needed (nothing registered globally), so a report shows each chart once.
    """

    def png(self) -> bytes:
        """The chart as PNG bytes."""
        buf = io.BytesIO()
        self.savefig(buf, format="png")
        return buf.getvalue()

    def alt_text(self) -> str:
        """A one-line description of the chart for screen readers (its titles)."""
        sup = getattr(self, "_suptitle", None)
        parts = [sup.get_text()] if sup is not None else []
        parts += [ax.get_title(loc="left") or ax.get_title() for ax in self.axes if ax.get_visible()]
        return "; ".join(p for p in parts if p) or "chart"

    def _repr_html_(self) -> str:
        alt = html.escape(self.alt_text(), quote=True)
        data = base64.b64encode(self.png()).decode("ascii")
        return f'<img class="mpkit-chart" alt="{alt}" src="data:image/png;base64,{data}">'


def clock_label(clock: str, clock_note: str = "") -> str:
    """The clock name shown on time axes: ``UTC`` or ``host-local time, zone unknown``."""
    if clock == "utc":
        return "UTC"
    return N_("host-local time, zone unknown")


def _figure(
    height: float, nrows: int = 1, *, sharex: bool = False, ratios: list[float] | None = None
) -> tuple[ReportFigure, Any]:
    _use_fonts()
    fig = ReportFigure(figsize=(_FIG_W, height), dpi=_DPI, layout="constrained")
    kw: dict[str, Any] = {"sharex": sharex}
    if ratios:
        kw["gridspec_kw"] = {"height_ratios": ratios}
    axes = fig.subplots(nrows, 1, squeeze=False, **kw)[:, 0]
    return fig, axes


def _empty(fig: Figure, ax: Any, message: str) -> None:
    ax.set_axis_off()
    ax.text(
        0.5,
        0.5,
        message,
        ha="center",
        va="center",
        transform=ax.transAxes,
        fontsize=11,
        color="#555555",
        wrap=True,
    )


def plain_times(values: Iterable[Any]) -> pd.Series:
    """Any mix of Timestamps / datetimes / NaT as naive datetimes (aware ones converted to UTC)."""
    s = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype="object")
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        return s.dt.tz_convert("UTC").dt.tz_localize(None)
    if pd.api.types.is_datetime64_dtype(s.dtype):
        return s
    out = []
    for v in s:
        if isinstance(v, pd.Timestamp | np.datetime64) or hasattr(v, "tzinfo"):
            try:
                t = pd.Timestamp(v)
            except (TypeError, ValueError):
                out.append(pd.NaT)
                continue
            if t is pd.NaT:
                out.append(pd.NaT)
            else:
                out.append(t.tz_convert("UTC").tz_localize(None) if t.tzinfo is not None else t)
        else:
            out.append(pd.NaT)
    return pd.Series(out, index=s.index, dtype="datetime64[ns]")


def _time_axis(ax: Any, tz: str, *, label: bool = True) -> None:
    loc = mdates.AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(loc)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))
    if label:
        ax.set_xlabel(_("time ({tz})").format(tz=_(tz)))


def _pad_range(ax: Any, times: pd.Series) -> None:
    t = times.dropna()
    if t.empty:
        return
    lo, hi = t.min(), t.max()
    pad = max((hi - lo) * 0.03, pd.Timedelta(seconds=5))
    ax.set_xlim(lo - pad, hi + pad)


def _short(text: Any, n: int = 28) -> str:
    """Data text for a chart label: shortened, with ``$`` escaped (no mathtext from bundle data)."""
    s = str(text)
    s = s if len(s) <= n else s[: n - 1] + "…"
    return s.replace("$", r"\$")


# -- start attempts --------------------------------------------------------------------------------


def attempts_gantt(
    attempts: pd.DataFrame,
    *,
    tz: str = "UTC",
    ssh_budget_s: float = SSH_BUDGET_S,
    max_rows: int = 30,
    title: str | None = None,
) -> ReportFigure:
    """One row per start attempt: a bar from its start to its end coloured by outcome, its stage
    times as markers, and the expected timeout (the SSH budget, 300 s) as a dashed mark.

    The x axis is seconds since the attempt started so the attempts line up; each row's label
    gives the instance, attempt number and absolute start time (``tz``).
    """
    n = len(attempts)
    rows = attempts.tail(max_rows).reset_index(drop=True) if n else attempts
    fig, (ax,) = _figure(max(2.4, 0.9 + 0.42 * max(len(rows), 1)))
    title = title or _("Start attempts: stages over time, coloured by outcome")
    if n > max_rows:
        title += _(" (last {shown} of {n})").format(shown=max_rows, n=n)
    ax.set_title(title, loc="left", fontsize=12)
    if not n:
        _empty(fig, ax, _("No start attempt was found in the daemon log, client output or attempts.jsonl."))
        return fig
    start = plain_times(rows["started_at"])
    end = plain_times(rows["ended_at"])
    labels = []
    outcomes_seen: list[str] = []
    stages_seen: set[str] = set()
    max_x = ssh_budget_s * 1.05
    for i, r in rows.iterrows():
        y = len(rows) - 1 - int(i)  # newest at the bottom, oldest on top
        t0 = start.iloc[i]
        outcome = str(r.get("outcome") or "unknown")
        colour = OUTCOME_COLOURS.get(outcome, OUTCOME_COLOURS["unknown"])
        if outcome not in outcomes_seen:
            outcomes_seen.append(outcome)
        when = t0.strftime("%Y-%m-%d %H:%M:%S") if t0 is not pd.NaT else _("time unknown")
        labels.append(f"{_short(r.get('instance') or '?', 20)} #{r.get('attempt')}\n{when}")
        if t0 is pd.NaT:
            continue
        t1 = end.iloc[i]
        dur = max((t1 - t0).total_seconds(), 0.5) if t1 is not pd.NaT else 0.5
        max_x = max(max_x, dur * 1.05)
        ax.barh(y, dur, left=0, height=0.55, color=colour, alpha=0.35, edgecolor=colour, linewidth=1.2)
        for col, _name, marker in STAGE_MARKS:
            if col not in rows.columns:
                continue
            t = plain_times(pd.Series([r.get(col)])).iloc[0]
            if t is pd.NaT:
                continue
            x = (t - t0).total_seconds()
            ax.plot([x], [y], marker=marker, color="#212121", markersize=7, linestyle="none", zorder=3)
            stages_seen.add(col)
            max_x = max(max_x, x * 1.05)
        # the expected timeout: SSH must be up within the budget after IP discovery starts
        wait = plain_times(pd.Series([r.get("ssh_wait_at")])).iloc[0]
        base = (wait - t0).total_seconds() if wait is not pd.NaT else 0.0
        ax.plot(
            [base + ssh_budget_s] * 2,
            [y - 0.38, y + 0.38],
            color="#b71c1c",
            linestyle="--",
            linewidth=1.6,
            zorder=4,
        )
        max_x = max(max_x, (base + ssh_budget_s) * 1.05)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(list(reversed(labels)), fontsize=8)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_xlim(0, max_x)
    ax.set_xlabel(_("seconds since the attempt started (row labels: start time, {tz})").format(tz=_(tz)))
    ax.grid(axis="x", alpha=0.3)
    handles: list[Any] = [
        Patch(
            facecolor=OUTCOME_COLOURS.get(o, "#757575"),
            alpha=0.5,
            edgecolor=OUTCOME_COLOURS.get(o, "#757575"),
            label=_("outcome: {outcome}").format(outcome=o),
        )
        for o in outcomes_seen
    ]
    handles += [
        Line2D([], [], marker=m, color="#212121", linestyle="none", label=_(name))
        for col, name, m in STAGE_MARKS
        if col in stages_seen
    ]
    handles.append(
        Line2D(
            [],
            [],
            color="#b71c1c",
            linestyle="--",
            label=_("expected timeout ({seconds:.0f} s SSH budget)").format(seconds=ssh_budget_s),
        )
    )
    fig.legend(handles=handles, loc="outside right upper", fontsize=8, frameon=False)
    return fig


# -- the DHCP story --------------------------------------------------------------------------------


def dhcp_messages(
    daemon_log: pd.DataFrame | None = None,
    system_log: pd.DataFrame | None = None,
    dhcp_packets: pd.DataFrame | None = None,
    *,
    mac: str | None = None,
) -> pd.DataFrame:
    """DHCP messages from every source on one frame: time, source, type, mac, ip, file, line.

    Sources: macOS bootpd (unified log), dnsmasq (journald lines in the daemon log), tcpdump.
    With ``mac``, only messages about that MAC are kept.
    """
    cols = ["time", "source", "type", "mac", "ip", "message", "file", "line"]
    parts: list[pd.DataFrame] = []
    if daemon_log is not None and len(daemon_log):
        dl = daemon_log[daemon_log["program"].astype("str").str.startswith("dnsmasq")]
        dl = dl[dl["message"].astype("str").str.contains("DHCP", regex=False)]
        if len(dl):
            typ = dl["message"].astype("str").str.extract(_DHCP_WORD, expand=False).str.upper()
            parts.append(
                pd.DataFrame(
                    {
                        "time": plain_times(dl["time"]),
                        "source": "dnsmasq",
                        "type": typ,
                        "mac": dl["mac"],
                        "ip": dl["ip"],
                        "message": dl["message"].astype("str"),
                        "file": dl["file"],
                        "line": dl["line"],
                    }
                )
            )
    if system_log is not None and len(system_log) and "dhcp_msg" in system_log.columns:
        sl = system_log[system_log["dhcp_msg"].notna()]
        if len(sl):
            typ = sl["dhcp_msg"].astype("str").str.upper().str.replace("DHCP", "", regex=False).str.strip()
            parts.append(
                pd.DataFrame(
                    {
                        "time": plain_times(sl["time"]),
                        "source": sl["process"].astype("object").fillna("bootpd").astype("str"),
                        "type": typ,
                        "mac": sl["mac"],
                        "ip": sl["ip"],
                        "message": sl["message"].astype("str"),
                        "file": sl["file"],
                        "line": sl["line"],
                    }
                )
            )
    if dhcp_packets is not None and len(dhcp_packets):
        dp = dhcp_packets
        typ = dp["dhcp_msg"].astype("str").str.upper().str.replace("DHCP", "", regex=False).str.strip()
        ip = (
            dp["your_ip"].where(dp["your_ip"].notna(), dp["requested_ip"])
            if "your_ip" in dp.columns
            else None
        )
        parts.append(
            pd.DataFrame(
                {
                    "time": plain_times(dp["time"]),
                    "source": "tcpdump",
                    "type": typ,
                    "mac": dp["mac"],
                    "ip": ip,
                    "message": dp["raw"].astype("str") if "raw" in dp.columns else "",
                    "file": dp["file"],
                    "line": dp["line"],
                }
            )
        )
    if not parts:
        return pd.DataFrame(
            {c: pd.Series([], dtype="datetime64[ns]" if c == "time" else "object") for c in cols}
        )
    out = pd.concat(parts, ignore_index=True)[cols]
    out["type"] = out["type"].where(out["type"].isin(DHCP_TYPES), "other")
    if mac:
        out = out[out["mac"].astype("object") == mac]
    return out.sort_values("time", kind="stable", na_position="last").reset_index(drop=True)


def _capture_history(frame: pd.DataFrame, mac: str | None, extra: str, as_time: bool) -> pd.DataFrame:
    """Per capture (each snapshot, plus the top-level file with no time): was ``mac`` there, with
    which IP and ``extra`` column."""
    cols = ["captured_at", "file", "present", "ip", extra]
    if frame is None or frame.empty or "file" not in frame.columns:
        return pd.DataFrame(columns=cols)
    rows = []
    for (file, snap), grp in frame.groupby(["file", "snapshot_at"], dropna=False, sort=False):
        mine = grp[grp["mac"].astype("object") == mac] if mac else grp.iloc[0:0]
        value: Any = None
        if len(mine):
            value = plain_times(mine[extra]).iloc[-1] if as_time else mine[extra].iloc[-1]
        elif as_time:
            value = pd.NaT
        rows.append(
            {
                "captured_at": plain_times(pd.Series([snap])).iloc[0],
                "file": file,
                "present": bool(len(mine)),
                "ip": mine["ip"].iloc[-1] if len(mine) else None,
                extra: value,
            }
        )
    out = pd.DataFrame(rows, columns=cols)
    return out.sort_values("captured_at", na_position="first").reset_index(drop=True)


def lease_history(leases: pd.DataFrame, mac: str | None) -> pd.DataFrame:
    """Per lease-file capture: was there a lease for ``mac``, with which IP and expiry."""
    return _capture_history(leases, mac, "expires", as_time=True)


def arp_history(neighbours: pd.DataFrame, mac: str | None) -> pd.DataFrame:
    """Per ARP / neighbour capture: was ``mac`` in the table, with which IP and state."""
    return _capture_history(neighbours, mac, "state", as_time=False)


def dhcp_story(
    leases: pd.DataFrame,
    neighbours: pd.DataFrame,
    messages: pd.DataFrame,
    *,
    mac: str | None,
    tz: str = "UTC",
    attempts: pd.DataFrame | None = None,
    title: str | None = None,
) -> ReportFigure:
    """The DHCP story of one MAC on one time axis: lease present / expiry / IP per lease-file
    capture, ARP presence per capture, and every DHCP message (bootpd, dnsmasq, tcpdump).

    ``messages`` is :func:`dhcp_messages` output; attempts (optional) are shaded.
    """
    lh = lease_history(leases, mac)
    ah = arp_history(neighbours, mac)
    msgs = messages if messages is not None else dhcp_messages()
    if mac:
        msgs = msgs[msgs["mac"].astype("object") == mac] if len(msgs) else msgs
    fig, axes = _figure(5.6, 3, sharex=True, ratios=[1.0, 1.0, 2.0])
    fig.suptitle(
        title or _("DHCP story for MAC {mac}").format(mac=_short(mac or _("(unknown)"), 40)),
        x=0.01,
        ha="left",
        fontsize=12,
    )
    timed_leases = lh[lh["captured_at"].notna()]
    timed_arp = ah[ah["captured_at"].notna()]
    timed_msgs = msgs[msgs["time"].notna()] if len(msgs) else msgs
    all_times = pd.concat(
        [
            timed_leases["captured_at"],
            timed_arp["captured_at"],
            timed_msgs["time"] if len(timed_msgs) else pd.Series([], dtype="datetime64[ns]"),
            lh["expires"].dropna() if len(lh) else pd.Series([], dtype="datetime64[ns]"),
        ],
        ignore_index=True,
    ).dropna()
    if not mac and not len(msgs):
        for ax in axes:
            ax.set_axis_off()
        axes[1].text(
            0.5,
            0.5,
            _("The instance's MAC is unknown and no DHCP message was captured."),
            ha="center",
            va="center",
            transform=axes[1].transAxes,
            fontsize=11,
            color="#555555",
        )
        return fig
    if all_times.empty:
        for ax in axes:
            ax.set_axis_off()
        untimed = []
        if len(lh):
            pres = lh[lh["present"]]
            untimed.append(
                _("lease file: lease for this MAC, IP {ip}").format(ip=pres["ip"].iloc[-1])
                if len(pres)
                else _("lease file: no lease for this MAC")
            )
        if len(ah):
            pres = ah[ah["present"]]
            untimed.append(
                _("ARP table: entry {ip}").format(ip=pres["ip"].iloc[-1])
                if len(pres)
                else _("ARP table: no entry for this MAC")
            )
        untimed.append(
            _("{n} DHCP message(s) for this MAC, none timed").format(n=len(msgs))
            if len(msgs)
            else _("no DHCP message captured for this MAC")
        )
        axes[1].text(
            0.5,
            0.5,
            _("No timed DHCP evidence (no snapshots, no DHCP log).") + "\n" + "\n".join(untimed),
            ha="center",
            va="center",
            transform=axes[1].transAxes,
            fontsize=10,
            color="#555555",
        )
        return fig
    # panel 1: lease history
    ax = axes[0]
    _presence(ax, timed_leases)
    ips = timed_leases[timed_leases["present"]]
    last_ip = None
    for r in ips.itertuples(index=False):
        if r.ip != last_ip:
            ax.annotate(
                _short(r.ip, 40),
                (r.captured_at, 1),
                xytext=(0, 7),
                textcoords="offset points",
                ha="center",
                fontsize=8,
            )
            last_ip = r.ip
    for t in lh["expires"].dropna().unique():
        ax.axvline(t, color="#6a1b9a", linestyle=":", linewidth=1.2)
    ax.set_yticks([1])
    ax.set_yticklabels([_("lease")])
    ax.set_ylim(0.5, 1.8)
    ax.set_title(
        _("Lease file per capture (o present, x absent; dotted: lease expiry)"), loc="left", fontsize=9
    )
    # panel 2: ARP presence
    ax = axes[1]
    _presence(ax, timed_arp)
    ax.set_yticks([1])
    ax.set_yticklabels(["ARP"])
    ax.set_ylim(0.5, 1.5)
    ax.set_title(_("ARP / neighbour table per capture (o entry for the MAC, x none)"), loc="left", fontsize=9)
    if timed_leases.empty:
        axes[0].text(
            0.5,
            0.5,
            _("no timed lease-file capture"),
            transform=axes[0].transAxes,
            ha="center",
            va="center",
            fontsize=9,
            color="#777777",
        )
    if timed_arp.empty:
        ax.text(
            0.5,
            0.5,
            _("no timed ARP capture"),
            transform=ax.transAxes,
            ha="center",
            va="center",
            fontsize=9,
            color="#777777",
        )
    # panel 3: DHCP messages by type, marker by source
    ax = axes[2]
    types = [t for t in DHCP_TYPES + ["other"] if len(timed_msgs) and (timed_msgs["type"] == t).any()]
    src_markers = {"tcpdump": "s", "dnsmasq": "o"}
    handles = []
    if len(timed_msgs):
        ymap = {t: i for i, t in enumerate(types)}
        for j, (src, grp) in enumerate(timed_msgs.groupby("source", sort=True)):
            marker = src_markers.get(str(src), "D" if j % 2 else "^")
            ax.plot(
                grp["time"],
                grp["type"].map(ymap),
                marker=marker,
                linestyle="none",
                markersize=7,
                alpha=0.8,
                color=["#1565c0", "#ef6c00", "#2e7d32", "#6a1b9a"][j % 4],
                label=_short(src),
            )
        ax.set_yticks(range(len(types)))
        ax.set_yticklabels(types, fontsize=8)
        ax.set_ylim(-0.6, len(types) - 0.4)
        handles, _labels = ax.get_legend_handles_labels()
    else:
        ax.set_yticks([])
        ax.text(
            0.5,
            0.5,
            _("no DHCP message captured for this MAC (bootpd log, dnsmasq, tcpdump)"),
            transform=ax.transAxes,
            ha="center",
            va="center",
            fontsize=9,
            color="#777777",
        )
    ax.set_ylabel(_("DHCP message"))
    ax.set_title(_("DHCP messages (marker = source)"), loc="left", fontsize=9)
    if attempts is not None and len(attempts):
        _shade_attempts(axes, attempts)
    for a in axes:
        a.grid(axis="x", alpha=0.3)
    _pad_range(axes[2], all_times)
    _time_axis(axes[2], tz)
    legend = handles + [
        Line2D([], [], marker="o", color="#2e7d32", linestyle="none", label=_("present")),
        Line2D([], [], marker="x", color="#c62828", linestyle="none", label=_("absent")),
        Line2D([], [], color="#6a1b9a", linestyle=":", label=_("lease expiry")),
    ]
    if attempts is not None and len(attempts):
        legend.append(Patch(facecolor="#90a4ae", alpha=0.25, label=_("start attempt")))
    fig.legend(handles=legend, loc="outside right upper", fontsize=8, frameon=False)
    return fig


def _presence(ax: Any, history: pd.DataFrame) -> None:
    """Present (o, green) / absent (x, red) markers, one per capture, at y = 1."""
    for present, marker, colour in ((True, "o", "#2e7d32"), (False, "x", "#c62828")):
        sel = history[history["present"] == present]
        if len(sel):
            ax.plot(
                sel["captured_at"],
                [1] * len(sel),
                marker=marker,
                color=colour,
                markersize=8,
                linestyle="none",
            )


def _shade_attempts(axes: Iterable[Any], attempts: pd.DataFrame) -> None:
    start = plain_times(attempts["started_at"])
    end = plain_times(attempts["ended_at"])
    for t0, t1, outcome in zip(start, end, attempts["outcome"].astype("object"), strict=False):
        if t0 is pd.NaT:
            continue
        t1 = t1 if t1 is not pd.NaT and t1 > t0 else t0 + pd.Timedelta(seconds=1)
        for ax in axes:
            ax.axvspan(t0, t1, color=OUTCOME_COLOURS.get(str(outcome), "#90a4ae"), alpha=0.12, zorder=0)


# -- daemon-log activity ---------------------------------------------------------------------------


def log_activity(
    daemon_log: pd.DataFrame,
    attempts: pd.DataFrame | None = None,
    *,
    tz: str = "UTC",
    top_categories: int = 8,
    bins: int = 60,
    title: str | None = None,
) -> ReportFigure:
    """Daemon-log lines over time: a stacked histogram by level (lines per bin) and a strip per
    logging category (the busiest ``top_categories``), start attempts shaded by outcome."""
    fig, axes = _figure(5.4, 2, sharex=True, ratios=[1.2, 1.0])
    fig.suptitle(title or _("Daemon-log activity by level and category"), x=0.01, ha="left", fontsize=12)
    dl = daemon_log if daemon_log is not None else pd.DataFrame()
    times = plain_times(dl["time"]) if len(dl) else pd.Series([], dtype="datetime64[ns]")
    ok = times.notna()
    if not ok.any():
        for ax in axes:
            ax.set_axis_off()
        axes[0].text(
            0.5,
            0.2,
            _("No timed daemon-log line in this bundle (or in the selected window)."),
            ha="center",
            va="center",
            transform=axes[0].transAxes,
            fontsize=11,
            color="#555555",
        )
        return fig
    times = times[ok]
    lv = dl.loc[ok.index[ok], "level"].astype("object").fillna("(none)").astype("str")
    cat = (
        dl.loc[ok.index[ok], "category"]
        .astype("object")
        .fillna(dl.loc[ok.index[ok], "program"].astype("object"))
        .fillna("(none)")
        .astype("str")
    )
    lo, hi = times.min(), times.max()
    if hi <= lo:
        hi = lo + pd.Timedelta(seconds=1)
    edges = pd.date_range(lo, hi, periods=bins + 1)
    width = edges[1] - edges[0]
    ax = axes[0]
    bottom = np.zeros(bins)
    handles = []
    for level in LEVELS:
        sel = times[lv == level]
        if sel.empty:
            continue
        counts, _edges = np.histogram(sel.astype("int64"), bins=edges.astype("int64"))
        ax.bar(
            edges[:-1],
            counts,
            width=width,
            bottom=bottom,
            align="edge",
            color=LEVEL_COLOURS[level],
            label=level,
            edgecolor="none",
        )
        bottom = bottom + counts
        handles.append(Patch(color=LEVEL_COLOURS[level], label=_("level: {level}").format(level=level)))
    secs = width.total_seconds()
    unit = f"{secs:.0f} s" if secs >= 1 else f"{secs * 1000:.0f} ms"
    ax.set_ylabel(_("lines per {unit}").format(unit=unit))
    ax.set_title(_("Lines per time bin, stacked by level"), loc="left", fontsize=9)
    # categories strip
    ax = axes[1]
    top = cat.value_counts().head(top_categories).index.tolist()
    cat_plot = cat.where(cat.isin(top), "(other)")
    order = top + (["(other)"] if (cat_plot == "(other)").any() else [])
    ymap = {c: i for i, c in enumerate(order)}
    for level in LEVELS:
        m = lv == level
        if not m.any():
            continue
        ax.scatter(
            times[m],
            cat_plot[m].map(ymap),
            s=12,
            color=LEVEL_COLOURS[level],
            marker="|" if level in ("debug", "trace") else "o",
            alpha=0.7,
            linewidths=1,
        )
    ax.set_yticks(range(len(order)))
    ax.set_yticklabels([_short(c, 26) for c in order], fontsize=8)
    ax.set_ylim(-0.6, len(order) - 0.4)
    ax.set_ylabel(_("category"))
    ax.set_title(_("Lines per logging category (top {n})").format(n=len(top)), loc="left", fontsize=9)
    if attempts is not None and len(attempts):
        _shade_attempts(axes, attempts)
        outs = [str(o) for o in attempts["outcome"].astype("object").dropna().unique()]
        handles += [
            Patch(
                facecolor=OUTCOME_COLOURS.get(o, "#90a4ae"),
                alpha=0.25,
                label=_("attempt: {outcome}").format(outcome=o),
            )
            for o in outs
        ]
    for a in axes:
        a.grid(axis="x", alpha=0.3)
    axes[1].set_xlim(edges[0] - width, edges[-1] + width)
    _time_axis(axes[1], tz)
    fig.legend(handles=handles, loc="outside right upper", fontsize=8, frameon=False)
    return fig


# -- diagnosis ---------------------------------------------------------------------------------------


def candidates_chart(diagnosis: Any, *, title: str | None = None) -> ReportFigure:
    """Confidence of each candidate cause (the root cause highlighted), 0–100 %."""
    cands = list(getattr(diagnosis, "candidates", ()) or ())
    fig, (ax,) = _figure(max(1.8, 0.8 + 0.35 * max(len(cands), 1)))
    ax.set_title(title or _("Candidate causes by confidence"), loc="left", fontsize=12)
    if not cands:
        _empty(fig, ax, _("The diagnosis lists no candidate cause."))
        return fig
    root = diagnosis.root_cause.id
    names = [c.id for c in cands][::-1]
    vals = [100.0 * float(c.confidence) for c in cands][::-1]
    colours = ["#1565c0" if n == root else "#90a4ae" for n in names]
    ax.barh(range(len(names)), vals, color=colours, height=0.6)
    for i, v in enumerate(vals):
        ax.text(min(v + 1.5, 92), i, f"{v:.0f} %", va="center", fontsize=8)
    ax.set_yticks(range(len(names)))
    ax.set_yticklabels([_short(n, 34) for n in names], fontsize=9)
    ax.set_xlim(0, 100)
    ax.set_xlabel(_("confidence (%)"))
    ax.grid(axis="x", alpha=0.3)
    ax.legend(
        handles=[
            Patch(color="#1565c0", label=_("root cause")),
            Patch(color="#90a4ae", label=_("other candidate")),
        ],
        loc="lower right",
        fontsize=8,
    )
    return fig


# -- data coverage -----------------------------------------------------------------------------------


def coverage_chart(coverage: pd.DataFrame, *, max_rows: int = 25, title: str | None = None) -> ReportFigure:
    """Parse coverage per file: the share of its lines parsed, ignored (blank, headers) and rejected.

    The files with the most rejected lines come first; past ``max_rows`` the rest is left to the table.
    """
    cov = coverage if coverage is not None else pd.DataFrame()
    n = len(cov)
    if n:
        share = cov["rejected"].astype("float") / cov["lines"].astype("float").clip(lower=1)
        cov = cov.assign(_bad=share).sort_values(["_bad", "file"], ascending=[False, True], kind="stable")
    rows = cov.head(max_rows)
    fig, (ax,) = _figure(max(1.8, 0.8 + 0.3 * max(len(rows), 1)))
    ax.set_title(
        (title or _("Parse coverage per file"))
        + (_(" (worst {shown} of {n} files)").format(shown=max_rows, n=n) if n > max_rows else ""),
        loc="left",
        fontsize=12,
    )
    if not n:
        _empty(fig, ax, _("No artifact was recognised in this bundle."))
        return fig
    lines = rows["lines"].astype("float").clip(lower=1)
    parts = [(N_("parsed"), "#2e7d32"), (N_("ignored"), "#b0bec5"), (N_("rejected"), "#c62828")]
    left = np.zeros(len(rows))
    y = np.arange(len(rows))[::-1]
    for col, colour in parts:
        share = (rows[col].astype("float") / lines * 100).fillna(0).clip(0, 100).to_numpy()
        ax.barh(y, share, left=left, color=colour, label=_(col), height=0.6)
        left = left + share
    ax.set_yticks(y)
    ax.set_yticklabels([_short(f, 40) for f in rows["file"].astype("str")], fontsize=8)
    ax.set_xlim(0, 100)
    ax.set_xlabel(_("share of the file's lines (%)"))
    fig.legend(loc="outside right upper", fontsize=8, frameon=False)
    return fig


# -- fleet ---------------------------------------------------------------------------------------------


def fleet_causes(summary: pd.DataFrame, *, title: str | None = None) -> ReportFigure:
    """Causes across many bundles: by count, and by OS / Multipass version (stacked)."""
    fig, axes = _figure(5.2, 2, ratios=[1.0, 1.2])
    fig.suptitle(title or _("Root causes across bundles"), x=0.01, ha="left", fontsize=12)
    if summary is None or summary.empty:
        for ax in axes:
            ax.set_axis_off()
        axes[0].text(
            0.5, 0.5, _("No bundle was reported."), ha="center", va="center", transform=axes[0].transAxes
        )
        return fig
    cause = summary["cause"].astype("object").fillna("(report failed)").astype("str")
    counts = cause.value_counts()
    ax = axes[0]
    ax.barh(range(len(counts))[::-1], counts.to_numpy(), color="#1565c0", height=0.6)
    ax.set_yticks(list(range(len(counts))[::-1]))
    ax.set_yticklabels([_short(c, 34) for c in counts.index], fontsize=8)
    ax.set_xlabel(_("bundles (count)"))
    ax.set_title(_("By count"), loc="left", fontsize=9)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax = axes[1]
    osv = (
        summary["os"].astype("object").fillna("?").astype("str")
        + " / Multipass "
        + summary["multipass_version"].astype("object").fillna("?").astype("str")
    )
    table = pd.crosstab(osv, cause)
    left = np.zeros(len(table))
    palette = ["#1565c0", "#ef6c00", "#2e7d32", "#c62828", "#6a1b9a", "#00838f", "#8d6e63", "#9e9e9e"]
    y = np.arange(len(table))[::-1]
    for i, c in enumerate(table.columns):
        vals = table[c].to_numpy()
        ax.barh(y, vals, left=left, color=palette[i % len(palette)], label=_short(c, 30), height=0.6)
        left = left + vals
    ax.set_yticks(y)
    ax.set_yticklabels([_short(v, 40) for v in table.index], fontsize=8)
    ax.set_xlabel(_("bundles (count)"))
    ax.set_title(_("By OS and Multipass version"), loc="left", fontsize=9)
    ax.xaxis.get_major_locator().set_params(integer=True)
    fig.legend(loc="outside right upper", fontsize=8, frameon=False, title=_("cause"))
    return fig


# -- explorer ------------------------------------------------------------------------------------------


def event_timeline(
    events: pd.DataFrame, *, tz: str = "UTC", max_sources: int = 10, title: str | None = None
) -> ReportFigure:
    """Timeline events (``derive(bundle).timeline`` rows) as points: one row per source, coloured by level."""
    fig, (ax,) = _figure(3.2)
    ax.set_title(title or _("Events over time ({n} shown)").format(n=len(events)), loc="left", fontsize=12)
    if events is None or events.empty:
        _empty(fig, ax, _("No event matches the filters."))
        return fig
    times = plain_times(events["time"])
    ok = times.notna()
    if not ok.any():
        _empty(fig, ax, _("{n} event(s) match, none has a time.").format(n=len(events)))
        return fig
    src = events["source"].astype("object").fillna("?").astype("str")[ok]
    lv = events["level"].astype("object").fillna("(none)").astype("str")[ok]
    lv = lv.where(lv.isin(LEVELS), "(none)")
    times = times[ok]
    order = src.value_counts().head(max_sources).index.tolist()
    src = src.where(src.isin(order), "(other)")
    if (src == "(other)").any():
        order.append("(other)")
    ymap = {s: i for i, s in enumerate(order)}
    for level in LEVELS:
        m = lv == level
        if m.any():
            ax.scatter(
                times[m],
                src[m].map(ymap),
                s=14,
                color=LEVEL_COLOURS[level],
                label=_("level: {level}").format(level=level),
                alpha=0.75,
            )
    ax.set_yticks(range(len(order)))
    ax.set_yticklabels([_short(s, 22) for s in order], fontsize=8)
    ax.set_ylim(-0.6, len(order) - 0.4)
    ax.set_ylabel(_("source"))
    ax.grid(axis="x", alpha=0.3)
    _pad_range(ax, times)
    _time_axis(ax, tz)
    fig.legend(loc="outside right upper", fontsize=8, frameon=False)
    return fig
