"""The lab's ``snap`` stand-in: ``snap restart multipass`` restarts the stand-in ``multipassd``.

Like the snap's service restart, it stops the running daemon (SIGTERM; the
daemon stops its dnsmasq), starts it again in a session of its own, and
returns once the new dnsmasq has bound its sockets (or fails after 10 s). The
restarted daemon writes its pid where the lab's teardown finds it.

Usage: ``snap --config FILE restart multipass[.multipassd]`` (the lab writes the wrapper).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


def alive(pid: int | None) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not yet reaped, does not)."""
    if not pid:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def read_pid(path: str | None) -> int | None:
    try:
        return int(Path(path or "").read_text().strip())
    except (OSError, ValueError):
        return None


def stop(pid: int | None, timeout: float = 5.0) -> None:
    """SIGTERM ``pid``, then SIGKILL it if it is still there after ``timeout``."""
    if not alive(pid):
        return
    assert pid is not None
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if alive(pid):
        os.kill(pid, signal.SIGKILL)


def restart(cfg: dict[str, Any]) -> int:
    stop(read_pid(cfg["daemon_pidfile"]))
    stop(read_pid(cfg["dnsmasq_pidfile"]))  # left behind only if the daemon died uncleanly
    journal = Path(cfg["journal_file"])
    mark = journal.stat().st_size if journal.exists() else 0
    subprocess.Popen(
        cfg["daemon_argv"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with open(journal, "rb") as fh:
            fh.seek(mark)
            if b"DHCP, sockets bound" in fh.read():
                return 0
        time.sleep(0.05)
    print("error: multipassd restarted but dnsmasq did not come up within 10 s", file=sys.stderr)
    return 1


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] != "--config":
        print("usage: service.py --config FILE restart multipass", file=sys.stderr)
        return 64
    cfg = json.loads(Path(argv[1]).read_text())
    args = argv[2:]
    if len(args) == 2 and args[0] == "restart" and args[1].split(".", 1)[0] == "multipass":
        return restart(cfg)
    print(f"error: the lab's snap stand-in only restarts multipass (got {' '.join(args)!r})", file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
