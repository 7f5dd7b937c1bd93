"""firewall-blocks-bootpd: the application firewall's block-all keeps bootpd from answering DHCP.

Cause shown: ``firewall-blocks-bootpd`` on macOS 14.6 with Multipass 1.15.1.
Block-all is on (stealth on, bootpd not among the allowed apps), so the
guest's DHCP requests reach ``bridge100`` but nothing answers them. Key
evidence: ``firewall.txt`` (enabled, block all, stealth), ``tcpdump.txt``
(the probe ran as root) with ``Request from <mac>`` retransmitted and never a
reply, an empty ``bootpd.log``, no lease and no ARP entry for the VM, and the
1.15 daemon's ``arp -an`` polling for the whole 300 s wait. ``unified.log``
timed out: a failed source with its error.
"""

from __future__ import annotations

import random

from .bundle import Bundle
from .clock import S, dhcp_retransmits, us_of
from .common import client_timeout, qmp_nic, tcpdump_requests, vm_db, vm_entry
from .macos import (
    MAC_RES,
    DaemonLog,
    MacHost,
    arp_era_lines,
    firewall_outputs,
    lease_block,
    mac_arp,
    mac_netstat,
    mac_nozero,
    mac_qemu_args,
)
from .macos_probe import MacAttempt, MacCase, mac_probe
from .sample import Sample

HOST = MacHost(
    en0_mac="a0:78:17:9c:42:5d",
    en0_ip="10.20.14.87",
    gw_ip="10.20.14.1",
    gw_mac="0:1a:1e:4:b2:70",
    lan_peers=[("10.20.14.12", "b8:27:eb:5:9f:3a"), ("10.20.14.53", "f0:18:98:2e:c1:7")],
    bridge_mac="ba:7e:1c:44:90:64",
    vmenet_mac="6e:12:a4:f0:3b:d8",
)
CASE = MacCase(
    name="firewall-blocks-bootpd",
    seed=1402,
    off=-480,
    tzname="America/Los_Angeles",
    hostname="JSMITH-MBP14.local",
    macos="14.6",
    build="23G80",
    darwin="23.6.0 Darwin Kernel Version 23.6.0: Mon Jul 29 21:14:30 PDT 2024; "
    "root:xnu-10063.141.2~1/RELEASE_ARM64_T6030 arm64",
    mp_ver="1.15.1+mac",
    qemu=(9, 0, 2),
    inst="primary",
    mac="52:54:00:3e:81:0c",
    image="ubuntu-24.04-server-cloudimg-arm64.img",
    cpus=1,
    mem=1024,
    boot_local="2025-02-18T09:18:05.774",
    probe_local="2025-02-18T09:42:13.950",
    root=True,
    host=HOST,
    daemon_pid=389,
    other_instances=[("k3s", "ubuntu-22.04-server-cloudimg-arm64.img")],
)
# only stale blocks of other machines: nothing for primary's MAC
LEASES = (
    lease_block(
        [
            ("name", "k3s"),
            ("ip_address", "192.168.64.4"),
            ("hw_address", "1," + mac_nozero("52:54:00:5f:d2:17")),
            ("identifier", "1," + mac_nozero("52:54:00:5f:d2:17")),
            ("lease", hex(us_of("2025-02-07T16:40:12", -480) // S)),
        ]
    )
    + lease_block(
        [
            ("name", "debian"),
            ("ip_address", "192.168.64.3"),
            ("hw_address", "1,46:8:b3:d2:11:7e"),
            ("identifier", "1,46:8:b3:d2:11:7e"),
            ("lease", hex(us_of("2025-01-29T10:05:51", -480) // S)),
        ]
    )
    + lease_block(
        [
            ("name", "test-vm"),
            ("ip_address", "192.168.64.2"),
            ("hw_address", "1," + mac_nozero("52:54:00:0b:3a:60")),
            ("identifier", "1," + mac_nozero("52:54:00:0b:3a:60")),
            ("lease", hex(us_of("2024-12-11T13:22:38", -480) // S)),
        ]
    )
)
PF_RULES = (
    'scrub-anchor "com.apple/*" all fragment reassemble\n'
    'scrub-anchor "com.apple.internet-sharing" all fragment reassemble\n'
    'anchor "com.apple/*" all\n'
    'anchor "com.apple.internet-sharing" all\n'
)


def instance_db() -> str:
    """The daemon's instance database: k3s stopped, primary in an unknown state."""
    c = CASE
    k3s_args = mac_qemu_args("k3s", "52:54:00:5f:d2:17", "ubuntu-22.04-server-cloudimg-arm64.img", 2, 4096)
    return vm_db(
        {
            "k3s": vm_entry("52:54:00:5f:d2:17", k3s_args, "virt-9.0", 2, 4294967296, 21474836480, 1),
            "primary": vm_entry(c.mac, c.qemu_args, "virt-9.0", 1, 1073741824, 5368709120, 8),
        }
    )


def timeline(log: DaemonLog, rng: random.Random, a: int) -> MacAttempt:
    """The guest asks for a lease over and over; bootpd never hears it, the daemon polls ARP in vain."""
    c, h = CASE, HOST
    bridge_up = a + 505_000
    nic = a + 12_904_377
    end = a + 300_463_000 + 29_000
    log(
        nic + 588,
        "debug",
        "primary",
        f"QMP: {qmp_nic(nic, '/machine/unattached/device[8]/virtio-backend')}\n",
    )
    arp_era_lines(log, rng, a + 463_912 + 41_307, a + 300_463_000, c.daemon_pid + 2350)
    tstart = a + 1_212_000  # probe starts tcpdump once bridge100 exists
    reqs = dhcp_retransmits(rng, nic + 1_402_115, end)
    return MacAttempt(
        end=end,
        exit_code=2,
        outcome="timeout",
        client=client_timeout("primary"),
        leases_at=lambda s: LEASES,
        arp_at=lambda s: mac_arp(h, bridge=s >= bridge_up, vm=[], bcast=False),
        list_rows=[
            ("k3s", "Stopped", "--", "Ubuntu 22.04 LTS"),
            ("primary", "Unknown", "--", "Ubuntu 24.04 LTS"),
        ],
        routes=mac_netstat(h, scope=c.scope, vm=[]),
        firewall=firewall_outputs(
            1,
            True,
            True,
            False,
            [(f"{MAC_RES}/bin/multipassd", True), ("/Applications/zoom.us.app", False)],
        ),
        bootpd_log="",  # bootpd never saw a packet: nothing logged for the window
        pf_rules=PF_RULES,
        vm_instances=instance_db(),
        tcpdump=(tstart, tcpdump_requests(reqs, c.off, c.mac)),
        unified_timeout=True,
    )


def build() -> Bundle:
    """The bundle: a probe with sudo of ``multipass start primary``."""
    return mac_probe(CASE, timeline=timeline)


README = """\
## firewall-blocks-bootpd

`multipass start primary` times out on macOS 14.6 with Multipass 1.15.1
(ARP era) on a Mac whose application firewall has block-all turned on.

- `firewall.txt`: `Firewall is enabled. (State = 1)`, block all enabled,
  stealth on, and `/usr/libexec/bootpd` absent from `--listapps`.
- `tcpdump.txt` (probe ran with sudo): `Request from 52:54:00:3e:81:0c`
  retransmitted with backoff, never a `Reply`.
- `multipassd.log`: `NIC_RX_FILTER_CHANGED`, then `[debug] [arp] … started: arp -an`
  about every 2 s for the whole 300 s wait, no `Caching initial SSH session`.
- `dhcpd_leases`: only stale blocks of other machines, nothing for the VM's
  MAC; `arp.txt`: no entry for it; `bootpd.log`: empty (bootpd saw nothing).
- Failed source: `unified.log` (`log show` for InternetSharing/socketfilterfw)
  timed out after 120 s.
"""

SAMPLE = Sample(
    name=CASE.name,
    build=build,
    host="macOS 14.6, arm64, America/Los_Angeles",
    multipass="1.15.1+mac",
    cause="`firewall-blocks-bootpd`",
    stage="dhcp",
    readme=README,
)
