"""``mpkit probe``: time ``multipass start`` attempts while snapshotting the DHCP evidence.

Per attempt: optionally ``multipass stop --force``; then ``multipass start``
with a timeout while the lease file and the neighbour table are captured every
``interval`` into ``snapshots/<UTC time>/`` (and, as root, a bounded tcpdump of
DHCP on the bridge). Each attempt is one line of ``attempts.jsonl``. It never
deletes, purges or edits anything.
"""

from __future__ import annotations

import json
import logging
import shlex
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..i18n import Message
from . import catalog as cat
from .collector import (
    Progress,
    Session,
    Snapshotter,
    _entry,
    _report,
    capture_argv,
    close_session,
    make_tar,
    open_session,
    run_catalog,
)
from .manifest import iso, utc_now
from .runner import Runner, RunResult

log = logging.getLogger(__name__)

#: what the client prints when the daemon's SSH wait ran out
TIMEOUT_TEXTS = ("timed out waiting for response", "Timed out waiting for instance to start")
#: the client's exit code when its own ``--timeout`` fired
CLIENT_TIMEOUT_EXIT = 5
#: the timed start attempts, one JSON line each (its command is the start that was run)
ATTEMPTS_SOURCE = cat.Source("attempts.jsonl", "probe_attempts")


def outcome_of(res: RunResult) -> str:
    """``ok`` / ``timeout`` / ``error`` for one start attempt."""
    if res.timed_out:
        return "timeout"
    if res.ok:
        return "ok"
    text = (res.stdout + b"\n" + res.stderr).decode("utf-8", "replace")
    if res.exit_code == CLIENT_TIMEOUT_EXIT or any(t in text for t in TIMEOUT_TEXTS):
        return "timeout"
    return "error"


def _client_text(res: RunResult) -> str:
    parts = [res.stdout.decode("utf-8", "replace"), res.stderr.decode("utf-8", "replace")]
    return "".join(p if p.endswith("\n") or not p else p + "\n" for p in parts if p)


def run_attempt(
    session: Session,
    instance: str,
    number: int,
    *,
    timeout: float,
    interval: float,
    stop_first: bool,
    snapshots: Sequence[cat.Source],
) -> dict[str, Any]:
    """Start ``instance`` once with snapshots running; record the attempt and return its record."""
    ctx, writer = session.ctx, session.writer
    mp = ctx.targets.multipass
    if stop_first:
        stop_argv = (*mp, "stop", "--force", instance)
        t = utc_now()
        res = ctx.runner.run(stop_argv, 120.0, max_bytes=1_000_000)
        src = cat.Source(f"stop-{number}", None, (stop_argv,))
        entry = _entry(src, res, t, is_file=False)
        entry["attempt"] = number
        session.manifest.add(entry)
        _report(ctx, entry, f"stop (attempt {number})")
    start_argv = (*mp, "start", instance)
    snap = Snapshotter(
        ctx,
        writer,
        snapshots,
        interval,
        capture=capture_argv(ctx),
        capture_timeout=timeout + 10,
        label=str(number),
    ).start()
    started = utc_now()
    try:
        res = ctx.runner.run(start_argv, timeout, max_bytes=1_000_000)
    finally:
        snap.stop()
    ended = utc_now()
    client = _client_text(res)
    record = {
        "attempt": number,
        "instance": instance,
        "command": list(start_argv),
        "started_at": iso(started),
        "ended_at": iso(ended),
        "duration_s": res.duration_s,
        "exit_code": res.exit_code,
        "outcome": outcome_of(res),
        "timed_out": res.timed_out,
        "client_output": client,
        "snapshots": snap.count,
    }
    if res.error and res.state != "ok":
        record["error"] = res.error
    writer.write("attempts.jsonl", (json.dumps(record, ensure_ascii=False) + "\n").encode(), append=True)
    if client:
        writer.write("client.txt", client.encode(), append=True)
    entry = _entry(replace(ATTEMPTS_SOURCE, commands=(start_argv,)), res, started, is_file=False)
    entry.update(file="attempts.jsonl", attempt=number, outcome=record["outcome"])
    session.manifest.add(entry)
    ctx.progress(
        f"attempt {number}: {record['outcome']:<8} exit {res.exit_code} in {res.duration_s:.1f}s, "
        f"{snap.count} snapshots  ({shlex.join(start_argv)})"
    )
    return record


def probe(
    instance: str,
    *,
    attempts: int = 1,
    interval: float = 1.0,
    stop_first: bool = False,
    timeout: float = 330.0,
    out_dir: str | Path | None = None,
    platform: str | None = None,
    runner: Runner | None = None,
    progress: Progress | None = None,
    collect_after: bool = True,
    targets: cat.Targets | None = None,
    since: str = "2h",
    max_log_bytes: int = 50_000_000,
    tar: bool = False,
) -> Path:
    """Run ``multipass start INSTANCE`` ``attempts`` times and record the evidence around each.

    Returns the bundle directory (the ``.tar.gz`` with ``tar``); with
    ``collect_after`` the full collection follows the attempts, into the same
    bundle. Ctrl-C leaves a valid partial bundle and re-raises.
    """
    if attempts < 1:
        from ..errors import CollectError

        raise CollectError(Message("--attempts must be at least 1 (got {attempts})", attempts=attempts))
    session = open_session(
        out_dir,
        mode="probe",
        since=since,
        platform=platform,
        runner=runner,
        progress=progress,
        targets=targets,
        max_log_bytes=max_log_bytes,
        instances=[instance],
    )
    ctx = session.ctx
    session.manifest.set(
        "probe",
        {
            "instance": instance,
            "attempts": attempts,
            "interval_s": interval,
            "stop_first": stop_first,
            "timeout_s": timeout,
        },
    )
    snaps = cat.snapshot_sources(ctx.platform, ctx.targets)
    try:
        records = []
        for n in range(1, attempts + 1):
            records.append(
                run_attempt(
                    session,
                    instance,
                    n,
                    timeout=timeout,
                    interval=interval,
                    stop_first=stop_first,
                    snapshots=snaps,
                )
            )
        session.manifest.set(
            "attempts", [{"attempt": r["attempt"], "outcome": r["outcome"]} for r in records]
        )
        if collect_after:
            run_catalog(session)
    except KeyboardInterrupt:
        close_session(session, interrupted=True)
        raise
    close_session(session)
    return make_tar(session.out) if tar else session.out
