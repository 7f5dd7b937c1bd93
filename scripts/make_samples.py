"""Write mpkit's sample bundles (``mpkit/samples_data/<name>/``) exactly as ``mpkit probe`` lays them out.

    python scripts/make_samples.py              # into <repo>/mpkit/samples_data (package data)
    python scripts/make_samples.py /tmp/out     # anywhere else (the tests compare the two)

Deterministic: no clock, no environment; the only randomness is ``random.Random``
seeded per bundle. Every time in every file derives from one UTC timeline per
bundle, so daemon-log local times, journal offsets, QMP epochs, lease expiries,
snapshot folder names, tcpdump times and manifest/attempt times all agree.

Bundles (see ``mpkit/samples_data/README.md``, also written here):

* ``sequoia-ip-discovery`` (the default sample): macOS 15.0 + Multipass 1.14.0,
  the guest has a lease (``ff,`` client-id, no MAC) and an ARP entry, but the
  1.14.0 lease-file lookup never finds it: ``ip-discovery-failed``.
* ``firewall-blocks-bootpd``: macOS 14.6 + 1.15.1, application firewall with
  block-all on, DHCP requests never answered: ``firewall-blocks-bootpd``.
* ``healthy-start``: macOS 15.3 + 1.16.1, a start that works in ~25 s.
* ``linux-dhcp-firewalled``: Ubuntu 24.04 + snap 1.15.0, an nftables rule drops
  DHCP on ``mpqemubr0``: ``host-firewall-blocks-dhcp``.
"""

from __future__ import annotations

import json
import random
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# the only copy of the samples: they ship inside the package (mpkit.samples finds them there)
DEFAULT_OUT = ROOT / "mpkit" / "samples_data"
# the mpkit version the synthetic manifests say collected them: bundle content, not the version of
# this package (that is mpkit.__version__ alone), so a release does not rewrite the samples
MPKIT_VERSION = "0.1.0"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
S = 1_000_000  # microseconds per second

MAC_RES = "/Library/Application Support/com.canonical.multipass"
MAC_DATA = "/var/root/Library/Application Support/multipassd"
MAC_TMP = "/var/folders/zz/zyxvpxvq6csfxvn_n0000000000000/T"
LNX_DATA = "/var/snap/multipass/common/data/multipassd"


# --------------------------------------------------------------------------- time


def us_of(local: str, off_min: int) -> int:
    """Microseconds since the epoch of a local wall-clock time ``YYYY-MM-DDTHH:MM:SS.ffffff``."""
    naive = datetime.fromisoformat(local)
    aware = naive.replace(tzinfo=timezone(timedelta(minutes=off_min)))
    return (aware - EPOCH) // timedelta(microseconds=1)


def utc(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


def loc(us: int, off_min: int) -> datetime:
    return (utc(us) + timedelta(minutes=off_min)).replace(tzinfo=None)


def iso_z(us: int) -> str:
    """Manifest / attempts time: UTC ISO-8601 with milliseconds and ``Z``."""
    return utc(us).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def snap_dir(us: int) -> str:
    return iso_z(us).replace(":", "-")


def log_ts(us: int, off: int) -> str:
    """Qt ISODateWithMs local time, no zone (multipassd.log)."""
    return loc(us, off).isoformat(timespec="milliseconds")


def off_str(off: int, colon: bool = True) -> str:
    sign = "+" if off >= 0 else "-"
    h, m = divmod(abs(off), 60)
    return f"{sign}{h:02d}:{m:02d}" if colon else f"{sign}{h:02d}{m:02d}"


def journal_ts(us: int, off: int) -> str:
    """journalctl -o short-iso, systemd >= 255 spelling of the offset (Ubuntu 24.04)."""
    return loc(us, off).isoformat(timespec="seconds") + off_str(off)


def unified_ts(us: int, off: int) -> str:
    return loc(us, off).strftime("%Y-%m-%d %H:%M:%S.%f") + off_str(off, colon=False)


def tcpdump_ts(us: int, off: int) -> str:
    return loc(us, off).strftime("%H:%M:%S.%f")


def epoch_s(us: int) -> int:
    return us // S


def etime(seconds: float) -> str:
    """ps ELAPSED: [[dd-]hh:]mm:ss."""
    s = int(seconds)
    d, s = divmod(s, 86400)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    if d:
        return f"{d}-{h:02d}:{m:02d}:{s:02d}"
    if h:
        return f"{h:02d}:{m:02d}:{s:02d}"
    return f"{m:02d}:{s:02d}"


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
    return ":".join(f"{int(hexstr[i : i + 2], 16):x}" for i in range(0, len(hexstr), 2))


# --------------------------------------------------------------------------- bundle writer


@dataclass
class Bundle:
    name: str
    off: int  # minutes east of UTC, constant over the bundle's window
    tzname: str
    host: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    entries: list[dict[str, Any]] = field(default_factory=list)

    def write(self, rel: str, data: bytes | str) -> None:
        self.files[rel] = data.encode() if isinstance(data, str) else data

    def _entry(
        self,
        file: str,
        kind: str | None,
        how: tuple[str, Any],
        start: int,
        dur: float,
        data: bytes | str | None,
        exit_code: int | None,
        error: str | None,
        timed_out: bool,
        append: bool,
    ) -> None:
        e: dict[str, Any] = {}
        raw = data.encode() if isinstance(data, str) else data
        if raw is not None:
            e["file"] = file
            if append and file in self.files:
                self.files[file] += raw
            else:
                self.files[file] = raw
        e["kind"] = kind
        e["source"] = "command" if how[0] == "command" else "file"
        e[how[0]] = how[1]
        e["started_at"] = iso_z(start)
        e["duration_s"] = round(dur, 3)
        e["exit_code"] = exit_code
        e["timed_out"] = timed_out
        e["truncated"] = False
        e["bytes"] = None if raw is None else len(raw)
        e["error"] = error
        self.entries.append(e)

    def cmd(
        self,
        file: str,
        kind: str | None,
        argv: Sequence[str],
        start: int,
        dur: float,
        data: bytes | str | None,
        *,
        exit_code: int | None = 0,
        error: str | None = None,
        timed_out: bool = False,
        append: bool = False,
    ) -> None:
        self._entry(
            file, kind, ("command", list(argv)), start, dur, data, exit_code, error, timed_out, append
        )

    def path(
        self,
        file: str,
        kind: str | None,
        path: str,
        start: int,
        dur: float,
        data: bytes | str | None,
        *,
        error: str | None = None,
    ) -> None:
        self._entry(file, kind, ("path", path), start, dur, data, None, error, False, False)

    def finish(self, created: int, finished: int, attempts: list[dict[str, Any]]) -> None:
        self.entries.sort(key=lambda e: e["started_at"])
        manifest = {
            "format": "mpkit-bundle/1",
            "created_at": iso_z(created),
            "finished_at": iso_z(finished),
            "mode": "probe",
            "host": self.host,
            "mpkit_version": MPKIT_VERSION,
            "redacted": False,
            "complete": True,
            "interrupted": False,
            "artifacts": self.entries,
        }
        self.write("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        self.write("attempts.jsonl", "".join(json.dumps(a) + "\n" for a in attempts))

    def save(self, out: Path) -> None:
        folder = out / self.name
        if folder.exists():
            shutil.rmtree(folder)
        for rel, data in sorted(self.files.items()):
            p = folder / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)


class DaemonLog:
    """``[ts] [level] [category] message`` lines (multipassd.log)."""

    def __init__(self, off: int) -> None:
        self.off = off
        self.recs: list[tuple[int, int, str, str, str]] = []

    def __call__(self, us: int, level: str, cat: str, msg: str) -> None:
        self.recs.append((us, len(self.recs), level, cat, msg))

    def text(self) -> str:
        return "".join(
            f"[{log_ts(us, self.off)}] [{lvl}] [{cat}] {msg}\n" for us, _, lvl, cat, msg in sorted(self.recs)
        )


class Journal:
    """``journalctl -o short-iso`` lines: ``<ts> <host> <ident>[<pid>]: <message>``."""

    def __init__(self, off: int, hostname: str) -> None:
        self.off, self.hostname = off, hostname
        self.recs: list[tuple[int, int, str, str]] = []

    def __call__(self, us: int, ident: str, msg: str) -> None:
        self.recs.append((us, len(self.recs), ident, msg))

    def text(self) -> str:
        out = []
        for us, _, ident, msg in sorted(self.recs):
            first, *rest = msg.split("\n")
            out.append(f"{journal_ts(us, self.off)} {self.hostname} {ident}: {first}\n")
            out.extend(f"    {line}\n" for line in rest if line)
        return "".join(out)


# --------------------------------------------------------------------------- shared content


def qmp_greeting(major: int, minor: int, micro: int, package: str = "") -> str:
    version = {"qemu": {"micro": micro, "minor": minor, "major": major}, "package": package}
    return json.dumps({"QMP": {"version": version, "capabilities": ["oob"]}})


def qmp_nic(us: int, path: str) -> str:
    ts = {"seconds": us // S, "microseconds": us % S}
    return json.dumps({"timestamp": ts, "event": "NIC_RX_FILTER_CHANGED", "data": {"path": path}})


def client_timeout(instance: str) -> str:
    return f"start failed: The following errors occurred:\n{instance}: timed out waiting for response\n"


def list_table(rows: Sequence[tuple[str, str, str, str]]) -> str:
    out = [f"{'Name':<24}{'State':<18}{'IPv4':<17}Image\n"]
    out += [f"{n:<24}{s:<18}{ip:<17}{img}\n" for n, s, ip, img in rows]
    return "".join(out)


def version_txt(ver: str) -> str:
    return f"multipass   {ver}\nmultipassd  {ver}\n"


def sw_vers(ver: str, build: str) -> str:
    return f"ProductName:\t\tmacOS\nProductVersion:\t\t{ver}\nBuildVersion:\t\t{build}\n"


def mac_qemu_args(inst: str, mac: str, image: str, cpus: int, mem_mib: int) -> list[str]:
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


def lease_block(props: Sequence[tuple[str, str]]) -> str:
    return "{\n" + "".join(f"\t{k}={v}\n" for k, v in props) + "}\n"


def arp_line(ip: str, mac: str, ifname: str, *, permanent: bool = False) -> str:
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


APP_FW = "/usr/libexec/ApplicationFirewall/socketfilterfw"


def firewall_outputs(
    state: int, block_all: bool, stealth: bool, downloaded: bool, apps: list[tuple[str, bool]]
):
    """The five socketfilterfw outputs, one per command (classic ``--listapps`` form)."""
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
    opts = ("--getglobalstate", "--getblockall", "--getstealthmode", "--getallowsigned", "--listapps")
    return list(zip(opts, (glob, ba, st, sig, la), strict=True))


def ndjson_event(
    us: int, off: int, pid: int, tid: int, mach: int, mtype: str, fmt: str, msg: str, trace: int
):
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


def ps_block(rows: list[tuple[int, int, float, str]], *, width: int = 5) -> str:
    """``ps -o pid,ppid,etime,command`` (macOS: PID width 5; procps on Linux: 7)."""
    out = [f"{'PID':>{width}} {'PPID':>{width}} {'ELAPSED':>11} COMMAND\n"]
    out += [f"{pid:>{width}} {ppid:>{width}} {etime(el):>11} {cmd}\n" for pid, ppid, el, cmd in rows]
    return "".join(out)


def snapshot_times(rng: random.Random, first: int, last: int) -> list[int]:
    """Capture instants every ~2-5 s from ``first`` until past ``last``."""
    out, t = [], first
    while True:
        out.append(t)
        if t > last:
            return out
        t += int(rng.uniform(2.0, 5.0) * S)


# --------------------------------------------------------------------------- macOS probe skeleton


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


def mac_probe(
    c: MacCase,
    *,
    timeline: Callable[[Bundle, DaemonLog, random.Random, int], dict[str, Any]],
) -> Bundle:
    """The common shape of a macOS ``mpkit probe <instance>`` run.

    ``timeline`` fills the attempt-specific parts (daemon log after ``Waiting
    for SSH``, DHCP, leases, ARP) and returns what the probe needs afterwards.
    """
    rng = random.Random(c.seed)
    b = Bundle(
        c.name,
        c.off,
        c.tzname,
        {
            "platform": "macos",
            "os_version": c.macos,
            "arch": "arm64",
            "hostname": c.hostname,
            "timezone": c.tzname,
            "utc_offset": off_str(c.off),
        },
    )
    log = DaemonLog(c.off)
    boot = us_of(c.boot_local, c.off)
    p0 = us_of(c.probe_local, c.off)

    # --- daemon start-up (launchd at boot)
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

    # --- probe: host facts first
    t = p0
    b.cmd("sw_vers.txt", "sw_vers", ["sw_vers"], t, 0.031, sw_vers(c.macos, c.build))
    t += int(0.05 * S)
    uname = f"Darwin {c.hostname} {c.darwin}\n"
    b.cmd("uname.txt", "uname", ["uname", "-a"], t, 0.006, uname)
    t += int(0.02 * S)
    b.cmd("hv_support.txt", "hv_support", ["sysctl", "kern.hv_support"], t, 0.005, "kern.hv_support: 1\n")
    t += int(0.02 * S)
    b.cmd("multipass-version.txt", "multipass_version", ["multipass", "version"], t, 0.214, version_txt(c.mp_ver))
    t += int(0.25 * S)
    b.cmd("local-driver.txt", "local_driver", ["multipass", "get", "local.driver"], t, 0.187, "qemu\n")
    t += int(0.22 * S)
    tcpdump_argv = ["tcpdump", "-n", "-l", "-i", "bridge100", "udp port 67 and port 68"]
    if not c.root:
        b.cmd(
            "tcpdump.txt",
            "tcpdump",
            tcpdump_argv,
            t,
            0.0,
            None,
            exit_code=None,
            error="not run: capturing DHCP on bridge100 needs root (run mpkit probe with sudo)",
        )
    attempt_start = t + int(rng.uniform(2.9, 3.3) * S)

    # --- the attempt: QEMU spawn (same in 1.14-1.16.1)
    a = attempt_start
    args = mac_qemu_args(c.inst, c.mac, c.image, c.cpus, c.mem)
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

    ctx = timeline(b, log, rng, a)
    ctx["qemu_pid"] = qpid
    a_end = ctx["attempt_end"]

    # --- snapshots (lease file + arp) across the attempt
    snaps = snapshot_times(rng, attempt_start - int(0.9 * S), a_end + int(1.0 * S))
    for s in snaps:
        d = f"snapshots/{snap_dir(s)}"
        b.path(f"{d}/dhcpd_leases", "dhcpd_leases", "/var/db/dhcpd_leases", s, 0.002, ctx["leases_at"](s))
        s2 = s + int(rng.uniform(0.003, 0.006) * S)
        b.cmd(f"{d}/arp.txt", "arp", ["arp", "-an"], s2, 0.009, ctx["arp_at"](s2))

    # --- the attempt's own record
    client = ctx["client"]
    b.cmd(
        "client.txt",
        "client",
        ["multipass", "start", c.inst],
        attempt_start,
        (a_end - attempt_start) / S,
        client,
        exit_code=ctx["exit_code"],
    )
    attempts = [
        {
            "attempt": 1,
            "instance": c.inst,
            "command": ["multipass", "start", c.inst],
            "started_at": iso_z(attempt_start),
            "ended_at": iso_z(a_end),
            "duration_s": round((a_end - attempt_start) / S, 3),
            "exit_code": ctx["exit_code"],
            "outcome": ctx["outcome"],
            "client_output": client,
        }
    ]

    # --- after the attempt
    t = snaps[-1] + int(0.4 * S)
    if "tcpdump" in ctx:
        tstart, text = ctx["tcpdump"]
        b.cmd("tcpdump.txt", "tcpdump", tcpdump_argv, tstart, (t - tstart) / S, text)
        t += int(0.1 * S)
    b.cmd("multipass-list.txt", "multipass_list_text", ["multipass", "list"], t, 0.412, list_table(ctx["list_rows"]))
    t += int(0.45 * S)
    b.path("dhcpd_leases", "dhcpd_leases", "/var/db/dhcpd_leases", t, 0.002, ctx["leases_at"](t))
    t += int(0.01 * S)
    b.cmd("arp.txt", "arp", ["arp", "-an"], t, 0.011, ctx["arp_at"](t))
    t += int(0.02 * S)
    b.cmd(
        "ifconfig.txt",
        "ifconfig",
        ["ifconfig", "-a"],
        t,
        0.018,
        mac_ifconfig(c.host, scope=c.scope, macos15=c.macos >= "15"),
    )
    t += int(0.03 * S)
    b.cmd("routes.txt", "routes", ["netstat", "-rn", "-f", "inet"], t, 0.024, ctx["routes"])
    t += int(0.04 * S)
    for opt, text in ctx["firewall"]:
        b.cmd("firewall.txt", "firewall", [APP_FW, opt], t, 0.041, text, append=True)
        t += int(0.05 * S)
    if c.root:
        b.cmd("pf-rules.txt", "pf_rules", ["pfctl", "-s", "rules"], t, 0.017, ctx["pf_rules"])
    else:
        b.cmd(
            "pf-rules.txt",
            "pf_rules",
            ["pfctl", "-s", "rules"],
            t,
            0.009,
            None,
            exit_code=1,
            error="exit code 1: pfctl: /dev/pf: Permission denied",
        )
    t += int(0.03 * S)
    since_min = ctx["since_minutes"]
    log_argv = ["log", "show", "--style", "ndjson", "--info", "--last", f"{since_min}m", "--predicate"]
    b.cmd("bootpd.log", "unified_log", log_argv + ['process == "bootpd"'], t, 4.826, ctx["bootpd_log"])
    t += int(4.85 * S)
    unified_pred = (
        'process == "InternetSharing" OR process == "socketfilterfw" OR process == "nehelper"'
        ' OR eventMessage CONTAINS[c] "vmnet"'
    )
    if ctx.get("unified_timeout"):
        b.cmd(
            "unified.log",
            "unified_log",
            log_argv + [unified_pred],
            t,
            120.0,
            None,
            exit_code=None,
            timed_out=True,
            error="timed out after 120 s (log show was killed; nothing kept)",
        )
        t += int(120.1 * S)
    qel = (t - (attempt_start + 391_506)) / S
    procs = [
        (c.daemon_pid, 1, (t - boot) / S + 1.2, f"{MAC_RES}/bin/multipassd --verbosity debug"),
        (
            c.daemon_pid + 77,
            1,
            (t - boot) / S - 14.0,
            "/Applications/Multipass.app/Contents/MacOS/multipass.gui --autostarting",
        ),
        (qpid, c.daemon_pid, qel, f"{MAC_RES}/bin/qemu-system-aarch64 {' '.join(args)}"),
    ]
    if ctx.get("bootpd_start") is not None:
        procs.append((ctx["bootpd_pid"], 1, (t - ctx["bootpd_start"]) / S, "/usr/libexec/bootpd"))
    procs.sort()
    b.cmd("processes.txt", "processes", ["ps", "-axo", "pid,ppid,etime,command"], t, 0.052, ps_block(procs))
    t += int(0.07 * S)
    vmdb = f"{MAC_DATA}/qemu/multipassd-vm-instances.json"
    if c.root:
        b.path("vm-instances.json", "vm_instances", vmdb, t, 0.001, ctx["vm_instances"])
    else:
        b.path("vm-instances.json", "vm_instances", vmdb, t, 0.001, None, error=f"permission denied: {vmdb}")
    t += int(0.01 * S)
    text = log.text()
    b.path("multipassd.log", "daemon_log", "/Library/Logs/Multipass/multipassd.log", t, 0.006, text)
    t += int(0.02 * S)
    b.finish(p0, t, attempts)
    return b


# --------------------------------------------------------------------------- bundle 1: Sequoia, 1.14.0


def sequoia_ip_discovery() -> Bundle:
    h = MacHost(
        en0_mac="f8:4d:89:6a:1e:c3",
        en0_ip="192.168.1.23",
        gw_ip="192.168.1.1",
        gw_mac="9c:53:22:8:3b:e1",
        lan_peers=[("192.168.1.37", "4:d4:c4:1a:5c:90")],
        bridge_mac="3e:a6:f6:2b:91:64",
        vmenet_mac="2a:c4:1e:9b:70:55",
    )
    c = MacCase(
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
        host=h,
        daemon_pid=402,
        other_instances=[("builder", "ubuntu-22.04-server-cloudimg-arm64.img")],
    )
    vm_ip = "192.168.64.7"
    # RFC 4361 client-id as bootpd writes it: IAID (4 bytes) + DUID-EN (0:2, systemd's 43793, 8 hash bytes)
    client_id = "ff," + octets_nozero("b7190e4c" + "00020000ab11" + "5d8e02c491f03a6b")
    older = lease_block(
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
    y_ack = us_of("2024-09-23T18:41:27.655", 120)

    def dev_block(ack: int) -> str:
        return lease_block(
            [
                ("name", "dev"),
                ("ip_address", vm_ip),
                ("hw_address", client_id),
                ("identifier", client_id),
                ("lease", hex(ack // S + 86400)),
            ]
        )

    def timeline(b: Bundle, log: DaemonLog, rng: random.Random, a: int) -> dict[str, Any]:
        bridge_up = a + 520_000
        nic = a + 13_873_219
        log(
            nic + 611,
            "debug",
            "dev",
            f"QMP: {qmp_nic(nic, '/machine/unattached/device[8]/virtio-backend')}\n",
        )
        # 1.14.0 reads /var/db/dhcpd_leases silently (trace only): nothing more for dev at debug
        disc = nic + 1_338_520
        offer = disc + 1_906
        req = disc + 1_124_377
        ack = req + 1_712
        arp_seen = ack + 742_118
        end = a + 300_463_000 + 31_000
        bp_pid = 2461
        tr = 0x3A1F00C2D4E6

        def ev(us: int, i: int, mtype: str, fmt: str, msg: str) -> str:
            return ndjson_event(
                us, c.off, bp_pid, 0x2D1F4, 40_113_522_118 + (us - a) * 24 // 1000, mtype, fmt, msg, tr + i
            )

        ifmsg = "interface %s: ip %s mask %s"
        bootpd_log = (
            ev(disc - 4_210, 0, "Info", ifmsg, f"interface en0: ip {h.en0_ip} mask 255.255.255.0")
            + ev(disc - 4_102, 1, "Info", ifmsg, "interface bridge100: ip 192.168.64.1 mask 255.255.255.0")
            + ev(disc, 2, "Info", "DHCP %s [%s]: %s <%.*s>", f"DHCP DISCOVER [bridge100]: {client_id} <dev>")
            + ev(offer, 3, "Info", "%s sent %s %s pktsize %d", f"OFFER sent dev {vm_ip} pktsize 300")
            + ev(req, 4, "Info", "DHCP %s [%s]: %s <%.*s>", f"DHCP REQUEST [bridge100]: {client_id} <dev>")
            + ev(ack, 5, "Info", "%s sent %s %s pktsize %d", f"ACK sent dev {vm_ip} pktsize 300")
        )

        def leases_at(s: int) -> str:
            return (dev_block(ack) if s >= ack + 900 else dev_block(y_ack)) + older

        def arp_at(s: int) -> str:
            vm = [(vm_ip, c.mac)] if s >= arp_seen else []
            return mac_arp(h, bridge=s >= bridge_up, vm=vm, bcast=s >= offer)

        p0 = us_of(c.probe_local, c.off)
        boot = us_of(c.boot_local, c.off)
        return {
            "attempt_end": end,
            "exit_code": 2,
            "outcome": "timeout",
            "client": client_timeout("dev"),
            "leases_at": leases_at,
            "arp_at": arp_at,
            "list_rows": [
                ("builder", "Stopped", "--", "Ubuntu 22.04 LTS"),
                ("dev", "Unknown", "--", "Ubuntu 24.04 LTS"),
            ],
            "routes": mac_netstat(h, scope=c.scope, vm=[(vm_ip, c.mac, 1187)]),
            "firewall": firewall_outputs(0, False, False, True, []),
            "bootpd_log": bootpd_log,
            "bootpd_start": disc - 4_900,
            "bootpd_pid": bp_pid,
            "since_minutes": -(-(p0 - boot) // (60 * S)) + 2,
        }

    return mac_probe(c, timeline=timeline)


# --------------------------------------------------------------------------- bundle 2: firewall, 1.15.1


def arp_era_lines(log: DaemonLog, rng: random.Random, start: int, until: int, pid: int) -> tuple[int, int]:
    """``[debug] [arp] [pid] started: arp -an`` about every 2 s (1 s lookup + 1 s retry sleep)."""
    t = start
    while t < until:
        log(t, "debug", "arp", f"[{pid}] started: arp -an")
        pid += rng.randint(2, 19)
        last = t
        t += int(rng.uniform(2.012, 2.094) * S)
    return last, pid


def dhcp_retransmits(rng: random.Random, first: int, until: int) -> list[int]:
    """systemd-networkd DISCOVER retransmissions: 2, 4, 8 … 64 s (± 1 s), capped at 64 s."""
    out, t, k = [], first, 1
    while t < until:
        out.append(t)
        t += int((min(2**k, 64) + rng.uniform(-1.0, 1.0)) * S)
        k += 1
    return out


def vm_db(entries: dict[str, dict[str, Any]]) -> str:
    return json.dumps(entries, indent=4, sort_keys=True) + "\n"


def vm_entry(
    mac: str, args: list[str], machine: str, cores: int, mem: int, disk: int, state: int
) -> dict[str, Any]:
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


def firewall_blocks_bootpd() -> Bundle:
    h = MacHost(
        en0_mac="a0:78:17:9c:42:5d",
        en0_ip="10.20.14.87",
        gw_ip="10.20.14.1",
        gw_mac="0:1a:1e:4:b2:70",
        lan_peers=[("10.20.14.12", "b8:27:eb:5:9f:3a"), ("10.20.14.53", "f0:18:98:2e:c1:7")],
        bridge_mac="ba:7e:1c:44:90:64",
        vmenet_mac="6e:12:a4:f0:3b:d8",
    )
    c = MacCase(
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
        host=h,
        daemon_pid=389,
        other_instances=[("k3s", "ubuntu-22.04-server-cloudimg-arm64.img")],
    )
    leases = (
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

    def timeline(b: Bundle, log: DaemonLog, rng: random.Random, a: int) -> dict[str, Any]:
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
        dump = "".join(
            f"{tcpdump_ts(r, c.off)} IP 0.0.0.0.68 > 255.255.255.255.67: BOOTP/DHCP, Request from {c.mac}, length 300\n"
            for r in reqs
        )
        args = mac_qemu_args(c.inst, c.mac, c.image, c.cpus, c.mem)
        k3s_args = mac_qemu_args(
            "k3s", "52:54:00:5f:d2:17", "ubuntu-22.04-server-cloudimg-arm64.img", 2, 4096
        )
        vmi = vm_db(
            {
                "k3s": vm_entry("52:54:00:5f:d2:17", k3s_args, "virt-9.0", 2, 4294967296, 21474836480, 1),
                "primary": vm_entry(c.mac, args, "virt-9.0", 1, 1073741824, 5368709120, 8),
            }
        )
        p0 = us_of(c.probe_local, c.off)
        boot = us_of(c.boot_local, c.off)
        return {
            "attempt_end": end,
            "exit_code": 2,
            "outcome": "timeout",
            "client": client_timeout("primary"),
            "leases_at": lambda s: leases,
            "arp_at": lambda s: mac_arp(h, bridge=s >= bridge_up, vm=[], bcast=False),
            "list_rows": [
                ("k3s", "Stopped", "--", "Ubuntu 22.04 LTS"),
                ("primary", "Unknown", "--", "Ubuntu 24.04 LTS"),
            ],
            "routes": mac_netstat(h, scope=c.scope, vm=[]),
            "firewall": firewall_outputs(
                1,
                True,
                True,
                False,
                [(f"{MAC_RES}/bin/multipassd", True), ("/Applications/zoom.us.app", False)],
            ),
            "pf_rules": 'scrub-anchor "com.apple/*" all fragment reassemble\n'
            'scrub-anchor "com.apple.internet-sharing" all fragment reassemble\n'
            'anchor "com.apple/*" all\n'
            'anchor "com.apple.internet-sharing" all\n',
            "bootpd_log": "",  # bootpd never saw a packet: nothing logged for the window
            "bootpd_start": None,
            "tcpdump": (tstart, dump),
            "unified_timeout": True,
            "vm_instances": vmi,
            "since_minutes": -(-(p0 - boot) // (60 * S)) + 2,
        }

    return mac_probe(c, timeline=timeline)


# --------------------------------------------------------------------------- bundle 3: healthy, 1.16.1


def healthy_start() -> Bundle:
    h = MacHost(
        en0_mac="14:98:77:3d:c0:5a",
        en0_ip="192.168.10.41",
        gw_ip="192.168.10.1",
        gw_mac="cc:2d:e0:71:9:44",
        lan_peers=[("192.168.10.20", "0:11:32:a7:5e:1")],
        bridge_mac="5a:c1:7:e2:3d:90",
        vmenet_mac="8a:3f:51:c0:0d:16",
    )
    c = MacCase(
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
        host=h,
        daemon_pid=377,
        other_instances=[("old-test", "ubuntu-22.04-server-cloudimg-arm64.img")],
    )
    vm_ip = "192.168.64.3"
    ident = "1," + mac_nozero(c.mac)
    older = lease_block(
        [
            ("name", "old-test"),
            ("ip_address", "192.168.64.2"),
            ("hw_address", "1," + mac_nozero("52:54:00:e4:19:2b")),
            ("identifier", "1," + mac_nozero("52:54:00:e4:19:2b")),
            ("lease", hex(us_of("2025-07-14T09:12:55", 540) // S)),
        ]
    )
    prev_ack = us_of("2025-08-01T18:33:04.221", 540)

    def web_block(ack: int) -> str:
        return lease_block(
            [
                ("name", "web"),
                ("ip_address", vm_ip),
                ("hw_address", ident),
                ("identifier", ident),
                ("lease", hex(ack // S + 86400)),
            ]
        )

    def timeline(b: Bundle, log: DaemonLog, rng: random.Random, a: int) -> dict[str, Any]:
        bridge_up = a + 498_000
        nic = a + 11_604_882
        log(
            nic + 702,
            "debug",
            "web",
            f"QMP: {qmp_nic(nic, '/machine/unattached/device[8]/virtio-backend')}\n",
        )
        disc = nic + 1_297_040
        offer = disc + 1_533
        req = disc + 1_010_662
        ack = req + 1_408
        arp_seen = ack + 655_301
        # arp -an every ~2 s until an entry for the MAC exists, then the IP is cached
        t, pid = a + 463_912 + 38_450, c.daemon_pid + 2211
        while True:
            log(t, "debug", "arp", f"[{pid}] started: arp -an")
            if t > arp_seen + 8_000:
                break
            pid += rng.randint(2, 17)
            t += int(rng.uniform(2.012, 2.094) * S)
        ssh_ok = a + 24_310_551
        log(ssh_ok, "debug", "web", "Caching initial SSH session")
        end = ssh_ok + 268_004
        bp_pid = 1874
        tr = 0x51C0A3E97B10

        def ev(us: int, i: int, mtype: str, fmt: str, msg: str) -> str:
            return ndjson_event(
                us, c.off, bp_pid, 0x1A7C2, 61_004_118_771 + (us - a) * 24 // 1000, mtype, fmt, msg, tr + i
            )

        ifmsg = "interface %s: ip %s mask %s"
        bootpd_log = (
            ev(disc - 3_870, 0, "Info", ifmsg, f"interface en0: ip {h.en0_ip} mask 255.255.255.0")
            + ev(disc - 3_766, 1, "Info", ifmsg, "interface bridge100: ip 192.168.64.1 mask 255.255.255.0")
            + ev(disc, 2, "Info", "DHCP %s [%s]: %s <%.*s>", f"DHCP DISCOVER [bridge100]: {ident} <web>")
            + ev(offer, 3, "Info", "%s sent %s %s pktsize %d", f"OFFER sent web {vm_ip} pktsize 300")
            + ev(req, 4, "Info", "DHCP %s [%s]: %s <%.*s>", f"DHCP REQUEST [bridge100]: {ident} <web>")
            + ev(ack, 5, "Info", "%s sent %s %s pktsize %d", f"ACK sent web {vm_ip} pktsize 300")
        )

        def leases_at(s: int) -> str:
            return (web_block(ack) if s >= ack + 900 else web_block(prev_ack)) + older

        def arp_at(s: int) -> str:
            vm = [(vm_ip, c.mac)] if s >= arp_seen else []
            return mac_arp(h, bridge=s >= bridge_up, vm=vm, bcast=s >= offer)

        p0 = us_of(c.probe_local, c.off)
        boot = us_of(c.boot_local, c.off)
        return {
            "attempt_end": end,
            "exit_code": 0,
            "outcome": "ok",
            "client": "",  # `multipass start` prints nothing on success when not on a terminal
            "leases_at": leases_at,
            "arp_at": arp_at,
            "list_rows": [
                ("old-test", "Stopped", "--", "Ubuntu 22.04 LTS"),
                ("web", "Running", vm_ip, "Ubuntu 24.04 LTS"),
            ],
            "routes": mac_netstat(h, scope=c.scope, vm=[(vm_ip, c.mac, 1195)]),
            "firewall": firewall_outputs(
                1,
                False,
                False,
                True,
                [("/usr/libexec/bootpd", True), (f"{MAC_RES}/bin/multipassd", True)],
            ),
            "bootpd_log": bootpd_log,
            "bootpd_start": disc - 4_600,
            "bootpd_pid": bp_pid,
            "since_minutes": -(-(p0 - boot) // (60 * S)) + 2,
        }

    return mac_probe(c, timeline=timeline)


# --------------------------------------------------------------------------- bundle 4: Linux, nft drops DHCP


def linux_dhcp_firewalled() -> Bundle:
    rng = random.Random(2404)
    off, tzname, hostname = -240, "America/New_York", "thinkpad-x1"
    b = Bundle(
        "linux-dhcp-firewalled",
        off,
        tzname,
        {
            "platform": "linux",
            "os_version": "24.04",
            "arch": "x86_64",
            "hostname": hostname,
            "timezone": tzname,
            "utc_offset": off_str(off),
        },
    )
    j = Journal(off, hostname)
    subnet = "10.97.214"
    br_mac = "52:54:00:e2:7b:35"
    inst, mac, tap = "web", "52:54:00:5c:0e:a2", "tap-5e0c8d1f2a7"
    other_mac, other_ip = "52:54:00:9b:17:d4", f"{subnet}.86"
    snap_rev = "13743"
    mpd = 1187
    md = f"multipassd[{mpd}]"
    net = f"{LNX_DATA}/network"
    boot = us_of("2025-05-13T08:51:37.402", off)
    p0 = us_of("2025-05-13T09:07:44.310", off)

    # --- boot: unit start, bridge, dnsmasq, firewall rules, daemon
    j(
        boot,
        "systemd[1]",
        "Started snap.multipass.multipassd.service - Service for snap application multipass.multipassd.",
    )
    t = boot + int(1.9 * S)
    pid = 1254
    for cmdl in (
        "ip addr show mpqemubr0",
        f"ip link add mpqemubr0 address {br_mac} type bridge",
        f"ip address add {subnet}.1/24 dev mpqemubr0 broadcast {subnet}.255",
        "ip link set mpqemubr0 up",
    ):
        j(t, md, f"[{pid}] started: {cmdl}")
        pid += rng.randint(1, 4)
        t += int(rng.uniform(0.004, 0.02) * S)
    dpid = 1302
    conf = "dnsmasq-kQ3vTz.conf"
    dns_args = (
        "--keep-in-foreground --strict-order --bind-interfaces --pid-file --domain=multipass --local=/multipass/ "
        f"--except-interface=lo --interface=mpqemubr0 --listen-address={subnet}.1 --dhcp-no-override "
        f"--dhcp-ignore-clid --dhcp-authoritative --dhcp-leasefile={net}/dnsmasq.leases "
        f"--dhcp-hostsfile={net}/dnsmasq.hosts --dhcp-range {subnet}.2,{subnet}.254,infinite "
        f"--conf-file={net}/{conf}"
    )
    j(t, md, f"[{dpid}] started: dnsmasq {dns_args}")
    t += int(0.03 * S)
    dq, dd = f"dnsmasq[{dpid}]", f"dnsmasq-dhcp[{dpid}]"
    j(t, dq, "started, version 2.90 cachesize 150")
    j(
        t,
        dq,
        "compile time options: IPv6 GNU-getopt DBus no-UBus i18n IDN2 DHCP DHCPv6 no-Lua TFTP conntrack ipset "
        "nftset auth cryptohash DNSSEC loop-detect inotify dumpfile",
    )
    j(t, dd, f"DHCP, IP range {subnet}.2 -- {subnet}.254, lease time infinite")
    j(t, dd, "DHCP, sockets bound exclusively to interface mpqemubr0")
    j(t, dq, "reading /etc/resolv.conf")
    j(t, dq, "using only locally-known addresses for multipass")
    j(t, dq, "using nameserver 127.0.0.53#53")
    j(t, dq, "read /etc/hosts - 8 names")
    j(t, dd, f"read {net}/dnsmasq.hosts")
    t += int(0.2 * S)
    j(t, md, "Using iptables-nft for firewall rules.")
    pid = 1318
    fw_cmds = [
        "iptables-nft --wait -t filter --list-rules",
        "iptables-nft --wait -t nat --list-rules",
        "iptables-nft --wait -t filter --insert INPUT --in-interface mpqemubr0 --protocol udp --dport 67 --jump ACCEPT "
        "--match comment --comment generated for Multipass network mpqemubr0",
        f"iptables-nft --wait -t nat --insert POSTROUTING --source {subnet}.0/24 ! --destination {subnet}.0/24 "
        f"--jump MASQUERADE --match comment --comment generated for Multipass network mpqemubr0",
    ]
    for cmdl in fw_cmds:
        j(t, md, f"[{pid}] started: {cmdl}")
        pid += rng.randint(1, 3)
        t += int(rng.uniform(0.01, 0.03) * S)
    idir = f"{LNX_DATA}/vault/instances"
    for name, img in (
        ("old-api", "ubuntu-22.04-server-cloudimg-amd64.img"),
        (inst, "ubuntu-24.04-server-cloudimg-amd64.img"),
    ):
        j(t, md, f"[{pid}] started: qemu-img snapshot -l {idir}/{name}/{img}")
        pid += rng.randint(1, 3)
        t += int(0.03 * S)
        j(t, md, f"[{pid}] started: qemu-img amend -o compat=1.1 {idir}/{name}/{img}")
        pid += rng.randint(1, 3)
        t += int(0.03 * S)
    t += int(0.3 * S)
    j(t, md, "gRPC listening on unix:/var/snap/multipass/common/multipass_socket")
    j(t, md, "Starting Multipass 1.15.0")
    j(
        t,
        md,
        f"Daemon arguments: /snap/multipass/{snap_rev}/bin/multipassd --verbosity debug --logger platform",
    )

    # --- probe: host facts, then tcpdump (root) on the bridge, then the attempt
    t = p0
    os_release = (
        'PRETTY_NAME="Ubuntu 24.04.2 LTS"\nNAME="Ubuntu"\nVERSION_ID="24.04"\n'
        'VERSION="24.04.2 LTS (Noble Numbat)"\nVERSION_CODENAME=noble\nID=ubuntu\nID_LIKE=debian\n'
        'HOME_URL="https://www.ubuntu.com/"\nSUPPORT_URL="https://help.ubuntu.com/"\n'
        'BUG_REPORT_URL="https://bugs.launchpad.net/ubuntu/"\n'
        'PRIVACY_POLICY_URL="https://www.ubuntu.com/legal/terms-and-policies/privacy-policy"\n'
        "UBUNTU_CODENAME=noble\nLOGO=ubuntu-logo\n"
    )
    b.path("sw_vers.txt", "os_release", "/etc/os-release", t, 0.001, os_release)
    t += int(0.01 * S)
    uname = (
        f"Linux {hostname} 6.8.0-59-generic #61-Ubuntu SMP PREEMPT_DYNAMIC Fri Apr 11 23:16:11 UTC 2025 "
        "x86_64 x86_64 x86_64 GNU/Linux\n"
    )
    b.cmd("uname.txt", "uname", ["uname", "-a"], t, 0.004, uname)
    t += int(0.02 * S)
    b.cmd("multipass-version.txt", "multipass_version", ["multipass", "version"], t, 0.243, version_txt("1.15.0"))
    t += int(0.27 * S)
    b.cmd("local-driver.txt", "local_driver", ["multipass", "get", "local.driver"], t, 0.201, "qemu\n")
    t += int(0.23 * S)
    tcp_start = t
    t += int(0.05 * S)
    a = t + int(rng.uniform(2.9, 3.3) * S)

    # --- the attempt
    img = f"{idir}/{inst}/ubuntu-24.04-server-cloudimg-amd64.img"
    args = [
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
    pid = 5210 + rng.randint(0, 300)
    tt = a + 21_000
    for cmdl in (
        f"ip addr show {tap}",
        f"ip tuntap add {tap} mode tap",
        f"ip link set {tap} master mpqemubr0",
        f"ip link set {tap} up",
    ):
        j(tt, md, f"[{pid}] started: {cmdl}")
        pid += rng.randint(1, 3)
        tt += int(rng.uniform(0.004, 0.012) * S)
    j(tt, md, "process working dir ''")
    j(tt, md, "process program 'qemu-system-x86_64'")
    j(tt, md, f"process arguments '{', '.join(args)}'")
    j(tt + 12_000, md, f"[{pid}] started: qemu-system-x86_64 -nographic -dump-vmstate /tmp/multipassd.pLwEuc")
    pid += rng.randint(2, 4)
    j(a + 318_000, md, "process state changed to Starting")
    j(a + 329_000, md, "process state changed to Running")
    j(a + 329_400, md, f"[{pid}] started: qemu-system-x86_64 {' '.join(args)}")
    qpid = pid
    j(a + 329_600, md, "process started")
    j(a + 371_000, md, "QMP: " + qmp_greeting(6, 2, 0, "Debian 1:6.2+dfsg-2ubuntu6.24"))
    j(a + 372_500, md, 'QMP: {"return": {}}')
    j(a + 390_800, md, "Waiting for SSH to be up")
    nic = a + 7_942_615
    j(nic + 700, md, "QMP: " + qmp_nic(nic, "/machine/peripheral-anon/device[1]/virtio-backend"))
    # the guest's DISCOVERs are dropped by nftables before dnsmasq sees them: no dnsmasq-dhcp line
    end = a + 300_391_000 + 47_000
    reqs = dhcp_retransmits(rng, nic + 1_188_420, end)

    # --- snapshots: lease file (root) + ip neigh
    leases = f"0 {other_mac} {other_ip} old-api *\n"
    neigh = (
        "192.168.1.1 dev wlp0s20f3 lladdr 3c:37:86:5e:a1:0b REACHABLE \n"
        "192.168.1.27 dev wlp0s20f3 lladdr d8:3a:dd:41:7c:92 STALE \n"
        "fe80::3e37:86ff:fe5e:a10b dev wlp0s20f3 lladdr 3c:37:86:5e:a1:0b router STALE \n"
    )
    snaps = snapshot_times(rng, a - int(0.9 * S), end + int(1.0 * S))
    for s in snaps:
        d = f"snapshots/{snap_dir(s)}"
        b.path(f"{d}/dnsmasq.leases", "dnsmasq_leases", f"{net}/dnsmasq.leases", s, 0.001, leases)
        s2 = s + int(rng.uniform(0.002, 0.004) * S)
        b.cmd(f"{d}/ip-neigh.txt", "ip_neigh", ["ip", "neigh", "show"], s2, 0.004, neigh)

    client = client_timeout(inst)
    b.cmd("client.txt", "client", ["multipass", "start", inst], a, (end - a) / S, client, exit_code=2)
    attempts = [
        {
            "attempt": 1,
            "instance": inst,
            "command": ["multipass", "start", inst],
            "started_at": iso_z(a),
            "ended_at": iso_z(end),
            "duration_s": round((end - a) / S, 3),
            "exit_code": 2,
            "outcome": "timeout",
            "client_output": client,
        }
    ]

    # --- after the attempt
    t = snaps[-1] + int(0.4 * S)
    dump = "".join(
        f"{tcpdump_ts(r, off)} IP 0.0.0.0.68 > 255.255.255.255.67: BOOTP/DHCP, Request from {mac}, length 300\n"
        for r in reqs
    )
    b.cmd(
        "tcpdump.txt",
        "tcpdump",
        ["tcpdump", "-n", "-l", "-i", "mpqemubr0", "udp port 67 and port 68"],
        tcp_start,
        (t - tcp_start) / S,
        dump,
    )
    t += int(0.1 * S)
    rows = [("old-api", "Stopped", "--", "Ubuntu 22.04 LTS"), (inst, "Unknown", "--", "Ubuntu 24.04 LTS")]
    b.cmd("multipass-list.txt", "multipass_list_text", ["multipass", "list"], t, 0.388, list_table(rows))
    t += int(0.42 * S)
    since = epoch_s(p0) - 30 * 60
    jargv = [
        "journalctl",
        "--no-pager",
        "-o",
        "short-iso",
        "-u",
        "snap.multipass.multipassd",
        "--since",
        f"@{since}",
    ]
    journal_at = t
    t += int(0.35 * S)
    b.path("dnsmasq.leases", "dnsmasq_leases", f"{net}/dnsmasq.leases", t, 0.001, leases)
    t += int(0.01 * S)
    old_args = [x.replace(inst, "old-api").replace("ubuntu-24.04", "ubuntu-22.04") for x in args]
    old_args = [x.replace(mac, other_mac).replace(tap, "tap-a41f7c02e95") for x in old_args]
    vmi = vm_db(
        {
            "old-api": vm_entry(other_mac, old_args, "pc-i440fx-6.2", 1, 1073741824, 10737418240, 1),
            inst: vm_entry(mac, args, "pc-i440fx-6.2", 2, 2147483648, 10737418240, 8),
        }
    )
    b.path("vm-instances.json", "vm_instances", f"{LNX_DATA}/multipassd-vm-instances.json", t, 0.001, vmi)
    t += int(0.01 * S)
    b.cmd("ip-neigh.txt", "ip_neigh", ["ip", "neigh", "show"], t, 0.004, neigh)
    t += int(0.01 * S)
    ip_addr = [
        {
            "ifindex": 1,
            "ifname": "lo",
            "flags": ["LOOPBACK", "UP", "LOWER_UP"],
            "mtu": 65536,
            "qdisc": "noqueue",
            "operstate": "UNKNOWN",
            "group": "default",
            "txqlen": 1000,
            "link_type": "loopback",
            "address": "00:00:00:00:00:00",
            "broadcast": "00:00:00:00:00:00",
            "addr_info": [
                {
                    "family": "inet",
                    "local": "127.0.0.1",
                    "prefixlen": 8,
                    "scope": "host",
                    "label": "lo",
                    "valid_life_time": 4294967295,
                    "preferred_life_time": 4294967295,
                },
                {
                    "family": "inet6",
                    "local": "::1",
                    "prefixlen": 128,
                    "scope": "host",
                    "noprefixroute": True,
                    "valid_life_time": 4294967295,
                    "preferred_life_time": 4294967295,
                },
            ],
        },
        {
            "ifindex": 3,
            "ifname": "wlp0s20f3",
            "flags": ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"],
            "mtu": 1500,
            "qdisc": "noqueue",
            "operstate": "UP",
            "group": "default",
            "txqlen": 1000,
            "link_type": "ether",
            "address": "a4:c3:f0:57:8e:21",
            "broadcast": "ff:ff:ff:ff:ff:ff",
            "addr_info": [
                {
                    "family": "inet",
                    "local": "192.168.1.42",
                    "prefixlen": 24,
                    "broadcast": "192.168.1.255",
                    "scope": "global",
                    "dynamic": True,
                    "noprefixroute": True,
                    "label": "wlp0s20f3",
                    "valid_life_time": 71210,
                    "preferred_life_time": 71210,
                },
                {
                    "family": "inet6",
                    "local": "fe80::b2d1:4c6e:93a0:51f7",
                    "prefixlen": 64,
                    "scope": "link",
                    "noprefixroute": True,
                    "valid_life_time": 4294967295,
                    "preferred_life_time": 4294967295,
                },
            ],
        },
        {
            "ifindex": 4,
            "ifname": "mpqemubr0",
            "flags": ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"],
            "mtu": 1500,
            "qdisc": "noqueue",
            "operstate": "UP",
            "group": "default",
            "txqlen": 1000,
            "link_type": "ether",
            "address": br_mac,
            "broadcast": "ff:ff:ff:ff:ff:ff",
            "addr_info": [
                {
                    "family": "inet",
                    "local": f"{subnet}.1",
                    "prefixlen": 24,
                    "broadcast": f"{subnet}.255",
                    "scope": "global",
                    "label": "mpqemubr0",
                    "valid_life_time": 4294967295,
                    "preferred_life_time": 4294967295,
                },
                {
                    "family": "inet6",
                    "local": "fe80::5054:ff:fee2:7b35",
                    "prefixlen": 64,
                    "scope": "link",
                    "valid_life_time": 4294967295,
                    "preferred_life_time": 4294967295,
                },
            ],
        },
        {
            "ifindex": 7,
            "ifname": tap,
            "flags": ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"],
            "mtu": 1500,
            "qdisc": "fq_codel",
            "master": "mpqemubr0",
            "operstate": "UP",
            "group": "default",
            "txqlen": 1000,
            "link_type": "ether",
            "address": "9e:4b:21:d0:6a:f3",
            "broadcast": "ff:ff:ff:ff:ff:ff",
            "addr_info": [
                {
                    "family": "inet6",
                    "local": "fe80::9c4b:21ff:fed0:6af3",
                    "prefixlen": 64,
                    "scope": "link",
                    "valid_life_time": 4294967295,
                    "preferred_life_time": 4294967295,
                },
            ],
        },
    ]
    b.cmd(
        "ip-addr.json",
        "ip_addr",
        ["ip", "-j", "addr", "show"],
        t,
        0.006,
        json.dumps(ip_addr, separators=(",", ":")) + "\n",
    )
    t += int(0.01 * S)
    routes = (
        "default via 192.168.1.1 dev wlp0s20f3 proto dhcp src 192.168.1.42 metric 600 \n"
        f"{subnet}.0/24 dev mpqemubr0 proto kernel scope link src {subnet}.1 \n"
        "192.168.1.0/24 dev wlp0s20f3 proto kernel scope link src 192.168.1.42 metric 600 \n"
    )
    b.cmd("routes.txt", "routes", ["ip", "route", "show"], t, 0.003, routes)
    t += int(0.01 * S)
    b.cmd(
        "host-firewall.txt",
        "host_firewall",
        ["ufw", "status", "verbose"],
        t,
        0.214,
        "Status: inactive\n",
        append=True,
    )
    t += int(0.23 * S)
    b.cmd(
        "host-firewall.txt",
        "host_firewall",
        ["firewall-cmd", "--get-active-zones"],
        t,
        0.002,
        None,
        exit_code=None,
        error="not found: firewall-cmd (firewalld is not installed)",
    )
    t += int(0.01 * S)
    cmt = 'comment "generated for Multipass network mpqemubr0"'
    n = len(reqs)
    nft = (
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
    ) % (n, n * 328)
    b.cmd("host-firewall.txt", "host_firewall", ["nft", "list", "ruleset"], t, 0.019, nft, append=True)
    t += int(0.03 * S)
    procs = [
        (
            mpd,
            1,
            (t - boot) / S + 0.6,
            f"/snap/multipass/{snap_rev}/bin/multipassd --verbosity debug --logger platform",
        ),
        (dpid, mpd, (t - boot) / S - 2.0, f"dnsmasq {dns_args}"),
        (
            qpid,
            mpd,
            (t - (a + 329_400)) / S,
            f"/snap/multipass/{snap_rev}/usr/bin/qemu-system-x86_64 {' '.join(args)}",
        ),
    ]
    b.cmd(
        "processes.txt", "processes", ["ps", "-eo", "pid,ppid,etime,args"], t, 0.041, ps_block(procs, width=7)
    )
    t += int(0.05 * S)
    b.cmd("journal.txt", "journal_text", jargv, journal_at, 0.318, j.text())
    b.finish(p0, t, attempts)
    return b


# --------------------------------------------------------------------------- README

README = """\
# Sample bundles

Four diagnostic bundles laid out exactly as `mpkit probe <instance>` writes
them (`manifest.json`, `attempts.jsonl`, `client.txt`, the raw artifacts, and
`snapshots/<UTC time>/` taken every 2-5 s across the start attempt). They are
synthetic but consistent: every time in every file comes from one timeline per
bundle (daemon-log local times, the manifest's zone, UTC snapshot folders and
attempt times, QMP epochs, lease expiries, tcpdump times).

**Generated, do not edit by hand**: `python scripts/make_samples.py [OUTDIR]`
rewrites them (deterministic; `tests/test_samples_raw.py` checks that this
folder is up to date). They ship inside the package (`mpkit samples` lists
them, `mpkit.sample(name)` gives a path). MACs, IPs, host and user names are
made up.

| bundle | host | Multipass | intended root cause | failed stage |
|---|---|---|---|---|
| `sequoia-ip-discovery/` (default) | macOS 15.0, arm64, Europe/Paris | 1.14.0+mac | `ip-discovery-failed` | ip-discovery |
| `firewall-blocks-bootpd/` | macOS 14.6, arm64, America/Los_Angeles | 1.15.1+mac | `firewall-blocks-bootpd` | dhcp |
| `healthy-start/` | macOS 15.3, arm64, Asia/Tokyo | 1.16.1+mac | none (healthy) | none |
| `linux-dhcp-firewalled/` | Ubuntu 24.04, x86_64, America/New_York | 1.15.0 (snap, QEMU) | `host-firewall-blocks-dhcp` | dhcp |

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
  `10.97.214.1/24`; `sw_vers.txt` holds `/etc/os-release` as the spec says.
"""


BUILDERS: tuple[Callable[[], Bundle], ...] = (
    sequoia_ip_discovery,
    firewall_blocks_bootpd,
    healthy_start,
    linux_dhcp_firewalled,
)


def main(argv: Sequence[str]) -> int:
    if len(argv) > 1 or any(a.startswith("-") for a in argv):
        print(__doc__, file=sys.stderr)
        return 2
    out = Path(argv[0]) if argv else DEFAULT_OUT
    out.mkdir(parents=True, exist_ok=True)
    for build in BUILDERS:
        bundle = build()
        bundle.save(out)
        size = sum(len(v) for v in bundle.files.values())
        print(f"wrote {out / bundle.name} ({len(bundle.files)} files, {size} bytes)")
    (out / "README.md").write_text(README, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
