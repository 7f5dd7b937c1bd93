"""Linux outputs: the journal, os-release, uname, ``ip``, ``nft list ruleset``, and how the snap runs QEMU and dnsmasq.

Each function returns the exact text the tool prints on Ubuntu 24.04 with
the Multipass snap (QEMU driver, ``mpqemubr0`` bridge, dnsmasq for DHCP):
trailing spaces where ``ip`` leaves them, TABs where nft indents.
"""

from __future__ import annotations

import json
from typing import Any

from .clock import journal_ts

#: the snap daemon's data directory
LNX_DATA = "/var/snap/multipass/common/data/multipassd"


class Journal:
    """``journalctl -o short-iso`` lines: ``<ts> <host> <ident>[<pid>]: <message>``."""

    def __init__(self, off: int, hostname: str) -> None:
        self.off, self.hostname = off, hostname
        self.recs: list[tuple[int, int, str, str]] = []

    def __call__(self, us: int, ident: str, msg: str) -> None:
        self.recs.append((us, len(self.recs), ident, msg))

    def text(self) -> str:
        """The journal in time order; a message's further lines are indented under it."""
        out = []
        for us, _, ident, msg in sorted(self.recs):
            first, *rest = msg.split("\n")
            out.append(f"{journal_ts(us, self.off)} {self.hostname} {ident}: {first}\n")
            out.extend(f"    {line}\n" for line in rest if line)
        return "".join(out)


# --------------------------------------------------------------------------- host facts

#: ``/etc/os-release`` of Ubuntu 24.04.2
OS_RELEASE = (
    'PRETTY_NAME="Ubuntu 24.04.2 LTS"\nNAME="Ubuntu"\nVERSION_ID="24.04"\n'
    'VERSION="24.04.2 LTS (Noble Numbat)"\nVERSION_CODENAME=noble\nID=ubuntu\nID_LIKE=debian\n'
    'HOME_URL="https://www.ubuntu.com/"\nSUPPORT_URL="https://help.ubuntu.com/"\n'
    'BUG_REPORT_URL="https://bugs.launchpad.net/ubuntu/"\n'
    'PRIVACY_POLICY_URL="https://www.ubuntu.com/legal/terms-and-policies/privacy-policy"\n'
    "UBUNTU_CODENAME=noble\nLOGO=ubuntu-logo\n"
)


def uname(hostname: str) -> str:
    """``uname -a`` of Ubuntu 24.04's 6.8 kernel."""
    return (
        f"Linux {hostname} 6.8.0-59-generic #61-Ubuntu SMP PREEMPT_DYNAMIC Fri Apr 11 23:16:11 UTC 2025 "
        "x86_64 x86_64 x86_64 GNU/Linux\n"
    )


# --------------------------------------------------------------------------- what the daemon runs


def dnsmasq_args(subnet: str, net: str, conf: str) -> str:
    """The arguments the daemon starts dnsmasq with for ``mpqemubr0`` (``net``: its network directory)."""
    return (
        "--keep-in-foreground --strict-order --bind-interfaces --pid-file --domain=multipass --local=/multipass/ "
        f"--except-interface=lo --interface=mpqemubr0 --listen-address={subnet}.1 --dhcp-no-override "
        f"--dhcp-ignore-clid --dhcp-authoritative --dhcp-leasefile={net}/dnsmasq.leases "
        f"--dhcp-hostsfile={net}/dnsmasq.hosts --dhcp-range {subnet}.2,{subnet}.254,infinite "
        f"--conf-file={net}/{conf}"
    )


def linux_qemu_args(idir: str, inst: str, mac: str, tap: str) -> list[str]:
    """The ``qemu-system-x86_64`` arguments of an instance (KVM, a tap NIC on the bridge); ``idir``: the vault."""
    img = f"{idir}/{inst}/ubuntu-24.04-server-cloudimg-amd64.img"
    return [
        "-bios",
        "OVMF.fd",
        "--enable-kvm",
        "-cpu",
        "host",
        "-nic",
        f"tap,ifname={tap},script=no,downscript=no,model=virtio-net-pci,mac={mac}",
        "-device",
        "virtio-scsi-pci,id=scsi0",
        "-drive",
        f"file={img},if=none,format=qcow2,discard=unmap,id=hda",
        "-device",
        "scsi-hd,drive=hda,bus=scsi0.0",
        "-smp",
        "2",
        "-m",
        "2048M",
        "-qmp",
        "stdio",
        "-chardev",
        "null,id=char0",
        "-serial",
        "chardev:char0",
        "-nographic",
        "-cdrom",
        f"{idir}/{inst}/cloud-init-config.iso",
    ]


# --------------------------------------------------------------------------- network state

#: ``ip neigh show``: the LAN router and a peer, nothing on the bridge
IP_NEIGH = (
    "192.168.1.1 dev wlp0s20f3 lladdr 3c:37:86:5e:a1:0b REACHABLE \n"
    "192.168.1.27 dev wlp0s20f3 lladdr d8:3a:dd:41:7c:92 STALE \n"
    "fe80::3e37:86ff:fe5e:a10b dev wlp0s20f3 lladdr 3c:37:86:5e:a1:0b router STALE \n"
)


def ip_routes(subnet: str) -> str:
    """``ip route show``: Wi-Fi default route plus the bridge's subnet."""
    return (
        "default via 192.168.1.1 dev wlp0s20f3 proto dhcp src 192.168.1.42 metric 600 \n"
        f"{subnet}.0/24 dev mpqemubr0 proto kernel scope link src {subnet}.1 \n"
        "192.168.1.0/24 dev wlp0s20f3 proto kernel scope link src 192.168.1.42 metric 600 \n"
    )


#: the lifetime ``ip`` prints for an address that never expires
FOREVER = 4294967295
_UP = ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"]
_ETHER_BCAST = "ff:ff:ff:ff:ff:ff"


def _addr(
    family: str,
    local: str,
    prefixlen: int,
    scope: str,
    *,
    broadcast: str | None = None,
    dynamic: bool = False,
    noprefixroute: bool = False,
    label: str | None = None,
    life: int = FOREVER,
) -> dict[str, Any]:
    """One ``addr_info`` entry, its keys in the order ``ip -j`` prints them."""
    a: dict[str, Any] = {"family": family, "local": local, "prefixlen": prefixlen}
    if broadcast is not None:
        a["broadcast"] = broadcast
    a["scope"] = scope
    if dynamic:
        a["dynamic"] = True
    if noprefixroute:
        a["noprefixroute"] = True
    if label is not None:
        a["label"] = label
    a["valid_life_time"] = a["preferred_life_time"] = life
    return a


def _link(
    ifindex: int,
    ifname: str,
    flags: list[str],
    mtu: int,
    qdisc: str,
    operstate: str,
    link_type: str,
    address: str,
    broadcast: str,
    addrs: list[dict[str, Any]],
    *,
    master: str | None = None,
) -> dict[str, Any]:
    """One interface of ``ip -j addr show``, its keys in the order ``ip`` prints them."""
    link: dict[str, Any] = {"ifindex": ifindex, "ifname": ifname, "flags": flags, "mtu": mtu, "qdisc": qdisc}
    if master is not None:
        link["master"] = master
    link.update(operstate=operstate, group="default", txqlen=1000, link_type=link_type)
    link.update(address=address, broadcast=broadcast, addr_info=addrs)
    return link


def ip_addr_json(br_mac: str, subnet: str, tap: str) -> str:
    """``ip -j addr show``: loopback, Wi-Fi, ``mpqemubr0`` up with ``<subnet>.1/24``, and the VM's tap port."""
    zero = "00:00:00:00:00:00"
    links = [
        _link(
            1,
            "lo",
            ["LOOPBACK", "UP", "LOWER_UP"],
            65536,
            "noqueue",
            "UNKNOWN",
            "loopback",
            zero,
            zero,
            [
                _addr("inet", "127.0.0.1", 8, "host", label="lo"),
                _addr("inet6", "::1", 128, "host", noprefixroute=True),
            ],
        ),
        _link(
            3,
            "wlp0s20f3",
            _UP,
            1500,
            "noqueue",
            "UP",
            "ether",
            "a4:c3:f0:57:8e:21",
            _ETHER_BCAST,
            [
                _addr(
                    "inet",
                    "192.168.1.42",
                    24,
                    "global",
                    broadcast="192.168.1.255",
                    dynamic=True,
                    noprefixroute=True,
                    label="wlp0s20f3",
                    life=71210,
                ),
                _addr("inet6", "fe80::b2d1:4c6e:93a0:51f7", 64, "link", noprefixroute=True),
            ],
        ),
        _link(
            4,
            "mpqemubr0",
            _UP,
            1500,
            "noqueue",
            "UP",
            "ether",
            br_mac,
            _ETHER_BCAST,
            [
                _addr("inet", f"{subnet}.1", 24, "global", broadcast=f"{subnet}.255", label="mpqemubr0"),
                _addr("inet6", "fe80::5054:ff:fee2:7b35", 64, "link"),
            ],
        ),
        _link(
            7,
            tap,
            _UP,
            1500,
            "fq_codel",
            "UP",
            "ether",
            "9e:4b:21:d0:6a:f3",
            _ETHER_BCAST,
            [_addr("inet6", "fe80::9c4b:21ff:fed0:6af3", 64, "link")],
            master="mpqemubr0",
        ),
    ]
    return json.dumps(links, separators=(",", ":")) + "\n"


def nft_ruleset(subnet: str, dropped: int) -> str:
    """``nft list ruleset``: a hand-made ``inet filter`` rule drops DHCP on the bridge.

    The drop rule counted ``dropped`` requests (328 bytes each: the 300-byte
    DHCP payload plus UDP and IP headers); Multipass's own iptables-nft accept
    rules never see a packet (counters 0).
    """
    cmt = 'comment "generated for Multipass network mpqemubr0"'
    return (
        "table inet filter {\n"
        "\tchain input {\n"
        "\t\ttype filter hook input priority filter; policy accept;\n"
        '\t\tiifname "mpqemubr0" udp dport 67 counter packets %d bytes %d drop comment "hardening: no DHCP server on this host"\n'
        "\t}\n\n"
        "\tchain forward {\n"
        "\t\ttype filter hook forward priority filter; policy accept;\n"
        "\t}\n\n"
        "\tchain output {\n"
        "\t\ttype filter hook output priority filter; policy accept;\n"
        "\t}\n"
        "}\n"
        "# Warning: table ip filter is managed by iptables-nft, do not touch!\n"
        "table ip filter {\n"
        "\tchain INPUT {\n"
        "\t\ttype filter hook input priority filter; policy accept;\n"
        f'\t\tiifname "mpqemubr0" meta l4proto udp udp dport 67 counter packets 0 bytes 0 accept {cmt}\n'
        f'\t\tiifname "mpqemubr0" meta l4proto udp udp dport 53 counter packets 0 bytes 0 accept {cmt}\n'
        f'\t\tiifname "mpqemubr0" meta l4proto tcp tcp dport 53 counter packets 0 bytes 0 accept {cmt}\n'
        "\t}\n\n"
        "\tchain FORWARD {\n"
        "\t\ttype filter hook forward priority filter; policy accept;\n"
        f'\t\tiifname "mpqemubr0" oifname "mpqemubr0" counter packets 0 bytes 0 accept {cmt}\n'
        f'\t\tip saddr {subnet}.0/24 iifname "mpqemubr0" counter packets 0 bytes 0 accept {cmt}\n'
        f'\t\tip daddr {subnet}.0/24 oifname "mpqemubr0" ct state related,established counter packets 0 bytes 0 accept {cmt}\n'
        f'\t\tiifname "mpqemubr0" counter packets 0 bytes 0 reject {cmt}\n'
        f'\t\toifname "mpqemubr0" counter packets 0 bytes 0 reject {cmt}\n'
        "\t}\n\n"
        "\tchain OUTPUT {\n"
        "\t\ttype filter hook output priority filter; policy accept;\n"
        f'\t\toifname "mpqemubr0" meta l4proto udp udp sport 67 counter packets 0 bytes 0 accept {cmt}\n'
        f'\t\toifname "mpqemubr0" meta l4proto udp udp sport 53 counter packets 0 bytes 0 accept {cmt}\n'
        f'\t\toifname "mpqemubr0" meta l4proto tcp tcp sport 53 counter packets 0 bytes 0 accept {cmt}\n'
        "\t}\n"
        "}\n"
        "# Warning: table ip nat is managed by iptables-nft, do not touch!\n"
        "table ip nat {\n"
        "\tchain POSTROUTING {\n"
        "\t\ttype nat hook postrouting priority srcnat; policy accept;\n"
        f"\t\tip saddr {subnet}.0/24 ip daddr 224.0.0.0/24 counter packets 0 bytes 0 return {cmt}\n"
        f"\t\tip saddr {subnet}.0/24 ip daddr 255.255.255.255 counter packets 0 bytes 0 return {cmt}\n"
        f"\t\tip saddr {subnet}.0/24 ip daddr != {subnet}.0/24 meta l4proto tcp counter packets 0 bytes 0 masquerade to :1024-65535 {cmt}\n"
        f"\t\tip saddr {subnet}.0/24 ip daddr != {subnet}.0/24 meta l4proto udp counter packets 0 bytes 0 masquerade to :1024-65535 {cmt}\n"
        f"\t\tip saddr {subnet}.0/24 ip daddr != {subnet}.0/24 counter packets 0 bytes 0 masquerade {cmt}\n"
        "\t}\n"
        "}\n"
    ) % (dropped, dropped * 328)
