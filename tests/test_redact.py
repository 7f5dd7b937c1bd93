"""Redaction: planted fake secrets never survive; real non-secret values do; pseudonyms are consistent."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import re
import tarfile
import tempfile
from pathlib import Path

import pytest

import mpkit
from lab import samples
from mpkit.cli import main as cli_main
from mpkit.collect import Redactor, ReplayRunner, collect, redact_bundle
from mpkit.collect.manifest import load as load_manifest
from mpkit.errors import CollectError, MpkitError
from mpkit.macaddr import MAC_IN_TEXT, canon_mac

DATA_DIR = Path(__file__).parent / "data"

NOW = dt.datetime.now(dt.UTC)
H, U, MAC = samples.HOST, samples.USER, samples.VM_MAC

LINUX_FILES = {
    "journal.txt": f"2025-06-10T14:29:56+0200 {H.lower()} multipassd[2231]: Starting dnsmasq\n"
    f"2025-06-10T14:30:03+0200 {H.lower()} dnsmasq-dhcp[2310]: DHCPDISCOVER(mpqemubr0) {MAC}\n"
    f"2025-06-10T14:30:03+0200 {H.lower()} dnsmasq-dhcp[2310]: DHCPACK(mpqemubr0) 10.115.28.7 {MAC} primary\n"
    f"2025-06-10T14:30:04+0200 {H.lower()} dnsmasq-dhcp[2310]: DHCPACK(mpqemubr0) 10.115.28.9 b6:56:e3:96:45:db Jane's phone\n"
    f"2025-06-10T14:30:05+0200 {H.lower()} multipassd[2231]: Waiting for SSH to be up\n",
    "journal.json": json.dumps(
        {
            "_HOSTNAME": H,
            "_BOOT_ID": "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b",
            "MESSAGE": "process state changed to Running",
            "CATEGORY": "primary",
            "_CMDLINE": f"/snap/multipass/14930/bin/multipassd --verbosity debug /home/{U}/x",
        }
    )
    + "\n",
    "dnsmasq.leases": f"0 {MAC} 10.115.28.7 primary *\n0 b6:56:e3:96:45:db 10.115.28.9 * 01:b6:56:e3:96:45:db\n",
    "ip-neigh.txt": f"10.115.28.7 dev mpqemubr0 lladdr {MAC} REACHABLE \n"
    "192.168.1.1 dev enp3s0 lladdr a4:2b:b0:1d:2b:f4 DELAY \n81.2.69.160 dev enp3s0 FAILED \n",
    "ip-addr.json": json.dumps(
        [
            {
                "ifname": "enp3s0",
                "address": "a4:2b:b0:1d:2b:f4",
                "addr_info": [
                    {"local": "192.168.1.23", "prefixlen": 24},
                    {"local": "fe80::5054:ff:fe3c:af1"},
                ],
            }
        ]
    ),
    "host-firewall.txt": 'table ip filter {\n chain INPUT {\n  iifname "mpqemubr0" udp dport 67 accept\n'
    "  ip saddr 81.2.69.160 drop\n }\n}\n",
    "kernel.log": f"2025-06-10T14:30:01+0200 {H} kernel: mpqemubr0: port 1(tap-ab12) entered forwarding state\n",
    "tcpdump.txt": f"14:30:25.104871 IP 0.0.0.0.68 > 255.255.255.255.67: BOOTP/DHCP, Request from {MAC}, length 300\n",
    "attempts.jsonl": json.dumps(
        {
            "attempt": 1,
            "instance": "primary",
            "outcome": "timeout",
            "client_output": "primary: timed out waiting for response\n",
            "command": ["/Users/janedoe/bin/multipass", "start", "primary"],
        }
    )
    + "\n",
    "client.txt": "start failed: The following errors occurred:\nprimary: timed out waiting for response\n",
    "system-profiler.txt": "Serial Number (system): C02XK1ABJGH5\nHardware UUID: 5C1E9D7A-0B3F-4E2A-9C61-2D7F8A4B3E10\n",
    "notes/ioreg.txt": '"IOPlatformSerialNumber" = "C02XK1ABJGH5"\n',
    "snapshots/2026-11-25T10-15-32.120Z/arp.txt": "? (192.168.64.7) at 52:54:0:3c:a:f1 on bridge100 ifscope [bridge]\n",
    "windows-events.txt": "Message : [primary] started: C:\\Users\\janedoe\\AppData\\x.exe\n",
    "winver.txt": samples.WINDOWS_FILES["winver.txt"],
    "hyperv.txt": samples.WINDOWS_FILES["hyperv.txt"] + "MacAddress : 5254003C0AF1\n",
}


def _make_bundle(root):
    files = {**samples.MACOS_FILES, "multipassd.log": samples.daemon_log(NOW), **LINUX_FILES}
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    manifest = {
        "format": "mpkit-bundle/1",
        "created_at": "2026-11-25T10:15:00.000Z",
        "host": {"platform": "macos", "hostname": H, "os_version": "15.5", "timezone": "Europe/Paris"},
        "redacted": False,
        "artifacts": [
            {"file": "multipassd.log", "path": "/Library/Logs/Multipass/multipassd.log", "error": None},
            {"file": None, "command": f"ls /Users/{U}", "error": "permission denied"},
        ],
    }
    (root / "manifest.json").write_text(json.dumps(manifest))
    return files


def _all_text(folder) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text() for p in folder.rglob("*") if p.is_file()}


def test_planted_secrets_never_survive_and_real_values_do(tmp_path):
    src, out = tmp_path / "src", tmp_path / "out"
    planted = _make_bundle(src)
    redact_bundle(src, out)
    texts = _all_text(out)
    assert set(planted) <= {k for k in texts} | {k for k in planted if "/" in k}
    for name, text in texts.items():
        for secret in samples.SECRETS:
            assert secret.lower() not in text.lower(), f"{secret!r} survived in {name}"
            assert secret.lower() not in name.lower()
    blob = "\n".join(texts.values())
    for keep in samples.KEEP:
        assert keep in blob, f"{keep!r} did not survive"
    m = load_manifest(out)
    assert m["redacted"]["map_kept_locally"] is True and m["host"]["hostname"] != H
    assert m["host"]["timezone"] == "Europe/Paris" and m["host"]["os_version"] == "15.5"
    # the map stays outside the bundle and can undo it
    map_path = tmp_path / "out.redaction-map.json"
    assert map_path.is_file() and not any("redaction-map" in n for n in texts)
    mapping = json.loads(map_path.read_text())
    assert MAC in mapping["mac"] and H in mapping["host"] and U in mapping["user"]


def test_pseudonyms_are_consistent_and_keep_structure(tmp_path):
    src, out = tmp_path / "src", tmp_path / "out"
    _make_bundle(src)
    redact_bundle(src, out)
    red = Redactor.load(tmp_path / "out.redaction-map.json")
    pseudo_mac = red.maps["mac"][MAC]
    assert pseudo_mac.startswith("52:54:00:") and pseudo_mac != MAC
    # the VM MAC, in any spelling in any file, became the same pseudonym
    for name in ("dhcpd_leases", "arp.txt", "multipassd.log", "routes.txt", "dnsmasq.leases", "ip-neigh.txt"):
        macs = {canon_mac(m.group(0)) for m in MAC_IN_TEXT.finditer((out / name).read_text())}
        assert pseudo_mac in macs, name
    assert "5254" + pseudo_mac.replace(":", "")[4:].upper() in (out / "hyperv.txt").read_text()
    # IPs: the same /24 stays one /24, the gateway stays .1, private stays private, public stays public
    ips = {}
    for name in ("arp.txt", "ifconfig.txt", "ip-neigh.txt", "host-firewall.txt"):
        for m in re.finditer(r"\b\d+\.\d+\.\d+\.\d+\b", (out / name).read_text()):
            ips.setdefault(name, set()).add(ipaddress.ip_address(m.group(0)))
    gw, vm = red.ipv4("192.168.64.1"), red.ipv4("192.168.64.7")
    assert {ipaddress.ip_address(gw), ipaddress.ip_address(vm)} <= ips["arp.txt"]
    assert gw.rsplit(".", 1)[0] == vm.rsplit(".", 1)[0] and gw.endswith(".1") and gw.startswith("192.168.")
    public = red.ipv4("81.2.69.160")
    assert ipaddress.ip_address(public).is_global and public != "81.2.69.160"
    assert ipaddress.ip_address(red.ipv4("10.115.28.7")).is_private
    assert red.ipv4("10.115.28.7").rsplit(".", 1)[0] == red.ipv4("10.115.28.1").rsplit(".", 1)[0]
    assert red.ipv4("172.17.0.2").startswith("172.") and 16 <= int(red.ipv4("172.17.0.2").split(".")[1]) <= 31
    # subnet conflicts stay visible: two identical subnets stay identical, two different stay different
    assert red.ipv4("192.168.64.5").rsplit(".", 1)[0] == red.ipv4("192.168.64.200").rsplit(".", 1)[0]
    assert red.ipv4("192.168.64.5").rsplit(".", 1)[0] != red.ipv4("192.168.65.5").rsplit(".", 1)[0]


def test_map_reuse_gives_same_pseudonyms(tmp_path):
    src = tmp_path / "src"
    _make_bundle(src)
    map_path = tmp_path / "private" / "map.json"
    redact_bundle(src, tmp_path / "a", map_path=map_path)
    redact_bundle(src, tmp_path / "b", map_path=map_path)
    assert _all_text(tmp_path / "a")["arp.txt"] == _all_text(tmp_path / "b")["arp.txt"]


def test_archive_in_and_out(tmp_path):
    src = tmp_path / "bundle"
    _make_bundle(src)
    archive = tmp_path / "bundle.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(src, arcname="bundle")
    out = redact_bundle(archive, tmp_path / "clean.tar.gz")
    with tarfile.open(out) as tar:
        names = tar.getnames()
        data = b"".join(tar.extractfile(m).read() for m in tar.getmembers() if m.isfile())
    assert "clean/manifest.json" in names and "clean/arp.txt" in names
    assert H.encode() not in data and b"3c:a:f1" not in data


def test_map_inside_bundle_is_refused(tmp_path):
    src = tmp_path / "src"
    _make_bundle(src)
    with pytest.raises(CollectError, match="inside the bundle"):
        redact_bundle(src, tmp_path / "out", map_path=tmp_path / "out" / "map.json")


def test_redactor_text_api_and_roundtrip(tmp_path):
    r = Redactor(hostnames=["build-box-7"], users=["alice"], seed=3)
    text = "build-box-7 /home/alice/x 52:54:00:aa:bb:cc 10.1.2.3 ubuntu Ubuntu 24.04 LTS 1.16.1"
    out = r.redact_text(text)
    assert "build-box-7" not in out and "alice" not in out and "aa:bb:cc" not in out
    assert "ubuntu Ubuntu 24.04 LTS 1.16.1" in out and "52:54:00:" in out
    path = r.save(tmp_path / "m.json")
    r2 = Redactor.load(path)
    assert r2.redact_text(text) == out


def test_collect_redact_streams_through_the_redactor(tmp_path):
    runner = ReplayRunner(samples.recordings("macos", NOW), platform="macos", root=True, host={"hostname": H})
    out = collect(tmp_path / "b", platform="macos", runner=runner, redact=True)
    for name, text in _all_text(out).items():
        for secret in samples.SECRETS:
            assert secret.lower() not in text.lower(), f"{secret!r} survived in {name}"
    m = load_manifest(out)
    assert m["redacted"] == {"method": "pseudonym/1", "map_kept_locally": True}
    assert (tmp_path / "b.redaction-map.json").is_file()
    assert "Unknown" in (out / "multipass-list.txt").read_text()


# -- leak test: secrets planted in every artifact kind the collector can produce --------------------

L_USER, L_INSTANCE, L_HOST, L_CLIENT = "alex", "alex-dev", "orion-lab7", "kitchen-tablet"
L_MAC, L_LAN_MAC = "52:54:00:4d:0b:e2", "a4:2b:b0:7e:11:c9"
L_SERIAL, L_UUID = "C02ZK9XYQ05N", "7D3B9C1A-2E4F-4A6B-8C0D-1E2F3A4B5C6D"
L_BOOT = "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b"
L_PUBLIC = ("81.2.69.160", "81.2.69.7", "81.2.70.9")
L_SECRETS = [
    L_USER,
    L_INSTANCE,
    L_HOST,
    L_CLIENT,
    "4d:0b:e2",  # the VM MAC, padded
    "4d:b:e2",  # macOS spelling
    "4d.b.e2",  # netstat spelling
    "4D0BE2",  # Hyper-V spelling
    "fe4d:be2",  # the EUI-64 IPv6 address of the VM MAC
    L_LAN_MAC,
    "192.168.1.23",
    *L_PUBLIC,
    "81.2.69",  # netstat's shortened destination
    "81-2-69",  # an address inside a resolved host name
    "2a01:4f8:10a",  # a global IPv6 prefix
    L_SERIAL,
    L_UUID,
    L_UUID.replace("-", ""),
    L_BOOT,
]

_TS = "2025-06-10T14:30:0{}+02:00"
_DLOG = "[2025-06-10T14:30:0{}.000] [{}] [{}] {}"
_MP_COMMON = {
    "multipass-list.txt": "Name                    State             IPv4             Image\n"
    f"{L_INSTANCE}                Unknown           --               Ubuntu 24.04 LTS\n"
    "builder                 Stopped           --               Ubuntu 22.04 LTS\n",
    "multipass-list.json": json.dumps(
        {
            "list": [
                {"name": L_INSTANCE, "state": "Unknown", "ipv4": [], "release": "Ubuntu 24.04 LTS"},
                {"name": "builder", "state": "Stopped", "ipv4": [], "release": "Ubuntu 22.04 LTS"},
            ]
        },
        indent=4,
    ),
    "multipass-info.json": json.dumps(
        {
            "errors": [],
            "info": {
                L_INSTANCE: {
                    "state": "Unknown",
                    "ipv4": ["192.168.64.7"],
                    "image_release": "24.04 LTS",
                    "cpu_count": "2",
                    "mounts": {"/home/ubuntu/code": {"source_path": f"/Users/{L_USER}/code"}},
                },
                "builder": {"state": "Stopped", "ipv4": [], "image_release": "22.04 LTS"},
            },
        },
        indent=4,
    ),
    "multipass-info.txt": f"Name:           {L_INSTANCE}\nState:          Unknown\nIPv4:           --\n"
    f"Release:        Ubuntu 24.04 LTS\nMounts:         /Users/{L_USER}/code => /home/ubuntu/code\n\n"
    "Name:           builder\nState:          Stopped\nIPv4:           --\n",
    "client.txt": f"start failed: The following errors occurred:\n{L_INSTANCE}: timed out waiting for response\n",
    "attempts.jsonl": json.dumps(
        {
            "attempt": 1,
            "instance": L_INSTANCE,
            "command": ["multipass", "start", L_INSTANCE],
            "started_at": "2025-06-10T12:29:58Z",
            "ended_at": "2025-06-10T12:34:58Z",
            "duration_s": 300.0,
            "exit_code": 2,
            "outcome": "timeout",
            "client_output": f"start failed: The following errors occurred:\n{L_INSTANCE}: timed out waiting for response\n",
        }
    )
    + "\n",
    "tcpdump.txt": f"14:30:25.104871 IP 0.0.0.0.68 > 255.255.255.255.67: BOOTP/DHCP, Request from {L_MAC}, length 300\n"
    "14:30:25.106310 IP 81.2.69.160.67 > 192.168.1.23.68: BOOTP/DHCP, Reply, length 300\n",
    "notes/system-profiler.txt": f"Serial Number (system): {L_SERIAL}\nHardware UUID: {L_UUID}\n"
    f"Boot Volume: {L_UUID.replace('-', '')}\n",
}

LEAK_FILES: dict[str, dict[str, str]] = {
    "macos": {
        **_MP_COMMON,
        "multipass-version.txt": "multipass   1.16.1+mac\nmultipassd  1.16.1+mac\n",
        "local-driver.txt": "qemu\n",
        "multipassd.log": "\n".join(
            [
                _DLOG.format(0, "info", "daemon", "Starting Multipass 1.16.1+mac"),
                _DLOG.format(1, "info", L_INSTANCE, "process program 'qemu-system-aarch64'"),
                _DLOG.format(
                    1,
                    "info",
                    L_INSTANCE,
                    "process arguments '-machine, virt,gic-version=3, -nic, vmnet-shared,model=virtio-net-pci,"
                    f"mac={L_MAC}, -drive, file=/Users/{L_USER}/Library/vault/instances/{L_INSTANCE}/"
                    f"vm-{L_UUID.lower()}-disk.img'",
                ),
                _DLOG.format(2, "info", L_INSTANCE, "process state changed to Running"),
                _DLOG.format(3, "debug", L_INSTANCE, "Waiting for SSH to be up"),
                _DLOG.format(4, "debug", "arp", "[48260] started: arp -an"),
                _DLOG.format(
                    5, "warning", L_INSTANCE, f"ssh connection failed: '{L_INSTANCE}.local' via {L_PUBLIC[0]}"
                ),
            ]
        )
        + "\n",
        "dhcpd_leases": "{\n"
        f"\tname={L_INSTANCE}\n\tip_address=192.168.64.7\n\thw_address=1,52:54:0:4d:b:e2\n"
        "\tidentifier=1,52:54:0:4d:b:e2\n\tlease=0x6848a3f1\n}\n{\n"
        f"\tname={L_CLIENT}\n\tip_address=192.168.64.9\n\thw_address=1,b6:56:e3:96:45:db\n\tlease=0x6848a3f1\n}}\n",
        "bootpd.plist": (DATA_DIR / "macos" / "bootpd_plist--vmnet-two-subnets.txt").read_text(),
        "vm-instances.json": json.dumps(
            {
                L_INSTANCE: {
                    "deleted": False,
                    "disk_space": "5368709120",
                    "extra_interfaces": [],
                    "mac_addr": L_MAC,
                    "mem_size": "4294967296",
                    "metadata": {"machine_type": "virt-7.1"},
                    "mounts": [{"source_path": f"/Users/{L_USER}/code", "target_path": "code"}],
                    "num_cores": 2,
                    "ssh_username": "ubuntu",
                    "state": 8,
                }
            },
            indent=4,
        ),
        "arp.txt": "? (192.168.64.7) at 52:54:0:4d:b:e2 on bridge100 ifscope [bridge]\n"
        f"? (192.168.1.23) at {L_LAN_MAC} on en0 ifscope permanent [ethernet]\n"
        "? (192.168.1.254) at a4:2b:b0:1:2:3 on en0 ifscope [ethernet]\n",
        "ifconfig.txt": "en0: flags=8863<UP,BROADCAST,SMART,RUNNING,SIMPLEX,MULTICAST> mtu 1500\n"
        f"\tether {L_LAN_MAC}\n\tinet 192.168.1.23 netmask 0xffffff00 broadcast 192.168.1.255\n"
        "\tinet6 2a01:4f8:10a:1f::2 prefixlen 64 autoconf secured\n\tstatus: active\n"
        "bridge100: flags=8863<UP,BROADCAST,SMART,RUNNING,SIMPLEX,MULTICAST> mtu 1500\n"
        "\tether ba:7e:1c:44:90:64\n\tinet 192.168.64.1 netmask 0xffffff00 broadcast 192.168.64.255\n"
        "\tinet6 fe80::5054:ff:fe4d:be2%bridge100 prefixlen 64 scopeid 0x18\n"
        "\tmember: vmenet0 flags=3<LEARNING,DISCOVER>\n\tstatus: active\n",
        "routes.txt": "Routing tables\n\nInternet:\nDestination        Gateway            Flags               Netif Expire\n"
        "default            192.168.1.254      UGScg                 en0\n"
        "81.2.69/24         192.168.1.254      UGSc                  en0\n"
        "81.2.69.160/32     192.168.1.254      UGSc                  en0\n"
        "81.2.70.9          192.168.1.254      UGHS                  en0\n"
        "192.168.1.23/32    link#6             UCS                   en0      !\n"
        "192.168.64         link#24            UC              bridge100      !\n"
        "192.168.64.7       52.54.0.4d.b.e2    UHLWIi          bridge100   1196\n",
        "firewall.txt": "Firewall is enabled. (State = 1)\nFirewall has block all state set to disabled.\n"
        f"Total number of apps = 1 \n1 : /Users/{L_USER}/Applications/Sync.app \n      (Allow incoming connections)\n",
        "pf-rules.txt": 'anchor "com.apple/*" all\nblock drop in quick on en0 inet from 81.2.69.0/24 to any\n'
        "pass in quick on bridge100 inet proto tcp from 192.168.1.23 to any port = 22 flags S/SA keep state\n",
        "bootpd.log": "\n".join(
            json.dumps(
                {
                    "eventMessage": msg,
                    "processImagePath": "/usr/libexec/bootpd",
                    "timestamp": "2025-06-10 14:30:25.104871+0200",
                    "bootUUID": L_UUID,
                }
            )
            for msg in (
                f"DHCP DISCOVER [bridge100]: 1,52:54:0:4d:b:e2 <{L_INSTANCE}>",
                f"DHCP REQUEST [bridge100]: 1,b6:56:e3:96:45:db <{L_CLIENT}>",
                f"ACK sent {L_CLIENT} 192.168.64.9 pktsize 300",
            )
        )
        + "\n",
        "unified.log": json.dumps(
            {
                "eventMessage": f"Local network allowed by preference for {L_HOST}.local "
                f"(/Users/{L_USER}/Applications/Sync.app)",
                "processImagePath": "/usr/libexec/nehelper",
                "timestamp": "2025-06-10 14:30:26.000000+0200",
            }
        )
        + "\n",
        "processes.txt": "  PID  PPID     ELAPSED COMMAND\n"
        "  412     1    03:12:44 /Library/Application Support/com.canonical.multipass/bin/multipassd --verbosity debug\n"
        " 9120   412       01:12 /Library/Application Support/com.canonical.multipass/bin/qemu-system-aarch64 "
        f"-machine virt -nic vmnet-shared,mac={L_MAC} -drive file=/Users/{L_USER}/vault/{L_INSTANCE}/disk.img\n"
        f"  900   899       10:00 /bin/zsh -l /Users/{L_USER}/x\n",
        "sw_vers.txt": "ProductName:\t\tmacOS\nProductVersion:\t15.5\nBuildVersion:\t\t24F74\n",
        "uname.txt": f"Darwin {L_HOST}.local 24.5.0 Darwin Kernel Version 24.5.0 arm64\n",
        "hv_support.txt": "kern.hv_support: 1\n",
        "df.txt": "Filesystem     Size   Used  Avail Capacity  Mounted on\n"
        "/dev/disk3s5  460Gi  300Gi  150Gi    67%    /System/Volumes/Data\n"
        f"/dev/disk4s1  931Gi  100Gi  831Gi    11%    /Volumes/{L_USER}-backup\n",
        "snapshots/2025-06-10T12-30-05.000Z/arp.txt": "? (192.168.64.7) at 52:54:0:4d:b:e2 on bridge100 ifscope [bridge]\n",
    },
    "linux": {
        **_MP_COMMON,
        "multipass-version.txt": "multipass   1.15.1\nmultipassd  1.15.1\n",
        "local-driver.txt": "qemu\n",
        "journal.txt": "\n".join(
            [
                f"{_TS.format(0)} {L_HOST} multipassd[2231]: Starting Multipass 1.15.1",
                f"{_TS.format(1)} {L_HOST} multipassd[2231]: process arguments '--enable-kvm, -nic, "
                f"tap,ifname=tap-1a2b,model=virtio-net-pci,mac={L_MAC}, -drive, file=/home/{L_USER}/vm/{L_INSTANCE}.img'",
                f"{_TS.format(2)} {L_HOST} dnsmasq-dhcp[2310]: DHCPACK(mpqemubr0) 10.115.28.7 {L_MAC} {L_INSTANCE}",
                f"{_TS.format(3)} {L_HOST} dnsmasq-dhcp[2310]: DHCPACK(mpqemubr0) 10.115.28.9 b6:56:e3:96:45:db {L_CLIENT}",
                f"{_TS.format(4)} {L_HOST} multipassd[2231]: Waiting for SSH to be up",
            ]
        )
        + "\n",
        "journal.json": "\n".join(
            json.dumps(d)
            for d in (
                {
                    "__REALTIME_TIMESTAMP": "1749558603771204",
                    "PRIORITY": "7",
                    "SYSLOG_IDENTIFIER": "multipassd",
                    "CATEGORY": L_INSTANCE,
                    "MESSAGE": "Waiting for SSH to be up",
                    "_PID": "2231",
                    "_HOSTNAME": L_HOST,
                    "_BOOT_ID": L_BOOT,
                },
                {
                    "__REALTIME_TIMESTAMP": "1749558604000000",
                    "PRIORITY": "6",
                    "SYSLOG_IDENTIFIER": "dnsmasq-dhcp",
                    "MESSAGE": f"DHCPACK(mpqemubr0) 10.115.28.7 {L_MAC} {L_INSTANCE}",
                    "_PID": "2310",
                    "_HOSTNAME": L_HOST,
                },
            )
        )
        + "\n",
        "kernel.log": f"{_TS.format(1)} {L_HOST} kernel: mpqemubr0: port 1(tap-1a2b) entered forwarding state\n"
        f"-- Boot {L_BOOT} --\n"
        f'{_TS.format(2)} {L_HOST} kernel: audit: apparmor="DENIED" operation="open" '
        f'profile="snap.multipass.multipassd" name="/home/{L_USER}/.ssh/config" pid=2231 comm="multipassd"\n',
        "dnsmasq.leases": f"0 {L_MAC} 10.115.28.7 {L_INSTANCE} *\n"
        f"0 b6:56:e3:96:45:db 10.115.28.9 {L_CLIENT} 01:b6:56:e3:96:45:db\n",
        "vm-instances.json": json.dumps(
            {
                L_INSTANCE: {
                    "deleted": False,
                    "disk_space": "5368709120",
                    "extra_interfaces": [],
                    "mac_addr": L_MAC,
                    "mem_size": "1073741824",
                    "metadata": {},
                    "mounts": [{"source_path": f"/home/{L_USER}/code", "target_path": "code"}],
                    "num_cores": 1,
                    "ssh_username": "ubuntu",
                    "state": 2,
                }
            },
            indent=4,
        ),
        "ip-neigh.txt": f"10.115.28.7 dev mpqemubr0 lladdr {L_MAC} REACHABLE \n"
        f"192.168.1.254 dev enp3s0 lladdr {L_LAN_MAC} DELAY \n{L_PUBLIC[1]} dev enp3s0 FAILED \n"
        f"fe80::5054:ff:fe4d:be2 dev mpqemubr0 lladdr {L_MAC} STALE \n",
        "ip-addr.json": json.dumps(
            [
                {
                    "ifindex": 2,
                    "ifname": "enp3s0",
                    "flags": ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"],
                    "mtu": 1500,
                    "operstate": "UP",
                    "address": L_LAN_MAC,
                    "addr_info": [
                        {"family": "inet", "local": "192.168.1.23", "prefixlen": 24},
                        {"family": "inet6", "local": "2a01:4f8:10a:1f::2", "prefixlen": 64},
                    ],
                },
                {
                    "ifindex": 3,
                    "ifname": "mpqemubr0",
                    "flags": ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"],
                    "mtu": 1500,
                    "operstate": "UP",
                    "address": "52:54:00:9e:41:d7",
                    "addr_info": [{"family": "inet", "local": "10.115.28.1", "prefixlen": 24}],
                },
            ]
        ),
        "routes.txt": "default via 192.168.1.254 dev enp3s0 proto dhcp src 192.168.1.23 metric 100\n"
        f"81.2.69.0/24 via 192.168.1.254 dev enp3s0\n{L_PUBLIC[2]} via 192.168.1.254 dev enp3s0\n"
        "10.115.28.0/24 dev mpqemubr0 proto kernel scope link src 10.115.28.1\n",
        "host-firewall.txt": "Status: active\n\nTo                         Action      From\n"
        "--                         ------      ----\n"
        f"22/tcp on enp3s0           ALLOW IN    {L_PUBLIC[0]}\n"
        "67/udp on mpqemubr0        ALLOW IN    Anywhere\n\n"
        "table ip filter {\n\tchain INPUT {\n\t\ttype filter hook input priority filter; policy accept;\n"
        f'\t\tip saddr {L_PUBLIC[1]} drop\n\t\tiifname "mpqemubr0" udp dport 67 accept\n\t}}\n}}\n',
        "processes.txt": "    PID    PPID     ELAPSED COMMAND\n"
        "   2231       1    01:12:44 /snap/multipass/12345/bin/multipassd --verbosity debug\n"
        "   5120    2231       03:07 /snap/multipass/12345/usr/bin/qemu-system-x86_64 --enable-kvm "
        f"-nic tap,ifname=tap-1a2b,model=virtio-net-pci,mac={L_MAC} -name {L_INSTANCE}\n",
        "os-release.txt": 'PRETTY_NAME="Ubuntu 24.04.1 LTS"\nNAME="Ubuntu"\nVERSION_ID="24.04"\n',
        "uname.txt": f"Linux {L_HOST} 6.8.0-45-generic #45-Ubuntu SMP PREEMPT_DYNAMIC x86_64 GNU/Linux\n",
        "df.txt": "Filesystem      Size  Used Avail Use% Mounted on\n/dev/sda2       228G  120G   97G  56% /\n"
        f"/dev/sdb1       931G  100G  831G  11% /media/{L_USER}/backup\n",
    },
    "windows": {
        **_MP_COMMON,
        "multipass-version.txt": "multipass   1.16.1+win\nmultipassd  1.16.1+win\n",
        "local-driver.txt": "hyperv\n",
        "windows-events.txt": "TimeCreated      : 6/10/2025 2:30:25 PM\nLevelDisplayName : Information\n"
        f"MachineName      : {L_HOST.upper()}\n"
        f"Message          : [{L_INSTANCE}] started: C:\\Users\\{L_USER}\\AppData\\Local\\x.exe\n\n"
        "TimeCreated      : 6/10/2025 2:30:26 PM\nLevelDisplayName : Warning\n"
        f"Message          : [{L_INSTANCE}] ssh connection failed: 'Timeout connecting to {L_INSTANCE}.mshome.net'\n",
        "hyperv.txt": "PS C:\\> Get-VMSwitch\n\nName        : Default Switch\n"
        "Id          : c08cb7b8-9b3c-408e-8e30-5e16a3aeb444\nSwitchType  : Internal\n\n"
        f"Name        : {L_INSTANCE}\nVMId        : {L_UUID}\nMacAddress  : 5254004D0BE2\n"
        f"ComputerName : {L_HOST.upper()}\n",
        "notes/vm-network-adapters.json": json.dumps(
            {"VMName": L_INSTANCE, "MacAddress": "5254004D0BE2", "SwitchName": "Default Switch"}
        )
        + "\n",
        "notes/hosts.ics": f"172.27.112.45 {L_INSTANCE}.mshome.net # 2025 6 2 10 12 30 25 104\n",
        "winver.txt": "\nMicrosoft Windows [Version 10.0.22631.4460]\n",
        "processes.txt": "ProcessId ParentProcessId CommandLine\n"
        '4242 700 "C:\\Program Files\\Multipass\\bin\\multipassd.exe" /svc\n'
        f'5000 4242 "C:\\Users\\{L_USER}\\AppData\\Local\\tool.exe" --vm {L_INSTANCE}\n',
        "df.txt": "Name Used (GB) Free (GB) Provider Root\nC    200.00    275.00 FileSystem C:\\\n"
        f"Z     10.00      5.00 FileSystem \\\\{L_HOST}\\{L_USER}\n",
    },
}


def _leak_bundle(root, platform: str) -> dict[str, str]:
    files = LEAK_FILES[platform]
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    manifest = {
        "format": "mpkit-bundle/1",
        "created_at": "2025-06-10T12:40:00.000Z",
        "host": {"platform": platform, "hostname": L_HOST, "timezone": "Europe/Paris", "user": L_USER},
        "artifacts": [{"file": None, "command": f"ls /home/{L_USER}", "error": "permission denied"}],
    }
    (root / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return files


def _leaks(text: str) -> list[str]:
    low = text.lower()
    return [s for s in L_SECRETS if s.lower() in low]


def _frame_text(frame) -> str:
    return "\n".join(str(v) for col in frame.columns for v in frame[col].tolist() if v is not None)


def test_planted_kinds_cover_the_catalog_and_parsers():
    """The leak bundles hold every artifact kind the collector and the parsers know."""
    from mpkit.collect import catalog
    from mpkit.parsers import kinds

    planted: set[str] = set()
    for platform in LEAK_FILES:
        with tempfile.TemporaryDirectory() as d:
            root = Path(d)
            _leak_bundle(root, platform)
            with mpkit.load_bundle(root) as b:
                planted |= {a.kind for a in b.artifacts}
                assert not [u for u in b.unrecognised if not u.path.startswith("notes/")], platform
    collectable = {s.kind for plat in ("LINUX", "MACOS", "WINDOWS") for s in getattr(catalog, plat) if s.kind}
    assert collectable - planted == set()
    assert set(kinds()) - planted == set()


@pytest.mark.parametrize("platform", sorted(LEAK_FILES))
def test_no_planted_secret_survives_in_files_frames_or_diagnosis(tmp_path, platform, capsys):
    src, out = tmp_path / "src", tmp_path / "out"
    planted = _leak_bundle(src, platform)
    # every planted file does hold secrets (the test plants what it checks)
    for rel, text in planted.items():
        if rel not in ("multipass-version.txt", "local-driver.txt", "sw_vers.txt", "hv_support.txt",
                       "winver.txt", "os-release.txt", "bootpd.plist"):  # fmt: skip
            assert _leaks(text), f"nothing planted in {rel}"
    redact_bundle(src, out)
    # 1. the files, and their names
    for rel, text in _all_text(out).items():
        assert not _leaks(text), f"{_leaks(text)} survived in {rel}"
        assert not _leaks(rel)
    # 2. the frames read from the redacted bundle
    with mpkit.load_bundle(out) as b, mpkit.load_bundle(src) as orig:
        for name, frame in b.frames.items():
            assert not _leaks(_frame_text(frame)), f"{_leaks(_frame_text(frame))} survived in frame {name}"
        # the redacted bundle reads as well as the original: same kinds, no new rejected line
        red_cov = {r["kind"]: r["rejected"] for r in b.coverage.to_dict("records")}
        orig_cov = {r["kind"]: r["rejected"] for r in orig.coverage.to_dict("records")}
        assert red_cov == orig_cov
        names = set(b.frame("instances")["name"].dropna())
        assert "builder" in names and any(n.endswith("-dev") and n != L_INSTANCE for n in names)
        orig_cause = mpkit.diagnose(orig).root_cause.id
    # 3. what `mpkit diagnose --json` prints
    capsys.readouterr()
    assert cli_main(["diagnose", str(out), "--json"]) == 0
    printed = capsys.readouterr().out
    assert not _leaks(printed), f"{_leaks(printed)} survived in diagnose --json"
    assert json.loads(printed)["root_cause"]["id"] == orig_cause
    # the map records every name it replaced, the renamed instance too
    mapping = json.loads((tmp_path / "out.redaction-map.json").read_text())
    assert L_USER in mapping["user"] and mapping["instance"][L_INSTANCE].endswith("-dev")
    assert L_UUID.lower() in mapping["uuid"]


def test_public_addresses_stay_public_and_keep_their_subnets():
    red = Redactor(seed=7)
    a, b, c = (red.ipv4(ip) for ip in L_PUBLIC)
    for real, pseudo in zip(L_PUBLIC, (a, b, c), strict=True):
        assert ipaddress.ip_address(pseudo).is_global and pseudo != real
        assert pseudo.rsplit(".", 1)[1] == real.rsplit(".", 1)[1]
    assert a.rsplit(".", 1)[0] == b.rsplit(".", 1)[0]  # one /24 stays one /24
    assert a.rsplit(".", 1)[0] != c.rsplit(".", 1)[0] and a.split(".")[:2] == c.split(".")[:2]
    assert not a.startswith("81.")
    # the shortened netstat destination, tcpdump's address.port and a resolved name follow the same map
    text = red.redact_text(
        "81.2.69/24         192.168.1.254      UGSc                  en0\n"
        "14:30:25 IP 81.2.69.160.443 > 10.0.0.2.5353: UDP\n"
        "81-2-69-7.static.isp.example ec2-81-2-69-160.compute-1.amazonaws.com\n"
        "multipass 1.16.1 on 10.0.22631.4460\n",
        learn=False,
    )
    net = a.rsplit(".", 1)[0]
    assert text.startswith(f"{net}/24 ") and f"IP {a}.443 >" in text
    assert f"{b.replace('.', '-')}.static" in text and f"ec2-{a.replace('.', '-')}.compute-1" in text
    assert "1.16.1 on 10.0.22631.4460" in text
    # private addresses keep their block and never stay the same
    for ip in ("192.168.1.23", "10.115.28.7", "172.17.0.2"):
        pseudo = red.ipv4(ip)
        assert ipaddress.ip_address(pseudo).is_private and pseudo != ip


def test_names_are_replaced_inside_longer_tokens_but_short_ones_only_apart():
    red = Redactor(users=["alex", "bob"], hostnames=["orion-lab7"], seed=2)
    out = red.redact_text(
        "alex-dev ALEX_build orion-lab7.local bob-vm bobcat /home/bob/x Alexander info 5c1e9d7a0b3f4e2a9c612d7f8a4b3e10",
        learn=False,
    )
    assert (
        "alex" not in out.lower() and "orion" not in out and "bob-vm" not in out and "/home/bob/" not in out
    )
    assert "bobcat" in out and "info" in out
    # a UUID inside a longer token, and its undashed spelling, get one pseudonym
    uuid = "5C1E9D7A-0B3F-4E2A-9C61-2D7F8A4B3E10"
    out = red.redact_text(f"vm-{uuid.lower()}-disk {uuid} {uuid.replace('-', '').lower()}")
    assert "5c1e9d7a" not in out.lower()
    dashed = red.maps["uuid"][uuid.lower()]
    assert f"vm-{dashed}-disk" in out and dashed.replace("-", "") in out


def test_report_redacted_copy_does_not_outlive_prepare(tmp_path, monkeypatch):
    from mpkit import bundle as bundle_module
    from mpkit import report as R

    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    src = tmp_path / "src"
    _leak_bundle(src, "linux")
    ctx = R.prepare(bundle=src, redact=True)
    assert list(tmp.glob("mpkit-redacted-*")) == []
    # the bundle was read whole before its copy went away
    assert L_INSTANCE not in set(ctx.bundle.frame("instances")["name"].dropna())
    assert len(ctx.bundle.frame("leases")) == 2 and mpkit.diagnose(ctx.bundle).root_cause.id

    # also when reading the copy fails
    def broken(*a, **k):
        raise MpkitError("unreadable")

    monkeypatch.setattr(bundle_module, "load_bundle", broken)
    with pytest.raises(MpkitError, match="unreadable"):
        R.prepare(bundle=src, redact=True)
    assert list(tmp.glob("mpkit-redacted-*")) == []


@pytest.mark.slow
def test_report_with_redaction_leaves_no_temp_copy(tmp_path, monkeypatch):
    from mpkit import report as R

    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))  # the notebook kernel makes the copy
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    src = tmp_path / "src"
    _leak_bundle(src, "macos")
    html = R.report(src, tmp_path / "r.html", redact=True, quiet=True).read_text(encoding="utf-8")
    assert list(tmp.glob("mpkit-redacted-*")) == []
    html = re.sub(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=\s]+", "", html)  # embedded images: random letters
    assert not _leaks(html), f"{_leaks(html)} survived in the report"


def test_collect_redact_replaces_names_learned_late_in_files_written_early(tmp_path):
    """A user name first seen in a late artifact is gone from the early ones too (instance names included)."""
    rec = samples.recordings("macos", NOW)
    rec[samples.key_for("macos", "multipass-list.txt")] = (
        "Name                    State             IPv4             Image\n"
        "bobby-dev               Unknown           --               Ubuntu 24.04 LTS\n"
    )
    rec[samples.key_for("macos", "df.txt")] = (
        "Filesystem     Size   Used  Avail Capacity  Mounted on\n"
        "/dev/disk4s1  931Gi  100Gi  831Gi    11%    /Users/bobby/backup\n"
    )
    runner = ReplayRunner(rec, platform="macos", root=True, host={"hostname": H})
    out = collect(tmp_path / "b", platform="macos", runner=runner, redact=True)
    texts = _all_text(out)
    for name, text in texts.items():
        assert "bobby" not in text.lower(), f"bobby survived in {name}"
    assert re.search(r"user\d+-dev\s+Unknown", texts["multipass-list.txt"])
