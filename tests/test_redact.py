"""Redaction: planted fake secrets never survive; real non-secret values do; pseudonyms are consistent."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import re
import tarfile

import pytest

from lab import samples
from mpkit.collect import Redactor, ReplayRunner, collect, redact_bundle
from mpkit.collect.manifest import load as load_manifest
from mpkit.errors import CollectError
from mpkit.macaddr import MAC_IN_TEXT, canon_mac

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
