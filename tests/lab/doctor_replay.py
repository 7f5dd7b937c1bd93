"""Replays for ``mpkit doctor``: a sample bundle's outputs played back through the collection runner.

Each shipped sample (``mpkit/samples_data/<name>/``) holds what a host printed,
in the real formats. :func:`sample_runner` turns it into a
:class:`~mpkit.collect.ReplayRunner` keyed like the catalog of the sample's
platform (each source's first command, or its file), with the sample's start
attempt as the answer to ``multipass start`` and nothing recorded for any
other command: a command no recording covers reports "not found" and shows in
``runner.calls``.

:class:`RecordingRunner` wraps a live runner (the lab) and keeps every call,
so a test can check what the doctor really ran.

:func:`is_destructive` is the tests' own list of what must never run (written
apart from the doctor's guard, so the two check each other).
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mpkit.collect import ReplayRunner, Targets, sources_for
from mpkit.collect.catalog import expand, fill
from mpkit.collect.runner import Background, LiveRunner, Recording, RunResult, command_key, file_key
from mpkit.samples import sample

#: long enough for every line of a sample's log to be in the window
SINCE = "100000d"


def sample_recordings(name: str) -> tuple[dict[str, Any], str, dict[str, Any], str]:
    """(recordings, platform, host facts, instance) of sample ``name``."""
    root = Path(sample(name))
    manifest = json.loads((root / "manifest.json").read_text())
    host = dict(manifest["host"])
    platform = host.pop("platform")
    tg = Targets().resolved(platform)
    rec: dict[str, Any] = {}
    for src in sources_for(platform):
        f = root / src.file
        text = f.read_text() if f.is_file() else None
        if src.path is not None:
            if text is not None:
                rec[file_key(fill(src.path, tg))] = text
            continue
        cmds = src.commands if src.mode == "all" else src.commands[:1]
        for i, argv in enumerate(cmds):
            if text is not None:
                rec[command_key(expand(argv, tg, since_epoch=0, since_minutes=144_000_000))] = (
                    text if i == 0 else ""
                )
    attempt = json.loads((root / "attempts.jsonl").read_text().splitlines()[0])
    instance = attempt["instance"]
    out = attempt.get("client_output") or ""
    rec[command_key(("multipass", "start", instance))] = {
        "stdout": out if attempt["exit_code"] == 0 else "",
        "stderr": "" if attempt["exit_code"] == 0 else out,
        "exit_code": attempt["exit_code"],
        "duration_s": 0.05,
    }
    return rec, platform, host, instance


@dataclass
class WindowReplay(ReplayRunner):
    """A replay in which a log query's window start (``--since @<epoch>``) does not matter.

    The catalog asks journald for the window since the session started minus
    ``--since``, a time that moves on every run; the recording holds the answer
    under ``@0``.
    """

    def run(self, argv: Sequence[str], timeout: float, *, max_bytes: int | None = None) -> RunResult:
        argv = [("@0" if a.startswith("@") and a[1:].lstrip("-").isdigit() else a) for a in argv]
        return super().run(argv, timeout, max_bytes=max_bytes)


def sample_runner(name: str, *, root: bool = False, **changes: Any) -> tuple[ReplayRunner, str, str]:
    """(runner, platform, instance) replaying sample ``name``; ``changes`` override recordings."""
    rec, platform, host, instance = sample_recordings(name)
    rec.update(changes)
    return WindowReplay(rec, platform=platform, root=root, host=host), platform, instance


@dataclass
class RecordingRunner:
    """A live runner that keeps every command and file read it was asked for.

    ``calls`` lists them (argv tuples; a file read is ``("read", path)``);
    ``recordings`` holds every answer to each, in order, keyed for a
    :class:`SequenceReplay`, so a live session can be replayed.
    """

    inner: LiveRunner = field(default_factory=LiveRunner)
    calls: list[tuple[str, ...]] = field(default_factory=list)
    recordings: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def is_root(self) -> bool:
        return self.inner.is_root

    def _keep(self, key: str, res: RunResult) -> RunResult:
        state = "hang" if res.timed_out else res.state
        self.recordings.setdefault(key, []).append(
            {
                "stdout": res.stdout,
                "stderr": res.stderr,
                "exit_code": res.exit_code if res.exit_code is not None else 1,
                "state": state,
                "duration_s": res.duration_s,
            }
        )
        return res

    def run(self, argv: Sequence[str], timeout: float, *, max_bytes: int | None = None) -> RunResult:
        self.calls.append(tuple(argv))
        return self._keep(command_key(argv), self.inner.run(argv, timeout, max_bytes=max_bytes))

    def read_file(self, path: str, *, max_bytes: int | None = None, timeout: float = 10.0) -> RunResult:
        self.calls.append(("read", path))
        return self._keep(file_key(path), self.inner.read_file(path, max_bytes=max_bytes, timeout=timeout))

    def spawn(self, argv: Sequence[str], out: Path, *, timeout: float) -> Background:
        self.calls.append(tuple(argv))
        return self.inner.spawn(argv, out, timeout=timeout)

    def host_info(self) -> dict[str, Any]:
        return self.inner.host_info()


#: programs that must never run without the person: privilege, firewall, deletion
_NEVER = {"sudo", "su", "doas", "pkexec", "rm", "mv", "dd", "qemu-img", "brew", "apt", "snap-remove"}
#: firewall tools, allowed only to list
_FIREWALL_READ = {
    "nft": ("list",),
    "ufw": ("status",),
    "firewall-cmd": ("--get-active-zones", "--list-all", "--state"),
    "pfctl": ("-s",),
    "socketfilterfw": (
        "--getglobalstate",
        "--getblockall",
        "--getstealthmode",
        "--getallowsigned",
        "--listapps",
    ),
    "iptables": ("-S", "-L", "--list"),
}
_MULTIPASS_NEVER = {
    "delete",
    "purge",
    "recover",
    "set",
    "launch",
    "restore",
    "snapshot",
    "transfer",
    "umount",
}


def is_destructive(argv: Sequence[str] | str) -> str | None:
    """Why ``argv`` (a runner call or replay key) is something the doctor must never run, or None."""
    if isinstance(argv, str):
        if argv.startswith("file:"):
            return None
        argv = shlex.split(argv)
    if not argv or argv[0] == "read":
        return None
    prog = argv[0].rsplit("/", 1)[-1]
    args = list(argv[1:])
    if prog in _NEVER:
        return f"{prog} is never run by the doctor"
    if prog in _FIREWALL_READ:
        if not args or args[0] not in _FIREWALL_READ[prog]:
            return f"{prog} {' '.join(args)} changes firewall rules"
    if prog == "multipass" or prog.endswith("multipass"):
        if args and args[0] in _MULTIPASS_NEVER:
            return f"multipass {args[0]} changes or destroys instances"
    if prog in ("launchctl", "systemctl") and args and args[0] in ("disable", "unload", "bootout", "remove"):
        return f"{prog} {args[0]} removes a service"
    if any(a in ("--purge", "-rf", "--force-delete") for a in args):
        return "deletes data"
    return None


@dataclass
class SequenceReplay(ReplayRunner):
    """A replay in which a command answers as it did the 1st, 2nd, … time it ran (then as the last time).

    ``sequences`` maps a key to its answers in order (what :class:`RecordingRunner`
    keeps), so a start that failed and then worked does so again, and a log read
    after a start holds what the start wrote.
    """

    sequences: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        self._seen: dict[str, int] = {}

    def _lookup(self, key: str) -> Recording | None:
        answers = self.sequences.get(key)
        if not answers:
            return super()._lookup(key)
        self.calls.append(key)
        i = self._seen.get(key, 0)
        self._seen[key] = i + 1
        return Recording.from_obj(answers[min(i, len(answers) - 1)])
