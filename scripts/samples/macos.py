"""macOS outputs: the daemon log, bootpd's lease file and unified log, arp, ifconfig, netstat, socketfilterfw.

Each function returns the exact text the tool prints (or the file holds) on
macOS 14-15 with the QEMU driver and vmnet-shared networking: TABs where the
tool writes TABs, trailing spaces where it leaves them, MACs without leading
zeros where macOS prints them so (``52:54:0:a:6c:3f``).
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass

from .clock import S, log_ts, unified_ts

#: the Multipass app bundle's resources and the daemon's data directory (root's home)
MAC_RES = "/Library/Application Support/com.canonical.multipass"
MAC_DATA = "/var/root/Library/Application Support/multipassd"
#: the daemon's temporary directory (QEMU's ``-dump-vmstate`` file goes there)
MAC_TMP = "/var/folders/zz/zyxvpxvq6csfxvn_n0000000000000/T"


# --------------------------------------------------------------------------- spellings


def mac_nozero(mac: str) -> str:
    """macOS ``%x`` spelling (arp, bootpd): ``52:54:00:0a:..`` -> ``52:54:0:a:..``."""
    return ":".join(f"{int(o, 16):x}" for o in mac.split(":"))


def eui64_ll(mac: str) -> str:
    """The fe80:: link-local address derived from a MAC (any spelling with ``:``)."""
    o = [int(x, 16) for x in mac.split(":")]
    o[0] ^= 0x02
    groups = [o[0] << 8 | o[1], o[2] << 8 | 0xFF, 0xFE << 8 | o[3], o[4] << 8 | o[5]]
    return "fe80::" + ":".join(f"{g:x}" for g in groups)


def octets_nozero(hexstr: str) -> str:
    """Hex bytes (``b7190e4c``) as bootpd prints a client id: ``b7:19:e:4c``."""
    return ":".join(f"{int(hexstr[i : i + 2], 16):x}" for i in range(0, len(hexstr), 2))


# --------------------------------------------------------------------------- the daemon


class DaemonLog:
    """``[ts] [level] [category] message`` lines (multipassd.log), sorted by time when written."""

    def __init__(self, off: int) -> None:
        self.off = off
        self.recs: list[tuple[int, int, str, str, str]] = []

    def __call__(self, us: int, level: str, cat: str, msg: str) -> None:
        self.recs.append((us, len(self.recs), level, cat, msg))

    def text(self) -> str:
        """The log file: lines in time order (ties keep the order they were logged in)."""
        return "".join(
            f"[{log_ts(us, self.off)}] [{lvl}] [{cat}] {msg}\n" for us, _, lvl, cat, msg in sorted(self.recs)
        )


def mac_qemu_args(inst: str, mac: str, image: str, cpus: int, mem_mib: int) -> list[str]:
    """The ``qemu-system-aarch64`` arguments Multipass 1.14-1.16 passes (HVF, vmnet-shared NIC)."""
    idir = f"{MAC_DATA}/qemu/vault/instances/{inst}"
    return [
        "-machine",
        "virt,gic-version=3",
        "-accel",
        "hvf",
        "-drive",
        f"file={MAC_RES}/Resources/qemu/edk2-aarch64-code.fd,if=pflash,format=raw,readonly=on",
        "-cpu",
        "host",
        "-nic",
        f"vmnet-shared,model=virtio-net-pci,mac={mac}",
        "-device",
        "virtio-scsi-pci,id=scsi0",
        "-drive",
        f"file={idir}/{image},if=none,format=qcow2,discard=unmap,id=hda",
        "-device",
        "scsi-hd,drive=hda,bus=scsi0.0",
        "-smp",
        str(cpus),
        "-m",
        f"{mem_mib}M",
        "-qmp",
        "stdio",
        "-chardev",
        "null,id=char0",
        "-serial",
        "chardev:char0",
        "-nographic",
        "-cdrom",
        f"{idir}/cloud-init-config.iso",
    ]


def arp_era_lines(log: DaemonLog, rng: random.Random, start: int, until: int, pid: int) -> tuple[int, int]:
    """``[debug] [arp] [pid] started: arp -an`` about every 2 s (1 s lookup + 1 s retry sleep)."""
    t = start
    while t < until:
        log(t, "debug", "arp", f"[{pid}] started: arp -an")
        pid += rng.randint(2, 19)
        last = t
        t += int(rng.uniform(2.012, 2.094) * S)
    return last, pid


# --------------------------------------------------------------------------- host facts


def sw_vers(ver: str, build: str) -> str:
    """``sw_vers`` (TABs after the keys)."""
    return f"ProductName:\t\tmacOS\nProductVersion:\t\t{ver}\nBuildVersion:\t\t{build}\n"


# --------------------------------------------------------------------------- DHCP: bootpd


def lease_block(props: Sequence[tuple[str, str]]) -> str:
    """One ``{ key=value … }`` block of ``/var/db/dhcpd_leases`` (one TAB indent)."""
    return "{\n" + "".join(f"\t{k}={v}\n" for k, v in props) + "}\n"


def ndjson_event(
    us: int, off: int, pid: int, tid: int, mach: int, mtype: str, fmt: str, msg: str, trace: int
) -> str:
    """One bootpd event of ``log show --style ndjson`` (``/`` escaped as bootpd's JSON writer does)."""
    uuid = "7E1C4B52-9A3D-3F68-B0E1-5C2D8A417F93"
    obj = {
        "traceID": trace,
        "eventMessage": msg,
        "eventType": "logEvent",
        "source": None,
        "formatString": fmt,
        "userID": 0,
        "activityIdentifier": 0,
        "subsystem": "",
        "category": "",
        "threadID": tid,
        "senderImageUUID": uuid,
        "backtrace": {"frames": [{"imageOffset": 74236 + (trace % 977), "imageUUID": uuid}]},
        "bootUUID": "A4F2C9E1-6B7D-4E30-8F15-92D0B3C6E7A8",
        "processImagePath": "/usr/libexec/bootpd",
        "senderImagePath": "/usr/libexec/bootpd",
        "timestamp": unified_ts(us, off),
        "machTimestamp": mach,
        "messageType": mtype,
        "processImageUUID": uuid,
        "processID": pid,
        "senderProgramCounter": 74236 + (trace % 977),
        "parentActivityIdentifier": 0,
        "timezoneName": "",
    }
    return json.dumps(obj, separators=(",", ":")).replace("/", "\\/") + "\n"


@dataclass(frozen=True)
class Bootpd:
    """One bootpd process in the unified log: its ids and where its counters stand at ``zero``."""

    off: int
    pid: int
    thread: int
    trace: int  # traceID of its first event; each later event counts up
    mach: int  # machTimestamp at ``zero``
    zero: int

    def event(self, us: int, i: int, fmt: str, msg: str) -> str:
        """Its ``i``-th event, an Info message at ``us``."""
        mach = self.mach + (us - self.zero) * 24 // 1000
        return ndjson_event(us, self.off, self.pid, self.thread, mach, "Info", fmt, msg, self.trace + i)

    def dora(
        self,
        *,
        en0_ip: str,
        iface_lead: tuple[int, int],
        client_id: str,
        name: str,
        ip: str,
        disc: int,
        offer: int,
        req: int,
        ack: int,
    ) -> str:
        """A full DHCP exchange: the two interface lines ``iface_lead`` µs before the DISCOVER, then D/O/R/A."""
        ifmsg = "interface %s: ip %s mask %s"
        got, sent = "DHCP %s [%s]: %s <%.*s>", "%s sent %s %s pktsize %d"
        return (
            self.event(disc - iface_lead[0], 0, ifmsg, f"interface en0: ip {en0_ip} mask 255.255.255.0")
            + self.event(
                disc - iface_lead[1], 1, ifmsg, "interface bridge100: ip 192.168.64.1 mask 255.255.255.0"
            )
            + self.event(disc, 2, got, f"DHCP DISCOVER [bridge100]: {client_id} <{name}>")
            + self.event(offer, 3, sent, f"OFFER sent {name} {ip} pktsize 300")
            + self.event(req, 4, got, f"DHCP REQUEST [bridge100]: {client_id} <{name}>")
            + self.event(ack, 5, sent, f"ACK sent {name} {ip} pktsize 300")
        )


# --------------------------------------------------------------------------- network state


def arp_line(ip: str, mac: str, ifname: str, *, permanent: bool = False) -> str:
    """One ``arp -an`` line."""
    kind = "bridge" if ifname.startswith("bridge") else "ethernet"
    perm = " permanent" if permanent else ""
    return f"? ({ip}) at {mac} on {ifname} ifscope{perm} [{kind}]\n"


@dataclass
class MacHost:
    """The Mac's LAN side, shared by ifconfig / arp / netstat."""

    en0_mac: str
    en0_ip: str
    gw_ip: str
    gw_mac: str  # arp spelling
    lan_peers: list[tuple[str, str]]  # (ip, arp-spelled mac) on en0
    bridge_mac: str  # bridge100's own MAC (arp spelling)
    vmenet_mac: str
    subnet: str = "192.168.64"


def mac_arp(h: MacHost, *, bridge: bool, vm: list[tuple[str, str]], bcast: bool) -> str:
    """``arp -an`` (sorted the way the routing-table walk prints it: by address)."""
    rows = [(h.gw_ip, arp_line(h.gw_ip, h.gw_mac, "en0"))]
    rows += [(ip, arp_line(ip, m, "en0")) for ip, m in h.lan_peers]
    lan_b = h.gw_ip.rsplit(".", 1)[0] + ".255"
    rows.append((lan_b, arp_line(lan_b, "ff:ff:ff:ff:ff:ff", "en0")))
    if bridge:
        rows.append((f"{h.subnet}.1", arp_line(f"{h.subnet}.1", h.bridge_mac, "bridge100", permanent=True)))
        rows += [(ip, arp_line(ip, mac_nozero(m), "bridge100")) for ip, m in vm]
        if bcast:
            rows.append((f"{h.subnet}.255", arp_line(f"{h.subnet}.255", "ff:ff:ff:ff:ff:ff", "bridge100")))
    rows.append(("224.0.0.251", arp_line("224.0.0.251", "1:0:5e:0:0:fb", "en0", permanent=True)))
    rows.append(("239.255.255.250", arp_line("239.255.255.250", "1:0:5e:7f:ff:fa", "en0", permanent=True)))
    rows.sort(key=lambda r: tuple(int(x) for x in r[0].split(".")))
    return "".join(line for _, line in rows)


def mac_ifconfig(h: MacHost, *, scope: int, macos15: bool) -> str:
    """``ifconfig -a`` with the vmnet bridge up and one VM port."""
    en0_v6 = "fe80::1c3a:5bff:fe92:4e7%en0"
    fl = "8a63<UP,BROADCAST,SMART,RUNNING,ALLMULTI,SIMPLEX,MULTICAST>"
    parts = [
        "lo0: flags=8049<UP,LOOPBACK,RUNNING,MULTICAST> mtu 16384\n"
        "\toptions=1203<RXCSUM,TXCSUM,TXSTATUS,SW_TIMESTAMP>\n"
        "\tinet 127.0.0.1 netmask 0xff000000\n"
        "\tinet6 ::1 prefixlen 128 \n"
        "\tinet6 fe80::1%lo0 prefixlen 64 scopeid 0x1 \n"
        "\tnd6 options=201<PERFORMNUD,DAD>\n",
        "gif0: flags=8010<POINTOPOINT,MULTICAST> mtu 1280\n",
        "stf0: flags=0<> mtu 1280\n",
        "en0: flags=8863<UP,BROADCAST,SMART,RUNNING,SIMPLEX,MULTICAST> mtu 1500\n"
        "\toptions=6460<TSO4,TSO6,CHANNEL_IO,PARTIAL_CSUM,ZEROINVERT_CSUM>\n"
        f"\tether {h.en0_mac}\n"
        f"\tinet6 {en0_v6} prefixlen 64 secured scopeid 0xb \n"
        f"\tinet {h.en0_ip} netmask 0xffffff00 broadcast {h.gw_ip.rsplit('.', 1)[0]}.255\n"
        "\tnd6 options=201<PERFORMNUD,DAD>\n"
        "\tmedia: autoselect\n"
        "\tstatus: active\n",
        "ap1: flags=8802<BROADCAST,SIMPLEX,MULTICAST> mtu 1500\n"
        "\toptions=6460<TSO4,TSO6,CHANNEL_IO,PARTIAL_CSUM,ZEROINVERT_CSUM>\n"
        "\tether 3e:51:7a:0c:22:d9\n"
        "\tnd6 options=201<PERFORMNUD,DAD>\n"
        "\tmedia: autoselect (none)\n"
        "\tstatus: inactive\n",
        "awdl0: flags=8843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST> mtu 1500\n"
        "\toptions=6460<TSO4,TSO6,CHANNEL_IO,PARTIAL_CSUM,ZEROINVERT_CSUM>\n"
        "\tether 62:8f:d4:3b:91:0e\n"
        "\tinet6 fe80::608f:d4ff:fe3b:910e%awdl0 prefixlen 64 scopeid 0xd \n"
        "\tnd6 options=201<PERFORMNUD,DAD>\n"
        "\tmedia: autoselect\n"
        "\tstatus: active\n",
        "llw0: flags=8863<UP,BROADCAST,SMART,RUNNING,SIMPLEX,MULTICAST> mtu 1500\n"
        "\toptions=400<CHANNEL_IO>\n"
        "\tether 62:8f:d4:3b:91:0e\n"
        "\tinet6 fe80::608f:d4ff:fe3b:910e%llw0 prefixlen 64 scopeid 0xe \n"
        "\tnd6 options=201<PERFORMNUD,DAD>\n"
        "\tmedia: autoselect\n"
        "\tstatus: active\n",
        "utun0: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1380\n"
        "\tinet6 fe80::7d2e:1b4c:3f0a:9e61%utun0 prefixlen 64 scopeid 0xf \n"
        "\tnd6 options=201<PERFORMNUD,DAD>\n",
        "utun1: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu "
        + ("4064" if macos15 else "2000")
        + "\n\tinet6 fe80::c4a1:93ff:fe0e:5b72%utun1 prefixlen 64 scopeid 0x10 \n"
        "\tnd6 options=201<PERFORMNUD,DAD>\n",
        "vmenet0: flags=8963<UP,BROADCAST,SMART,RUNNING,PROMISC,SIMPLEX,MULTICAST> mtu 1500\n"
        f"\tether {h.vmenet_mac}\n"
        "\tmedia: autoselect\n"
        "\tstatus: active\n",
        f"bridge100: flags={fl} mtu 1500\n"
        "\toptions=3<RXCSUM,TXCSUM>\n"
        f"\tether {':'.join(f'{int(o, 16):02x}' for o in h.bridge_mac.split(':'))}\n"
        f"\tinet {h.subnet}.1 netmask 0xffffff00 broadcast {h.subnet}.255\n"
        f"\tinet6 {eui64_ll(h.bridge_mac)}%bridge100 prefixlen 64 scopeid 0x{scope:x} \n"
        "\tConfiguration:\n"
        "\t\tid 0:0:0:0:0:0 priority 0 hellotime 0 fwddelay 0\n"
        "\t\tmaxage 0 holdcnt 0 proto stp maxaddr 100 timeout 1200\n"
        "\t\troot id 0:0:0:0:0:0 priority 0 ifcost 0 port 0\n"
        "\t\tipfilter disabled flags 0x0\n"
        "\tmember: vmenet0 flags=3<LEARNING,DISCOVER>\n"
        f"\t        ifmaxaddr 0 port {scope - 1} priority 0 path cost 0\n"
        "\tnd6 options=201<PERFORMNUD,DAD>\n"
        "\tmedia: autoselect\n"
        "\tstatus: active\n",
    ]
    return "".join(parts)


def mac_netstat(h: MacHost, *, scope: int, vm: list[tuple[str, str, int]]) -> str:
    """``netstat -rn -f inet``; ``vm`` = (ip, mac, expire) host routes on the bridge."""
    lan = h.gw_ip.rsplit(".", 1)[0]

    def row(dst: str, gw: str, flags: str, netif: str, exp: str = "") -> str:
        return f"{dst:<19}{gw:<19}{flags:<16}{netif:>9} {exp:>6}\n"

    rows = [
        row("default", h.gw_ip, "UGScg", "en0"),
        row("default", f"link#{scope}", "UCSIg", "bridge100", "!"),
        row("127", "127.0.0.1", "UCS", "lo0"),
        row("127.0.0.1", "127.0.0.1", "UH", "lo0"),
        row("169.254", "link#11", "UCS", "en0", "!"),
        row(lan, "link#11", "UCS", "en0", "!"),
        row(f"{lan}.1/32", "link#11", "UCS", "en0", "!"),
        row(h.gw_ip, h.gw_mac, "UHLWIir", "en0", "1163"),
        row(h.en0_ip + "/32", "link#11", "UCS", "en0", "!"),
        row(f"{lan}.255", "ff:ff:ff:ff:ff:ff", "UHLWbI", "en0", "!"),
        row(h.subnet, f"link#{scope}", "UC", "bridge100", "!"),
        row(f"{h.subnet}.1", h.bridge_mac.replace(":", "."), "UHLWIi", "lo0"),
    ]
    rows += [row(ip, mac_nozero(m).replace(":", "."), "UHLWIi", "bridge100", str(x)) for ip, m, x in vm]
    rows += [
        row(f"{h.subnet}.255", "ff.ff.ff.ff.ff.ff", "UHLWbI", "bridge100", "!"),
        row("224.0.0/4", "link#11", "UmCS", "en0", "!"),
        row("224.0.0.251", "1:0:5e:0:0:fb", "UHmLWI", "en0"),
        row("255.255.255.255/32", "link#11", "UCS", "en0", "!"),
    ]
    head = (
        "Routing tables\n\nInternet:\n"
        + f"{'Destination':<19}{'Gateway':<19}{'Flags':<16}{'Netif':>9} Expire\n"
    )
    return head + "".join(rows)


# --------------------------------------------------------------------------- application firewall

#: the keys of :func:`firewall_outputs`, one socketfilterfw option per output
FIREWALL_OPTIONS = ("--getglobalstate", "--getblockall", "--getstealthmode", "--getallowsigned", "--listapps")


def firewall_outputs(
    state: int, block_all: bool, stealth: bool, downloaded: bool, apps: list[tuple[str, bool]]
) -> dict[str, str]:
    """The five socketfilterfw outputs by option (classic ``--listapps`` form)."""
    on = "enabled" if state else "disabled"
    glob = f"Firewall is {on}. (State = {state})\n"
    ba = f"Firewall has block all state set to {'enabled' if block_all else 'disabled'}.\n"
    st = f"Firewall stealth mode is {'on' if stealth else 'off'}\n"
    sig = (
        "Automatically allow built-in signed software ENABLED.\n"
        f"Automatically allow downloaded signed software {'ENABLED' if downloaded else 'DISABLED'}.\n"
    )
    la = f"ALF: total number of apps = {len(apps)} \n"
    for i, (path, allow) in enumerate(apps, 1):
        verdict = "Allow" if allow else "Block"
        la += f"\n{i} :  {path} \n \t ( {verdict} incoming connections ) \n"
    return dict(zip(FIREWALL_OPTIONS, (glob, ba, st, sig, la), strict=True))
