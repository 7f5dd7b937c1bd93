"""A real Multipass-like network on Linux, built from namespaces, torn down whatever happens.

* a bridge ``mpkbr<id>`` with ``10.X.Y.1/24`` (never the real ``mpqemubr0``);
* one "VM": network namespace ``mpk-<id>-primary`` joined by a veth pair, its
  NIC renamed ``eth0`` with a QEMU MAC (``52:54:00:…``);
* a stand-in ``multipassd`` (``daemon.py``) running a real ``dnsmasq`` as its
  child, bound to the bridge only (DNS off), its lease file in the lab's own
  directory and its log lines journaled on arrival;
* a stand-in ``multipass`` client (``standin.py``) on a PATH of the test's own;
* faults: ``nft-drop`` (a dedicated nft table dropping DHCP on the bridge),
  ``pool-exhausted`` (a two-address range held by two other MACs),
  ``dnsmasq-down`` (dnsmasq killed after it started), ``bridge-down``.

Only the lab's own namespace and bridge are ever addressed. Every step that
creates something pushes its undo first; :meth:`Lab.teardown` runs them all in
reverse (errors logged, never raised), then sweeps anything left with this
lab's id.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mpkit.collect import Targets

from . import service, standin

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
SCENARIOS = ("healthy", "nft-drop", "pool-exhausted", "dnsmasq-down", "bridge-down")
INSTANCE = "primary"
TOOLS = ("ip", "dnsmasq", "udhcpc", "nft")


def unavailable_reason() -> str | None:
    """Why the lab cannot run here, or ``None``."""
    if not sys.platform.startswith("linux"):
        return "the lab needs Linux network namespaces"
    if os.geteuid() != 0:
        return "the lab needs root (network namespaces, a bridge, dnsmasq); run the suite with sudo"
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        return f"missing tools: {', '.join(missing)} (scripts/install-system-deps.sh installs them)"
    probe = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        return f"`ip netns` is unavailable: {probe.stderr.strip()}"
    return None


def sh(*argv: str, check: bool = True, timeout: float = 15.0) -> subprocess.CompletedProcess[str]:
    res = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, check=False)
    if check and res.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({res.returncode}): {res.stderr.strip()}")
    return res


def _free_subnet(rng: random.Random) -> ipaddress.IPv4Network:
    routes = json.loads(sh("ip", "-j", "route", "show", "table", "all", check=False).stdout or "[]")
    used = []
    for r in routes:
        dst = r.get("dst", "")
        if dst and dst != "default" and ":" not in dst:
            try:
                used.append(ipaddress.ip_network(dst, strict=False))
            except ValueError:
                pass
    for _ in range(200):
        net = ipaddress.ip_network(f"10.{rng.randrange(200, 255)}.{rng.randrange(256)}.0/24")
        if not any(net.overlaps(u) for u in used):
            return net
    raise RuntimeError("no free 10.x.y.0/24 for the lab")


class Lab:
    """One lab network for one scenario (use as a context manager)."""

    def __init__(self, workdir: Path, scenario: str = "healthy", *, timeout_s: float = 8.0) -> None:
        if scenario not in SCENARIOS:
            raise ValueError(f"unknown scenario {scenario!r}")
        rng = random.Random()
        self.id = f"{rng.randrange(16**4):04x}"
        self.scenario = scenario
        self.dir = workdir
        self.bridge = f"mpkbr{self.id}"
        self.ns = f"mpk-{self.id}-{INSTANCE}"
        self.veth = f"mpk{self.id}h0"
        self.nft_table = f"mpk_lab_{self.id}"
        self.net = _free_subnet(rng)
        hosts = list(self.net.hosts())
        self.gateway = str(hosts[0])
        self.mac = "52:54:00:" + ":".join(f"{rng.randrange(256):02x}" for _ in range(3))
        if scenario == "pool-exhausted":
            self.range = (str(hosts[1]), str(hosts[2]))
        else:
            self.range = (str(hosts[1]), str(hosts[-1]))
        self.timeout_s = timeout_s
        self.bin = self.dir / "bin"
        self.journal_file = self.dir / "multipassd.journal"
        self.lease_file = self.dir / "dnsmasq.leases"
        self.state_file = self.dir / "multipassd-vm-instances.json"
        self.config_file = self.dir / "standin.json"
        self.dnsmasq_pidfile = self.dir / "dnsmasq.pid"
        self.daemon_pidfile = self.dir / "multipassd.pid"
        self.daemon: subprocess.Popen[bytes] | None = None
        self._undo: list[tuple[str, Callable[[], Any]]] = []
        self.timings: dict[str, float] = {}

    # ----- life cycle ---------------------------------------------------------------------------
    def __enter__(self) -> Lab:
        try:
            self.build()
        except BaseException:
            self.teardown()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.teardown()

    def _push(self, what: str, fn: Callable[[], Any]) -> None:
        self._undo.append((what, fn))

    def build(self) -> None:
        t0 = time.monotonic()
        self.dir.mkdir(parents=True, exist_ok=True)
        self._write_standin()
        # bridge
        self._push("bridge", lambda: sh("ip", "link", "del", self.bridge, check=False))
        sh("ip", "link", "add", self.bridge, "type", "bridge", "stp_state", "0", "forward_delay", "0")
        sh("ip", "addr", "add", f"{self.gateway}/{self.net.prefixlen}", "dev", self.bridge)
        sh("ip", "link", "set", self.bridge, "up")
        # the VM: a namespace with a veth into the bridge
        self._push("namespace", lambda: sh("ip", "netns", "del", self.ns, check=False))
        sh("ip", "netns", "add", self.ns)
        self._push("veth", lambda: sh("ip", "link", "del", self.veth, check=False))
        guest_tmp = f"mpk{self.id}g0"
        sh("ip", "link", "add", self.veth, "type", "veth", "peer", "name", guest_tmp)
        sh("ip", "link", "set", guest_tmp, "netns", self.ns)
        sh("ip", "-n", self.ns, "link", "set", guest_tmp, "name", "eth0")
        sh("ip", "-n", self.ns, "link", "set", "eth0", "address", self.mac)
        sh("ip", "-n", self.ns, "link", "set", "lo", "up")
        sh("ip", "link", "set", self.veth, "master", self.bridge)
        sh("ip", "link", "set", self.veth, "up")
        # daemon start-up lines, then dnsmasq
        cfg = self.config()
        standin.log(cfg, "Using iptables-nft for firewall rules.")
        if self.scenario == "pool-exhausted":
            other = [f"52:54:00:ee:00:{i:02x}" for i in (1, 2)]
            self.lease_file.write_text(
                "".join(
                    f"0 {m} {ip} old-vm{i} *\n"
                    for i, (m, ip) in enumerate(zip(other, self.range, strict=True), 1)
                )
            )
        self._start_daemon()
        if self.scenario == "dnsmasq-down":
            self.kill_dnsmasq()
        if self.scenario == "nft-drop":
            self._push("nft table", lambda: sh("nft", "delete", "table", "inet", self.nft_table, check=False))
            rules = (
                f"table inet {self.nft_table} {{\n"
                "  chain input { type filter hook input priority -10; policy accept;\n"
                f'    iifname "{self.bridge}" udp dport 67 counter drop\n  }}\n'
                "  chain output { type filter hook output priority -10; policy accept;\n"
                f'    oifname "{self.bridge}" udp dport 68 counter drop\n  }}\n'
                "}\n"
            )
            rules_file = self.dir / "lab.nft"
            rules_file.write_text(rules)
            sh("nft", "-f", str(rules_file))
        if self.scenario == "bridge-down":
            sh("ip", "link", "set", self.bridge, "down")
        self.timings["build_s"] = round(time.monotonic() - t0, 3)

    def _dnsmasq_argv(self) -> list[str]:
        return [
            "dnsmasq",
            "--keep-in-foreground",
            "--conf-file=/dev/null",
            "--port=0",
            "--strict-order",
            "--bind-interfaces",
            "--except-interface=lo",
            f"--interface={self.bridge}",
            f"--listen-address={self.gateway}",
            "--dhcp-no-override",
            "--dhcp-ignore-clid",
            "--dhcp-authoritative",
            f"--dhcp-leasefile={self.lease_file}",
            f"--pid-file={self.dnsmasq_pidfile}",
            f"--dhcp-range={self.range[0]},{self.range[1]},infinite",
            "--log-dhcp",
            "--log-facility=-",
            "--user=root",
            "--group=root",
        ]

    def _start_daemon(self) -> None:
        """The stand-in multipassd, which runs dnsmasq as its child."""
        self._push("daemon", self._stop_daemon)
        self.daemon = subprocess.Popen(
            [
                str(self.bin / "multipassd"),
                "--verbosity",
                "debug",
                "--logger",
                "platform",
                "--config",
                str(self.config_file),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if self.daemon.poll() is not None:
                raise RuntimeError(f"the stand-in daemon exited at start ({self.daemon.returncode})")
            if self.journal_file.exists() and "DHCP, sockets bound" in self.journal_file.read_text(
                errors="replace"
            ):
                return
            time.sleep(0.05)
        raise RuntimeError("dnsmasq did not come up within 5 s")

    def _dnsmasq_pid(self) -> int | None:
        try:
            return int(self.dnsmasq_pidfile.read_text().strip())
        except (OSError, ValueError):
            return None

    def kill_dnsmasq(self) -> None:
        """SIGTERM the lab's dnsmasq (only the pid it wrote itself) and wait until it is gone."""
        pid = self._dnsmasq_pid()
        if pid is None:
            return
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
            time.sleep(0.05)
        if Path(f"/proc/{pid}").exists():
            os.kill(pid, signal.SIGKILL)

    def _stop_daemon(self) -> None:
        service.stop(self._restarted_daemon())  # a daemon restarted through the ``snap`` stand-in
        proc, self.daemon = self.daemon, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        self.kill_dnsmasq()

    def _restarted_daemon(self) -> int | None:
        """The pid of a daemon started by ``snap restart multipass`` (not the lab's own child)."""
        pid = service.read_pid(str(self.daemon_pidfile))
        if pid is None or (self.daemon is not None and pid == self.daemon.pid):
            return None
        return pid

    def teardown(self) -> None:
        """Undo everything, newest first; never raises. Then sweep this lab's leftovers."""
        while self._undo:
            what, fn = self._undo.pop()
            try:
                if what == "namespace":
                    standin.kill_ns_processes(self.ns)
                fn()
            except Exception as exc:  # keep tearing down the rest
                log.warning("lab teardown: %s: %s", what, exc)
        self.sweep()

    def sweep(self) -> None:
        """Remove anything still carrying this lab's id (only ours: the id is random)."""
        for line in sh("ip", "netns", "list", check=False).stdout.splitlines():
            name = line.split()[0] if line.split() else ""
            if name.startswith(f"mpk-{self.id}-"):
                standin.kill_ns_processes(name)
                sh("ip", "netns", "del", name, check=False)
        for dev in (self.bridge, self.veth):
            if sh("ip", "link", "show", dev, check=False).returncode == 0:
                sh("ip", "link", "del", dev, check=False)
        if sh("nft", "list", "table", "inet", self.nft_table, check=False).returncode == 0:
            sh("nft", "delete", "table", "inet", self.nft_table, check=False)

    def leftovers(self) -> list[str]:
        """What of this lab still exists (empty after a good teardown)."""
        left = []
        if any(ln.startswith(self.ns) for ln in sh("ip", "netns", "list", check=False).stdout.splitlines()):
            left.append(self.ns)
        for dev in (self.bridge, self.veth):
            if sh("ip", "link", "show", dev, check=False).returncode == 0:
                left.append(dev)
        if sh("nft", "list", "table", "inet", self.nft_table, check=False).returncode == 0:
            left.append(f"nft table {self.nft_table}")
        if self.daemon is not None and self.daemon.poll() is None:
            left.append("multipassd stand-in")
        pid = self._dnsmasq_pid()
        if pid is not None and service.alive(pid):
            left.append(f"dnsmasq {pid}")
        restarted = self._restarted_daemon()
        if service.alive(restarted):
            left.append(f"restarted multipassd stand-in {restarted}")
        return left

    # ----- the stand-in -------------------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        return json.loads(self.config_file.read_text())

    def _write_standin(self) -> None:
        script = self.dir / "udhcpc.script"
        script.write_text(
            "#!/bin/sh\n"
            'case "$1" in\n'
            '  bound|renew) ip addr flush dev "$interface"; ip addr add "$ip/$subnet" dev "$interface" ;;\n'
            '  deconfig) ip addr flush dev "$interface" ;;\n'
            "esac\n"
        )
        script.chmod(0o755)
        cfg = {
            "bridge": self.bridge,
            "journal_file": str(self.journal_file),
            "state_file": str(self.state_file),
            "lease_file": str(self.lease_file),
            "timeout_s": self.timeout_s,
            "dhcp_script": str(script),
            "version": "1.16.1",
            "daemon_pid": 2231,
            "instances": {INSTANCE: {"ns": self.ns, "mac": self.mac}},
            "dnsmasq_argv": self._dnsmasq_argv(),
            "dnsmasq_pidfile": str(self.dnsmasq_pidfile),
            "daemon_pidfile": str(self.daemon_pidfile),
            "daemon_argv": [
                str(self.bin / "multipassd"),
                "--verbosity",
                "debug",
                "--logger",
                "platform",
                "--config",
                str(self.config_file),
            ],
        }
        self.config_file.write_text(json.dumps(cfg, indent=2))
        self.bin.mkdir(exist_ok=True)
        wrapper = self.bin / "multipass"
        wrapper.write_text(
            f'#!/bin/sh\nexec "{sys.executable}" "{HERE / "standin.py"}" --config "{self.config_file}" "$@"\n'
        )
        wrapper.chmod(0o755)
        daemon = self.bin / "multipassd"
        daemon.write_text(
            f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {str(HERE)!r})\nimport daemon\n"
            "sys.exit(daemon.main(sys.argv[1:]))\n"
        )
        daemon.chmod(0o755)
        snap = self.bin / "snap"  # `snap restart multipass`: restarts the stand-in daemon
        snap.write_text(
            f'#!/bin/sh\nexec "{sys.executable}" "{HERE / "service.py"}" --config "{self.config_file}" "$@"\n'
        )
        snap.chmod(0o755)
        standin.set_state(cfg, INSTANCE, "Stopped")

    def targets(self) -> Targets:
        """Where collection looks in this lab (instead of the real Multipass's locations)."""
        return Targets(
            bridge=self.bridge,
            lease_file=str(self.lease_file),
            vm_instances=str(self.state_file),
            data_dir=str(self.dir),
            multipass=(str(self.bin / "multipass"),),
            journal_command=(sys.executable, str(HERE / "journal.py"), str(self.journal_file)),
            process_filter=rf"multipass|{self.bridge}",
            daemon_restart=(str(self.bin / "snap"), "restart", "multipass"),
        )
