"""Outputs that look the same on macOS and Linux: the multipass client, QMP, ``ps``, the instance database, tcpdump.

Each function returns the exact text a tool prints (or a file holds), with its
real spacing, so a sample only supplies the values.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from .clock import S, etime, tcpdump_ts

# --------------------------------------------------------------------------- multipass client


def version_txt(ver: str) -> str:
    """``multipass version`` with client and daemon at the same version."""
    return f"multipass   {ver}\nmultipassd  {ver}\n"


def list_table(rows: Sequence[tuple[str, str, str, str]]) -> str:
    """``multipass list``: (name, state, IPv4, image) rows under the fixed-width header."""
    out = [f"{'Name':<24}{'State':<18}{'IPv4':<17}Image\n"]
    out += [f"{n:<24}{s:<18}{ip:<17}{img}\n" for n, s, ip, img in rows]
    return "".join(out)


def client_timeout(instance: str) -> str:
    """What ``multipass start`` prints when the daemon's SSH wait ran out."""
    return f"start failed: The following errors occurred:\n{instance}: timed out waiting for response\n"


# --------------------------------------------------------------------------- QEMU machine protocol


def qmp_greeting(major: int, minor: int, micro: int, package: str = "") -> str:
    """The QMP greeting QEMU sends on start (as the daemon logs it after ``QMP: ``)."""
    version = {"qemu": {"micro": micro, "minor": minor, "major": major}, "package": package}
    return json.dumps({"QMP": {"version": version, "capabilities": ["oob"]}})


def qmp_nic(us: int, path: str) -> str:
    """The ``NIC_RX_FILTER_CHANGED`` event (the guest brought its NIC up), stamped at ``us``."""
    ts = {"seconds": us // S, "microseconds": us % S}
    return json.dumps({"timestamp": ts, "event": "NIC_RX_FILTER_CHANGED", "data": {"path": path}})


# --------------------------------------------------------------------------- host tools


def ps_block(rows: list[tuple[int, int, float, str]], *, width: int = 5) -> str:
    """``ps -o pid,ppid,etime,command`` (macOS: PID width 5; procps on Linux: 7)."""
    out = [f"{'PID':>{width}} {'PPID':>{width}} {'ELAPSED':>11} COMMAND\n"]
    out += [f"{pid:>{width}} {ppid:>{width}} {etime(el):>11} {cmd}\n" for pid, ppid, el, cmd in rows]
    return "".join(out)


def tcpdump_requests(times: Sequence[int], off: int, mac: str) -> str:
    """``tcpdump -n -l`` lines of a guest's DHCP requests that nobody answers."""
    return "".join(
        f"{tcpdump_ts(r, off)} IP 0.0.0.0.68 > 255.255.255.255.67: BOOTP/DHCP, Request from {mac}, length 300\n"
        for r in times
    )


# --------------------------------------------------------------------------- instance database


def vm_entry(
    mac: str, args: list[str], machine: str, cores: int, mem: int, disk: int, state: int
) -> dict[str, Any]:
    """One instance of ``multipassd-vm-instances.json`` (``state``: 1 stopped, 4 running, 8 unknown)."""
    return {
        "deleted": False,
        "disk_space": str(disk),
        "extra_interfaces": [],
        "mac_addr": mac,
        "mem_size": str(mem),
        "metadata": {"arguments": args, "machine_type": machine, "mount_data": {}},
        "mounts": [],
        "num_cores": cores,
        "ssh_username": "ubuntu",
        "state": state,
    }


def vm_db(entries: dict[str, dict[str, Any]]) -> str:
    """``multipassd-vm-instances.json`` as the daemon writes it (4-space indent, sorted keys)."""
    return json.dumps(entries, indent=4, sort_keys=True) + "\n"
