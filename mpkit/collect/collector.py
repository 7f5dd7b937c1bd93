"""``mpkit collect``: run every catalog source, record each in the manifest, never abort."""

from __future__ import annotations

import datetime as dt
import getpass
import logging
import os
import re
import shlex
import sys
import tarfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import CollectError
from ..i18n import Message
from . import catalog as cat
from .bundle import BundleWriter, prepare_out_dir, snapshot_folder_name
from .manifest import Manifest, iso, utc_now
from .redact import METHOD, Redactor, check_map_outside, default_map_path
from .runner import OK, LiveRunner, Runner, RunResult

log = logging.getLogger(__name__)

Progress = Callable[[str], None]

_SINCE = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw]?)", re.I)
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_since(text: str | float | int) -> float:
    """``"2h"``, ``"90m"``, ``"1h30m"``, ``"3600"`` → seconds."""
    if isinstance(text, (int, float)):
        return float(text)
    s = text.strip().replace(" ", "")
    pos, total = 0, 0.0
    while pos < len(s):
        m = _SINCE.match(s, pos)
        if not m or m.end() == pos:
            raise CollectError(
                Message("cannot read the time window {text!r}; use e.g. 30m, 2h or 1d", text=text)
            )
        total += float(m.group(1)) * _UNIT[m.group(2).lower()]
        pos = m.end()
    if total <= 0:
        raise CollectError(
            Message("the time window {text!r} must be positive; use e.g. 30m, 2h or 1d", text=text)
        )
    return total


def detect_platform() -> str:
    """``linux``, ``macos`` or ``windows``: the platform this process runs on."""
    if sys.platform.startswith("linux"):
        return "linux"
    if sys.platform == "darwin":
        return "macos"
    if sys.platform.startswith("win"):
        return "windows"
    raise CollectError(
        Message(
            "unsupported platform {platform!r}; pass platform='linux'|'macos'|'windows'",
            platform=sys.platform,
        )
    )


def _fmt_bytes(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000  # type: ignore[assignment]
    return f"{n} B"


@dataclass
class Context:
    """Everything a source needs to run."""

    platform: str
    runner: Runner
    targets: cat.Targets
    started: dt.datetime
    since_s: float
    max_log_bytes: int
    progress: Progress
    host: dict[str, Any]
    needs_sudo: dict[str, str] = field(default_factory=dict)

    @property
    def since_epoch(self) -> int:
        """Start of the log window, in seconds since the epoch."""
        return int(self.started.timestamp() - self.since_s)

    @property
    def since_minutes(self) -> int:
        """Length of the log window in whole minutes (at least one)."""
        return max(1, int(round(self.since_s / 60)))

    def expand(self, argv: Sequence[str]) -> tuple[str, ...]:
        """A catalog command with this session's targets and log window filled in."""
        return cat.expand(argv, self.targets, since_epoch=self.since_epoch, since_minutes=self.since_minutes)

    def local_cutoff(self) -> dt.datetime:
        """The start of the window in host-local naive time (daemon-log times have no zone)."""
        off = str(self.host.get("utc_offset") or "+00:00")
        m = re.match(r"([+-])(\d\d):?(\d\d)", off)
        delta = dt.timedelta(0)
        if m:
            delta = dt.timedelta(hours=int(m.group(2)), minutes=int(m.group(3)))
            if m.group(1) == "-":
                delta = -delta
        start = self.started.astimezone(dt.UTC).replace(tzinfo=None) + delta
        return start - dt.timedelta(seconds=self.since_s)


# --- post-processing of one output ---------------------------------------------------------------

_LOG_TS = re.compile(rb"^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)")


def cut_to_window(data: bytes, cutoff: dt.datetime) -> tuple[bytes, int]:
    """Drop the lines of a ``[ts] [level] [cat] msg`` log before ``cutoff``; returns (kept, dropped bytes).

    The result is a contiguous tail of the input starting at a line boundary.
    """
    pos = 0
    for line in data.splitlines(keepends=True):
        m = _LOG_TS.match(line)
        if m:
            try:
                ts = dt.datetime.fromisoformat(m.group(1).decode())
            except ValueError:
                ts = None
            if ts is not None and ts >= cutoff:
                return data[pos:], pos
        pos += len(line)
    return b"", len(data)


def drop_partial_first_line(data: bytes) -> bytes:
    """``data`` without its first line, which a cut from the tail of a file leaves partial."""
    nl = data.find(b"\n")
    return data[nl + 1 :] if nl >= 0 else data


def filter_lines(data: bytes, pattern: str) -> bytes:
    """Keep the first (header) line and the lines matching ``pattern``."""
    rx = re.compile(pattern.encode())
    lines = data.splitlines(keepends=True)
    kept = lines[:1] + [ln for ln in lines[1:] if rx.search(ln)]
    return b"".join(kept)


# --- running sources ------------------------------------------------------------------------------


def _entry(src: cat.Source, res: RunResult, started: dt.datetime, *, is_file: bool) -> dict[str, Any]:
    e: dict[str, Any] = {
        "file": None,
        "kind": src.kind,
        "source": "file" if is_file else "command",
    }
    if is_file:
        e["path"] = res.argv[-1]
    else:
        e["command"] = shlex.join(res.argv)
        e["argv"] = list(res.argv)
    e.update(
        started_at=iso(started),
        duration_s=res.duration_s,
        exit_code=res.exit_code,
        timed_out=res.timed_out,
        truncated=res.truncated,
        bytes=0,
        state=res.state,
        error=res.error,
        needs_root=src.needs_root,
    )
    err = res.stderr.decode("utf-8", "replace").strip()
    if err:
        e["stderr"] = err[-2000:]
    return e


def _cap_for(src: cat.Source, ctx: Context) -> int:
    return ctx.max_log_bytes if src.max_bytes == cat.LOG_MAX else src.max_bytes


def _process(src: cat.Source, res: RunResult, ctx: Context, entry: dict[str, Any]) -> bytes:
    data = res.stdout
    if res.truncated:
        data = drop_partial_first_line(data)
    if src.windowed and data:
        data, dropped = cut_to_window(data, ctx.local_cutoff())
        entry["window_start"] = ctx.local_cutoff().isoformat(timespec="seconds")
        entry["window_dropped_bytes"] = dropped
    if src.line_filter and data:
        data = filter_lines(data, cat.fill(src.line_filter, ctx.targets))
        entry["filter"] = cat.fill(src.line_filter, ctx.targets)
    return data


def run_source(
    src: cat.Source,
    ctx: Context,
    writer: BundleWriter,
    *,
    file: str | None = None,
    timeout: float | None = None,
    extra: dict[str, Any] | None = None,
    report: bool = True,
) -> list[dict[str, Any]]:
    """Run one source, write its file, add its manifest entries; never raises for a failed source."""
    out_name = file or src.file
    cap = _cap_for(src, ctx)
    tmo = timeout if timeout is not None else src.timeout
    attempts: list[tuple[RunResult, dt.datetime, bool]] = []
    if src.path is not None:
        t = utc_now()
        attempts.append(
            (ctx.runner.read_file(cat.fill(src.path, ctx.targets), max_bytes=cap, timeout=tmo), t, True)
        )
    else:
        for argv in src.commands:
            t = utc_now()
            res = ctx.runner.run(ctx.expand(argv), tmo, max_bytes=cap)
            attempts.append((res, t, False))
            if src.mode == "first" and res.ok:
                break
    entries: list[dict[str, Any]] = []
    written = 0
    for res, started, is_file in attempts:
        entry = _entry(src, res, started, is_file=is_file)
        if extra:
            entry.update(extra)
        data = _process(src, res, ctx, entry) if (res.ok or res.stdout) else b""
        if not data and res.ok:
            if not written and not writer.path_for(out_name).exists():
                writer.write(out_name, b"")  # an empty output is evidence too (no rules, no leases)
            entry["file"] = out_name
        if data:
            if written and not data.startswith(b"\n"):
                data = b"\n" + data if not _ends_nl(writer, out_name) else data
            n = writer.write(out_name, data, append=written > 0)
            written += n
            entry["file"] = out_name
            entry["bytes"] = n
        entries.append(entry)
        writer.manifest.add(entry)
        if report:
            _report(ctx, entry, out_name)
        if src.needs_root and not ctx.runner.is_root and (not res.ok or not data):
            ctx.needs_sudo.setdefault(out_name, src.why_root or "needs root")
    return entries


def _ends_nl(writer: BundleWriter, rel: str) -> bool:
    try:
        with open(writer.path_for(rel), "rb") as fh:
            fh.seek(-1, os.SEEK_END)
            return fh.read(1) == b"\n"
    except OSError:
        return True


def _report(ctx: Context, entry: dict[str, Any], name: str) -> None:
    what = entry.get("command") or entry.get("path") or ""
    state = entry["state"] + (" (truncated)" if entry.get("truncated") else "")
    size = _fmt_bytes(entry["bytes"]) if entry.get("file") else "-"
    line = f"{name:<26} {state:<22} {entry['duration_s']:7.2f}s {size:>9}  {what[:70]}"
    if entry.get("error") and entry["state"] != OK:
        line += f"  [{entry['error'][:80]}]"
    ctx.progress(line)


# --- snapshots ------------------------------------------------------------------------------------


class Snapshotter:
    """Takes the snapshot sources every ``interval`` into ``snapshots/<UTC time>/`` in a thread.

    With ``capture`` (argv), a bounded packet capture runs meanwhile; its lines
    go to ``tcpdump.txt`` and, per snapshot, the new ones to the snapshot folder.
    """

    MAX_SNAPSHOTS = 10_000

    def __init__(
        self,
        ctx: Context,
        writer: BundleWriter,
        sources: Sequence[cat.Source],
        interval: float,
        *,
        capture: Sequence[str] | None = None,
        capture_timeout: float = 600.0,
        label: str | None = None,
    ) -> None:
        self.ctx, self.writer, self.sources = ctx, writer, list(sources)
        self.interval = max(0.1, float(interval))
        self.label = label
        self.count = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="mpkit-snapshots", daemon=True)
        self._capture_argv = tuple(capture) if capture else None
        self._capture_timeout = capture_timeout
        self._capture: Any = None
        self._capture_file = writer.root / f".capture-{os.getpid()}-{id(self)}.partial"
        self._capture_pos = 0
        self.error: BaseException | None = None

    def start(self) -> Snapshotter:
        """Start the snapshot loop (and the packet capture, when there is one) in the background."""
        if self._capture_argv:
            self._capture = self.ctx.runner.spawn(
                self._capture_argv, self._capture_file, timeout=self._capture_timeout
            )
        self._thread.start()
        return self

    def _loop(self) -> None:
        try:
            while not self._stop.is_set() and self.count < self.MAX_SNAPSHOTS:
                self.take()
                self._stop.wait(self.interval)
        except BaseException as exc:  # recorded, re-raised by stop()
            self.error = exc

    def take(self) -> str:
        """Take one snapshot of every snapshot source now; returns its folder in the bundle."""
        folder = "snapshots/" + snapshot_folder_name(utc_now())
        extra = {"snapshot": folder}
        if self.label:
            extra["attempt"] = self.label
        tmo = max(3.0, min(10.0, self.interval * 3))
        for src in self.sources:
            run_source(
                src,
                self.ctx,
                self.writer,
                file=f"{folder}/{src.file}",
                timeout=tmo,
                extra=extra,
                report=False,
            )
        self._capture_slice(f"{folder}/tcpdump.txt")
        self.count += 1
        return folder

    def _capture_slice(self, rel: str) -> None:
        if self._capture is None or not self._capture_file.exists():
            return
        with open(self._capture_file, "rb") as fh:
            fh.seek(self._capture_pos)
            data = fh.read()
        cut = data.rfind(b"\n") + 1
        if cut:
            self.writer.write(rel, data[:cut])
            self._capture_pos += cut

    def stop(self) -> None:
        """Stop the loop and the capture, write what was captured, and re-raise a loop error."""
        self._stop.set()
        self._thread.join(timeout=60)
        try:
            if self.error is None:
                self.take()  # one last look, after the attempt ended
        finally:
            self._finish_capture()
        if self.error is not None:
            raise self.error

    def _finish_capture(self) -> None:
        if self._capture is None:
            return
        res = self._capture.stop()
        data = self._capture_file.read_bytes() if self._capture_file.exists() else b""
        self._capture_file.unlink(missing_ok=True)
        src = cat.Source("tcpdump.txt", "tcpdump", (res.argv,), timeout=self._capture_timeout)
        entry = _entry(src, res, utc_now(), is_file=False)
        if self.label:
            entry["attempt"] = self.label
        if data:
            entry["bytes"] = self.writer.write("tcpdump.txt", data, append=True)
            entry["file"] = "tcpdump.txt"
        self.writer.manifest.add(entry)
        _report(self.ctx, entry, "tcpdump.txt")
        self._capture = None


def capture_argv(ctx: Context) -> tuple[str, ...] | None:
    """The bounded DHCP capture on the bridge, when it can run (root, Linux/macOS, a bridge)."""
    if ctx.platform == "windows" or not ctx.runner.is_root or not ctx.targets.bridge:
        return None
    return ("tcpdump", "-n", "-l", "-c", "2000", "-i", ctx.targets.bridge, "udp port 67 and port 68")


# --- the entry point ------------------------------------------------------------------------------


def _seed_secrets(runner: Runner, host: dict[str, Any]) -> dict[str, list[str]]:
    hosts = [h for h in [host.get("hostname")] if h]
    users: list[str] = []
    if isinstance(runner, LiveRunner):
        for u in (os.environ.get("SUDO_USER"), _safe_getuser(), Path.home().name):
            if u:
                users.append(u)
    return {"hostnames": hosts, "users": users}


def _safe_getuser() -> str | None:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


@dataclass
class Session:
    """One open bundle: its directory, manifest, writer and context."""

    out: Path
    manifest: Manifest
    writer: BundleWriter
    ctx: Context
    redactor: Redactor | None
    map_path: Path | None


def open_session(
    out_dir: str | Path | None,
    *,
    mode: str,
    since: str | float,
    platform: str | None,
    runner: Runner | None,
    progress: Progress | None,
    targets: cat.Targets | None,
    max_log_bytes: int,
    redact: bool = False,
    redact_map: str | Path | None = None,
    instances: Sequence[str] = (),
) -> Session:
    """Prepare a collection: the bundle folder, the runner, the targets and the manifest."""
    started = utc_now()
    plat = platform or detect_platform()
    if plat not in cat.PLATFORMS:
        raise CollectError(
            Message(
                "unknown platform {platform!r}; expected one of {platforms}",
                platform=plat,
                platforms=", ".join(cat.PLATFORMS),
            )
        )
    since_s = parse_since(since)
    out = prepare_out_dir(out_dir, started)
    run = runner or LiveRunner(cwd=out)
    host = {"platform": plat, **run.host_info()}
    redactor = map_path = None
    if redact:
        map_path = Path(redact_map) if redact_map else default_map_path(out)
        check_map_outside(map_path, out)
        seeds = _seed_secrets(run, host)
        redactor = (
            Redactor.load(map_path, instances=instances)
            if map_path.exists()
            else Redactor(instances=instances)
        )
        for h in seeds["hostnames"]:
            redactor.add("host", h)
        for u in seeds["users"]:
            redactor.add("user", u)
    manifest = Manifest(
        out, host=host, started=started, mode=mode, transform=redactor.redact_obj if redactor else None
    )
    if redactor is not None:
        manifest.set("redacted", {"method": METHOD, "map_kept_locally": True})
    manifest.set("since", {"window_s": since_s, "from": iso(started - dt.timedelta(seconds=since_s))})
    ctx = Context(
        platform=plat,
        runner=run,
        targets=(targets or cat.Targets()).resolved(plat),
        started=started,
        since_s=since_s,
        max_log_bytes=max_log_bytes,
        progress=progress or (lambda _line: None),
        host=host,
    )
    manifest.set("targets", {k: v for k, v in vars(ctx.targets).items() if v not in (None, "")})
    return Session(out, manifest, BundleWriter(out, manifest, redactor), ctx, redactor, map_path)


def run_catalog(session: Session, sources: Sequence[cat.Source] | None = None) -> None:
    """Collect every catalog source (or ``sources``) of the session's platform into the bundle."""
    ctx = session.ctx
    srcs = list(sources) if sources is not None else cat.sources_for(ctx.platform, ctx.targets)
    ctx.progress(f"collecting {len(srcs)} sources ({ctx.platform}) into {session.out}")
    for src in srcs:
        run_source(src, ctx, session.writer)


def watch_snapshots(session: Session, duration: float, interval: float) -> None:
    """Snapshots for ``duration`` seconds without starting anything."""
    ctx = session.ctx
    srcs = cat.snapshot_sources(ctx.platform, ctx.targets)
    ctx.progress(f"watching for {duration:g}s, a snapshot every {interval:g}s")
    snap = Snapshotter(
        ctx, session.writer, srcs, interval, capture=capture_argv(ctx), capture_timeout=duration + 5
    ).start()
    try:
        deadline = time.monotonic() + duration
        while time.monotonic() < deadline:
            time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))
    finally:
        snap.stop()
    ctx.progress(f"{snap.count} snapshots taken")


def close_session(session: Session, *, interrupted: bool = False) -> None:
    """Finish the manifest (interrupted or not) and, when asked, redact or pack the bundle."""
    ctx = session.ctx
    if ctx.needs_sudo:
        session.manifest.set("needs_sudo", [{"file": f, "why": w} for f, w in sorted(ctx.needs_sudo.items())])
    session.manifest.finish(interrupted=interrupted)
    if session.redactor is not None:
        session.writer.sweep_names()  # names learned late, out of the files written early
    if session.redactor is not None and session.map_path is not None:
        session.redactor.save(session.map_path)
        ctx.progress(f"redaction map (keep it private, it is not in the bundle): {session.map_path}")
    if interrupted:
        ctx.progress(f"interrupted: the partial bundle in {session.out} is valid")
        return
    if ctx.needs_sudo:
        ctx.progress("not collected without root; run `sudo mpkit collect` to get:")
        for f, why in sorted(ctx.needs_sudo.items()):
            ctx.progress(f"  - {f}: {why}")


def make_tar(folder: Path) -> Path:
    """``<folder>.tar.gz`` next to the bundle directory."""
    target = folder.with_name(folder.name + ".tar.gz")
    with tarfile.open(target, "w:gz") as tar:
        tar.add(folder, arcname=folder.name)
    return target


def collect(
    out_dir: str | Path | None = None,
    *,
    since: str = "2h",
    tar: bool = False,
    redact: bool = False,
    watch: float | None = None,
    interval: float = 1.0,
    platform: str | None = None,
    runner: Runner | None = None,
    progress: Progress | None = None,
    max_log_bytes: int = 50_000_000,
    targets: cat.Targets | None = None,
    sources: Sequence[cat.Source] | None = None,
    redact_map: str | Path | None = None,
) -> Path:
    """Collect a bundle from this host (or from ``runner``'s recordings).

    Runs every catalog source of ``platform`` with its timeout; failures are
    recorded in ``manifest.json`` (rewritten after each source) and collection
    goes on. With ``watch`` (seconds) it first takes snapshots for that long.
    With ``redact``, everything is pseudonymised before it is written and the
    mapping goes to ``redact_map`` (default: next to the bundle). Returns the
    bundle directory, or the ``.tar.gz`` with ``tar``. Ctrl-C leaves a valid
    partial bundle and re-raises ``KeyboardInterrupt``.
    """
    session = open_session(
        out_dir,
        mode="watch" if watch else "collect",
        since=since,
        platform=platform,
        runner=runner,
        progress=progress,
        targets=targets,
        max_log_bytes=max_log_bytes,
        redact=redact,
        redact_map=redact_map,
    )
    try:
        if watch:
            watch_snapshots(session, float(watch), interval)
        run_catalog(session, sources)
    except KeyboardInterrupt:
        close_session(session, interrupted=True)
        raise
    close_session(session)
    return make_tar(session.out) if tar else session.out
