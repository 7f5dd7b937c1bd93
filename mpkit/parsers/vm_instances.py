"""The daemon's instance database, ``multipassd-vm-instances.json`` → the ``instance_db`` frame.

Input (abridged)::

    {"primary": {"deleted": false, "disk_space": "5368709120", "mac_addr": "52:54:00:3c:0a:f1",
                 "mem_size": "1073741824", "num_cores": 1, "ssh_username": "ubuntu", "state": 8,
                 "metadata": {"arguments": ["-nic", "vmnet-shared,model=virtio-net-pci,mac=52:54:00:3c:0a:f1"],
                              "machine_type": "virt-7.1"}}}

Rows (line, name, state, state_name, mac, nic_mac, has_loadvm, …)::

    2  primary  8  unknown  52:54:00:3c:0a:f1  52:54:00:3c:0a:f1  False

``mac`` comes from ``mac_addr``, ``nic_mac`` from the first ``-nic …,mac=…`` of the QEMU
arguments (they differ when the DB and the VM disagree). A "ghost" record (every field empty)
is kept with ``ghost`` true. Broken JSON gives an empty frame and one reject.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pandas as pd

from ..macaddr import canon_mac
from ..schema import Column, Coverage, conform
from ._json import line_of, load_json, text_or_none, wrong_shape

KIND = "vm_instances"
FRAME = "instance_db"
FILENAMES = ("vm-instances.json", "multipassd-vm-instances.json")
PLATFORMS = ("macos", "linux", "windows")
LINE_RE = None

STATE_NAMES = ("off", "stopped", "starting", "restarting", "running", "delayed_shutdown",
               "suspending", "suspended", "unknown", "unavailable")  # fmt: skip

SCHEMA = {
    "line": Column("int", "1-based line of the instance's key"),
    "name": Column("str", "instance name (the key)"),
    "state": Column("int", "persisted state enum (0 off, 1 stopped, 2 starting, … 4 running, … 8 unknown)"),
    "state_name": Column("str", "the state's enum name (off, stopped, starting, …, unknown, unavailable)"),
    "deleted": Column("bool", "deleted (recoverable) instance"),
    "num_cores": Column("int", "CPU cores"),
    "mem_size": Column("int", "memory in bytes"),
    "disk_space": Column("int", "disk size in bytes"),
    "mac": Column("str", "canonical default NIC MAC (`mac_addr`)"),
    "nic_mac": Column("str", "canonical MAC of the first `-nic …,mac=` QEMU argument, NA when absent"),
    "machine_type": Column("str", "QEMU machine type from metadata (virt-7.1, …)"),
    "has_loadvm": Column("bool", "the QEMU arguments contain `-loadvm` (resume from a suspend snapshot)"),
    "extra_macs": Column("str", "canonical MACs of `extra_interfaces`, comma-separated"),
    "ssh_username": Column("str", "user for SSH (ubuntu)"),
    "ghost": Column("bool", "every field is empty (the daemon ignores such a record)"),
}

_SIZE = re.compile(r"^\s*(?P<num>\d+(?:\.\d+)?)\s*(?P<unit>[KMGT]?)(?:i?B)?\s*$", re.I)
_NIC_MAC = re.compile(r"(?:^|,)mac=(?P<mac>[0-9A-Fa-f:.\-]+)")


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and (m := _SIZE.match(value)):
        scale = 1024 ** "KMGT".find(m.group("unit").upper()) * 1024 if m.group("unit") else 1
        return int(float(m.group("num")) * scale)
    return None


def _arguments(metadata: Any) -> list[str]:
    args = metadata.get("arguments") if isinstance(metadata, dict) else None
    if isinstance(args, str):
        return args.split()
    return [a for a in args if isinstance(a, str)] if isinstance(args, list) else []


def _nic_mac(args: list[str]) -> str | None:
    for flag, value in zip(args, args[1:], strict=False):
        if flag == "-nic" and (m := _NIC_MAC.search(value)):
            return canon_mac(m.group("mac"))
    return None


def _empty(value: Any) -> bool:
    return value in (None, "", 0, False, [], {}) or (
        isinstance(value, dict) and all(map(_empty, value.values()))
    )


def _row(name: str, rec: dict[str, Any]) -> dict[str, Any]:
    state = _int(rec.get("state"))
    args = _arguments(rec.get("metadata"))
    extras = rec.get("extra_interfaces")
    extra_macs = [
        m for e in (extras if isinstance(extras, list) else []) if isinstance(e, dict)
        if (m := canon_mac(e.get("mac_address")))
    ]  # fmt: skip
    metadata = rec.get("metadata")
    deleted = rec.get("deleted")
    return {
        "name": name or None,
        "state": state,
        "state_name": STATE_NAMES[state] if state is not None and 0 <= state < len(STATE_NAMES) else None,
        "deleted": deleted if isinstance(deleted, bool) else None,
        "num_cores": _int(rec.get("num_cores")),
        "mem_size": _int(rec.get("mem_size")),
        "disk_space": _int(rec.get("disk_space")),
        "mac": canon_mac(rec.get("mac_addr")),
        "nic_mac": _nic_mac(args),
        "machine_type": text_or_none(metadata.get("machine_type")) if isinstance(metadata, dict) else None,
        "has_loadvm": "-loadvm" in args,
        "extra_macs": ",".join(extra_macs) or None,
        "ssh_username": text_or_none(rec.get("ssh_username")),
        "ghost": all(map(_empty, rec.values())),
    }


def parse(text: str) -> pd.DataFrame:
    """The daemon's instance database, ``multipassd-vm-instances.json`` as the ``instance_db`` frame; every line is counted as parsed, ignored or rejected."""
    cov = Coverage()
    doc = load_json(text, cov)
    if doc is not None and not isinstance(doc, dict):
        wrong_shape(cov, "the document is not an object keyed by instance name")
        return conform([], SCHEMA, cov)
    rows: list[dict[str, Any]] = []
    pos = 0
    for name, rec in (doc or {}).items():
        line, pos = line_of(text, rf'"{re.escape(json.dumps(name)[1:-1])}"\s*:', pos)
        if not isinstance(rec, dict):
            cov.unparse(line or 1, f"{name}: {str(rec)[:200]}")
            continue
        rows.append({"line": line, **_row(name, rec)})
    return conform(rows, SCHEMA, cov)


def sniff(text: str) -> float:
    """How sure it is, from 0 to 1, that ``text`` is the daemon's instance database, ``multipassd-vm-instances.json``."""
    head = text[:200_000]
    if not head.lstrip().startswith("{"):
        return 0.0
    keys = len(
        set(re.findall(r'"(mac_addr|num_cores|mem_size|disk_space|ssh_username|extra_interfaces)"', head))
    )
    try:
        doc = json.loads(head)
    except (ValueError, RecursionError):
        return 0.8 if keys >= 3 else 0.0
    ok = isinstance(doc, dict) and any(isinstance(v, dict) and "mac_addr" in v for v in doc.values())
    return 0.95 if ok or (isinstance(doc, dict) and keys >= 3) else 0.0
