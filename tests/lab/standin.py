"""A small stand-in for the ``multipass`` client + daemon, driving network-namespace "VMs".

Used by the lab only (``tests/lab/netlab.py`` writes a ``multipass`` wrapper on
a PATH private to the test). Everything beneath it is real: ``start`` brings the
namespace's NIC up and runs a real DHCP client (busybox ``udhcpc``) against the
lab's real dnsmasq, reads the real lease file (exact MAC match, like
Multipass's ``dnsmasq_server.cpp``) and checks the guest answers on the bridge
(a TCP connect to port 22 of the namespace address: refused counts as "up").

It writes daemon lines in ``journalctl -o short-iso`` form (the journald logger
sends only the message) to the configured journal file:

* ``process state changed to Starting`` / ``Running``, ``Waiting for SSH to be up``;
* on success ``Caching initial SSH session``; on failure nothing more, and the
  client prints ``NAME: timed out waiting for response`` after ``timeout_s``.

Config (JSON): bridge, journal_file, state_file, lease_file, timeout_s,
dhcp_script, version, daemon_pid, instances {name: {ns, mac}}.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

STATES = {"Stopped": 1, "Starting": 2, "Running": 4, "Unknown": 8}


def journal_line(cfg: dict[str, Any], message: str, ident: str = "multipassd", pid: int | None = None) -> str:
    ts = dt.datetime.now().astimezone().strftime("%Y-%m-%dT%H:%M:%S%z")
    return f"{ts} {socket.gethostname()} {ident}[{pid or cfg['daemon_pid']}]: {message}\n"


def log(cfg: dict[str, Any], message: str, **kw: Any) -> None:
    with open(cfg["journal_file"], "a", encoding="utf-8") as fh:
        fh.write(journal_line(cfg, message, **kw))


def load_state(cfg: dict[str, Any]) -> dict[str, Any]:
    try:
        return json.loads(Path(cfg["state_file"]).read_text())
    except (OSError, ValueError):
        return {}


def save_state(cfg: dict[str, Any], state: dict[str, Any]) -> None:
    tmp = cfg["state_file"] + ".tmp"
    Path(tmp).write_text(json.dumps(state, indent=4))
    os.replace(tmp, cfg["state_file"])


def set_state(cfg: dict[str, Any], name: str, state_name: str, ipv4: str | None = None) -> None:
    state = load_state(cfg)
    inst = cfg["instances"][name]
    entry = state.setdefault(
        name,
        {
            "deleted": False,
            "disk_space": "5368709120",
            "mac_addr": inst["mac"],
            "mem_size": "1073741824",
            "metadata": {},
            "mounts": [],
            "num_cores": 1,
            "ssh_username": "ubuntu",
            "extra_interfaces": [],
        },
    )
    entry["state"] = STATES[state_name]
    entry["_ipv4"] = ipv4
    save_state(cfg, state)


def state_name(entry: dict[str, Any]) -> str:
    code = entry.get("state", 1)
    return next((k for k, v in STATES.items() if v == code), "Unknown")


def lease_ip(cfg: dict[str, Any], mac: str) -> str | None:
    try:
        text = Path(cfg["lease_file"]).read_text()
    except OSError:
        return None
    for line in text.splitlines():
        fields = line.split(" ")
        if len(fields) >= 3 and fields[1] == mac:
            return fields[2]
    return None


def reachable(ip: str) -> bool:
    """A TCP connect to the guest (own namespace only): an answer, even a refusal, means it is up."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(1.0)
        try:
            s.connect((ip, 22))
            return True
        except ConnectionRefusedError:
            return True
        except OSError:
            return False


def ns_exec(ns: str, *argv: str, timeout: float = 10.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ip", "netns", "exec", ns, *argv], capture_output=True, text=True, timeout=timeout, check=False
    )


def kill_ns_processes(ns: str) -> None:
    out = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True, check=False).stdout
    for pid in out.split():
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass


def cmd_start(cfg: dict[str, Any], name: str) -> int:
    if name not in cfg["instances"]:
        print(f'start failed: instance "{name}" does not exist', file=sys.stderr)
        return 2
    inst = cfg["instances"][name]
    ns, mac = inst["ns"], inst["mac"]
    t0 = time.monotonic()
    deadline = t0 + float(cfg["timeout_s"])
    log(cfg, "process working dir ''")
    log(cfg, "process program 'qemu-system-x86_64'")
    log(
        cfg,
        "process arguments '--enable-kvm, -cpu, host, -nic, "
        f"tap,ifname=tap-{mac.replace(':', '')[-8:]},script=no,downscript=no,model=virtio-net-pci,mac={mac}, "
        "-qmp, stdio, -chardev, null,id=char0, -serial, chardev:char0, -nographic'",
    )
    log(cfg, "process state changed to Starting")
    set_state(cfg, name, "Starting")
    log(cfg, "process state changed to Running")
    log(cfg, "process started")
    ns_exec(ns, "ip", "link", "set", "eth0", "up")
    secs = int(time.time())
    log(
        cfg,
        f'QMP: {{"timestamp": {{"seconds": {secs}, "microseconds": 0}}, "event": "NIC_RX_FILTER_CHANGED", '
        '"data": {"path": "/machine/peripheral-anon/device[1]/virtio-backend"}}',
    )
    log(cfg, "Waiting for SSH to be up")
    tries = max(1, int(cfg["timeout_s"]) - 1)
    try:  # the guest's DHCP client: real udhcpc in the namespace
        ns_exec(
            ns,
            "udhcpc",
            "-f",
            "-q",
            "-n",
            "-i",
            "eth0",
            "-t",
            str(tries),
            "-T",
            "1",
            "-s",
            cfg["dhcp_script"],
            timeout=max(0.5, deadline - time.monotonic()),
        )
    except subprocess.TimeoutExpired:
        pass
    finally:
        kill_ns_processes(ns)
    while time.monotonic() < deadline:  # the daemon's SSH wait: lease lookup, then connect
        ip = lease_ip(cfg, mac)
        if ip and reachable(ip):
            log(cfg, "Caching initial SSH session")
            set_state(cfg, name, "Running", ip)
            return 0
        time.sleep(0.5)
    set_state(cfg, name, "Unknown")
    print("start failed: The following errors occurred:", file=sys.stderr)
    print(f"{name}: timed out waiting for response", file=sys.stderr)
    return 2


def cmd_stop(cfg: dict[str, Any], names: list[str]) -> int:
    for name in names or list(cfg["instances"]):
        if name not in cfg["instances"]:
            print(f'stop failed: instance "{name}" does not exist', file=sys.stderr)
            return 2
        ns = cfg["instances"][name]["ns"]
        kill_ns_processes(ns)
        ns_exec(ns, "ip", "addr", "flush", "dev", "eth0")
        ns_exec(ns, "ip", "link", "set", "eth0", "down")
        log(cfg, "process state changed to NotRunning")
        set_state(cfg, name, "Stopped")
    return 0


def _rows(cfg: dict[str, Any]) -> list[dict[str, Any]]:
    state = load_state(cfg)
    rows = []
    for name in cfg["instances"]:
        entry = state.get(name, {"state": 1})
        st = state_name(entry)
        ip = entry.get("_ipv4") if st == "Running" else None
        rows.append({"name": name, "state": st, "ipv4": [ip] if ip else [], "release": "Ubuntu 24.04 LTS"})
    return rows


def cmd_list(cfg: dict[str, Any], fmt: str) -> int:
    rows = _rows(cfg)
    if fmt == "json":
        print(json.dumps({"list": [{**r, "release": "24.04 LTS"} for r in rows]}, indent=4))
        return 0
    print(f"{'Name':<24}{'State':<18}{'IPv4':<17}Image")
    for r in rows:
        ip = r["ipv4"][0] if r["ipv4"] else "--"
        print(f"{r['name']:<24}{r['state']:<18}{ip:<17}{r['release']}")
    return 0


def cmd_info(cfg: dict[str, Any], fmt: str) -> int:
    rows = _rows(cfg)
    if fmt == "json":
        info = {r["name"]: {"state": r["state"], "ipv4": r["ipv4"], "release": r["release"]} for r in rows}
        print(json.dumps({"errors": [], "info": info}, indent=4))
        return 0
    for i, r in enumerate(rows):
        if i:
            print()
        print(f"{'Name:':<16}{r['name']}")
        print(f"{'State:':<16}{r['state']}")
        print(f"{'IPv4:':<16}{r['ipv4'][0] if r['ipv4'] else '--'}")
        print(f"{'Release:':<16}{r['release']}")
    return 0


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] != "--config":
        print("usage: standin.py --config FILE COMMAND ...", file=sys.stderr)
        return 2
    cfg = json.loads(Path(argv[1]).read_text())
    args = argv[2:]
    if not args:
        print("Usage: multipass [options] <command>", file=sys.stderr)
        return 2
    cmd, rest = args[0], args[1:]
    fmt = rest[rest.index("--format") + 1] if "--format" in rest[:-1] else "table"
    names = [a for a in rest if not a.startswith("-") and a != fmt]
    if cmd == "start" and names:
        return cmd_start(cfg, names[0])
    if cmd == "stop":
        return cmd_stop(cfg, names)
    if cmd == "list":
        return cmd_list(cfg, fmt)
    if cmd == "info":
        return cmd_info(cfg, fmt)
    if cmd == "version":
        print(f"multipass   {cfg['version']}\nmultipassd  {cfg['version']}")
        return 0
    if cmd == "get" and names == ["local.driver"]:
        print("qemu")
        return 0
    print(f"Error: unknown command '{cmd}'", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
