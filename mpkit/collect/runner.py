"""Run commands and read files for collection: live on this host, or replayed from recordings.

Every source goes through a :class:`Runner`, commands *and* files, so a replay
covers the whole catalog. A runner never raises for an expected failure: "not
found", "permission denied", "timed out" and "failed" are states of the
:class:`RunResult`.

>>> r = ReplayRunner({"uname -a": {"stdout": "Linux h 6.1\\n"}}, platform="linux")
>>> res = r.run(["uname", "-a"], timeout=5)
>>> res.state, res.stdout
('ok', b'Linux h 6.1\\n')
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import platform as _platform
import shlex
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

log = logging.getLogger(__name__)

OK = "ok"
NOT_FOUND = "not-found"
PERMISSION_DENIED = "permission-denied"
TIMED_OUT = "timed-out"
FAILED = "failed"
#: every state a :class:`RunResult` can be in
STATES = (OK, NOT_FOUND, PERMISSION_DENIED, TIMED_OUT, FAILED)

#: stderr kept per command (tail)
STDERR_CAP = 64 * 1024

#: stderr / output phrases meaning "you are not allowed", whatever the exit code
_DENIED_HINTS = (
    "permission denied",
    "operation not permitted",
    "must be root",
    "must be admin",
    "must be run as root",
    "you need to be root",
    "access is denied",
    "requires elevation",
    "insufficient permissions",
    "are not seeing messages from other users and the system",
)
_NOT_FOUND_HINTS = ("command not found", "is not recognized as", "no such file or directory")


@dataclass
class RunResult:
    """What one command (or file read) produced.

    ``stdout`` holds at most ``max_bytes`` (the *tail*); ``total_bytes`` is how
    much was produced before the cap, ``truncated`` says whether the cap cut.
    """

    argv: tuple[str, ...]
    stdout: bytes = b""
    stderr: bytes = b""
    exit_code: int | None = None
    duration_s: float = 0.0
    timed_out: bool = False
    truncated: bool = False
    state: str = OK
    error: str | None = None
    total_bytes: int = 0

    @property
    def ok(self) -> bool:
        """Whether the command ran to completion (not timed out, not failed to start)."""
        return self.state == OK


@runtime_checkable
class Background(Protocol):
    """A command running in the background (a bounded capture)."""

    def stop(self) -> RunResult:
        """Stop the command and return what it wrote so far."""


@runtime_checkable
class Runner(Protocol):
    """Where collection commands run. Implementations: :class:`LiveRunner`, :class:`ReplayRunner`."""

    @property
    def is_root(self) -> bool:
        """Whether commands run as root (some sources need it)."""

    def run(self, argv: Sequence[str], timeout: float, *, max_bytes: int | None = None) -> RunResult:
        """Run ``argv`` with a time limit, keeping at most ``max_bytes`` of its output (the tail)."""

    def read_file(self, path: str, *, max_bytes: int | None = None, timeout: float = 10.0) -> RunResult:
        """Read the file at ``path`` (at most ``max_bytes``: the tail of a larger file)."""

    def spawn(self, argv: Sequence[str], out: Path, *, timeout: float) -> Background:
        """Start ``argv`` in the background writing to ``out``; it stops by itself after ``timeout``."""

    def host_info(self) -> dict[str, Any]:
        """OS version, architecture, host name and time zone of the host the commands run on."""


class _TailBuffer:
    """Keeps the last ``cap`` bytes written to it and counts them all."""

    def __init__(self, cap: int | None) -> None:
        self.cap = cap
        self.total = 0
        self._chunks: list[bytes] = []
        self._held = 0

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        self._chunks.append(chunk)
        self._held += len(chunk)
        if self.cap is not None and self._held > 2 * self.cap + 65536:
            self._compact()

    def _compact(self) -> None:
        data = b"".join(self._chunks)
        if self.cap is not None and len(data) > self.cap:
            data = data[len(data) - self.cap :]
        self._chunks = [data]
        self._held = len(data)

    def value(self) -> bytes:
        self._compact()
        return self._chunks[0] if self._chunks else b""


def _pump(stream: Any, buf: _TailBuffer) -> None:
    try:
        while True:
            chunk = stream.read1(65536) if hasattr(stream, "read1") else stream.read(65536)
            if not chunk:
                break
            buf.add(chunk)
    except (OSError, ValueError):  # pipe closed under us after a kill
        pass


def classify(exit_code: int | None, stderr: bytes) -> tuple[str, str | None]:
    """The state and error text of a finished command."""
    if exit_code == 0:
        return OK, None
    text = stderr.decode("utf-8", "replace").strip()
    low = text.lower()
    last = text.splitlines()[-1] if text else ""
    reason = f"exit code {exit_code}" + (f": {last[:300]}" if last else "")
    if any(h in low for h in _DENIED_HINTS):
        return PERMISSION_DENIED, reason
    if exit_code == 127 or (exit_code in (1, 2) and any(h in low for h in _NOT_FOUND_HINTS[:2])):
        return NOT_FOUND, reason
    return FAILED, reason


def _kill_group(proc: subprocess.Popen[bytes], grace: float = 0.5) -> None:
    """Terminate the whole process group of ``proc`` (TERM, then KILL)."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(timeout=wait)
            # the leader is gone, children may still be there: KILL the rest of the group
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            return
        except subprocess.TimeoutExpired:
            continue


def _c_env() -> dict[str, str]:
    env = dict(os.environ)
    env["LC_ALL"] = "C"
    env["LANG"] = "C"
    env.pop("LANGUAGE", None)
    env["SYSTEMD_PAGER"] = ""
    env["PAGER"] = "cat"
    return env


class _LiveBackground:
    def __init__(self, proc: subprocess.Popen[bytes], argv: tuple[str, ...], timeout: float, fh: Any):
        self.proc = proc
        self.argv = argv
        self.fh = fh
        self.t0 = time.monotonic()
        self.timed_out = False
        self._timer = threading.Timer(timeout, self._expire)
        self._timer.daemon = True
        self._timer.start()
        self._err = _TailBuffer(STDERR_CAP)
        self._errthread = threading.Thread(target=_pump, args=(proc.stderr, self._err), daemon=True)
        self._errthread.start()

    def _expire(self) -> None:
        self.timed_out = True
        self._interrupt()

    def _interrupt(self) -> None:
        if self.proc.poll() is None:
            try:  # SIGINT first: capture tools flush their buffers on it
                os.killpg(self.proc.pid, signal.SIGINT)
                self.proc.wait(timeout=2.0)
            except (ProcessLookupError, PermissionError, subprocess.TimeoutExpired):
                pass
        if self.proc.poll() is None:
            _kill_group(self.proc)

    def stop(self) -> RunResult:
        self._timer.cancel()
        self._interrupt()
        self._errthread.join(timeout=2.0)
        if self.proc.stderr is not None:
            self.proc.stderr.close()
        self.fh.close()
        rc = self.proc.returncode
        stderr = self._err.value()
        state, error = (OK, None) if rc in (0, -signal.SIGINT, 128 + signal.SIGINT) else classify(rc, stderr)
        return RunResult(
            argv=self.argv,
            stderr=stderr,
            exit_code=rc,
            duration_s=round(time.monotonic() - self.t0, 3),
            timed_out=self.timed_out,
            state=state,
            error=error,
        )


class LiveRunner:
    """Runs commands on this host.

    Each command runs in its own process group with stdin closed and
    ``LC_ALL=C LANG=C``; at its timeout the whole group is killed. Output is
    capped at ``max_bytes`` keeping the tail.
    """

    def __init__(self, *, cwd: str | Path | None = None, default_max_bytes: int = 20_000_000) -> None:
        self.cwd = str(cwd) if cwd is not None else None
        self.default_max_bytes = default_max_bytes

    @property
    def is_root(self) -> bool:
        """Whether this process runs as root."""
        geteuid = getattr(os, "geteuid", None)
        return bool(geteuid and geteuid() == 0)

    def run(self, argv: Sequence[str], timeout: float, *, max_bytes: int | None = None) -> RunResult:
        """Run ``argv`` in its own process group, killing the group on timeout; keep the output's tail."""
        argv_t = tuple(argv)
        cap = self.default_max_bytes if max_bytes is None else max_bytes
        t0 = time.monotonic()
        try:
            proc = subprocess.Popen(
                argv_t,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=_c_env(),
                cwd=self.cwd,
                start_new_session=True,
            )
        except FileNotFoundError as exc:
            return RunResult(argv_t, state=NOT_FOUND, error=f"not found: {exc.filename or argv_t[0]}")
        except PermissionError as exc:
            return RunResult(argv_t, state=PERMISSION_DENIED, error=f"permission denied: {exc}")
        except OSError as exc:
            return RunResult(argv_t, state=FAILED, error=f"could not run: {exc}")
        out, err = _TailBuffer(cap), _TailBuffer(STDERR_CAP)
        readers = [
            threading.Thread(target=_pump, args=(proc.stdout, out), daemon=True),
            threading.Thread(target=_pump, args=(proc.stderr, err), daemon=True),
        ]
        for t in readers:
            t.start()
        timed_out = False
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            log.info("killing %s after %.1fs (timeout)", shlex.join(argv_t), timeout)
            _kill_group(proc)
        except BaseException:  # Ctrl-C / SystemExit: never leave the child behind
            _kill_group(proc)
            raise
        else:  # the leader exited: make sure nothing it left behind keeps running
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        for t in readers:
            t.join(timeout=2.0)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
        duration = round(time.monotonic() - t0, 3)
        stdout, stderr = out.value(), err.value()
        truncated = out.total > len(stdout)
        error: str | None
        if timed_out:
            state, error = TIMED_OUT, f"timed out after {timeout:g}s (process group killed)"
        else:
            state, error = classify(proc.returncode, stderr)
        return RunResult(
            argv=argv_t,
            stdout=stdout,
            stderr=stderr,
            exit_code=None if timed_out else proc.returncode,
            duration_s=duration,
            timed_out=timed_out,
            truncated=truncated,
            state=state,
            error=error,
            total_bytes=out.total,
        )

    def read_file(self, path: str, *, max_bytes: int | None = None, timeout: float = 10.0) -> RunResult:
        """Read ``path`` from the local file system (the tail when larger than ``max_bytes``)."""
        cap = self.default_max_bytes if max_bytes is None else max_bytes
        t0 = time.monotonic()
        argv = ("read", path)
        try:
            with open(path, "rb") as fh:
                size = os.fstat(fh.fileno()).st_size
                if size > cap:
                    fh.seek(size - cap)
                data = fh.read(cap + 65536)
        except FileNotFoundError:
            return RunResult(argv, state=NOT_FOUND, error=f"no such file: {path}")
        except PermissionError:
            return RunResult(argv, state=PERMISSION_DENIED, error=f"permission denied: {path}")
        except OSError as exc:
            return RunResult(argv, state=FAILED, error=f"could not read {path}: {exc.strerror or exc}")
        total = max(size, len(data))
        if len(data) > cap:
            data = data[len(data) - cap :]
        return RunResult(
            argv,
            stdout=data,
            exit_code=0,
            duration_s=round(time.monotonic() - t0, 3),
            truncated=total > len(data),
            total_bytes=total,
        )

    def spawn(self, argv: Sequence[str], out: Path, *, timeout: float) -> Background:
        """Start ``argv`` in the background, its output going to ``out``, killed after ``timeout``."""
        argv_t = tuple(argv)
        fh = open(out, "ab")
        try:
            proc = subprocess.Popen(
                argv_t,
                stdin=subprocess.DEVNULL,
                stdout=fh,
                stderr=subprocess.PIPE,
                env=_c_env(),
                cwd=self.cwd,
                start_new_session=True,
            )
        except OSError as exc:
            fh.close()
            state = NOT_FOUND if isinstance(exc, FileNotFoundError) else FAILED
            return _FailedBackground(RunResult(argv_t, state=state, error=f"could not run: {exc}"))
        return _LiveBackground(proc, argv_t, timeout, fh)

    def host_info(self) -> dict[str, Any]:
        """This host's OS version, architecture, name and time zone."""
        now = dt.datetime.now().astimezone()
        off = now.strftime("%z")
        return {
            "os_version": _platform.platform(),
            "arch": _platform.machine(),
            "hostname": socket.gethostname(),
            "timezone": local_timezone_name(),
            "utc_offset": f"{off[:3]}:{off[3:]}" if off else "+00:00",
        }


@dataclass
class _FailedBackground:
    result: RunResult

    def stop(self) -> RunResult:
        return self.result


def local_timezone_name() -> str:
    """The IANA name of the local zone when it can be known (``Europe/Paris``), else its abbreviation."""
    tz = os.environ.get("TZ", "").lstrip(":")
    if "/" in tz and not tz.startswith("/"):
        return tz
    for candidate in (tz, "/etc/localtime"):
        if candidate.startswith("/") and os.path.exists(candidate):
            real = os.path.realpath(candidate)
            if "zoneinfo/" in real:
                return real.split("zoneinfo/", 1)[1]
    try:
        name = Path("/etc/timezone").read_text().strip()
        if name:
            return name
    except OSError:
        pass
    return time.tzname[time.localtime().tm_isdst > 0]


# ---------------------------------------------------------------------------------------------
# replay


@dataclass
class Recording:
    """One recorded outcome.

    ``state``: ``ok`` (``stdout``/``stderr``/``exit_code`` as given), ``not-found``
    (the tool is missing), ``permission-denied`` (EPERM/EACCES), ``hang`` (never
    returns: the runner reports it timed out) or ``failed``.
    """

    stdout: bytes = b""
    stderr: bytes = b""
    exit_code: int = 0
    state: str = OK
    duration_s: float = 0.01

    @classmethod
    def from_obj(cls, obj: Any) -> Recording:
        """A recording from a :class:`Recording`, a string (stdout) or a dict of its fields."""
        if isinstance(obj, Recording):
            return obj
        if isinstance(obj, (str, bytes)):
            return cls(stdout=obj.encode() if isinstance(obj, str) else obj)
        if not isinstance(obj, Mapping):
            raise TypeError(f"not a recording: {obj!r}")

        def as_bytes(v: Any) -> bytes:
            return v.encode() if isinstance(v, str) else bytes(v or b"")

        return cls(
            stdout=as_bytes(obj.get("stdout", b"")),
            stderr=as_bytes(obj.get("stderr", b"")),
            exit_code=int(obj.get("exit_code", 0)),
            state=str(obj.get("state", OK)),
            duration_s=float(obj.get("duration_s", 0.01)),
        )


def command_key(argv: Sequence[str]) -> str:
    """The key a command is recorded under: its argv, shell-quoted."""
    return shlex.join(argv)


def file_key(path: str) -> str:
    """The key a file read is recorded under."""
    return f"file:{path}"


@dataclass
class _ReplayBackground:
    result: RunResult
    out: Path
    data: bytes

    def stop(self) -> RunResult:
        with open(self.out, "ab") as fh:
            fh.write(self.data)
        return self.result


@dataclass
class ReplayRunner:
    """Plays back recorded outputs, keyed by :func:`command_key` / :func:`file_key`.

    ``recordings`` is a dict (key → :class:`Recording`, a dict with ``stdout``,
    ``stderr``, ``exit_code``, ``state``, or plain text) or a directory holding
    ``index.json`` (same dicts; ``stdout_file`` / ``stderr_file`` name files next
    to it). A key with no recording behaves like a missing tool / file. A
    ``hang`` reports ``timed-out`` at once (or really waits for the timeout with
    ``real_time=True``). ``calls`` lists every key asked for, in order.
    """

    recordings: Mapping[str, Any] | str | Path = field(default_factory=dict)
    platform: str = "macos"
    root: bool = False
    real_time: bool = False
    host: dict[str, Any] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if isinstance(self.recordings, (str, Path)):
            self._table = self._load_dir(Path(self.recordings))
        else:
            self._table = {k: Recording.from_obj(v) for k, v in self.recordings.items()}
        self._lock = threading.Lock()

    @staticmethod
    def _load_dir(folder: Path) -> dict[str, Recording]:
        index = json.loads((folder / "index.json").read_text(encoding="utf-8"))
        table: dict[str, Recording] = {}
        for key, obj in index.items():
            obj = dict(obj)
            for stream in ("stdout", "stderr"):
                name = obj.pop(f"{stream}_file", None)
                if name:
                    obj[stream] = (folder / name).read_bytes()
            table[key] = Recording.from_obj(obj)
        return table

    def save(self, folder: str | Path) -> Path:
        """Write the recordings as a directory that :class:`ReplayRunner` can load."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        index: dict[str, Any] = {}
        for i, (key, rec) in enumerate(sorted(self._table.items())):
            name = f"{i:03d}.out"
            (folder / name).write_bytes(rec.stdout)
            index[key] = {
                "stdout_file": name,
                "stderr": rec.stderr.decode("utf-8", "replace"),
                "exit_code": rec.exit_code,
                "state": rec.state,
                "duration_s": rec.duration_s,
            }
        (folder / "index.json").write_text(json.dumps(index, indent=1), encoding="utf-8")
        return folder

    @property
    def is_root(self) -> bool:
        """Whether the recorded session ran as root."""
        return self.root

    def _lookup(self, key: str) -> Recording | None:
        with self._lock:
            self.calls.append(key)
        return self._table.get(key)

    def _play(
        self, argv: tuple[str, ...], rec: Recording | None, timeout: float, cap: int | None
    ) -> RunResult:
        if rec is None or rec.state == NOT_FOUND:
            what = "file" if argv[0] == "read" else "command"
            return RunResult(
                argv, state=NOT_FOUND, error=f"not found: {argv[-1] if what == 'file' else argv[0]}"
            )
        if rec.state == PERMISSION_DENIED and not rec.stderr:
            return RunResult(argv, state=PERMISSION_DENIED, error=f"permission denied: {argv[-1]}")
        if rec.state == "hang":
            if self.real_time:
                time.sleep(timeout)
            return RunResult(
                argv,
                stdout=rec.stdout[-cap:] if cap and rec.stdout else rec.stdout,
                duration_s=float(timeout),
                timed_out=True,
                state=TIMED_OUT,
                error=f"timed out after {timeout:g}s (process group killed)",
                total_bytes=len(rec.stdout),
            )
        data = rec.stdout
        total = len(data)
        if cap is not None and total > cap:
            data = data[total - cap :]
        if rec.state == OK and rec.exit_code == 0:
            state, error = OK, None
        elif rec.state == PERMISSION_DENIED:
            state, error = PERMISSION_DENIED, classify(rec.exit_code or 1, rec.stderr)[1]
        else:
            state, error = classify(rec.exit_code, rec.stderr)
        if self.real_time and rec.duration_s:
            time.sleep(min(rec.duration_s, timeout))
        return RunResult(
            argv,
            stdout=data,
            stderr=rec.stderr[-STDERR_CAP:],
            exit_code=rec.exit_code,
            duration_s=min(rec.duration_s, timeout),
            truncated=total > len(data),
            state=state,
            error=error,
            total_bytes=total,
        )

    def run(self, argv: Sequence[str], timeout: float, *, max_bytes: int | None = None) -> RunResult:
        """The recorded result of ``argv`` (a command that was not recorded fails as not found)."""
        argv_t = tuple(argv)
        return self._play(argv_t, self._lookup(command_key(argv_t)), timeout, max_bytes)

    def read_file(self, path: str, *, max_bytes: int | None = None, timeout: float = 10.0) -> RunResult:
        """The recorded content of ``path`` (a file that was not recorded is missing)."""
        return self._play(("read", path), self._lookup(file_key(path)), timeout, max_bytes)

    def spawn(self, argv: Sequence[str], out: Path, *, timeout: float) -> Background:
        """Replay a recorded background capture into ``out``."""
        argv_t = tuple(argv)
        rec = self._lookup(command_key(argv_t))
        res = self._play(argv_t, rec, timeout, None)
        data, res.stdout = res.stdout, b""
        if res.state == TIMED_OUT:  # a capture that runs until stopped is the normal case
            res.state, res.error, res.timed_out = OK, None, False
        return _ReplayBackground(res, out, data)

    def host_info(self) -> dict[str, Any]:
        """The recorded host's OS version, architecture, name and time zone."""
        base = {
            "os_version": None,
            "arch": None,
            "hostname": None,
            "timezone": "UTC",
            "utc_offset": "+00:00",
        }
        base.update(self.host)
        return base
