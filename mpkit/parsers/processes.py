"""Processes: ``ps -axo pid,ppid,etime,command`` (header optional), filtered to the interesting ones.

::

      PID  PPID     ELAPSED COMMAND
      412     1  2-03:04:05 /Library/Application Support/com.canonical.multipass/bin/multipassd --verbosity debug
     9120   412       01:12 /Library/Application Support/com.canonical.multipass/bin/qemu-system-aarch64 -machine virt …

gives ``pid=412 ppid=1 etime_s=183845 program=multipassd is_multipassd=True``
and ``pid=9120 program=qemu-system-aarch64 is_qemu=True
multipass_child=True``.  ``program`` is the base name of argv[0] (paths with
spaces such as ``Application Support`` are kept whole).
``other_hypervisor`` names another virtualisation product found running:
``parallels`` (prl_*), ``vmware`` (vmware-vmx, VMware Fusion), ``virtualbox``
(VBoxHeadless, VBoxSVC, VirtualBoxVM), ``docker`` (Docker Desktop's VM
helpers), ``utm``, ``lima``/``colima``, ``podman``, ``orbstack``,
``vfkit``, ``hyperkit``, ``libvirt``, and ``qemu`` for a QEMU that multipassd
did not start (not its descendant, no ``multipass`` in the command).
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from ..schema import Column, Coverage, conform
from ._base import BLANK, fraction_matching, lines, numbered

KIND = "processes"
FRAME = "processes"
FILENAMES = ("processes.txt",)
PLATFORMS = ("macos", "linux")

SCHEMA = {
    "line": Column("int", "1-based line"),
    "pid": Column("int", "process id"),
    "ppid": Column("int", "parent process id"),
    "etime": Column("str", "elapsed time as printed ([[dd-]hh:]mm:ss)"),
    "etime_s": Column("int", "elapsed time in seconds"),
    "command": Column("str", "the command line as printed"),
    "program": Column("str", "base name of argv[0]"),
    "is_qemu": Column("bool", "a qemu-system-* / qemu-kvm process"),
    "is_bootpd": Column("bool", "macOS bootpd (the DHCP server of vmnet)"),
    "is_dnsmasq": Column("bool", "dnsmasq (the DHCP server of Multipass on Linux, or another one)"),
    "is_multipassd": Column("bool", "the Multipass daemon"),
    "multipass_child": Column("bool", "a descendant of a multipassd process listed here"),
    "other_hypervisor": Column("str", "another virtualisation product (see module doc), NA otherwise"),
}

_ETIME = r"(?:(?:\d{1,7}-)?\d{1,9}:)?\d{1,9}:\d{1,9}"
LINE_RE = re.compile(
    rf"^\s*(?P<pid>\d{{1,10}})\s+(?P<ppid>\d{{1,10}})\s+(?P<etime>{_ETIME})\s+(?P<cmd>\S.*)$"
)
_HEADER = re.compile(r"^\s*PID\s+PPID\s+(?:ELAPSED|ETIME)\s+(?:COMMAND|CMD|ARGS)\s*$")
_ARGV0 = re.compile(r"^(/(?:[^ ]| (?=[^-/ ][^ ]*/))*)|^(\S+)")
_OTHERS = [
    ("parallels", re.compile(r"^prl_|Parallels Desktop", re.I)),
    ("vmware", re.compile(r"vmware-vmx|VMware Fusion", re.I)),
    ("virtualbox", re.compile(r"^VBox(?:Headless|SVC|XPCOMIPCD|NetDHCP)|VirtualBoxVM")),
    (
        "docker",
        re.compile(
            r"com\.docker\.(?:virtualization|hyperkit|vmnetd|krun)|Docker\.app/.*(?:virtualization|qemu)"
        ),
    ),
    ("utm", re.compile(r"UTM\.app|QEMULauncher")),
    ("colima", re.compile(r"colima")),
    ("lima", re.compile(r"limactl|/\.lima/")),
    ("podman", re.compile(r"podman.*machine|gvproxy")),
    ("orbstack", re.compile(r"OrbStack", re.I)),
    ("vfkit", re.compile(r"^vfkit$")),
    ("hyperkit", re.compile(r"^hyperkit$")),
    ("libvirt", re.compile(r"^libvirtd$")),
]


def etime_seconds(value: str) -> int | None:
    """``2-03:04:05`` → 183845; ``01:12`` → 72."""
    m = re.fullmatch(r"(?:(?:(\d+)-)?(\d+):)?(\d+):(\d+)", value)
    if not m:
        return None
    days, hours, mins, secs = (int(x) if x else 0 for x in m.groups())
    return ((days * 24 + hours) * 60 + mins) * 60 + secs


def _program(cmd: str) -> str:
    if cmd.startswith("["):
        return cmd
    m = _ARGV0.match(cmd)
    argv0 = (m[1] or m[2]) if m else cmd
    return argv0.rstrip("/").rsplit("/", 1)[-1]


def sniff(text: str) -> float:
    """How sure it is, from 0 to 1, that ``text`` is processes: ``ps -axo pid,ppid,etime,command`` (header optional), filtered to the interesting ones."""
    head = text[:200_000]
    if any(_HEADER.match(ln) or LINE_RE.match(ln) for ln in lines(head)[:200]):
        return fraction_matching(text, re.compile(f"{LINE_RE.pattern}|{_HEADER.pattern}"))
    return 0.0


def parse(text: str) -> pd.DataFrame:
    """Processes: ``ps -axo pid,ppid,etime,command`` (header optional), filtered to the interesting ones as the ``processes`` frame; every line is counted as parsed, ignored or rejected."""
    cov = Coverage()
    rows: list[dict[str, Any]] = []
    for no, ln in numbered(text, cov):
        if BLANK.match(ln) or _HEADER.match(ln):
            cov.skip()
            continue
        m = LINE_RE.match(ln)
        if not m:
            cov.reject(no, ln)
            continue
        cmd = m["cmd"]
        prog = _program(cmd)
        rows.append(
            {
                "line": no,
                "pid": int(m["pid"]),
                "ppid": int(m["ppid"]),
                "etime": m["etime"],
                "etime_s": etime_seconds(m["etime"]),
                "command": cmd,
                "program": prog,
                "is_qemu": bool(re.match(r"qemu-(?:system-\S+|kvm)$", prog)),
                "is_bootpd": prog == "bootpd",
                "is_dnsmasq": prog == "dnsmasq",
                "is_multipassd": prog == "multipassd",
            }
        )
        cov.ok()
    daemons = {r["pid"] for r in rows if r["is_multipassd"]}
    parent = {r["pid"]: r["ppid"] for r in rows}
    for r in rows:
        pid, seen = r["ppid"], set()
        while pid in parent and pid not in daemons and pid not in seen:
            seen.add(pid)
            pid = parent[pid]
        r["multipass_child"] = pid in daemons
        other = next((n for n, rx in _OTHERS if rx.search(r["program"]) or rx.search(r["command"])), None)
        if other is None and r["is_qemu"] and not r["multipass_child"] and "multipass" not in r["command"]:
            other = "qemu"
        r["other_hypervisor"] = other
    return conform(rows, SCHEMA, cov)
