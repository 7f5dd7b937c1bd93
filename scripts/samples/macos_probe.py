"""The shape every macOS sample shares: one ``mpkit probe <instance>`` run on a Mac.

The daemon started at boot (its log opens with the instances it found), then
the probe gathers the host facts, times one ``multipass start`` while it
snapshots the lease file and the ARP table, and collects everything else
afterwards. A sample fills in a :class:`MacCase` (the host and the instance)
and a *timeline*: what happened during the attempt, from the guest bringing
its NIC up to the end of the wait, returned as a :class:`MacAttempt`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from .bundle import Bundle
from .clock import S, minutes_back_to, snap_dir, snapshot_times, us_of
from .common import list_table, ps_block, qmp_greeting, version_txt
from .macos import MAC_DATA, MAC_RES, MAC_TMP, DaemonLog, MacHost, mac_ifconfig, mac_qemu_args, sw_vers


@dataclass
class MacCase:
    """Everything that differs between the macOS bundles."""

    name: str
    seed: int
    off: int
    tzname: str
    hostname: str
    macos: str
    build: str
    darwin: str
    mp_ver: str
    qemu: tuple[int, int, int]
    inst: str
    mac: str
    image: str
    cpus: int
    mem: int
    boot_local: str  # daemon start (local)
    probe_local: str  # mpkit probe start (local)
    root: bool
    host: MacHost
    daemon_pid: int
    other_instances: list[tuple[str, str]]  # (name, image) of stopped instances
    scope: int = 24

    @property
    def qemu_args(self) -> list[str]:
        """The instance's ``qemu-system-aarch64`` arguments."""
        return mac_qemu_args(self.inst, self.mac, self.image, self.cpus, self.mem)


@dataclass
class MacAttempt:
    """What one start attempt left behind, as the probe reads it during and after the attempt."""

    end: int
    exit_code: int
    outcome: str
    client: str
    #: the lease file and ``arp -an`` as they read at an instant
    leases_at: Callable[[int], str]
    arp_at: Callable[[int], str]
    list_rows: list[tuple[str, str, str, str]]
    routes: str
    #: socketfilterfw output by option (see ``macos.firewall_outputs``)
    firewall: dict[str, str]
    bootpd_log: str
    #: (pid, start) of the bootpd that launchd started on demand, if a request reached it
    bootpd: tuple[int, int] | None = None
    #: what only root can read (the sample's probe ran with sudo)
    pf_rules: str = ""
    vm_instances: str = ""
    #: (start, text) of the DHCP capture (root)
    tcpdump: tuple[int, str] | None = None
    #: ``log show`` for unified.log was killed at its timeout
    unified_timeout: bool = False


Timeline = Callable[[DaemonLog, random.Random, int], MacAttempt]


@dataclass
class _Spawned:
    """The running QEMU process of the attempt."""

    pid: int
    started: int


def mac_probe(c: MacCase, *, timeline: Timeline) -> Bundle:
    """The common shape of a macOS ``mpkit probe <instance>`` run.

    ``timeline(log, rng, attempt_start)`` writes the attempt-specific daemon
    log lines (after ``Waiting for SSH``) and returns the DHCP, lease and ARP
    evidence the probe reads during and after the attempt.
    """
    rng = random.Random(c.seed)
    b = Bundle.for_host(
        c.name,
        platform="macos",
        os_version=c.macos,
        arch="arm64",
        hostname=c.hostname,
        off=c.off,
        tzname=c.tzname,
    )
    log = DaemonLog(c.off)
    boot = us_of(c.boot_local, c.off)
    p0 = us_of(c.probe_local, c.off)

    daemon_startup(log, rng, c, boot)
    t = host_facts(b, c, p0)
    if not c.root:
        why = f"not run: capturing DHCP on {b.targets.bridge} needs root (run mpkit probe with sudo)"
        b.capture(t, 0.0, None, error=why)
    start = t + int(rng.uniform(2.9, 3.3) * S)
    qemu = spawn_instance(log, rng, c, start)
    att = timeline(log, rng, start)
    snaps = take_snapshots(b, rng, att, start)
    b.record_attempt(c.inst, start, att.end, exit_code=att.exit_code, outcome=att.outcome, client=att.client)
    t = network_after(b, c, att, snaps[-1] + int(0.4 * S))
    t = logs_after(b, att, t, since_minutes=minutes_back_to(boot, p0))
    t = processes_and_daemon_log(b, c, att, log, t, boot=boot, qemu=qemu)
    b.finish(p0, t)
    return b


def daemon_startup(log: DaemonLog, rng: random.Random, c: MacCase, boot: int) -> None:
    """launchd starts multipassd at boot: it checks every instance's image, then listens."""
    pid = c.daemon_pid + 86
    t = boot
    names = [(c.inst, c.image)] + c.other_instances
    for name, img in sorted(names):
        path = f"{MAC_DATA}/qemu/vault/instances/{name}/{img}"
        t += int(rng.uniform(0.02, 0.05) * S)
        log(t, "debug", "qemu-img", f"[{pid}] started: qemu-img snapshot -l {path}")
        pid += rng.randint(1, 3)
        t += int(rng.uniform(0.02, 0.05) * S)
        log(t, "debug", "qemu-img", f"[{pid}] started: qemu-img amend -o compat=1.1 {path}")
        pid += rng.randint(1, 3)
    t += int(0.21 * S)
    log(t, "info", "rpc", "gRPC listening on unix:/var/run/multipass_socket")
    t += 3000
    log(t, "info", "daemon", f"Starting Multipass {c.mp_ver}")
    log(t + 150, "info", "daemon", f"Daemon arguments: {MAC_RES}/bin/multipassd --verbosity debug")


def host_facts(b: Bundle, c: MacCase, t: int) -> int:
    """The probe's first look at the host (OS, kernel, hypervisor, Multipass); returns the next instant."""
    b.collect("sw_vers.txt", t, 0.031, sw_vers(c.macos, c.build))
    t += int(0.05 * S)
    b.collect("uname.txt", t, 0.006, f"Darwin {c.hostname} {c.darwin}\n")
    t += int(0.02 * S)
    b.collect("hv_support.txt", t, 0.005, "kern.hv_support: 1\n")
    t += int(0.02 * S)
    b.collect("multipass-version.txt", t, 0.214, version_txt(c.mp_ver))
    t += int(0.25 * S)
    b.collect("local-driver.txt", t, 0.187, "qemu\n")
    return t + int(0.22 * S)


def spawn_instance(log: DaemonLog, rng: random.Random, c: MacCase, a: int) -> _Spawned:
    """The daemon spawns QEMU for the attempt started at ``a`` (the same in 1.14-1.16.1)."""
    args = c.qemu_args
    qpid = c.daemon_pid + 1800 + rng.randint(0, 400)
    log(a + 36_114, "debug", c.inst, "process working dir ''")
    log(a + 36_402, "info", c.inst, "process program 'qemu-system-aarch64'")
    log(a + 36_617, "info", c.inst, f"process arguments '{', '.join(args)}'")
    tmpname = "multipassd." + "".join(
        rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(6)
    )
    log(
        a + 49_870,
        "debug",
        "qemu-system-aarch64",
        f"[{qpid}] started: qemu-system-aarch64 -machine virt,gic-version=3 -machine virt -nographic "
        f"-dump-vmstate {MAC_TMP}/{tmpname}",
    )
    qpid += rng.randint(2, 5)
    log(a + 377_205, "info", c.inst, "process state changed to Starting")
    log(a + 391_118, "info", c.inst, "process state changed to Running")
    log(
        a + 391_506, "debug", "qemu-system-aarch64", f"[{qpid}] started: qemu-system-aarch64 {' '.join(args)}"
    )
    log(a + 391_733, "info", c.inst, "process started")
    log(a + 445_912, "debug", c.inst, f"QMP: {qmp_greeting(*c.qemu)}\n")
    log(a + 447_305, "debug", c.inst, 'QMP: {"return": {}}\n')
    log(a + 462_840, "debug", c.inst, "Waiting for SSH to be up")
    return _Spawned(qpid, a + 391_506)


def take_snapshots(b: Bundle, rng: random.Random, att: MacAttempt, start: int) -> list[int]:
    """The lease file and ``arp -an`` every 2-5 s from just before the attempt to just after it."""
    snaps = snapshot_times(rng, start - int(0.9 * S), att.end + int(1.0 * S))
    for s in snaps:
        d = f"snapshots/{snap_dir(s)}"
        b.collect("dhcpd_leases", s, 0.002, att.leases_at(s), folder=d)
        s2 = s + int(rng.uniform(0.003, 0.006) * S)
        b.collect("arp.txt", s2, 0.009, att.arp_at(s2), folder=d)
    return snaps


def network_after(b: Bundle, c: MacCase, att: MacAttempt, t: int) -> int:
    """After the attempt: the capture, ``multipass list``, leases, ARP, interfaces, routes, firewalls."""
    if att.tcpdump is not None:
        tstart, text = att.tcpdump
        b.capture(tstart, (t - tstart) / S, text)
        t += int(0.1 * S)
    b.collect("multipass-list.txt", t, 0.412, list_table(att.list_rows))
    t += int(0.45 * S)
    b.collect("dhcpd_leases", t, 0.002, att.leases_at(t))
    t += int(0.01 * S)
    b.collect("arp.txt", t, 0.011, att.arp_at(t))
    t += int(0.02 * S)
    b.collect("ifconfig.txt", t, 0.018, mac_ifconfig(c.host, scope=c.scope, macos15=c.macos >= "15"))
    t += int(0.03 * S)
    b.collect("routes.txt", t, 0.024, att.routes)
    t += int(0.04 * S)
    for argv in b.source("firewall.txt").commands:
        option = argv[-1]
        b.collect("firewall.txt", t, 0.041, att.firewall[option], pick=option)
        t += int(0.05 * S)
    if c.root:
        b.collect("pf-rules.txt", t, 0.017, att.pf_rules)
    else:
        error = "exit code 1: pfctl: /dev/pf: Permission denied"
        b.collect("pf-rules.txt", t, 0.009, None, exit_code=1, error=error)
    return t + int(0.03 * S)


def logs_after(b: Bundle, att: MacAttempt, t: int, *, since_minutes: int) -> int:
    """The unified-log extracts, reaching back past the daemon's start."""
    b.collect("bootpd.log", t, 4.826, att.bootpd_log, since_minutes=since_minutes)
    t += int(4.85 * S)
    if att.unified_timeout:
        b.collect(
            "unified.log",
            t,
            120.0,
            None,
            since_minutes=since_minutes,
            exit_code=None,
            timed_out=True,
            error="timed out after 120 s (log show was killed; nothing kept)",
        )
        t += int(120.1 * S)
    return t


def processes_and_daemon_log(
    b: Bundle, c: MacCase, att: MacAttempt, log: DaemonLog, t: int, *, boot: int, qemu: _Spawned
) -> int:
    """Last: the processes still running, the instance database and the daemon log; returns the end."""
    procs = [
        (c.daemon_pid, 1, (t - boot) / S + 1.2, f"{MAC_RES}/bin/multipassd --verbosity debug"),
        (
            c.daemon_pid + 77,
            1,
            (t - boot) / S - 14.0,
            "/Applications/Multipass.app/Contents/MacOS/multipass.gui --autostarting",
        ),
        (
            qemu.pid,
            c.daemon_pid,
            (t - qemu.started) / S,
            f"{MAC_RES}/bin/qemu-system-aarch64 {' '.join(c.qemu_args)}",
        ),
    ]
    if att.bootpd is not None:
        bp_pid, bp_start = att.bootpd
        procs.append((bp_pid, 1, (t - bp_start) / S, "/usr/libexec/bootpd"))
    procs.sort()
    b.collect("processes.txt", t, 0.052, ps_block(procs))
    t += int(0.07 * S)
    if c.root:
        b.collect("vm-instances.json", t, 0.001, att.vm_instances)
    else:
        b.collect("vm-instances.json", t, 0.001, None, error=f"permission denied: {b.targets.vm_instances}")
    t += int(0.01 * S)
    b.collect("multipassd.log", t, 0.006, log.text())
    return t + int(0.02 * S)
