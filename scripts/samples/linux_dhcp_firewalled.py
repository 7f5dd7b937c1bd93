"""linux-dhcp-firewalled: an nftables rule on the host drops the guest's DHCP before dnsmasq sees it.

Cause shown: ``host-firewall-blocks-dhcp`` on Ubuntu 24.04 with the Multipass
1.15.0 snap (QEMU driver, ``tap-…`` port on ``mpqemubr0``). A hand-made
``inet filter`` input rule drops UDP port 67 on the bridge, so dnsmasq (up,
serving ``10.97.214.2-254``) never logs a ``DHCPDISCOVER`` and ``start``
times out after 300 s. Key evidence: ``host-firewall.txt`` (``ufw``
inactive, ``firewall-cmd`` not installed, the ``drop`` rule whose counter
equals the requests in ``tcpdump.txt``, Multipass's own accept rules at 0),
the requests reaching the bridge in ``tcpdump.txt``, and no lease or
neighbour entry for the VM.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .bundle import Bundle
from .clock import S, dhcp_retransmits, epoch_s, snap_dir, snapshot_times, us_of
from .common import (
    client_timeout,
    list_table,
    ps_block,
    qmp_greeting,
    qmp_nic,
    tcpdump_requests,
    version_txt,
    vm_db,
    vm_entry,
)
from .linux import (
    IP_NEIGH,
    LNX_DATA,
    OS_RELEASE,
    Journal,
    dnsmasq_args,
    ip_addr_json,
    ip_routes,
    linux_qemu_args,
    nft_ruleset,
    uname,
)
from .sample import Sample

NAME = "linux-dhcp-firewalled"
SEED = 2404
OFF, TZNAME, HOSTNAME = -240, "America/New_York", "thinkpad-x1"
BOOT_LOCAL = "2025-05-13T08:51:37.402"  # the snap's daemon starts
PROBE_LOCAL = "2025-05-13T09:07:44.310"  # mpkit probe starts (as root)

SUBNET = "10.97.214"
BR_MAC = "52:54:00:e2:7b:35"
INST, MAC, TAP = "web", "52:54:00:5c:0e:a2", "tap-5e0c8d1f2a7"
OTHER, OTHER_MAC, OTHER_IP = "old-api", "52:54:00:9b:17:d4", f"{SUBNET}.86"
SNAP_REV = "13743"
MPD_PID, DNSMASQ_PID = 1187, 1302
MD = f"multipassd[{MPD_PID}]"  # the daemon's journal identifier
NET = f"{LNX_DATA}/network"
VAULT = f"{LNX_DATA}/vault/instances"
DNSMASQ_ARGS = dnsmasq_args(SUBNET, NET, "dnsmasq-kQ3vTz.conf")
QEMU_ARGS = linux_qemu_args(VAULT, INST, MAC, TAP)
#: dnsmasq's lease file: only the stopped old-api, never web
LEASES = f"0 {OTHER_MAC} {OTHER_IP} {OTHER} *\n"


@dataclass
class Attempt:
    """The timed start as the rest of the probe needs it."""

    start: int
    end: int
    qemu_pid: int
    #: when the guest's DHCP requests went out (all dropped)
    requests: list[int]


def build() -> Bundle:
    """The bundle: a probe with sudo of ``multipass start web``, then the collection."""
    rng = random.Random(SEED)
    b = Bundle.for_host(
        NAME, platform="linux", os_version="24.04", arch="x86_64", hostname=HOSTNAME, off=OFF, tzname=TZNAME
    )
    j = Journal(OFF, HOSTNAME)
    boot = us_of(BOOT_LOCAL, OFF)
    p0 = us_of(PROBE_LOCAL, OFF)

    daemon_start(j, rng, boot)
    t = host_facts(b, p0)
    capture_start = t  # tcpdump on the bridge runs from here to the end of the snapshots
    t += int(0.05 * S)
    att = start_attempt(j, rng, t + int(rng.uniform(2.9, 3.3) * S))
    snaps = take_snapshots(b, rng, att)
    b.record_attempt(INST, att.start, att.end, exit_code=2, outcome="timeout", client=client_timeout(INST))

    t = snaps[-1] + int(0.4 * S)
    b.capture(capture_start, (t - capture_start) / S, tcpdump_requests(att.requests, OFF, MAC))
    t += int(0.1 * S)
    rows = [(OTHER, "Stopped", "--", "Ubuntu 22.04 LTS"), (INST, "Unknown", "--", "Ubuntu 24.04 LTS")]
    b.collect("multipass-list.txt", t, 0.388, list_table(rows))
    t += int(0.42 * S)
    # the probe asked for the unit's journal since 30 minutes before it started
    b.collect("journal.txt", t, 0.318, j.text(), since_epoch=epoch_s(p0) - 30 * 60)
    t += int(0.35 * S)
    t = dhcp_state(b, t)
    t = network_state(b, t)
    t = host_firewall(b, t, dropped=len(att.requests))
    t = processes(b, t, boot=boot, att=att)
    b.finish(p0, t)
    return b


# --------------------------------------------------------------------------- the daemon (journal)


def daemon_start(j: Journal, rng: random.Random, boot: int) -> None:
    """systemd starts the snap's daemon: bridge, dnsmasq, firewall rules, instance images, then it listens."""
    j(
        boot,
        "systemd[1]",
        "Started snap.multipass.multipassd.service - Service for snap application multipass.multipassd.",
    )
    t = bridge_up(j, rng, boot + int(1.9 * S))
    t = dnsmasq_up(j, t)
    t, pid = firewall_rules(j, rng, t + int(0.2 * S))
    t = check_images(j, rng, t, pid)
    t += int(0.3 * S)
    j(t, MD, "gRPC listening on unix:/var/snap/multipass/common/multipass_socket")
    j(t, MD, "Starting Multipass 1.15.0")
    j(
        t,
        MD,
        f"Daemon arguments: /snap/multipass/{SNAP_REV}/bin/multipassd --verbosity debug --logger platform",
    )


def bridge_up(j: Journal, rng: random.Random, t: int) -> int:
    """The daemon creates ``mpqemubr0`` with ``<subnet>.1/24``."""
    pid = 1254
    for cmdl in (
        "ip addr show mpqemubr0",
        f"ip link add mpqemubr0 address {BR_MAC} type bridge",
        f"ip address add {SUBNET}.1/24 dev mpqemubr0 broadcast {SUBNET}.255",
        "ip link set mpqemubr0 up",
    ):
        j(t, MD, f"[{pid}] started: {cmdl}")
        pid += rng.randint(1, 4)
        t += int(rng.uniform(0.004, 0.02) * S)
    return t


def dnsmasq_up(j: Journal, t: int) -> int:
    """dnsmasq starts on the bridge and says so: DHCP range, lease time, the interface it is bound to."""
    j(t, MD, f"[{DNSMASQ_PID}] started: dnsmasq {DNSMASQ_ARGS}")
    t += int(0.03 * S)
    dq, dd = f"dnsmasq[{DNSMASQ_PID}]", f"dnsmasq-dhcp[{DNSMASQ_PID}]"
    j(t, dq, "started, version 2.90 cachesize 150")
    j(
        t,
        dq,
        "compile time options: IPv6 GNU-getopt DBus no-UBus i18n IDN2 DHCP DHCPv6 no-Lua TFTP conntrack ipset "
        "nftset auth cryptohash DNSSEC loop-detect inotify dumpfile",
    )
    j(t, dd, f"DHCP, IP range {SUBNET}.2 -- {SUBNET}.254, lease time infinite")
    j(t, dd, "DHCP, sockets bound exclusively to interface mpqemubr0")
    j(t, dq, "reading /etc/resolv.conf")
    j(t, dq, "using only locally-known addresses for multipass")
    j(t, dq, "using nameserver 127.0.0.53#53")
    j(t, dq, "read /etc/hosts - 8 names")
    j(t, dd, f"read {NET}/dnsmasq.hosts")
    return t


def firewall_rules(j: Journal, rng: random.Random, t: int) -> tuple[int, int]:
    """The daemon adds its own accept / masquerade rules through iptables-nft; returns (time, next pid)."""
    j(t, MD, "Using iptables-nft for firewall rules.")
    pid = 1318
    for cmdl in (
        "iptables-nft --wait -t filter --list-rules",
        "iptables-nft --wait -t nat --list-rules",
        "iptables-nft --wait -t filter --insert INPUT --in-interface mpqemubr0 --protocol udp --dport 67 --jump ACCEPT "
        "--match comment --comment generated for Multipass network mpqemubr0",
        f"iptables-nft --wait -t nat --insert POSTROUTING --source {SUBNET}.0/24 ! --destination {SUBNET}.0/24 "
        f"--jump MASQUERADE --match comment --comment generated for Multipass network mpqemubr0",
    ):
        j(t, MD, f"[{pid}] started: {cmdl}")
        pid += rng.randint(1, 3)
        t += int(rng.uniform(0.01, 0.03) * S)
    return t, pid


def check_images(j: Journal, rng: random.Random, t: int, pid: int) -> int:
    """``qemu-img`` looks at each instance's image (old-api, then web)."""
    for name, img in (
        (OTHER, "ubuntu-22.04-server-cloudimg-amd64.img"),
        (INST, "ubuntu-24.04-server-cloudimg-amd64.img"),
    ):
        j(t, MD, f"[{pid}] started: qemu-img snapshot -l {VAULT}/{name}/{img}")
        pid += rng.randint(1, 3)
        t += int(0.03 * S)
        j(t, MD, f"[{pid}] started: qemu-img amend -o compat=1.1 {VAULT}/{name}/{img}")
        pid += rng.randint(1, 3)
        t += int(0.03 * S)
    return t


# --------------------------------------------------------------------------- the probe


def host_facts(b: Bundle, t: int) -> int:
    """The probe's first look at the host (distribution, kernel, Multipass); returns the next instant."""
    b.collect("sw_vers.txt", t, 0.001, OS_RELEASE)
    t += int(0.01 * S)
    b.collect("uname.txt", t, 0.004, uname(HOSTNAME))
    t += int(0.02 * S)
    b.collect("multipass-version.txt", t, 0.243, version_txt("1.15.0"))
    t += int(0.27 * S)
    b.collect("local-driver.txt", t, 0.201, "qemu\n")
    return t + int(0.23 * S)


def start_attempt(j: Journal, rng: random.Random, a: int) -> Attempt:
    """``multipass start web`` at ``a``: tap port, QEMU, the guest's NIC up, then DHCP requests nobody sees."""
    pid = 5210 + rng.randint(0, 300)
    tt = a + 21_000
    for cmdl in (
        f"ip addr show {TAP}",
        f"ip tuntap add {TAP} mode tap",
        f"ip link set {TAP} master mpqemubr0",
        f"ip link set {TAP} up",
    ):
        j(tt, MD, f"[{pid}] started: {cmdl}")
        pid += rng.randint(1, 3)
        tt += int(rng.uniform(0.004, 0.012) * S)
    j(tt, MD, "process working dir ''")
    j(tt, MD, "process program 'qemu-system-x86_64'")
    j(tt, MD, f"process arguments '{', '.join(QEMU_ARGS)}'")
    j(tt + 12_000, MD, f"[{pid}] started: qemu-system-x86_64 -nographic -dump-vmstate /tmp/multipassd.pLwEuc")
    pid += rng.randint(2, 4)
    j(a + 318_000, MD, "process state changed to Starting")
    j(a + 329_000, MD, "process state changed to Running")
    j(a + 329_400, MD, f"[{pid}] started: qemu-system-x86_64 {' '.join(QEMU_ARGS)}")
    j(a + 329_600, MD, "process started")
    j(a + 371_000, MD, "QMP: " + qmp_greeting(6, 2, 0, "Debian 1:6.2+dfsg-2ubuntu6.24"))
    j(a + 372_500, MD, 'QMP: {"return": {}}')
    j(a + 390_800, MD, "Waiting for SSH to be up")
    nic = a + 7_942_615
    j(nic + 700, MD, "QMP: " + qmp_nic(nic, "/machine/peripheral-anon/device[1]/virtio-backend"))
    # the guest's DISCOVERs are dropped by nftables before dnsmasq sees them: no dnsmasq-dhcp line
    end = a + 300_391_000 + 47_000
    return Attempt(a, end, pid, dhcp_retransmits(rng, nic + 1_188_420, end))


def take_snapshots(b: Bundle, rng: random.Random, att: Attempt) -> list[int]:
    """The lease file and ``ip neigh`` every 2-5 s across the attempt: never an entry for web."""
    snaps = snapshot_times(rng, att.start - int(0.9 * S), att.end + int(1.0 * S))
    for s in snaps:
        d = f"snapshots/{snap_dir(s)}"
        b.collect("dnsmasq.leases", s, 0.001, LEASES, folder=d)
        s2 = s + int(rng.uniform(0.002, 0.004) * S)
        b.collect("ip-neigh.txt", s2, 0.004, IP_NEIGH, folder=d)
    return snaps


# --------------------------------------------------------------------------- collected after the attempt


def dhcp_state(b: Bundle, t: int) -> int:
    """The lease file and the daemon's instance database (root can read both)."""
    b.collect("dnsmasq.leases", t, 0.001, LEASES)
    t += int(0.01 * S)
    b.collect("vm-instances.json", t, 0.001, instance_db())
    return t + int(0.01 * S)


def instance_db() -> str:
    """old-api stopped, web in an unknown state; old-api's arguments are web's with its own names."""
    old_args = [x.replace(INST, OTHER).replace("ubuntu-24.04", "ubuntu-22.04") for x in QEMU_ARGS]
    old_args = [x.replace(MAC, OTHER_MAC).replace(TAP, "tap-a41f7c02e95") for x in old_args]
    return vm_db(
        {
            OTHER: vm_entry(OTHER_MAC, old_args, "pc-i440fx-6.2", 1, 1073741824, 10737418240, 1),
            INST: vm_entry(MAC, QEMU_ARGS, "pc-i440fx-6.2", 2, 2147483648, 10737418240, 8),
        }
    )


def network_state(b: Bundle, t: int) -> int:
    """Neighbours, addresses (the bridge is up) and routes."""
    b.collect("ip-neigh.txt", t, 0.004, IP_NEIGH)
    t += int(0.01 * S)
    b.collect("ip-addr.json", t, 0.006, ip_addr_json(BR_MAC, SUBNET, TAP))
    t += int(0.01 * S)
    b.collect("routes.txt", t, 0.003, ip_routes(SUBNET))
    return t + int(0.01 * S)


def host_firewall(b: Bundle, t: int, *, dropped: int) -> int:
    """``host-firewall.txt``: ufw inactive, firewalld absent, then the nftables ruleset with the drop rule."""
    b.collect("host-firewall.txt", t, 0.214, "Status: inactive\n", pick="ufw")
    t += int(0.23 * S)
    error = "not found: firewall-cmd (firewalld is not installed)"
    b.collect("host-firewall.txt", t, 0.002, None, pick="firewall-cmd", exit_code=None, error=error)
    t += int(0.01 * S)
    b.collect("host-firewall.txt", t, 0.019, nft_ruleset(SUBNET, dropped), pick="nft")
    return t + int(0.03 * S)


def processes(b: Bundle, t: int, *, boot: int, att: Attempt) -> int:
    """The daemon, its dnsmasq and the instance's QEMU, still running; returns the end of the collection."""
    procs = [
        (
            MPD_PID,
            1,
            (t - boot) / S + 0.6,
            f"/snap/multipass/{SNAP_REV}/bin/multipassd --verbosity debug --logger platform",
        ),
        (DNSMASQ_PID, MPD_PID, (t - boot) / S - 2.0, f"dnsmasq {DNSMASQ_ARGS}"),
        (
            att.qemu_pid,
            MPD_PID,
            (t - (att.start + 329_400)) / S,
            f"/snap/multipass/{SNAP_REV}/usr/bin/qemu-system-x86_64 {' '.join(QEMU_ARGS)}",
        ),
    ]
    b.collect("processes.txt", t, 0.041, ps_block(procs, width=7))
    return t + int(0.05 * S)


README = """\
## linux-dhcp-firewalled

`multipass start web` times out on Ubuntu 24.04 with the Multipass 1.15.0 snap
(QEMU driver, `-nic tap,ifname=tap-5e0c8d1f2a7,…`).

- `host-firewall.txt`: `ufw` inactive, then `nft list ruleset` with
  `iifname "mpqemubr0" udp dport 67 … drop` in `table inet filter` (its counter
  equals the number of requests in `tcpdump.txt`); Multipass's own
  iptables-nft accept rules are intact but never reached (counters 0).
  `firewall-cmd` was tried and is not installed (a manifest entry with an error).
- `journal.txt`: dnsmasq started (`DHCP, IP range 10.97.214.2 -- 10.97.214.254,
  lease time infinite`), the instance booted (`NIC_RX_FILTER_CHANGED`) and
  `Waiting for SSH to be up`, but **no** `DHCPDISCOVER` for `52:54:00:5c:0e:a2`.
- `tcpdump.txt` (on `mpqemubr0`): the guest's requests do reach the bridge.
- `dnsmasq.leases` / `ip-neigh.txt` (and their snapshots): nothing for the VM
  (only the stopped `old-api`); `ip-addr.json`: `mpqemubr0` up with
  `10.97.214.1/24`; `sw_vers.txt` holds `/etc/os-release`, as the bundle spec says.
"""

SAMPLE = Sample(
    name=NAME,
    build=build,
    host="Ubuntu 24.04, x86_64, America/New_York",
    multipass="1.15.0 (snap, QEMU)",
    cause="`host-firewall-blocks-dhcp`",
    stage="dhcp",
    readme=README,
)
