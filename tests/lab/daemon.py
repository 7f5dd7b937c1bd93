"""The lab's stand-in ``multipassd``: runs dnsmasq as its child and journals its lines on arrival.

Like the snap's daemon, it starts ``dnsmasq --keep-in-foreground`` and logs
``Starting dnsmasq`` / ``[pid] started: dnsmasq …``; dnsmasq's own log lines
(``--log-facility=-``) are stamped when they arrive, as journald would, and
appended to the journal file in ``-o short-iso`` form. The ``--log-dhcp``
detail lines are dropped (dnsmasq's default logging would not print them).

Usage: ``multipassd --config FILE`` (the lab writes the wrapper); SIGTERM stops it and dnsmasq.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path
from types import FrameType

import standin

_LINE = re.compile(r"^(?P<ident>dnsmasq(?:-dhcp)?)\[(?P<pid>\d+)\]: (?P<msg>.*)$")
_XID = re.compile(r"^\d+ ")
_KEEP = re.compile(r"^DHCP[A-Z]+\(|no address available|which has no address")


def journal_message(line: str) -> tuple[str, int, str] | None:
    """``(ident, pid, message)`` for a dnsmasq stderr line worth journaling, else ``None``."""
    m = _LINE.match(line.rstrip())
    if not m:
        return None
    msg = m.group("msg").rstrip()
    if _XID.match(msg):
        msg = _XID.sub("", msg, count=1)
        if not _KEEP.search(msg):
            return None
    return m.group("ident"), int(m.group("pid")), msg


def main(argv: list[str]) -> int:
    cfg = json.loads(Path(argv[argv.index("--config") + 1]).read_text())
    if cfg.get("daemon_pidfile"):  # so that a restart (``service.py``) can find this daemon
        Path(cfg["daemon_pidfile"]).write_text(f"{os.getpid()}\n")
    dns_argv = cfg["dnsmasq_argv"]
    standin.log(cfg, "Starting dnsmasq")
    proc = subprocess.Popen(
        dns_argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    standin.log(cfg, f"[{proc.pid}] started: {' '.join(dns_argv)}")

    stopping = threading.Event()

    def stop(_sig: int, _frame: FrameType | None) -> None:
        stopping.set()
        if proc.poll() is None:
            proc.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    assert proc.stderr is not None
    for raw in proc.stderr:
        parsed = journal_message(raw.decode("utf-8", "replace"))
        if parsed:
            ident, pid, msg = parsed
            standin.log(cfg, msg, ident=ident, pid=pid)
    proc.wait()
    while not stopping.wait(0.5):  # like multipassd, it outlives a dead dnsmasq
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
