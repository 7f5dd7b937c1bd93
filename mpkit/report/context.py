"""The in-kernel side of a report: load the bundle (redacted when asked), set the time window, focus
on the diagnosed instance, attempt and MAC.

Every view works from one :class:`ReportContext`: the notebook builds it with :func:`prepare` and
narrows it with :func:`focus` once the diagnosis is known.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import shutil
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .. import plots
from ..derived import adopt, derive
from ..errors import ReportError
from ..i18n import Message, _, set_language
from .params import validate_parameters

if TYPE_CHECKING:
    from ..bundle import Bundle
    from ..diagnose.model import Diagnosis

log = logging.getLogger(__name__)


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
    #: the language the report is written in (``<html lang>``, texts, chart labels)
    lang: str = "en"
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
            a = derive(self.bundle).attempts
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
        """The bundle's timeline restricted to the window."""
        if "timeline" not in self._cache:
            t = derive(self.bundle).timeline
            if self.since is not None or self.until is not None:
                t = t[self._in_window(t["time"])]
            self._cache["timeline"] = t
        return self._cache["timeline"]

    @property
    def dhcp_messages(self) -> pd.DataFrame:
        """DHCP messages of every source (daemon log, system log, tcpdump) in the window."""
        if "dhcp" not in self._cache:
            self._cache["dhcp"] = plots.dhcp_messages(
                self.frame("daemon_log"), self.frame("system_log"), self.frame("dhcp_packets")
            )
        return self._cache["dhcp"]

    @property
    def coverage(self) -> pd.DataFrame:
        """Parse coverage per file (the whole bundle)."""
        return self.bundle.coverage


def _plain_ts(ts: pd.Timestamp) -> pd.Timestamp:
    return ts.tz_convert("UTC").tz_localize(None) if ts.tzinfo is not None else ts


def redactor_class() -> Any:
    """The :class:`mpkit.collect.Redactor` class; :class:`ReportError` when this installation lacks it."""
    try:
        from ..collect import Redactor

        return Redactor
    except ImportError:
        pass
    try:
        from ..collect.redact import Redactor

        return Redactor
    except ImportError as exc:
        raise ReportError(
            Message("redaction not available: mpkit.collect.Redactor cannot be imported in this installation")
        ) from exc


def redacted_copy(src: str | Path, dest: Path) -> tuple[Path, Any]:
    """Copy bundle ``src`` (dir, archive or file) to ``dest`` with every private value pseudonymised.

    File contents, file names and the manifest go through one :class:`mpkit.collect.Redactor`, so a
    value has the same pseudonym everywhere. Returns the copy's path and the redactor.
    """
    from .. import archive as _archive

    Redactor = redactor_class()
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
    lang: str | None = None,
    prepared: str | os.PathLike[str] | None = None,
) -> ReportContext:
    """Validate the parameters, choose the language, load the bundle (redacted when asked) and set up
    the window.

    ``prepared``: the file where the process running the notebook writes this same context and its
    diagnosis (:func:`prepare_to_file`), made while the kernel started; it is read from there when
    it arrives, and made here when that process could not.
    """
    from ..bundle import load_bundle

    if prepared is not None:
        ready = _wait_for(Path(prepared))
        if ready is not None:
            return ready
    params = validate_parameters(
        {
            "bundle": bundle,
            "instance": instance,
            "attempt": attempt,
            "since": since,
            "until": until,
            "redact": redact,
            "title": title,
            "lang": lang,
        }
    )
    set_language(params["lang"])
    src = Path(params["bundle"])
    name = src.name
    notes: list[str] = []
    if plots.chart_language() != params["lang"]:
        notes.append(
            Message(
                "No font for this language was found (for Chinese: Debian's fonts-noto-cjk), so the charts keep their English labels."
            )
        )
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
            Message(
                "Redacted: host names, user names, serials, MACs and LAN IPs are pseudonyms (consistent across the report)."
            )
        )
    else:
        b = load_bundle(src)
        title_text = params["title"]
    known = set(derive(b).attempts["instance"].dropna()) | set(b.frame("instances")["name"].dropna())
    if params["instance"] is not None and params["instance"] not in known:
        raise ReportError(
            Message(
                "no instance {instance!r} in this bundle; known: {known}",
                instance=params["instance"],
                known=", ".join(sorted(map(str, known))) or Message("none"),
            )
        )
    if params["attempt"] is not None:
        att = derive(b).attempts
        if params["instance"] is not None:
            att = att[att["instance"] == params["instance"]]
        if not (att["attempt"] == params["attempt"]).any():
            raise ReportError(
                Message(
                    "no start attempt {attempt} in this bundle; attempts: {attempts}",
                    attempt=params["attempt"],
                    attempts=sorted(set(att["attempt"].dropna().astype(int))),
                )
            )
    tz = plots.clock_label(b.clock, b.clock_note)
    ctx = ReportContext(
        params=params,
        bundle=b,
        name=name,
        title=title_text or _("Why the Multipass instance did not start: {name}").format(name=name),
        tz=tz,
        clock_note=b.clock_note,
        instance=params["instance"],
        attempt=params["attempt"],
        redacted=bool(params["redact"]),
        notes=notes,
        lang=params["lang"],
    )
    ctx.since = _on_clock(params["since"], b.clock, notes, "since")
    ctx.until = _on_clock(params["until"], b.clock, notes, "until")
    return ctx


#: how long the kernel waits for the context its parent process prepares before making its own
PREPARED_WAIT_S = 600.0


def prepare_to_file(params: dict[str, Any], path: Path) -> None:
    """Make the report context and the diagnosis for validated ``params`` and pickle them to ``path``.

    Run by the process that starts the kernel, while the kernel starts; the notebook's
    :func:`prepare` then reads them instead of loading the bundle again.  When anything fails, a
    ``.failed`` file beside ``path`` says so and the kernel does the work itself (and shows the
    error where it happens, as it always did).
    """
    from ..diagnose import diagnose

    try:
        ctx = prepare(
            bundle=params.get("bundle"),
            instance=params.get("instance"),
            attempt=params.get("attempt"),
            since=params.get("since"),
            until=params.get("until"),
            redact=bool(params.get("redact")),
            title=params.get("title"),
            lang=params.get("lang"),
        )
        views = derive(ctx.bundle)
        diagnosis = diagnose(ctx.bundle, instance=ctx.instance, attempt=ctx.attempt)
        focused = focus(ctx, diagnosis)  # shares ctx's cache: the kernel's focus finds it filled
        ctx._cache["charts"] = {name: Drawn.of(draw(focused)) for name, draw in CHARTS.items()}
        b = ctx.bundle
        # the pickle holds what was read and derived, not the archive's temporary folder (the
        # parent removes it) nor the frames before they were put on the bundle's clock
        held: dict[str, Any] = {k: b.__dict__.pop(k) for k in ("_unpacked", "_raw_frames") if k in b.__dict__}
        b.__dict__["_unpacked"] = None
        try:
            part = path.with_suffix(".part")
            with open(part, "wb") as fh:
                pickle.dump((ctx, views, diagnosis), fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(part, path)
        finally:
            b.__dict__.update(held)
            b.close()
    except Exception as exc:  # the kernel makes it instead, and shows what went wrong
        log.debug("report context not prepared beside the kernel: %s: %s", type(exc).__name__, exc)
        path.with_suffix(".failed").touch()


def _wait_for(path: Path) -> ReportContext | None:
    """The context :func:`prepare_to_file` wrote to ``path`` (waiting for it), or None if it failed."""
    failed = path.with_suffix(".failed")
    deadline = time.monotonic() + PREPARED_WAIT_S
    while not path.exists():
        if failed.exists() or time.monotonic() > deadline:
            return None
        time.sleep(0.005)
    with open(path, "rb") as fh:
        ctx, views, diagnosis = pickle.load(fh)  # noqa: S301 - written by this report's own process
    set_language(ctx.lang)
    adopt(views)
    ctx._cache["diagnosis"] = diagnosis
    return ctx


class Drawn:
    """A chart already drawn: it shows in a notebook exactly as the figure it was drawn from."""

    def __init__(self, html: str, text: str) -> None:
        self.html, self.text = html, text

    @classmethod
    def of(cls, figure: Any) -> Drawn:
        """The drawing of ``figure`` (its HTML and its plain-text form)."""
        return cls(figure._repr_html_(), repr(figure))

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return self.text


#: the report's charts, by name, each drawn from the focused context
CHARTS: dict[str, Any] = {
    "candidates": lambda ctx: plots.candidates_chart(ctx.diagnosis),
    "attempts": lambda ctx: plots.attempts_gantt(ctx.attempts, tz=ctx.tz),
    "dhcp": lambda ctx: plots.dhcp_story(
        ctx.frame("leases"),
        ctx.frame("neighbours"),
        ctx.dhcp_messages,
        mac=ctx.mac,
        tz=ctx.tz,
        attempts=ctx.attempts,
    ),
    "log": lambda ctx: plots.log_activity(ctx.frame("daemon_log"), ctx.attempts, tz=ctx.tz),
    "coverage": lambda ctx: plots.coverage_chart(ctx.coverage),
}


def chart(ctx: ReportContext, name: str) -> Any:
    """Chart ``name`` of :data:`CHARTS` for the focused ``ctx``: drawn beside the kernel when the
    context was prepared there, else drawn now."""
    drawn = ctx._cache.get("charts", {}).get(name)
    return drawn if drawn is not None else CHARTS[name](ctx)


def diagnosis(ctx: ReportContext) -> Diagnosis:
    """The diagnosis the report explains: the one prepared with the context, else made now."""
    from ..diagnose import diagnose

    got = ctx._cache.get("diagnosis")
    if got is None:
        got = ctx._cache["diagnosis"] = diagnose(ctx.bundle, instance=ctx.instance, attempt=ctx.attempt)
    return got


def _on_clock(value: str | None, clock: str, notes: list[str], name: str) -> pd.Timestamp | None:
    if value is None:
        return None
    ts = pd.Timestamp(value)
    if clock == "utc":
        return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    if ts.tzinfo is not None:
        notes.append(
            Message(
                "{name}: the bundle's time zone is unknown, so the offset of {value} was ignored (times compared as host-local)",
                name=name,
                value=value,
            )
        )
        return ts.tz_localize(None)
    return ts


def focus(ctx: ReportContext, diagnosis: Diagnosis) -> ReportContext:
    """The context focused on the diagnosed instance and attempt (and its MAC)."""
    inst = diagnosis.instance or ctx.instance
    att = diagnosis.attempt.get("attempt") if diagnosis.attempt else ctx.attempt
    mac = diagnosis.attempt.get("mac") if diagnosis.attempt else None
    ent = derive(ctx.bundle).entities
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
