"""The bundle writer: files plus their manifest entries, laid out as ``mpkit probe`` writes them.

Artifacts that ``mpkit collect`` gathers are recorded through
:meth:`Bundle.collect`, which takes the file name, the kind and the command
(or the file path) from the collection catalog (``mpkit.collect.catalog``),
filled with Multipass's default locations for the sample's platform. A sample
therefore states only *when* a source ran, for how long and what it printed,
never which command mpkit runs for it. The few records that are not catalog
sources (the start attempt's own output, the packet capture) are recorded by
:meth:`Bundle.record_attempt` and :meth:`Bundle.capture` with their kind and
command spelled out.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mpkit.collect import catalog as cat
from mpkit.collect.probe import ATTEMPTS_SOURCE

from .clock import S, iso_z, off_str

#: the mpkit version the synthetic manifests say collected them: bundle content, not the version of
#: this package (that is mpkit.__version__ alone), so a release does not rewrite the samples
MPKIT_VERSION = "0.1.0"


@dataclass
class Bundle:
    """One sample bundle being written: its files (in memory), manifest entries and attempts."""

    name: str
    off: int  # minutes east of UTC, constant over the bundle's window
    tzname: str
    host: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    entries: list[dict[str, Any]] = field(default_factory=list)
    attempts: list[dict[str, Any]] = field(default_factory=list)
    #: where the catalog's sources point on this platform (Multipass's default locations)
    targets: cat.Targets = field(init=False)

    def __post_init__(self) -> None:
        self.targets = cat.Targets().resolved(self.platform)

    @classmethod
    def for_host(
        cls, name: str, *, platform: str, os_version: str, arch: str, hostname: str, off: int, tzname: str
    ) -> Bundle:
        """An empty bundle whose manifest describes this host."""
        host = {
            "platform": platform,
            "os_version": os_version,
            "arch": arch,
            "hostname": hostname,
            "timezone": tzname,
            "utc_offset": off_str(off),
        }
        return cls(name, off, tzname, host)

    @property
    def platform(self) -> str:
        """``macos`` or ``linux``: which catalog the bundle's sources come from."""
        return str(self.host["platform"])

    # ----------------------------------------------------------------------- records

    def source(self, file: str) -> cat.Source:
        """The catalog source that writes ``file`` on this bundle's platform."""
        src = cat.source_for_file(self.platform, file)
        if src is None:
            raise KeyError(f"{file!r} is not in the {self.platform} collection catalog")
        return src

    def collect(
        self,
        file: str,
        start: int,
        dur: float,
        data: bytes | str | None,
        *,
        pick: str | None = None,
        since_epoch: int | None = None,
        since_minutes: int | None = None,
        folder: str | None = None,
        exit_code: int | None = 0,
        error: str | None = None,
        timed_out: bool = False,
    ) -> None:
        """Record the catalog source ``file``, run at ``start`` for ``dur`` seconds, that produced ``data``.

        ``data`` of ``None`` records a failed source (give its ``error``). For a
        command source, ``pick`` chooses the one command that has this word
        among several (default: the first), ``since_epoch`` / ``since_minutes``
        fill the time window, ``exit_code`` and ``timed_out`` say how it
        ended, and the outputs of an ``all``-mode source are appended one after
        another. A file source is recorded with its catalog path and no exit
        code. ``folder`` puts the file in a snapshot folder (snapshot sources only).
        """
        src = self.source(file)
        if folder is not None and not src.snapshot:
            raise ValueError(f"{file} is not taken in snapshots")
        rel = f"{folder}/{file}" if folder is not None else file
        if src.path is not None:
            how: tuple[str, Any] = ("path", cat.fill(src.path, self.targets))
            self._entry(rel, src.kind, how, start, dur, data, None, error, False, False)
            return
        argv = self._argv(src, pick, since_epoch, since_minutes)
        append = src.mode == "all"
        self._entry(rel, src.kind, ("command", argv), start, dur, data, exit_code, error, timed_out, append)

    def command(
        self,
        file: str,
        kind: str,
        argv: Sequence[str],
        start: int,
        dur: float,
        data: bytes | str | None,
        *,
        exit_code: int | None = 0,
        error: str | None = None,
    ) -> None:
        """Record a command that is not a catalog source (its kind and argv as given)."""
        self._entry(file, kind, ("command", list(argv)), start, dur, data, exit_code, error, False, False)

    def capture(self, start: int, dur: float, data: str | None, *, error: str | None = None) -> None:
        """Record the DHCP capture on the bridge (``tcpdump.txt``), or, with ``data`` None, why it did not run."""
        # not a catalog source: mpkit probe runs it (as root) around the attempt, so its command is spelled out
        argv = ["tcpdump", "-n", "-l", "-i", self.targets.bridge or "", "udp port 67 and port 68"]
        exit_code = None if data is None else 0
        self.command("tcpdump.txt", "tcpdump", argv, start, dur, data, exit_code=exit_code, error=error)

    def record_attempt(
        self, instance: str, start: int, end: int, *, exit_code: int, outcome: str, client: str
    ) -> None:
        """The timed ``multipass start``: its output in ``client.txt`` and its line of ``attempts.jsonl``."""
        argv = [*self.targets.multipass, "start", instance]
        # client.txt is the start attempt's own output, not a catalog source
        self.command("client.txt", "client", argv, start, (end - start) / S, client, exit_code=exit_code)
        self.attempts.append(
            {
                "attempt": len(self.attempts) + 1,
                "instance": instance,
                "command": argv,
                "started_at": iso_z(start),
                "ended_at": iso_z(end),
                "duration_s": round((end - start) / S, 3),
                "exit_code": exit_code,
                "outcome": outcome,
                "client_output": client,
            }
        )

    def _argv(
        self, src: cat.Source, pick: str | None, since_epoch: int | None, since_minutes: int | None
    ) -> list[str]:
        choices = [c for c in src.commands if pick is None or pick in c]
        if not choices or (pick is not None and len(choices) > 1):
            raise ValueError(f"{src.file}: no single command with {pick!r} in {src.commands}")
        template = choices[0]
        given = {"since_epoch": since_epoch, "since_minutes": since_minutes}
        for key, value in given.items():
            wanted = any("{" + key + "}" in part for part in template)
            if wanted != (value is not None):
                raise ValueError(f"{src.file}: {key} is {'needed' if wanted else 'not used'} by {template}")
        return list(
            cat.expand(template, self.targets, since_epoch=since_epoch or 0, since_minutes=since_minutes or 0)
        )

    def _entry(
        self,
        file: str,
        kind: str | None,
        how: tuple[str, Any],
        start: int,
        dur: float,
        data: bytes | str | None,
        exit_code: int | None,
        error: str | None,
        timed_out: bool,
        append: bool,
    ) -> None:
        e: dict[str, Any] = {}
        raw = data.encode() if isinstance(data, str) else data
        if raw is not None:
            e["file"] = file
            if append and file in self.files:
                self.files[file] += raw
            else:
                self.files[file] = raw
        e["kind"] = kind
        e["source"] = "command" if how[0] == "command" else "file"
        e[how[0]] = how[1]
        e["started_at"] = iso_z(start)
        e["duration_s"] = round(dur, 3)
        e["exit_code"] = exit_code
        e["timed_out"] = timed_out
        e["truncated"] = False
        e["bytes"] = None if raw is None else len(raw)
        e["error"] = error
        self.entries.append(e)

    # ----------------------------------------------------------------------- output

    def write(self, rel: str, data: bytes | str) -> None:
        """Put a file in the bundle as is (no manifest entry)."""
        self.files[rel] = data.encode() if isinstance(data, str) else data

    def finish(self, created: int, finished: int) -> None:
        """Write ``manifest.json`` (entries in time order) and ``attempts.jsonl``."""
        self.entries.sort(key=lambda e: e["started_at"])
        manifest = {
            "format": "mpkit-bundle/1",
            "created_at": iso_z(created),
            "finished_at": iso_z(finished),
            "mode": "probe",
            "host": self.host,
            "mpkit_version": MPKIT_VERSION,
            "redacted": False,
            "complete": True,
            "interrupted": False,
            "artifacts": self.entries,
        }
        self.write("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        self.write(ATTEMPTS_SOURCE.file, "".join(json.dumps(a) + "\n" for a in self.attempts))

    def save(self, out: Path) -> None:
        """Replace ``out/<name>/`` with the bundle's files."""
        folder = out / self.name
        if folder.exists():
            shutil.rmtree(folder)
        for rel, data in sorted(self.files.items()):
            p = folder / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
