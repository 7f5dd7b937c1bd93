"""sequoia-ip-discovery (the default sample): the guest got an address, but Multipass 1.14.0 cannot find it.

Cause shown: ``ip-discovery-failed`` on macOS 15.0 with Multipass 1.14.0.
bootpd leases ``192.168.64.7`` to ``dev`` under an RFC 4361 client id
(``ff,<IAID+DUID>``), so the lease block carries no MAC and 1.14.0's
lookup in ``/var/db/dhcpd_leases`` (by ``hw_address=1,<mac>``) never matches.
Key evidence: bootpd's full DORA in ``bootpd.log``, the ``ff,`` block renewed
in the lease snapshots right after the ACK, the guest's ARP entry on
``bridge100``, and a daemon log silent after ``NIC_RX_FILTER_CHANGED`` until
the client times out after 300 s.
"""

from __future__ import annotations

import random

from .bundle import Bundle
from .clock import S, us_of
from .common import client_timeout, qmp_nic
from .macos import (
    Bootpd,
    DaemonLog,
    MacHost,
    firewall_outputs,
    lease_block,
    mac_arp,
    mac_netstat,
    mac_nozero,
    octets_nozero,
)
from .macos_probe import MacAttempt, MacCase, mac_probe
from .sample import Sample

HOST = MacHost(
    en0_mac="f8:4d:89:6a:1e:c3",
    en0_ip="192.168.1.23",
    gw_ip="192.168.1.1",
    gw_mac="9c:53:22:8:3b:e1",
    lan_peers=[("192.168.1.37", "4:d4:c4:1a:5c:90")],
    bridge_mac="3e:a6:f6:2b:91:64",
    vmenet_mac="2a:c4:1e:9b:70:55",
)
CASE = MacCase(
    name="sequoia-ip-discovery",
    seed=1501,
    off=120,
    tzname="Europe/Paris",
    hostname="Claires-MacBook-Pro.local",
    macos="15.0",
    build="24A335",
    darwin="24.0.0 Darwin Kernel Version 24.0.0: Mon Aug 12 20:52:12 PDT 2024; "
    "root:xnu-11215.1.10~2/RELEASE_ARM64_T6000 arm64",
    mp_ver="1.14.0+mac",
    qemu=(8, 2, 1),
    inst="dev",
    mac="52:54:00:0a:6c:3f",
    image="ubuntu-24.04-server-cloudimg-arm64.img",
    cpus=2,
    mem=4096,
    boot_local="2024-09-24T09:56:41.302",
    probe_local="2024-09-24T10:14:58.120",
    root=False,
    host=HOST,
    daemon_pid=402,
    other_instances=[("builder", "ubuntu-22.04-server-cloudimg-arm64.img")],
)
VM_IP = "192.168.64.7"
# RFC 4361 client-id as bootpd writes it: IAID (4 bytes) + DUID-EN (0:2, systemd's 43793, 8 hash bytes)
CLIENT_ID = "ff," + octets_nozero("b7190e4c" + "00020000ab11" + "5d8e02c491f03a6b")
# the other instances' blocks, from their own launches (MAC client ids)
OLDER_LEASES = lease_block(
    [
        ("name", "builder"),
        ("ip_address", "192.168.64.5"),
        ("hw_address", "1," + mac_nozero("52:54:00:d1:04:9e")),
        ("identifier", "1," + mac_nozero("52:54:00:d1:04:9e")),
        ("lease", hex(us_of("2024-09-13T18:02:47", 120) // S)),
    ]
) + lease_block(
    [
        ("name", "primary"),
        ("ip_address", "192.168.64.2"),
        ("hw_address", "1," + mac_nozero("52:54:00:7a:e0:13")),
        ("identifier", "1," + mac_nozero("52:54:00:7a:e0:13")),
        ("lease", hex(us_of("2024-07-30T11:24:09", 120) // S)),
    ]
)
# dev's block from its launch yesterday evening (same client-id, so bootpd re-uses it today)
YESTERDAY_ACK = us_of("2024-09-23T18:41:27.655", 120)


def dev_block(ack: int) -> str:
    """dev's lease block after an ACK at ``ack`` (a one-day lease, no MAC anywhere in it)."""
    return lease_block(
        [
            ("name", "dev"),
            ("ip_address", VM_IP),
            ("hw_address", CLIENT_ID),
            ("identifier", CLIENT_ID),
            ("lease", hex(ack // S + 86400)),
        ]
    )


def timeline(log: DaemonLog, rng: random.Random, a: int) -> MacAttempt:
    """The guest gets its lease ~15 s in; the daemon, looking for the MAC, never sees it."""
    c, h = CASE, HOST
    bridge_up = a + 520_000
    nic = a + 13_873_219
    log(nic + 611, "debug", "dev", f"QMP: {qmp_nic(nic, '/machine/unattached/device[8]/virtio-backend')}\n")
    # 1.14.0 reads /var/db/dhcpd_leases silently (trace only): nothing more for dev at debug
    disc = nic + 1_338_520
    offer = disc + 1_906
    req = disc + 1_124_377
    ack = req + 1_712
    arp_seen = ack + 742_118
    end = a + 300_463_000 + 31_000
    bootpd = Bootpd(c.off, pid=2461, thread=0x2D1F4, trace=0x3A1F00C2D4E6, mach=40_113_522_118, zero=a)
    bootpd_log = bootpd.dora(
        en0_ip=h.en0_ip,
        iface_lead=(4_210, 4_102),
        client_id=CLIENT_ID,
        name="dev",
        ip=VM_IP,
        disc=disc,
        offer=offer,
        req=req,
        ack=ack,
    )

    def leases_at(s: int) -> str:
        """The lease file at ``s``: dev's block is rewritten just after the ACK."""
        return (dev_block(ack) if s >= ack + 900 else dev_block(YESTERDAY_ACK)) + OLDER_LEASES

    def arp_at(s: int) -> str:
        """``arp -an`` at ``s``: the bridge once it is up, the guest once it has answered ARP."""
        vm = [(VM_IP, c.mac)] if s >= arp_seen else []
        return mac_arp(h, bridge=s >= bridge_up, vm=vm, bcast=s >= offer)

    return MacAttempt(
        end=end,
        exit_code=2,
        outcome="timeout",
        client=client_timeout("dev"),
        leases_at=leases_at,
        arp_at=arp_at,
        list_rows=[
            ("builder", "Stopped", "--", "Ubuntu 22.04 LTS"),
            ("dev", "Unknown", "--", "Ubuntu 24.04 LTS"),
        ],
        routes=mac_netstat(h, scope=c.scope, vm=[(VM_IP, c.mac, 1187)]),
        firewall=firewall_outputs(0, False, False, True, []),
        bootpd_log=bootpd_log,
        bootpd=(bootpd.pid, disc - 4_900),
    )


def build() -> Bundle:
    """The bundle: an unprivileged probe of ``multipass start dev``."""
    return mac_probe(CASE, timeline=timeline)


README = """\
## sequoia-ip-discovery (the default sample)

`multipass start dev` times out after 300 s on macOS 15.0 with Multipass
1.14.0, which still looks up the guest IP in `/var/db/dhcpd_leases` by MAC.

- `multipassd.log`: the full spawn sequence (`-nic vmnet-shared,…,mac=52:54:00:0a:6c:3f`),
  `Waiting for SSH to be up`, then QMP `NIC_RX_FILTER_CHANGED` (the guest NIC is
  up), then nothing more for `dev`: 1.14.0 is silent at debug level during the
  IP lookup, and there is no `Caching initial SSH session`.
- `dhcpd_leases` / `bootpd.log` / snapshots: the guest **did** get
  `192.168.64.7`: bootpd logs DISCOVER/OFFER/REQUEST/ACK for an `ff,…`
  (RFC 4361 IAID+DUID) client id, and the lease block's expiry jumps to
  ACK + 86400 s in the snapshots right after the ACK. The block carries
  `hw_address=ff,…` (no MAC), which the ≤ 1.14.0 parser (`hw_address=\\d+,`)
  can never match. Older blocks (`builder`, `primary`) use `1,<mac>`.
  `dev`'s block already existed before the attempt: `dev` was launched the day
  before (same client id, same address), so the snapshots show the renewal,
  not a first appearance.
- `arp.txt` and the snapshots: `192.168.64.7` at `52:54:0:a:6c:3f` (the VM's
  MAC without leading zeros) on `bridge100`, present from ~17 s into the attempt.
- `multipass-list.txt`: `dev` Unknown; `firewall.txt`: firewall disabled;
  `routes.txt`, `ifconfig.txt` (bridge100 up, member vmenet0): normal.
- Probe ran without sudo: `pf-rules.txt` (permission denied), `tcpdump.txt`
  (not run, needs root) and `vm-instances.json` (permission denied) are
  manifest entries with an `error` and no file.
"""

SAMPLE = Sample(
    name=CASE.name,
    build=build,
    host="macOS 15.0, arm64, Europe/Paris",
    multipass="1.14.0+mac",
    cause="`ip-discovery-failed`",
    stage="ip-discovery",
    readme=README,
)
