"""Reports: the diagnosis notebook executed with papermill, exported to one self-contained HTML file.

Public entry points (the CLI maps one flag onto one keyword):

* :func:`report` — ``mpkit report PATH -o report.html``;
* :func:`batch` — ``mpkit batch INPUTS… -o OUTDIR [--workers N] [--scheduler ADDR]``;
* :func:`validate_parameters` — the notebook's parameters checked before any kernel starts.

The notebook (``mpkit/notebooks/diagnose.ipynb``) holds no logic: each cell calls
:func:`prepare`, :func:`mpkit.diagnose.diagnose`, a view below (which returns an
:class:`Html` fragment whose every value is escaped) or a chart from
:mod:`mpkit.plots`, and displays it.

The HTML has no code, no prompts, no script at all, images embedded as
``data:`` URIs and a Content-Security-Policy that forbids scripts and every
network fetch, so it opens offline from ``file://``.  A failing cell still
yields an HTML report, with an error banner on top and everything up to the
failure, and :func:`report` raises :class:`~mpkit.errors.ReportError`.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from . import plots
from .errors import BundleError, MpkitError, ReportError
from .samples import sample

if TYPE_CHECKING:
    from .bundle import Bundle
    from .diagnose.model import Diagnosis

log = logging.getLogger(__name__)

__all__ = [
    "PARAMETERS",
    "DIAGNOSIS_MIME",
    "Html",
    "ReportContext",
    "report",
    "batch",
    "validate_parameters",
    "notebook_path",
    "ensure_kernel",
    "export_html",
    "diagnosis_from_notebook",
    "prepare",
    "focus",
]

PACKAGE_DIR = Path(__file__).resolve().parent
#: the sample bundle used when no bundle is given
#: the mime type of the machine-readable diagnosis the notebook emits (not rendered in HTML)
DIAGNOSIS_MIME = "application/vnd.mpkit.diagnosis+json"
KERNEL_NAME = "mpkit"
#: cells with this tag are for people reading the notebook, not for the HTML report
NOTEBOOK_ONLY_TAG = "notebook-only"
KERNEL_START_TRIES = 3
HTML_CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'none'; font-src 'none'; "
    "connect-src 'none'; media-src 'none'; object-src 'none'; frame-src 'none'; base-uri 'none'; form-action 'none'"
)


# ------------------------------------------------------------------------------------------------
# parameters
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    types: tuple[type, ...]
    default: Any
    help: str


#: the notebook's parameters: name → accepted types, default, meaning
PARAMETERS: dict[str, Param] = {
    "bundle": Param(
        (str, os.PathLike), None, "bundle directory, archive or artifact file (None: the default sample)"
    ),
    "instance": Param((str,), None, "instance to diagnose (None: the one whose start failed last)"),
    "attempt": Param((int,), None, "start attempt number, 1-based (None: the latest failed one)"),
    "since": Param(
        (str, pd.Timestamp),
        None,
        "show events from this time on (ISO 8601, bundle clock unless an offset is given)",
    ),
    "until": Param((str, pd.Timestamp), None, "show events up to this time"),
    "redact": Param((bool,), False, "pseudonymise host names, user names, MACs and LAN IPs in the report"),
    "title": Param((str,), None, "report title (None: derived from the bundle name)"),
}


def _parse_time(name: str, value: Any) -> str | None:
    if value is None:
        return None
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ReportError(
            f"parameter {name}={value!r} is not a time; use ISO 8601 such as 2024-09-18T13:57:00"
        ) from exc
    if ts is pd.NaT:
        raise ReportError(
            f"parameter {name}={value!r} is not a time; use ISO 8601 such as 2024-09-18T13:57:00"
        )
    return ts.isoformat()


def validate_parameters(params: dict[str, Any]) -> dict[str, Any]:
    """Check the notebook parameters (names, types, existence, allowed values) and normalise them.

    Returns a complete dict (defaults filled in, ``bundle`` an absolute path string, times ISO
    strings) that papermill can inject. Raises :class:`ReportError` naming the bad parameter.
    """
    if not isinstance(params, dict):
        raise ReportError("parameters must be a dict of name → value")
    unknown = sorted(set(params) - set(PARAMETERS))
    if unknown:
        raise ReportError(
            f"unknown report parameter(s): {', '.join(unknown)}; known: {', '.join(PARAMETERS)}"
        )
    out: dict[str, Any] = {}
    for name, spec in PARAMETERS.items():
        value = params.get(name, spec.default)
        if value is None:
            out[name] = None
            continue
        if isinstance(value, bool) and bool not in spec.types:
            raise ReportError(f"parameter {name} must be {_typenames(spec.types)} or None, not a bool")
        if not isinstance(value, spec.types):
            raise ReportError(
                f"parameter {name} must be {_typenames(spec.types)}, not {type(value).__name__} ({value!r})"
            )
        out[name] = value
    if out["redact"] is None:
        out["redact"] = False
    raw = None if out["bundle"] is None else os.fspath(out["bundle"])
    if raw is None or raw.startswith("sample:"):
        try:
            out["bundle"] = str(sample(None if raw is None else raw.split(":", 1)[1]))
        except BundleError as exc:
            raise ReportError(str(exc)) from exc
    else:
        p = Path(raw).expanduser()
        if not p.exists():
            raise ReportError(
                f"bundle {raw!r} does not exist; give a bundle directory, archive or artifact file"
            )
        out["bundle"] = str(p.resolve())
    if out["instance"] is not None and not out["instance"].strip():
        raise ReportError("parameter instance is empty; give an instance name or leave it out")
    if out["attempt"] is not None and out["attempt"] < 1:
        raise ReportError(
            f"parameter attempt must be ≥ 1 (attempts are numbered from 1), not {out['attempt']}"
        )
    out["since"] = _parse_time("since", out["since"])
    out["until"] = _parse_time("until", out["until"])
    if out["since"] and out["until"]:
        a, b = pd.Timestamp(out["since"]), pd.Timestamp(out["until"])
        if (a.tzinfo is None) != (b.tzinfo is None):
            raise ReportError("since and until must both carry a UTC offset or both have none")
        if a > b:
            raise ReportError(f"since ({out['since']}) is after until ({out['until']})")
    if out["title"] is not None and len(out["title"]) > 200:
        raise ReportError("parameter title is longer than 200 characters")
    return out


def _typenames(types: tuple[type, ...]) -> str:
    names = {
        "PathLike": "a path",
        "str": "a string",
        "int": "an integer",
        "bool": "true/false",
        "Timestamp": "a time",
    }
    return " or ".join(names.get(t.__name__, t.__name__) for t in types)


# ------------------------------------------------------------------------------------------------
# in-kernel: loading, window, focus
# ------------------------------------------------------------------------------------------------


class Html:
    """An HTML fragment for notebook display (``_repr_html_``); built only from escaped values."""

    def __init__(self, markup: str) -> None:
        self.markup = markup

    def _repr_html_(self) -> str:
        return self.markup

    def __str__(self) -> str:
        return self.markup

    def __repr__(self) -> str:  # what a plain-text front end shows
        return re.sub(r"<[^>]+>", "", self.markup)[:2000]


def esc(value: Any) -> str:
    """``value`` as escaped HTML text (None / NaN / NaT → empty)."""
    if value is None:
        return ""
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return html.escape(str(value), quote=True)


@dataclass
class ReportContext:
    """What every view of one report works from: the bundle, its clock, the window, the focus."""

    params: dict[str, Any]
    bundle: Bundle
    name: str
    title: str
    tz: str
    clock_note: str
    since: pd.Timestamp | None = None
    until: pd.Timestamp | None = None
    instance: str | None = None
    attempt: int | None = None
    redacted: bool = False
    diagnosis: Diagnosis | None = None
    mac: str | None = None
    notes: list[str] = field(default_factory=list)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    # -- windowed data ------------------------------------------------------------------------
    def _in_window(self, times: pd.Series) -> pd.Series:
        plain = plots.plain_times(times)
        keep = pd.Series(True, index=times.index)
        if self.since is not None:
            keep &= ~(plain < _plain_ts(self.since))
        if self.until is not None:
            keep &= ~(plain > _plain_ts(self.until))
        return keep

    def frame(self, name: str) -> pd.DataFrame:
        """Frame ``name`` restricted to the window (rows with an unknown time are kept)."""
        key = f"frame:{name}"
        if key not in self._cache:
            f = self.bundle.frame(name)
            if (self.since is not None or self.until is not None) and len(f):
                col = (
                    "time" if "time" in f.columns else ("snapshot_at" if "snapshot_at" in f.columns else None)
                )
                if col is not None:
                    f = f[self._in_window(f[col])]
            self._cache[key] = f
        return self._cache[key]

    @property
    def attempts(self) -> pd.DataFrame:
        """Start attempts overlapping the window."""
        if "attempts" not in self._cache:
            a = self.bundle.attempts
            if (self.since is not None or self.until is not None) and len(a):
                start, end = plots.plain_times(a["started_at"]), plots.plain_times(a["ended_at"])
                keep = pd.Series(True, index=a.index)
                if self.since is not None:
                    keep &= ~(end.fillna(start) < _plain_ts(self.since))
                if self.until is not None:
                    keep &= ~(start > _plain_ts(self.until))
                a = a[keep]
            self._cache["attempts"] = a
        return self._cache["attempts"]

    @property
    def timeline(self) -> pd.DataFrame:
        if "timeline" not in self._cache:
            t = self.bundle.timeline
            if self.since is not None or self.until is not None:
                t = t[self._in_window(t["time"])]
            self._cache["timeline"] = t
        return self._cache["timeline"]

    @property
    def dhcp_messages(self) -> pd.DataFrame:
        if "dhcp" not in self._cache:
            self._cache["dhcp"] = plots.dhcp_messages(
                self.frame("daemon_log"), self.frame("system_log"), self.frame("dhcp_packets")
            )
        return self._cache["dhcp"]

    @property
    def coverage(self) -> pd.DataFrame:
        return self.bundle.coverage


def _plain_ts(ts: pd.Timestamp) -> pd.Timestamp:
    return ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo is not None else ts


def _redactor_class() -> Any:
    try:
        from .collect import Redactor

        return Redactor
    except ImportError:
        pass
    try:
        from .collect.redact import Redactor

        return Redactor
    except ImportError as exc:
        raise ReportError(
            "redaction not available: mpkit.collect.Redactor cannot be imported in this installation"
        ) from exc


def redacted_copy(src: str | Path, dest: Path) -> tuple[Path, Any]:
    """Copy bundle ``src`` (dir, archive or file) to ``dest`` with every private value pseudonymised.

    File contents, file names and the manifest go through one :class:`mpkit.collect.Redactor`, so a
    value has the same pseudonym everywhere. Returns the copy's path and the redactor.
    """
    from . import archive as _archive

    Redactor = _redactor_class()
    src = Path(src)
    unpacked = None
    if src.is_file() and _archive.is_archive(src):
        unpacked = _archive.unpack(src)
        root = unpacked.root
        kids = [c for c in root.iterdir() if not c.name.startswith(".")]
        if len(kids) == 1 and kids[0].is_dir():
            root = kids[0]
    else:
        root = src
    try:
        files = (
            [root]
            if root.is_file()
            else sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink())
        )
        texts = {p: p.read_bytes() for p in files}
        red = Redactor(seed=0)
        for data in texts.values():
            red.learn(data.decode("utf-8", "surrogateescape"))
        red.settle()
        dest.mkdir(parents=True, exist_ok=True)
        out_root = dest / "bundle"
        for p, data in texts.items():
            rel = p.name if root.is_file() else p.relative_to(root).as_posix()
            new_rel = red.redact_text(rel, learn=False)
            target = (out_root / new_rel) if not root.is_file() else (dest / new_rel)
            if not target.resolve().is_relative_to(dest.resolve()):
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if rel == "manifest.json":
                try:
                    target.write_text(
                        json.dumps(red.redact_obj(json.loads(data.decode("utf-8"))), indent=1),
                        encoding="utf-8",
                    )
                    continue
                except (ValueError, UnicodeDecodeError):
                    pass
            target.write_bytes(red.redact_bytes(data, learn=False))
        return (out_root if not root.is_file() else dest / red.redact_text(root.name, learn=False)), red
    finally:
        if unpacked is not None:
            unpacked.cleanup()


def prepare(
    bundle: str | os.PathLike[str] | None = None,
    instance: str | None = None,
    attempt: int | None = None,
    since: str | None = None,
    until: str | None = None,
    redact: bool = False,
    title: str | None = None,
) -> ReportContext:
    """Validate the parameters, load the bundle (redacted when asked) and set up the window."""
    from .bundle import load_bundle

    params = validate_parameters(
        {
            "bundle": bundle,
            "instance": instance,
            "attempt": attempt,
            "since": since,
            "until": until,
            "redact": redact,
            "title": title,
        }
    )
    src = Path(params["bundle"])
    name = src.name
    notes: list[str] = []
    if params["redact"]:
        # the redacted copy lives only while it is read: a bundle is parsed whole on loading
        tmp = Path(tempfile.mkdtemp(prefix="mpkit-redacted-"))
        try:
            path, red = redacted_copy(src, tmp)
            name = red.redact_text(name, learn=False)
            b = load_bundle(path)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
            if tmp.exists():
                log.warning("could not remove the redacted copy %s; delete it by hand", tmp)
        title_text = red.redact_text(params["title"], learn=False) if params["title"] else None
        notes.append(
            "Redacted: host names, user names, serials, MACs and LAN IPs are pseudonyms (consistent across the report)."
        )
    else:
        b = load_bundle(src)
        title_text = params["title"]
    known = set(b.attempts["instance"].dropna()) | set(b.frame("instances")["name"].dropna())
    if params["instance"] is not None and params["instance"] not in known:
        raise ReportError(
            f"no instance {params['instance']!r} in this bundle; known: {', '.join(sorted(map(str, known))) or 'none'}"
        )
    if params["attempt"] is not None:
        att = b.attempts
        if params["instance"] is not None:
            att = att[att["instance"] == params["instance"]]
        if not (att["attempt"] == params["attempt"]).any():
            raise ReportError(
                f"no start attempt {params['attempt']} in this bundle; attempts: {sorted(set(att['attempt'].dropna().astype(int)))}"
            )
    tz = plots.clock_label(b.clock, b.clock_note)
    ctx = ReportContext(
        params=params,
        bundle=b,
        name=name,
        title=title_text or f"Why the Multipass instance did not start: {name}",
        tz=tz,
        clock_note=b.clock_note,
        instance=params["instance"],
        attempt=params["attempt"],
        redacted=bool(params["redact"]),
        notes=notes,
    )
    ctx.since = _on_clock(params["since"], b.clock, notes, "since")
    ctx.until = _on_clock(params["until"], b.clock, notes, "until")
    return ctx


def _on_clock(value: str | None, clock: str, notes: list[str], name: str) -> pd.Timestamp | None:
    if value is None:
        return None
    ts = pd.Timestamp(value)
    if clock == "utc":
        return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    if ts.tzinfo is not None:
        notes.append(
            f"{name}: the bundle's time zone is unknown, so the offset of {value} was ignored (times compared as host-local)"
        )
        return ts.tz_localize(None)
    return ts


def focus(ctx: ReportContext, diagnosis: Diagnosis) -> ReportContext:
    """The context focused on the diagnosed instance and attempt (and its MAC)."""
    inst = diagnosis.instance or ctx.instance
    att = diagnosis.attempt.get("attempt") if diagnosis.attempt else ctx.attempt
    mac = diagnosis.attempt.get("mac") if diagnosis.attempt else None
    ent = ctx.bundle.entities
    if not isinstance(mac, str) and len(ent):
        mine = ent[ent["instance"] == inst] if inst else ent
        macs = mine["mac"].dropna()
        mac = str(macs.iloc[0]) if len(macs) else None
    return replace(
        ctx,
        diagnosis=diagnosis,
        instance=inst,
        attempt=int(att) if att is not None and not pd.isna(att) else None,
        mac=mac if isinstance(mac, str) else None,
        _cache=ctx._cache,
    )


# ------------------------------------------------------------------------------------------------
# views: each returns escaped HTML
# ------------------------------------------------------------------------------------------------


def _table(df: pd.DataFrame, *, max_rows: int = 60, empty: str = "nothing to show", cls: str = "data") -> str:
    if df is None or df.empty:
        return f'<p class="empty">{esc(empty)}</p>'
    shown = df.head(max_rows).astype("object")
    shown = shown.where(shown.notna(), "")
    body = shown.to_html(index=False, escape=True, border=0, classes=cls, na_rep="", justify="left")
    if len(df) > max_rows:
        body += (
            f'<p class="more">{len(df) - max_rows} more rows not shown (see the frames / --json export)</p>'
        )
    return body


def _link(url: str) -> str:
    if re.match(r"^https?://[^\s\"'<>]+$", url or ""):
        return f'<a href="{esc(url)}" rel="noopener noreferrer">{esc(url)}</a>'
    return esc(url)


def _fmt_time(v: Any) -> str:
    t = plots.plain_times(pd.Series([v])).iloc[0]
    return "" if t is pd.NaT else t.strftime("%Y-%m-%d %H:%M:%S")


def emit(ctx: ReportContext, diagnosis: Diagnosis) -> None:
    """Display the machine-readable diagnosis (a mime type the HTML export does not render)."""
    from IPython.display import display

    h = ctx.bundle.host
    payload = {
        "bundle": ctx.name,
        "diagnosis": diagnosis.to_dict(),
        "host": {
            "platform": h.platform,
            "os_name": h.os_name,
            "os_version": h.os_version,
            "multipass_version": h.multipass_version,
            "driver": h.driver,
        },
        "clock": ctx.bundle.clock,
        "redacted": ctx.redacted,
    }
    display({DIAGNOSIS_MIME: payload}, raw=True)


def header(ctx: ReportContext) -> Html:
    """Title and the facts a maintainer wants first: OS and Multipass version, instance, clock, window."""
    h = ctx.bundle.host
    os_text = " ".join(x for x in (h.os_name or h.platform or "", h.os_version or "") if x) or "unknown"
    facts = [
        ("Bundle", ctx.name),
        ("Instance", ctx.instance or "(not identified)"),
        ("Host OS", os_text + (f" ({h.arch})" if h.arch else "")),
        ("Multipass", h.multipass_version or "unknown"),
        ("Driver", h.driver or "not collected"),
        ("Clock", f"{ctx.tz}: {ctx.clock_note}"),
    ]
    if ctx.since is not None or ctx.until is not None:
        facts.append(
            (
                "Window",
                f"{_fmt_time(ctx.since) or 'start'} → {_fmt_time(ctx.until) or 'end'} ({ctx.tz}); "
                "the diagnosis uses the whole bundle, charts and tables only the window",
            )
        )
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in facts)
    notes = "".join(f'<p class="note">{esc(n)}</p>' for n in ctx.notes)
    return Html(
        f'<header class="mpkit-header"><h1>{esc(ctx.title)}</h1><table class="facts">{rows}</table>{notes}</header>'
    )


def verdict(ctx: ReportContext) -> Html:
    """The cause, the confidence (as a number and in words), the failed stage, the summary."""
    d = _need(ctx)
    rc = d.root_cause
    pct = round(100 * rc.confidence)
    ev = "".join(
        f"<li><code>{esc(e.artifact)}</code> {esc(e.locator)}: <q>{esc(_clip(e.excerpt, 240))}</q></li>"
        for e in rc.evidence[:4]
    )
    cons = f"<p>Consequences (not causes): {esc(', '.join(rc.consequences))}</p>" if rc.consequences else ""
    cls = "unknown" if rc.id == "unknown" else ("strong" if rc.confidence >= 0.7 else "weak")
    return Html(
        f'<section id="verdict" class="verdict {cls}">'
        f'<p class="cause-label">Most likely cause</p><h2 class="cause">{esc(rc.title)} <span class="cause-id">({esc(rc.id)})</span></h2>'
        f'<p class="confidence"><strong>Confidence: {pct} % ({esc(d.confidence_words)})</strong> · failed stage: '
        f"<strong>{esc(d.failed_stage)}</strong> · instance: <strong>{esc(d.instance or 'unknown')}</strong></p>"
        f'<p class="summary">{esc(rc.summary)}</p>{cons}'
        + (
            f"<p>Evidence:</p><ul>{ev}</ul>"
            if ev
            else "<p>No single line of evidence supports this cause.</p>"
        )
        + "".join(f'<p class="note">{esc(n)}</p>' for n in d.notes)
        + "</section>"
    )


_STATE_ICON = {
    "fail": "✗ fail",
    "warn": "! warn",
    "pass": "✓ pass",
    "not-collected": "? not collected",
    "could-not-parse": "? unreadable",
    "not-applicable": "– n/a",
}


def checklist(ctx: ReportContext) -> Html:
    """The doctor-style checklist: every check with its state, summary and evidence."""
    d = _need(ctx)
    if not d.checks:
        return Html('<p class="empty">The diagnosis ran no check.</p>')
    from .diagnose.model import STATES

    order = {s: i for i, s in enumerate(STATES)}
    checks = sorted(d.checks, key=lambda c: (order.get(c.state, 99), c.id))
    head = "<thead><tr><th>state</th><th>check</th><th>finding</th><th>evidence</th></tr></thead>"

    def rows(cs: list[Any]) -> str:
        out = []
        for c in cs:
            ev = "<br>".join(f"<code>{esc(e.artifact)}</code> {esc(e.locator)}" for e in c.evidence[:3])
            out.append(
                f'<tr class="state-{esc(c.state)}"><td class="state">{esc(_STATE_ICON.get(c.state, c.state))}</td>'
                f"<td>{esc(c.title)}<br><small><code>{esc(c.id)}</code></small></td><td>{esc(c.summary)}</td><td>{ev}</td></tr>"
            )
        return "".join(out)

    quiet = {"pass", "not-applicable"}
    loud = [c for c in checks if c.state not in quiet]
    calm = [c for c in checks if c.state in quiet]
    counts = ", ".join(
        f"{sum(c.state == s for c in checks)} {s}" for s in STATES if any(c.state == s for c in checks)
    )
    out = f"<p>{len(checks)} checks: {esc(counts)}.</p>"
    if loud:
        out += f'<table class="checklist">{head}<tbody>{rows(loud)}</tbody></table>'
    if calm:
        out += (
            f"<details><summary>{len(calm)} check(s) passed or did not apply (show)</summary>"
            f'<table class="checklist">{head}<tbody>{rows(calm)}</tbody></table></details>'
        )
    return Html(out)


def remediation(ctx: ReportContext) -> Html:
    """The remediation ladder, least destructive first; destructive steps carry their warning."""
    d = _need(ctx)
    steps = d.root_cause.remediation
    if not steps:
        items = '<p class="empty">No remediation is known for this cause; collect what is listed below and ask upstream.</p>'
    else:
        li = []
        for s in steps:
            cmd = f"<pre><code>{esc(s.command)}</code></pre>" if s.command else ""
            warn = ""
            if s.destructive:
                warn = f'<p class="destructive"><strong>Destructive:</strong> {esc(s.warning or "this step destroys data; back up first")}</p>'
            li.append(f"<li><p>{esc(s.text)}</p>{cmd}{warn}</li>")
        items = f'<ol class="ladder">{"".join(li)}</ol>'
    refs = "".join(f"<li>{_link(r)}</li>" for r in d.root_cause.references)
    return Html(
        f'<section class="remediation">{items}'
        + (f"<p>Documentation:</p><ul>{refs}</ul>" if refs else "")
        + "</section>"
    )


def collect_next(ctx: ReportContext) -> Html:
    """What would settle the question: missing evidence, failed collection steps, loader notes."""
    d = _need(ctx)
    parts = []
    if d.missing_evidence:
        parts.append("<ul>" + "".join(f"<li>{esc(m)}</li>" for m in d.missing_evidence) + "</ul>")
    failed = ctx.bundle.failed_sources()
    if failed:
        parts.append(
            "<p>Collection steps that failed (they lower the confidence):</p><ul>"
            + "".join(
                f"<li><code>{esc(e.get('command') or e.get('path') or e.get('kind'))}</code>: "
                f"{esc(e.get('error') or ('timed out' if e.get('timed_out') else 'no output'))}</li>"
                for e in failed
            )
            + "</ul>"
        )
    if not parts:
        parts.append('<p class="empty">Nothing else is needed to support this verdict.</p>')
    return Html(f'<section class="collect-next">{"".join(parts)}</section>')


def attempts_table(ctx: ReportContext) -> Html:
    a = ctx.attempts
    if a.empty:
        return Html(_table(a, empty="no start attempt in the bundle (or in the window)"))
    cols = [
        "instance",
        "attempt",
        "started_at",
        "ended_at",
        "outcome",
        "stage_reached",
        "duration_s",
        "ip_wait_s",
        "daemon_version",
        "mac",
        "arp_lookups",
        "ip_failures",
        "client_error",
    ]
    t = a[[c for c in cols if c in a.columns]].copy()
    for c in ("started_at", "ended_at"):
        t[c] = [_fmt_time(v) for v in t[c]]
    t = t.rename(
        columns={
            "started_at": f"started ({ctx.tz})",
            "ended_at": f"ended ({ctx.tz})",
            "duration_s": "duration (s)",
            "ip_wait_s": "IP wait (s)",
        }
    )
    return Html(_table(t.round(1), max_rows=40))


def dhcp_table(ctx: ReportContext) -> Html:
    """The instance's MAC ↔ lease ↔ ARP ↔ IP join and its DHCP messages."""
    ent = ctx.bundle.entities
    mine = ent[ent["instance"] == ctx.instance] if ctx.instance and len(ent) else ent
    cols = [
        "instance",
        "mac",
        "mac_via",
        "lease_ip",
        "lease_count",
        "arp_ip",
        "arp_interface",
        "dhcp_acked_ip",
        "listed_ip",
        "guest_ip",
        "guest_ip_via",
        "ff_leases_nearby",
    ]
    out = "<h4>Who is who (MAC ↔ lease ↔ ARP ↔ IP)</h4>" + _table(
        mine[[c for c in cols if c in mine.columns]],
        empty="the instance's MAC could not be tied to any lease, ARP entry or IP",
    )
    msgs = ctx.dhcp_messages
    if ctx.mac and len(msgs):
        msgs = msgs[msgs["mac"].astype("object") == ctx.mac]
    if len(msgs):
        m = msgs.copy()
        m["time"] = [_fmt_time(v) for v in m["time"]]
        m["message"] = m["message"].map(lambda s: _clip(s, 160))
        out += f"<h4>DHCP messages for {esc(ctx.mac or 'any MAC')}</h4>" + _table(
            m.rename(columns={"time": f"time ({ctx.tz})"}), max_rows=40
        )
    else:
        out += f'<p class="empty">No DHCP message for {esc(ctx.mac or "the instance")} was captured (no bootpd log, dnsmasq journal or tcpdump).</p>'
    return Html(out)


def log_excerpt(ctx: ReportContext, *, context_lines: int = 8, max_rows: int = 60) -> Html:
    """The error and warning lines of the failed attempt, and the last lines before it ended."""
    dl = ctx.frame("daemon_log")
    if dl.empty:
        return Html('<p class="empty">No daemon log in the bundle (or in the window).</p>')
    att = (ctx.diagnosis.attempt if ctx.diagnosis is not None else {}) or {}
    sel = dl
    if att.get("file") and att.get("first_line") is not None and not pd.isna(att.get("first_line")):
        lo, hi = int(att["first_line"]), int(att.get("last_line") or att["first_line"])
        sel = dl[(dl["file"] == att["file"]) & (dl["line"] >= lo) & (dl["line"] <= hi)]
        where = f"attempt {att.get('attempt')} of {att.get('instance')}, {att['file']} lines {lo}–{hi}"
    else:
        where = "the whole daemon log"
    lv = sel["level"].astype("object")
    bad = sel[lv.isin(["error", "warning"])]
    tail = sel.tail(context_lines)
    pick = pd.concat([bad, tail]).drop_duplicates(subset=["file", "line"]).sort_values(["file", "line"])
    if pick.empty:
        return Html(f'<p class="empty">No line in {esc(where)}.</p>')
    t = pd.DataFrame(
        {
            f"time ({ctx.tz})": [_fmt_time(v) for v in pick["time"]],
            "level": pick["level"].astype("object"),
            "category": pick["category"].astype("object").fillna(pick["program"].astype("object")),
            "message": pick["message"].astype("str").map(lambda s: _clip(s, 300)),
            "where": pick["file"].astype("str") + ":" + pick["line"].astype("str"),
        }
    )
    return Html(
        f"<p>{len(bad)} error/warning line(s) and the last {len(tail)} line(s) of {esc(where)}:</p>"
        + _table(t, max_rows=max_rows)
    )


def host_versions(ctx: ReportContext) -> Html:
    h = ctx.bundle.host
    rows = [
        ("platform", h.platform),
        ("OS", h.os_name),
        ("OS version", h.os_version),
        ("architecture", h.arch),
        ("Multipass version", h.multipass_version),
        ("driver", h.driver),
        ("time zone", h.timezone),
        ("UTC offset", h.utc_offset),
    ]
    body = "".join(
        f"<tr><th>{esc(k)}</th><td>{esc(v) or '<em>unknown</em>'}</td><td><small>{esc(h.sources.get(k.split()[0].lower().replace('multipass', 'multipass_version'), ''))}</small></td></tr>"
        for k, v in rows
    )
    return Html(
        f'<table class="facts"><thead><tr><th>fact</th><th>value</th><th>from</th></tr></thead><tbody>{body}</tbody></table>'
    )


def interfaces_table(ctx: ReportContext) -> Html:
    f = ctx.bundle.frame("interfaces")
    if f.empty:
        return Html('<p class="empty">No interface listing (ifconfig.txt / ip-addr.json) in the bundle.</p>')
    f = f.sort_values(["is_bridge", "up"], ascending=False, na_position="last")
    cols = ["name", "is_bridge", "up", "status", "inet_all", "mac", "members", "mtu", "file"]
    return Html(_table(f[[c for c in cols if c in f.columns]], max_rows=30))


def routes_table(ctx: ReportContext) -> Html:
    f = ctx.bundle.frame("routes")
    if f.empty:
        return Html('<p class="empty">No routing table (routes.txt) in the bundle.</p>')
    tun = f["via_tunnel"].astype("boolean").fillna(False)
    dflt = f["is_default"].astype("boolean").fillna(False)
    f = f.assign(_k=(~dflt).astype(int) * 2 + (~tun).astype(int)).sort_values(["_k", "line"])
    cols = ["family", "destination", "gateway", "interface", "is_default", "via_tunnel", "flags", "metric"]
    n_tun = int(tun.sum())
    note = (
        f"<p><strong>{n_tun} route(s) go through a tunnel (VPN).</strong></p>"
        if n_tun
        else "<p>No route goes through a tunnel (VPN).</p>"
    )
    return Html(note + _table(f[[c for c in cols if c in f.columns]], max_rows=30))


def firewall_table(ctx: ReportContext) -> Html:
    out = []
    fw = ctx.bundle.frame("firewall")
    if len(fw):
        out.append(
            "<h4>macOS application firewall</h4>"
            + _table(
                fw[[c for c in ("setting", "enabled", "value", "app", "allowed") if c in fw.columns]],
                max_rows=30,
            )
        )
    pf = ctx.bundle.frame("pf_rules")
    if len(pf):
        pf = pf.sort_values("drops_dhcp", ascending=False)
        out.append(
            "<h4>pf rules</h4>"
            + _table(
                pf[
                    [
                        c
                        for c in (
                            "number",
                            "action",
                            "direction",
                            "interface",
                            "proto",
                            "dst_port",
                            "drops_dhcp",
                            "rule",
                        )
                        if c in pf.columns
                    ]
                ],
                max_rows=30,
            )
        )
    hf = ctx.bundle.frame("host_firewall")
    if len(hf):
        hf = hf.sort_values("drops_dhcp", ascending=False)
        out.append(
            "<h4>Linux host firewall</h4>"
            + _table(
                hf[
                    [
                        c
                        for c in (
                            "tool",
                            "active",
                            "zone",
                            "table",
                            "chain",
                            "policy",
                            "action",
                            "proto",
                            "dport",
                            "interface",
                            "drops_dhcp",
                            "rule",
                        )
                        if c in hf.columns
                    ]
                ],
                max_rows=30,
            )
        )
    if not out:
        return Html(
            '<p class="empty">No firewall state (firewall.txt, pf-rules.txt, host-firewall.txt) in the bundle.</p>'
        )
    return Html("".join(out))


def evidence_table(ctx: ReportContext) -> Html:
    """Every claim with its evidence: file, line and excerpt, so it can be checked in seconds."""
    d = _need(ctx)
    rows = [("root cause: " + d.root_cause.id, e) for e in d.root_cause.evidence]
    for c in d.checks:
        rows += [(f"check {c.id} ({c.state})", e) for e in c.evidence]
    if not rows:
        return Html('<p class="empty">No evidence line was cited.</p>')
    t = pd.DataFrame(
        [
            {"claim": k, "artifact": e.artifact, "locator": e.locator, "excerpt": _clip(e.excerpt, 300)}
            for k, e in rows
        ]
    )
    return Html(_table(t.drop_duplicates(), max_rows=80))


def data_coverage(ctx: ReportContext) -> Html:
    """What was collected, what failed, what is missing, parse coverage per file, what was not recognised."""
    b = ctx.bundle
    out = []
    cov = b.coverage
    cols = [
        "file",
        "kind",
        "recognised_by",
        "bytes",
        "lines",
        "parsed",
        "ignored",
        "rejected",
        "decode_errors",
        "truncated",
        "reject_sample",
    ]
    out.append(
        "<h4>Collected and parsed</h4>"
        + _table(cov[[c for c in cols if c in cov.columns]], max_rows=100, empty="no artifact recognised")
    )
    failed = b.failed_sources()
    if failed:
        t = pd.DataFrame(
            [
                {
                    "source": e.get("command") or e.get("path"),
                    "kind": e.get("kind"),
                    "error": e.get("error"),
                    "timed out": e.get("timed_out"),
                    "exit code": e.get("exit_code"),
                }
                for e in failed
            ]
        )
        out.append("<h4>Tried and failed</h4>" + _table(t))
    else:
        out.append(
            '<h4>Tried and failed</h4><p class="empty">'
            + (
                "No collection step failed."
                if b.manifest
                else "No manifest.json: this bundle was made by hand, so what was tried is unknown."
            )
            + "</p>"
        )
    trunc = b.truncated_sources()
    if trunc:
        out.append(
            "<p><strong>Truncated:</strong> "
            + esc(", ".join(str(e.get("file") or e.get("kind")) for e in trunc))
            + "</p>"
        )
    missing = _missing_artifacts(b)
    out.append(
        "<h4>Not in the bundle</h4>"
        + (
            "<p>" + esc(", ".join(missing)) + "</p>"
            if missing
            else '<p class="empty">Every artifact for this platform is present.</p>'
        )
    )
    if b.unrecognised:
        t = pd.DataFrame([{"file": u.path, "bytes": u.bytes, "reason": u.reason} for u in b.unrecognised])
        out.append("<h4>Not recognised</h4>" + _table(t))
    notes = list(b.notes) + list(b.manifest_errors)
    if notes:
        out.append("<h4>Loader notes</h4><ul>" + "".join(f"<li>{esc(n)}</li>" for n in notes) + "</ul>")
    return Html("".join(out))


def _missing_artifacts(b: Bundle) -> list[str]:
    from .parsers import MODULES, module

    platform = b.host.platform
    have = b.kinds()
    frames_have = {module(k).FRAME for k in have}
    out = []
    for kind in MODULES:
        m = module(kind)
        plats = getattr(m, "PLATFORMS", ())
        if platform and platform not in plats:
            continue
        if kind in have or (m.FRAME in frames_have and m.FRAME not in ("host_facts",)):
            continue
        out.append(m.FILENAMES[0])
    return out


def _need(ctx: ReportContext) -> Diagnosis:
    if ctx.diagnosis is None:
        raise ReportError("no diagnosis yet: call report.focus(ctx, diagnose(...)) first")
    return ctx.diagnosis


def _clip(s: Any, n: int) -> str:
    s = "" if s is None else str(s)
    return s if len(s) <= n else s[: n - 1] + "…"


# ------------------------------------------------------------------------------------------------
# kernel, execution, export
# ------------------------------------------------------------------------------------------------


def notebook_path(name: str = "diagnose") -> Path:
    """The packaged notebook ``name`` (``diagnose`` or ``explore``)."""
    p = PACKAGE_DIR / "notebooks" / f"{name}.ipynb"
    if not p.is_file():
        raise ReportError(f"notebook {p} is missing from this installation; reinstall mpkit")
    return p


def _spec_matches(spec: Any) -> bool:
    argv = list(getattr(spec, "argv", []) or [])
    if not argv:
        return False
    exe = argv[0]
    if os.path.isabs(exe):
        return os.path.abspath(exe) == os.path.abspath(sys.executable)
    return Path(getattr(spec, "resource_dir", "")).resolve().is_relative_to(
        Path(sys.prefix).resolve()
    ) and exe.startswith("python")


def ensure_kernel(preferred: str = KERNEL_NAME) -> str:
    """A kernel name that runs *this* Python: ``mpkit`` when registered for it, else one registered now.

    The new kernel spec goes into ``sys.prefix`` (where Jupyter looks by default) or, when that is
    not writable, into a private directory added to ``JUPYTER_PATH`` for this process and its children.
    """
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    ksm = KernelSpecManager()
    tag = hashlib.sha1(os.path.abspath(sys.executable).encode()).hexdigest()[:8]
    for name in (preferred, f"mpkit-{tag}"):
        try:
            if _spec_matches(ksm.get_kernel_spec(name)):
                return name
        except NoSuchKernel:
            continue
    name = f"mpkit-{tag}"
    from ipykernel.kernelspec import install, write_kernel_spec

    try:
        install(kernel_name=name, display_name=f"Python (mpkit, {sys.executable})", prefix=sys.prefix)
        log.info("registered kernel %s for %s in %s", name, sys.executable, sys.prefix)
    except OSError as exc:
        base = Path(tempfile.gettempdir()) / f"mpkit-jupyter-{os.getuid() if hasattr(os, 'getuid') else 'u'}"
        kdir = base / "kernels" / name
        if kdir.exists():
            shutil.rmtree(kdir)
        write_kernel_spec(str(kdir), overrides={"display_name": f"Python (mpkit, {sys.executable})"})
        os.environ["JUPYTER_PATH"] = os.pathsep.join(
            x for x in (str(base), os.environ.get("JUPYTER_PATH", "")) if x
        )
        log.info("registered kernel %s in %s (%s not writable: %s)", name, base, sys.prefix, exc)
    return name


def _is_kernel_start_failure(exc: BaseException) -> bool:
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError | ReportError):
        return False
    text = f"{type(exc).__name__}: {exc}".lower()
    return isinstance(exc, RuntimeError | TimeoutError | OSError) or any(
        w in text
        for w in (
            "kernel died",
            "kernel didn't respond",
            "deadkernel",
            "kernel_info",
            "zmq",
            "address already in use",
        )
    )


def kernel_manager_kwargs() -> dict[str, Any]:
    """On POSIX, talk to the kernel over IPC sockets: no TCP port, and no "running over TCP
    without encryption" warning on every report."""
    if os.name != "posix":
        return {}
    from jupyter_client.manager import AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.transport = "ipc"

    return {"kernel_manager_class": IPCKernelManager}


def _execute(
    input_nb: Path,
    output_nb: Path,
    params: dict[str, Any],
    *,
    kernel: str,
    quiet: bool,
    timeout: int,
    cwd: Path,
    tries: int = KERNEL_START_TRIES,
) -> BaseException | None:
    """Run the notebook with papermill; retry kernel start failures. Returns the cell error, if any."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    for n in range(1, tries + 1):
        try:
            pm.execute_notebook(
                str(input_nb),
                str(output_nb),
                parameters=params,
                kernel_name=kernel,
                progress_bar=not quiet,
                log_output=False,
                request_save_on_cell_execute=False,
                execution_timeout=timeout,
                cwd=str(cwd),
                start_timeout=120,
                **kernel_manager_kwargs(),
            )
            return None
        except PapermillExecutionError as exc:
            return exc
        except Exception as exc:
            if n < tries and _is_kernel_start_failure(exc) and not _ran_any_cell(output_nb):
                log.warning(
                    "kernel start failed (%s: %s); retrying (%d/%d)", type(exc).__name__, exc, n + 1, tries
                )
                time.sleep(0.5 * n)
                continue
            return exc
    return None  # pragma: no cover


def _ran_any_cell(nb_path: Path) -> bool:
    import nbformat

    if not nb_path.exists():
        return False
    try:
        nb = nbformat.read(str(nb_path), as_version=4)
    except (OSError, ValueError):
        return False
    return any(c.get("cell_type") == "code" and c.get("execution_count") for c in nb.cells)


_CSS = """
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#fff;--bad:#b3261e;--warn:#9a5b00;--ok:#1a7f37}
body{font:15px/1.5 -apple-system,"Segoe UI",Roboto,"DejaVu Sans",Arial,sans-serif;color:var(--fg);background:var(--bg);margin:0}
main{max-width:1100px;margin:0 auto;padding:1.5em 2em 4em}
h1{font-size:1.7em;margin:.2em 0 .5em}h2{font-size:1.35em;border-bottom:1px solid var(--line);padding-bottom:.2em;margin-top:1.8em}
h3{font-size:1.1em}h4{margin:1.2em 0 .4em}
table{border-collapse:collapse;margin:.5em 0 1em;font-size:13px;max-width:100%;display:block;overflow-x:auto}
th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top;word-break:break-word}
thead th{background:#f6f8fa}table.facts th{background:#f6f8fa;white-space:nowrap}
code,pre{font:12.5px/1.4 "DejaVu Sans Mono",Menlo,Consolas,monospace}pre{background:#f6f8fa;padding:.5em .8em;overflow-x:auto;white-space:pre-wrap}
img{max-width:100%;height:auto;display:block;margin:.5em 0 1em}
.verdict{border:2px solid #1565c0;border-radius:8px;padding:.8em 1.2em;margin:1em 0;background:#f3f8fe}
.verdict.unknown{border-color:#757575;background:#f7f7f7}.verdict h2{border:0;margin:.1em 0 .3em}
.cause-label{margin:0;color:var(--muted);text-transform:uppercase;font-size:12px;letter-spacing:.05em}.cause-id{color:var(--muted);font-weight:normal;font-size:.8em}
.state-fail td.state{color:var(--bad);font-weight:bold}.state-warn td.state{color:var(--warn);font-weight:bold}.state-pass td.state{color:var(--ok)}
td.state{white-space:nowrap}.destructive{color:var(--bad)}.empty,.more,.note{color:var(--muted);font-style:italic}
.mpkit-error-banner{border:3px solid var(--bad);background:#fdecea;color:#5f1410;padding:1em 1.2em;border-radius:8px;margin:1em 0}
.mpkit-error-banner h2{border:0;margin:0 0 .3em;color:var(--bad)}
.output_error pre,.jp-RenderedText[data-mime-type="application/vnd.jupyter.stderr"] pre{background:#fdecea}
.ansi-red-fg{color:#b3261e}.ansi-green-fg{color:#1a7f37}.ansi-yellow-fg{color:#9a5b00}.ansi-blue-fg{color:#0b57d0}.ansi-cyan-fg{color:#00838f}
.ansi-bold{font-weight:bold}
details{margin:.5em 0 1em}summary{cursor:pointer;color:#0b57d0}
footer{color:var(--muted);font-size:12px;margin-top:3em;border-top:1px solid var(--line);padding-top:.5em}
"""


def page(title: str, body: str, *, banner: str = "") -> str:
    """A complete, self-contained HTML document: no script, a CSP that forbids scripts and fetches."""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{HTML_CSP}">'
        '<meta name="referrer" content="no-referrer"><meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{_CSS}</style></head>\n<body><main>{banner}{body}"
        "<footer>Made by mpkit from a diagnostic bundle. This file has no scripts and loads nothing from the network.</footer>"
        "</main></body></html>\n"
    )


def _error_banner(error: BaseException | None) -> str:
    if error is None:
        return ""
    ename = getattr(error, "ename", type(error).__name__)
    evalue = getattr(error, "evalue", str(error))
    return (
        '<div class="mpkit-error-banner" role="alert" id="mpkit-error"><h2>This report is incomplete</h2>'
        f"<p>A step of the report failed: <strong>{esc(ename)}</strong>: {esc(_clip(evalue, 600))}</p>"
        "<p>Everything up to the failure is shown below; the error and its traceback are shown where it happened. "
        "Sections after it are missing.</p></div>"
    )


_SCRIPT_TAG = re.compile(r"<script\b[^>]*>.*?</script\s*>|<script\b[^>]*/?>", re.I | re.S)


def export_html(nb: Any, *, title: str, error: BaseException | None = None) -> str:
    """Export an executed notebook to one self-contained HTML page (no code, no prompts, no scripts)."""
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    nb = _strip_papermill_banner(nb)
    exporter = HTMLExporter(
        template_name="basic",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
        mathjax_url="",
        require_js_url="",
        exclude_anchor_links=True,
    )
    exporter.register_preprocessor(
        TagRemovePreprocessor(remove_cell_tags={NOTEBOOK_ONLY_TAG}, enabled=True), enabled=True
    )
    body, _ = exporter.from_notebook_node(nb)
    body = _SCRIPT_TAG.sub("", body)  # belt and braces: the page needs no script, the CSP forbids them anyway
    return page(title, body, banner=_error_banner(error))


def _strip_papermill_banner(nb: Any) -> Any:
    import copy

    nb = copy.deepcopy(nb)
    nb.cells = [
        c for c in nb.cells if "papermill-error-cell-tag" not in (c.get("metadata", {}).get("tags") or [])
    ]
    for c in nb.cells:
        c.get("metadata", {}).pop("papermill", None)
        if c.get("outputs"):
            c["outputs"] = [o for o in c["outputs"] if DIAGNOSIS_MIME not in (o.get("data") or {})]
    return nb


def diagnosis_from_notebook(nb: Any) -> dict[str, Any] | None:
    """The payload the notebook emitted with :func:`emit` (diagnosis, host, bundle), or None."""
    for c in nb.cells:
        for o in c.get("outputs", []) or []:
            data = o.get("data") or {}
            if DIAGNOSIS_MIME in data:
                v = data[DIAGNOSIS_MIME]
                return json.loads(v) if isinstance(v, str) else dict(v)
    return None


@dataclass
class _Run:
    html: Path
    notebook: Any
    error: BaseException | None
    payload: dict[str, Any] | None


def _run_report(
    params: dict[str, Any],
    output: Path,
    *,
    keep_notebook: bool,
    quiet: bool,
    timeout: int,
    kernel: str | None = None,
) -> _Run:
    import nbformat

    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    kernel = kernel or ensure_kernel()
    nb_in = notebook_path("diagnose")
    with tempfile.TemporaryDirectory(prefix="mpkit-report-") as tmpd:
        tmp = Path(tmpd)
        if params.get("redact"):
            # hide the real path (it may hold a user name) from the parameters kept in the notebook
            src = Path(params["bundle"])
            link = tmp / ("bundle" + "".join(src.suffixes[-2:]) if src.is_file() else "bundle")
            link.symlink_to(src)
            params = {**params, "bundle": str(link)}
        out_nb = tmp / "report.ipynb"
        error = _execute(nb_in, out_nb, params, kernel=kernel, quiet=quiet, timeout=timeout, cwd=tmp)
        nb = (
            nbformat.read(str(out_nb), as_version=4)
            if out_nb.exists()
            else nbformat.read(str(nb_in), as_version=4)
        )
        payload = diagnosis_from_notebook(nb)
        title = (payload or {}).get("bundle") or Path(params["bundle"]).name
        heading = params.get("title") if not params.get("redact") else None
        html_text = export_html(nb, title=heading or f"mpkit report: {title}", error=error)
        output.write_text(html_text, encoding="utf-8")
        if keep_notebook:
            nbformat.write(nb, str(output.with_suffix(".ipynb")))
    return _Run(output, nb, error, payload)


def report(
    bundle_path: str | os.PathLike[str] | None,
    output: str | os.PathLike[str] = "report.html",
    *,
    instance: str | None = None,
    attempt: int | None = None,
    since: str | None = None,
    until: str | None = None,
    redact: bool = False,
    title: str | None = None,
    keep_notebook: bool = False,
    quiet: bool = False,
    timeout: int = 600,
) -> Path:
    """Execute the diagnosis notebook on ``bundle_path`` and write one self-contained HTML file.

    Parameters are validated before any kernel starts. On a failing cell the partial HTML (with an
    error banner) is still written, then :class:`ReportError` is raised. ``keep_notebook`` also keeps
    the executed notebook beside the HTML (same name, ``.ipynb``). Returns the HTML path.
    """
    params = validate_parameters(
        {
            "bundle": bundle_path,
            "instance": instance,
            "attempt": attempt,
            "since": since,
            "until": until,
            "redact": redact,
            "title": title,
        }
    )
    if params["redact"]:
        _redactor_class()
    if not isinstance(timeout, int) or timeout <= 0:
        raise ReportError(f"timeout must be a positive number of seconds, not {timeout!r}")
    run = _run_report(params, Path(output), keep_notebook=keep_notebook, quiet=quiet, timeout=timeout)
    if run.error is not None:
        ename = getattr(run.error, "ename", type(run.error).__name__)
        evalue = getattr(run.error, "evalue", str(run.error))
        raise ReportError(
            f"the report notebook failed ({ename}: {_clip(evalue, 300)}); the partial report is in {run.html}"
        )
    return run.html


# ------------------------------------------------------------------------------------------------
# batch and fleet
# ------------------------------------------------------------------------------------------------

#: how a bundle whose diagnosis found no failure reads in the fleet table and charts
NO_FAILURE = "No failure found"

FLEET_COLUMNS = [
    "bundle",
    "source",
    "ok",
    "cause",
    "confidence",
    "failed_stage",
    "instance",
    "platform",
    "os",
    "multipass_version",
    "report",
    "error",
    "seconds",
]


def _slugs(inputs: Sequence[Path]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for p in inputs:
        base = (
            re.sub(
                r"[^A-Za-z0-9._-]+", "_", p.name.split(".tar")[0].removesuffix(".tgz").removesuffix(".zip")
            ).strip("._")
            or "bundle"
        )
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.append(base if n == 0 else f"{base}-{n + 1}")
    return out


def _parquet_safe(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    for col in df.columns:
        s = df[col]
        if s.dtype == "object":
            vals = s.dropna()
            if len(vals) and all(isinstance(v, pd.Timestamp) for v in vals):
                df[col] = (
                    plots.plain_times(s)
                    if any(v.tzinfo is None for v in vals)
                    else pd.to_datetime(s, utc=True)
                )
            else:
                df[col] = s.map(
                    lambda v: None if v is None or (isinstance(v, float) and pd.isna(v)) else str(v)
                ).astype("object")
    df.attrs = {}
    return df


def _export_data(
    bundle_path: str, slug: str, outdir: Path, *, json_: bool, parquet: bool, payload: dict[str, Any] | None
) -> dict[str, Any]:
    from .bundle import load_bundle

    extra: dict[str, Any] = {}
    need_diag = json_ and payload is None
    if not (parquet or need_diag):
        return extra
    with load_bundle(bundle_path) as b:
        if need_diag:
            from .diagnose import diagnose

            d = diagnose(b)
            h = b.host
            payload = {
                "bundle": Path(bundle_path).name,
                "diagnosis": d.to_dict(),
                "host": {
                    "platform": h.platform,
                    "os_name": h.os_name,
                    "os_version": h.os_version,
                    "multipass_version": h.multipass_version,
                    "driver": h.driver,
                },
            }
            extra["payload"] = payload
        if parquet:
            pdir = outdir / "parquet" / slug
            pdir.mkdir(parents=True, exist_ok=True)
            frames = dict(b.frames)
            frames.update(
                {
                    "timeline": b.timeline,
                    "attempts": b.attempts,
                    "entities": b.entities,
                    "coverage": b.coverage,
                }
            )
            for name, f in frames.items():
                _parquet_safe(f).to_parquet(pdir / f"{name}.parquet", index=False)
    return extra


def batch_task(
    bundle_path: str,
    outdir: str,
    slug: str,
    kernel: str,
    json_: bool = True,
    parquet: bool = True,
    timeout: int = 600,
) -> dict[str, Any]:
    """Report on one bundle (HTML + optional JSON and parquet); never raises: errors go in the record."""
    t0 = time.monotonic()
    out = Path(outdir)
    rec: dict[str, Any] = {c: None for c in FLEET_COLUMNS}
    rec.update({"bundle": slug, "source": bundle_path, "ok": False, "report": f"reports/{slug}.html"})
    payload: dict[str, Any] | None = None
    try:
        params = validate_parameters({"bundle": bundle_path})
        run = _run_report(
            params,
            out / "reports" / f"{slug}.html",
            keep_notebook=False,
            quiet=True,
            timeout=timeout,
            kernel=kernel,
        )
        payload = run.payload
        if run.error is not None:
            rec["error"] = (
                f"{getattr(run.error, 'ename', type(run.error).__name__)}: {_clip(getattr(run.error, 'evalue', str(run.error)), 300)}"
            )
        else:
            rec["ok"] = True
    except (MpkitError, OSError, ValueError, RuntimeError) as exc:
        rec["error"] = f"{type(exc).__name__}: {_clip(str(exc), 300)}"
        if not (out / "reports" / f"{slug}.html").exists():
            rec["report"] = None
    try:
        extra = _export_data(bundle_path, slug, out, json_=json_, parquet=parquet, payload=payload)
        payload = payload or extra.get("payload")
    except Exception as exc:  # a bundle that cannot even be loaded: keep going, record why
        rec["error"] = rec["error"] or f"{type(exc).__name__}: {_clip(str(exc), 300)}"
        rec["ok"] = False
    if payload:
        d, h = payload.get("diagnosis", {}), payload.get("host", {})
        rc = d.get("root_cause", {})
        healthy = str(rc.get("title") or "").startswith(NO_FAILURE)
        rec.update(
            {
                "cause": NO_FAILURE.lower() if healthy else rc.get("id"),
                "confidence": None if healthy else rc.get("confidence"),
                "failed_stage": d.get("failed_stage"),
                "instance": d.get("instance"),
                "platform": h.get("platform"),
                "os": " ".join(
                    x for x in (h.get("os_name") or h.get("platform") or "", h.get("os_version") or "") if x
                )
                or None,
                "multipass_version": h.get("multipass_version"),
            }
        )
        if json_:
            jdir = out / "json"
            jdir.mkdir(parents=True, exist_ok=True)
            (jdir / f"{slug}.json").write_text(json.dumps(d, indent=1), encoding="utf-8")
    rec["seconds"] = round(time.monotonic() - t0, 2)
    return rec


def _progress(total: int, quiet: bool) -> Any:
    from tqdm import tqdm

    return tqdm(
        total=total, unit="bundle", desc="mpkit batch", disable=quiet, file=sys.stderr, leave=not quiet
    )


def batch(
    inputs: Iterable[str | os.PathLike[str]],
    outdir: str | os.PathLike[str],
    *,
    workers: int = 1,
    scheduler: str | Any | None = None,
    json: bool = True,
    parquet: bool = True,
    quiet: bool = False,
    timeout: int = 600,
) -> Path:
    """One report per bundle plus ``index.html`` (the fleet summary); returns the index path.

    A failing bundle never stops the others (its row says why); kernel start failures are retried.
    ``workers`` > 1 runs bundles in parallel processes; ``scheduler`` (a ``dask.distributed``
    address or ``Client``) runs the same tasks on a Dask cluster whose workers see ``outdir``.
    With ``json``/``parquet`` the diagnoses (``json/<bundle>.json``) and every frame
    (``parquet/<bundle>/<frame>.parquet``) are written too; ``fleet.csv`` / ``fleet.parquet``
    hold the summary table.
    """
    paths = [Path(p) for p in inputs]
    if not paths:
        raise ReportError("no input bundle given")
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise ReportError(f"input(s) not found: {', '.join(missing)}")
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ReportError(f"workers must be a positive integer, not {workers!r}")
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "reports").mkdir(exist_ok=True)
    kernel = ensure_kernel()
    slugs = _slugs(paths)
    jobs = [
        (str(p.resolve()), str(out.resolve()), s, kernel, json, parquet, timeout)
        for p, s in zip(paths, slugs, strict=True)
    ]
    records: list[dict[str, Any]] = []
    bar = _progress(len(jobs), quiet)
    try:
        if scheduler is not None:
            records = _run_dask(jobs, scheduler, bar)
        elif workers == 1:
            for job in jobs:
                records.append(batch_task(*job))
                bar.update(1)
        else:
            records = _run_pool(jobs, workers, bar)
    finally:
        bar.close()
    order = {s: i for i, s in enumerate(slugs)}
    records.sort(key=lambda r: order.get(r["bundle"], 0))
    summary = pd.DataFrame(records, columns=FLEET_COLUMNS)
    summary.to_csv(out / "fleet.csv", index=False)
    if parquet:
        summary.to_parquet(out / "fleet.parquet", index=False)
    index = out / "index.html"
    index.write_text(fleet_index(summary), encoding="utf-8")
    failed = summary[~summary["ok"].astype(bool)]
    if len(failed):
        log.warning("%d of %d bundle(s) failed: %s", len(failed), len(summary), ", ".join(failed["bundle"]))
    return index


def _run_pool(jobs: list[tuple[Any, ...]], workers: int, bar: Any) -> list[dict[str, Any]]:
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    records = []
    with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as pool:
        futs = {pool.submit(batch_task, *job): job for job in jobs}
        for fut in as_completed(futs):
            job = futs[fut]
            try:
                records.append(fut.result())
            except Exception as exc:  # the worker process itself died
                records.append(_crashed(job, exc))
            bar.update(1)
    return records


def _run_dask(jobs: list[tuple[Any, ...]], scheduler: str | Any, bar: Any) -> list[dict[str, Any]]:
    try:
        from distributed import Client, as_completed
    except ImportError as exc:
        raise ReportError("--scheduler needs dask.distributed: pip install 'dask[distributed]'") from exc
    own = not isinstance(scheduler, Client)
    client: Any = Client(scheduler, set_as_default=False) if own else scheduler
    records = []
    try:
        futs = [
            client.submit(
                batch_task, *job, pure=False, key=f"mpkit-report-{job[2]}-{os.getpid()}-{i}", retries=1
            )
            for i, job in enumerate(jobs)
        ]
        index = {f.key: job for f, job in zip(futs, jobs, strict=True)}
        for fut in as_completed(futs, loop=client.loop):
            try:
                records.append(fut.result())
            except Exception as exc:
                records.append(_crashed(index[fut.key], exc))
            bar.update(1)
    finally:
        if own:
            client.close()
    return records


def _crashed(job: tuple[Any, ...], exc: BaseException) -> dict[str, Any]:
    rec: dict[str, Any] = {c: None for c in FLEET_COLUMNS}
    rec.update(
        {
            "bundle": job[2],
            "source": job[0],
            "ok": False,
            "error": f"worker crashed: {type(exc).__name__}: {_clip(str(exc), 300)}",
        }
    )
    return rec


def _figure_img(fig: Any, alt: str) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return f'<img class="mpkit-chart" alt="{esc(alt)}" src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">'


def fleet_index(summary: pd.DataFrame) -> str:
    """The fleet summary page: a table of bundles with links to their reports, and the cause chart."""
    rows = []
    for r in summary.to_dict("records"):
        link = f'<a href="{esc(r["report"])}">{esc(r["bundle"])}</a>' if r.get("report") else esc(r["bundle"])
        conf = (
            ""
            if r.get("confidence") is None or pd.isna(r.get("confidence"))
            else f"{100 * float(r['confidence']):.0f} %"
        )
        status = "ok" if r.get("ok") else f"failed: {r.get('error') or ''}"
        rows.append(
            f'<tr class="{"ok" if r.get("ok") else "state-fail"}"><td>{link}</td><td>{esc(r.get("cause"))}</td><td>{esc(conf)}</td>'
            f"<td>{esc(r.get('failed_stage'))}</td><td>{esc(r.get('instance'))}</td><td>{esc(r.get('os'))}</td>"
            f"<td>{esc(r.get('multipass_version'))}</td><td>{esc(status)}</td></tr>"
        )
    n_ok = int(summary["ok"].astype(bool).sum()) if len(summary) else 0
    chart = _figure_img(plots.fleet_causes(summary), "root causes by count and by OS / Multipass version")
    body = (
        f"<h1>Fleet summary: {len(summary)} bundle(s)</h1>"
        f"<p>{n_ok} report(s) complete, {len(summary) - n_ok} failed. Data: <code>fleet.csv</code>"
        + (", <code>fleet.parquet</code>, <code>json/</code>, <code>parquet/</code>" if len(summary) else "")
        + ".</p>"
        f"<h2>Causes</h2>{chart}<h2>Bundles</h2>"
        '<table class="fleet"><thead><tr><th>bundle</th><th>cause</th><th>confidence</th><th>failed stage</th><th>instance</th>'
        f"<th>OS</th><th>Multipass</th><th>report</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )
    return page(f"mpkit fleet summary ({len(summary)} bundles)", body)
