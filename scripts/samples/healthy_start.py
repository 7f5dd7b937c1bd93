"""healthy-start: a start that works, the negative control (no cause, failed stage ``none``).

macOS 15.3 with Multipass 1.16.1 (``dhcp-identifier: mac``, so the lease
block carries ``1,<mac>``). Key evidence of health: bootpd's full DORA, the
lease renewed during the attempt, the daemon's ``arp -an`` polls ending once
the guest's ARP entry appears, ``Caching initial SSH session`` ~25 s in, an
``ok`` attempt with exit 0 and ``web`` Running in ``multipass list``. The
firewall is on but allows bootpd; the probe ran without sudo.
"""

from __future__ import annotations

import random

from .bundle import Bundle
from .clock import S, us_of
from .common import qmp_nic
from .macos import (
    MAC_RES,
    Bootpd,
    DaemonLog,
    MacHost,
    firewall_outputs,
    lease_block,
    mac_arp,
    mac_netstat,
    mac_nozero,
)
from .macos_probe import MacAttempt, MacCase, mac_probe
from .sample import Sample

HOST = MacHost(
    en0_mac="14:98:77:3d:c0:5a",
    en0_ip="192.168.10.41",
    gw_ip="192.168.10.1",
    gw_mac="cc:2d:e0:71:9:44",
    lan_peers=[("192.168.10.20", "0:11:32:a7:5e:1")],
    bridge_mac="5a:c1:7:e2:3d:90",
    vmenet_mac="8a:3f:51:c0:0d:16",
)
CASE = MacCase(
    name="healthy-start",
    seed=1603,
    off=540,
    tzname="Asia/Tokyo",
    hostname="kenjis-mac-mini.local",
    macos="15.3",
    build="24D60",
    darwin="24.3.0 Darwin Kernel Version 24.3.0: Thu Jan  2 20:24:23 PST 2025; "
    "root:xnu-11215.81.4~3/RELEASE_ARM64_T8112 arm64",
    mp_ver="1.16.1+mac",
    qemu=(9, 2, 2),
    inst="web",
    mac="52:54:00:c7:1f:08",
    image="ubuntu-24.04-server-cloudimg-arm64.img",
    cpus=2,
    mem=2048,
    boot_local="2025-08-06T14:02:11.518",
    probe_local="2025-08-06T14:20:30.415",
    root=False,
    host=HOST,
    daemon_pid=377,
    other_instances=[("old-test", "ubuntu-22.04-server-cloudimg-arm64.img")],
)
VM_IP = "192.168.64.3"
CLIENT_ID = "1," + mac_nozero(CASE.mac)
OLDER_LEASES = lease_block(
    [
        ("name", "old-test"),
        ("ip_address", "192.168.64.2"),
        ("hw_address", "1," + mac_nozero("52:54:00:e4:19:2b")),
        ("identifier", "1," + mac_nozero("52:54:00:e4:19:2b")),
        ("lease", hex(us_of("2025-07-14T09:12:55", 540) // S)),
    ]
)
# web's block from its previous start, renewed during this one
PREVIOUS_ACK = us_of("2025-08-01T18:33:04.221", 540)


def web_block(ack: int) -> str:
    """web's lease block after an ACK at ``ack`` (a one-day lease keyed by its MAC)."""
    return lease_block(
        [
            ("name", "web"),
            ("ip_address", VM_IP),
            ("hw_address", CLIENT_ID),
            ("identifier", CLIENT_ID),
            ("lease", hex(ack // S + 86400)),
        ]
    )


def poll_arp_until(log: DaemonLog, rng: random.Random, t: int, pid: int, seen: int) -> None:
    """The daemon runs ``arp -an`` every ~2 s until an entry for the MAC exists, then caches the IP."""
    while True:
        log(t, "debug", "arp", f"[{pid}] started: arp -an")
        if t > seen + 8_000:
            break
        pid += rng.randint(2, 17)
        t += int(rng.uniform(2.012, 2.094) * S)


def timeline(log: DaemonLog, rng: random.Random, a: int) -> MacAttempt:
    """Lease ~13 s in, ARP entry ~1 s later, SSH up at ~24 s: the start returns."""
    c, h = CASE, HOST
    bridge_up = a + 498_000
    nic = a + 11_604_882
    log(nic + 702, "debug", "web", f"QMP: {qmp_nic(nic, '/machine/unattached/device[8]/virtio-backend')}\n")
    disc = nic + 1_297_040
    offer = disc + 1_533
    req = disc + 1_010_662
    ack = req + 1_408
    arp_seen = ack + 655_301
    poll_arp_until(log, rng, a + 463_912 + 38_450, c.daemon_pid + 2211, arp_seen)
    ssh_ok = a + 24_310_551
    log(ssh_ok, "debug", "web", "Caching initial SSH session")
    end = ssh_ok + 268_004
    bootpd = Bootpd(c.off, pid=1874, thread=0x1A7C2, trace=0x51C0A3E97B10, mach=61_004_118_771, zero=a)
    bootpd_log = bootpd.dora(
        en0_ip=h.en0_ip,
        iface_lead=(3_870, 3_766),
        client_id=CLIENT_ID,
        name="web",
        ip=VM_IP,
        disc=disc,
        offer=offer,
        req=req,
        ack=ack,
    )

    def leases_at(s: int) -> str:
        """The lease file at ``s``: web's block is rewritten just after the ACK."""
        return (web_block(ack) if s >= ack + 900 else web_block(PREVIOUS_ACK)) + OLDER_LEASES

    def arp_at(s: int) -> str:
        """``arp -an`` at ``s``: the bridge once it is up, the guest once it has answered ARP."""
        vm = [(VM_IP, c.mac)] if s >= arp_seen else []
        return mac_arp(h, bridge=s >= bridge_up, vm=vm, bcast=s >= offer)

    return MacAttempt(
        end=end,
        exit_code=0,
        outcome="ok",
        client="",  # `multipass start` prints nothing on success when not on a terminal
        leases_at=leases_at,
        arp_at=arp_at,
        list_rows=[
            ("old-test", "Stopped", "--", "Ubuntu 22.04 LTS"),
            ("web", "Running", VM_IP, "Ubuntu 24.04 LTS"),
        ],
        routes=mac_netstat(h, scope=c.scope, vm=[(VM_IP, c.mac, 1195)]),
        firewall=firewall_outputs(
            1,
            False,
            False,
            True,
            [("/usr/libexec/bootpd", True), (f"{MAC_RES}/bin/multipassd", True)],
        ),
        bootpd_log=bootpd_log,
        bootpd=(bootpd.pid, disc - 4_600),
    )


def build() -> Bundle:
    """The bundle: an unprivileged probe of ``multipass start web``."""
    return mac_probe(CASE, timeline=timeline)


README = """\
## healthy-start

`multipass start web` succeeds in about 25 s on macOS 15.3 with 1.16.1 (a
negative control: no cause should be reported, failed stage `none`).

- `multipassd.log`: spawn, `Waiting for SSH to be up`, a few `arp -an` lines
  until the guest's ARP entry exists, then `Caching initial SSH session`.
- `dhcpd_leases`: `hw_address=1,52:54:0:c7:1f:8` (1.15+ sets
  `dhcp-identifier: mac`), renewed during the attempt; `arp.txt` has the entry;
  `bootpd.log` has the full DORA.
- `attempts.jsonl`: outcome `ok`, exit 0; `client.txt` is empty (`multipass start`
  prints nothing on success when its output is not a terminal);
  `multipass-list.txt`: `web` Running with `192.168.64.3`.
- Firewall enabled but bootpd allowed, block-all off. Probe ran without sudo
  (pfctl, tcpdump, vm-instances.json failed as in the default sample).
"""

SAMPLE = Sample(
    name=CASE.name,
    build=build,
    host="macOS 15.3, arm64, Asia/Tokyo",
    multipass="1.16.1+mac",
    cause="none (healthy)",
    stage="none",
    readme=README,
)
