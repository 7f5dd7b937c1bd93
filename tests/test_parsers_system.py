"""Focused tests for the firewall, system-log, capture and host-fact parsers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from mpkit.parsers import module, parse
from mpkit.sniff import identify

CASES = Path("/work/shared/cases")


def _one(frame: pd.DataFrame, **match: object) -> pd.Series:
    sel = frame
    for k, v in match.items():
        sel = sel[sel[k] == v]
    assert len(sel) == 1, f"{match}: {len(sel)} rows"
    return sel.iloc[0]


# --- socketfilterfw


@pytest.mark.parametrize(
    ("line", "setting", "enabled"),
    [
        ("Firewall is enabled. (State = 1) ", "global_state", True),
        ("Firewall is disabled. (State = 0)", "global_state", False),
        ("Firewall has block all state set to enabled.", "block_all", True),
        ("Block all DISABLED!", "block_all", False),
        ("Firewall stealth mode is on", "stealth_mode", True),
        ("Stealth mode disabled", "stealth_mode", False),
        ("Automatically allow built-in signed software ENABLED.", "allow_signed", True),
        ("Automatically allow signed built-in software DISABLED", "allow_signed", False),
        ("Automatically allow downloaded signed software ENABLED", "allow_signed_downloaded", True),
    ],
)
def test_firewall_wordings(line: str, setting: str, enabled: bool) -> None:
    f = parse("firewall", line + "\n")
    assert f.attrs["coverage"]["rejected"] == 0
    row = _one(f, setting=setting)
    assert bool(row["enabled"]) is enabled


def test_firewall_state_2_and_listapps_both_layouts() -> None:
    text = (
        "Firewall is enabled. (State = 2)\n"
        "ALF: total number of apps = 2 \n\n"
        "1 :  /usr/libexec/bootpd \n \t ( Block incoming connections ) \n\n"
        "2 : /Applications/My%20App.app \n      (Allow incoming connections)\n"
    )
    f = parse("firewall", text)
    assert _one(f, setting="global_state")["value"] == 2
    bootpd = _one(f, app="/usr/libexec/bootpd")
    assert not bootpd["allowed"] and bootpd["line"] == 4 and bootpd["app_index"] == 1
    assert bool(_one(f, app="/Applications/My App.app")["allowed"])
    assert f.attrs["coverage"]["rejected"] == 0


def test_firewall_getappblocked() -> None:
    f = parse("firewall", "Incoming connection to /usr/libexec/bootpd is permitted.\n")
    assert bool(_one(f, setting="app")["allowed"])


# --- pfctl


def test_pf_permission_denied_is_a_note_not_a_reject() -> None:
    f = parse("pf_rules", "No ALTQ support in kernel\npfctl: /dev/pf: Permission denied\n")
    cov = f.attrs["coverage"]
    assert cov["rejected"] == 0 and cov["ignored"] == 1
    assert f["note"].tolist() == ["/dev/pf: Permission denied"] and f["action"].isna().all()


def test_pf_block_rule_fields() -> None:
    f = parse(
        "pf_rules", "block drop in quick on bridge100 proto udp from any to any port = 67\npass in all\n"
    )
    r = f.iloc[0]
    assert (r["action"], r["direction"], bool(r["quick"]), r["interface"], r["proto"]) == (
        "block",
        "in",
        True,
        "bridge100",
        "udp",
    )
    assert bool(r["drops_dhcp"]) and not f.iloc[1]["drops_dhcp"]
    tcp = parse("pf_rules", "block drop in proto tcp from any to any port 22\n").iloc[0]
    assert not tcp["drops_dhcp"]


# --- Linux host firewall


NFT = """table inet filter {
\tchain input {
\t\ttype filter hook input priority filter; policy drop;
\t\tiifname "mpqemubr0" udp dport 67 drop
\t\tudp dport { 53, 67 } reject
\t\tiifname "mpqemubr0" tcp dport 22 drop
\t\tiifname "mpqemubr0" udp dport 67 accept
\t\toifname "mpqemubr0" reject
\t}
}
"""


def test_nft_dhcp_drop_detection() -> None:
    f = parse("host_firewall", NFT)
    rules = f[f["record"] == "rule"]
    assert rules["drops_dhcp"].tolist() == [True, True, False, False, True]
    chain = _one(f, record="chain")
    assert (chain["hook"], chain["policy"], chain["family"], chain["table"]) == (
        "input",
        "drop",
        "inet",
        "filter",
    )
    assert rules["interface"].tolist()[0] == "mpqemubr0"
    assert f.attrs["coverage"]["rejected"] == 0


def test_ufw_active_and_firewalld_zone() -> None:
    text = (
        "Status: active\n\nTo                         Action      From\n"
        "--                         ------      ----\n"
        "67/udp on mpqemubr0        DENY IN     Anywhere\n\n"
        "trusted\n  interfaces: mpqemubr0 virbr0\n"
    )
    f = parse("host_firewall", text)
    assert bool(_one(f, tool="ufw", record="status")["active"])
    assert bool(_one(f, tool="ufw", record="rule")["drops_dhcp"])
    assert _one(f, tool="firewalld", interface="mpqemubr0")["zone"] == "trusted"
    assert f.attrs["coverage"]["rejected"] == 0
    inactive = parse("host_firewall", "Status: inactive\n")
    assert not inactive.iloc[0]["active"]


def test_iptables_rules() -> None:
    f = parse("host_firewall", "-P INPUT ACCEPT\n-A INPUT -i mpqemubr0 -p udp -m udp --dport 67 -j DROP\n")
    rule = _one(f, record="rule")
    assert (rule["tool"], rule["action"], rule["dport"], bool(rule["drops_dhcp"])) == (
        "iptables",
        "drop",
        "67",
        True,
    )


# --- unified log


def test_bootpd_decoding_canonicalises_macs() -> None:
    text = (
        "2025-06-10 14:30:25.104871-0700 0x3f2a1    Info        0x0                  48211  0    "
        "bootpd: DHCP DISCOVER [bridge100]: 1,52:54:0:3c:a:f1 <primary>\n"
        "2025-06-10 14:30:26.223544-0700  localhost bootpd[48211]: ACK sent <no hostname> 192.168.64.7 pktsize 300\n"
        "2025-06-10 14:30:27.000000-0700  localhost bootpd[48211]: DHCP REQUEST [bridge100]: ff,1:2:3:4\n"
    )
    f = parse("unified_log", text)
    d, a, r = f.iloc[0], f.iloc[1], f.iloc[2]
    assert (d["dhcp_msg"], d["mac"], d["interface"], d["hostname"]) == (
        "DISCOVER",
        "52:54:00:3c:0a:f1",
        "bridge100",
        "primary",
    )
    assert d["utc_offset"] == -420 and d["time"] == pd.Timestamp("2025-06-10 14:30:25.104871")
    assert (a["dhcp_msg"], a["ip"]) == ("ACK", "192.168.64.7") and pd.isna(a["hostname"])
    assert r["client_id"] == "ff,1:2:3:4" and pd.isna(r["mac"])


def test_unified_log_events_and_banners() -> None:
    text = (
        'Filtering the log data using "process == "bootpd""\n'
        "Skipping info and debug messages, pass --info and/or --debug to include.\n"
        "2025-06-10 14:30:25.106310-0700  localhost bootpd[48211]: no ip addresses\n"
        "2025-06-10 14:31:02.118020-0700  localhost bootpd[48211]: dhcpd: detected another DHCP server "
        "192.168.64.254, disabling DHCP on bridge100\n"
    )
    f = parse("unified_log", text)
    assert f["event"].tolist() == ["info_not_shown", "no_ip_addresses", "other_dhcp_server"]
    assert f.iloc[2]["interface"] == "bridge100" and f.iloc[2]["ip"] == "192.168.64.254"
    assert f.attrs["coverage"]["rejected"] == 0


def test_unified_log_truncated_json_array() -> None:
    text = '[{\n  "eventMessage" : "no ip addresses",\n  "processImagePath" : "\\/usr\\/libexec\\/bootpd",\n'
    text += '  "timestamp" : "2025-06-10 14:30:25.104871-0700"\n},{\n  "eventMessage" : "DHCP DISC'
    f = parse("unified_log", text)
    assert f["event"].tolist() == ["no_ip_addresses"] and f.iloc[0]["process"] == "bootpd"
    assert f.attrs["coverage"]["rejected"] == 1  # the cut object (line 5 also ends the first one)


# --- tcpdump


def test_tcpdump_request_vs_reply() -> None:
    text = (
        "16:05:06.191497 IP 0.0.0.0.bootpc > broadcasthost.bootps: BOOTP/DHCP, Request from "
        "52:54:00:7b:a1:d4 (oui Unknown), length 291\n"
        "16:05:06.193310 IP 192.168.64.1.67 > 192.168.64.7.68: BOOTP/DHCP, Reply, length 300\n"
    )
    f = parse("tcpdump", text)
    req, rep = f.iloc[0], f.iloc[1]
    assert (req["direction"], req["mac"], req["dst_ip"], req["dst_port"], req["length"]) == (
        "request",
        "52:54:00:7b:a1:d4",
        "255.255.255.255",
        67,
        291,
    )
    assert rep["direction"] == "reply" and pd.isna(rep["mac"]) and rep["src_port"] == 67
    assert f["time"].isna().all() and req["time_of_day"] == "16:05:06.191497"


# --- kernel log


def test_kernel_log_apparmor_and_sniff_vs_daemon_journal() -> None:
    text = (
        '2025-06-10T14:29:57+0200 myhost kernel: audit: apparmor="DENIED" operation="open" '
        'profile="snap.multipass.multipassd" name="/etc/x" pid=1\n'
        "[  812.331201] mpqemubr0: port 1(tap-1c2d3e4f5a6b) entered forwarding state\n"
    )
    f = parse("kernel_log", text)
    a, b = f.iloc[0], f.iloc[1]
    assert bool(a["apparmor"]) and a["profile"] == "snap.multipass.multipassd" and a["utc_offset"] == 120
    assert bool(b["bridge"]) and b["uptime_s"] == pytest.approx(812.331201) and b["interface"] == "mpqemubr0"
    journal = "2025-06-10T14:29:56+0200 myhost multipassd[2231]: Using iptables-nft for firewall rules.\n" * 5
    assert module("kernel_log").sniff(journal) < 0.2


# --- host facts


def test_os_release_vs_sw_vers_sniffing() -> None:
    macos = "ProductName:\t\tmacOS\nProductVersion:\t\t15.5\nBuildVersion:\t\t24F74\n"
    linux = 'NAME=Fedora\nVERSION="32 (Rawhide)"\nID=fedora\nVERSION_ID=32\n'
    assert identify(macos)[0] == "sw_vers"
    assert identify(linux)[0] == "os_release"
    assert module("sw_vers").sniff(linux) == 0.0 and module("os_release").sniff(macos) == 0.0
    assert dict(zip(*[parse("os_release", linux)[c] for c in ("key", "value")], strict=True))["VERSION"] == (
        "32 (Rawhide)"
    )


def test_winver_uname_hv_support() -> None:
    w = parse("winver", "\r\nMicrosoft Windows [Version 10.0.22631.4460]\r\n")
    assert dict(zip(w["key"], w["value"], strict=True))["version"] == "10.0.22631.4460"
    u = parse(
        "uname", "Darwin m.local 24.5.0 Darwin Kernel Version 24.5.0: Tue Apr 22 PDT 2025; root:xnu arm64\n"
    )
    assert dict(zip(u["key"], u["value"], strict=True))["machine"] == "arm64"
    h = parse("hv_support", "kern.hv_support: 0\n")
    assert h.iloc[0]["key"] == "kern.hv_support" and h.iloc[0]["value"] == "0"


def test_df_bytes_and_processes_flags() -> None:
    df = parse("df", "Filesystem   Size  Used Avail Use% Mounted on\n/dev/sda2    1,5G  1.0G  512M  67% /\n")
    assert df.iloc[0]["size_bytes"] == 1610612736 and df.iloc[0]["use_pct"] == 67
    ps = parse(
        "processes",
        "  412     1  2-03:04:05 /Library/Application Support/com.canonical.multipass/bin/multipassd\n"
        " 9120   412       01:12 /Library/Application Support/com.canonical.multipass/bin/qemu-system-aarch64 -m 1G\n"
        " 8300     1       05:10 /opt/homebrew/bin/qemu-system-x86_64 -m 2048\n",
    )
    assert ps.iloc[0]["etime_s"] == 183845 and ps.iloc[0]["program"] == "multipassd"
    assert bool(ps.iloc[1]["multipass_child"]) and pd.isna(ps.iloc[1]["other_hypervisor"])
    assert ps.iloc[2]["other_hypervisor"] == "qemu"


def test_hyperv_table_and_bcdedit() -> None:
    text = (
        "Name           SwitchType NetAdapterInterfaceDescription\n"
        "----           ---------- ------------------------------\n"
        "Default Switch Internal\n\nhypervisorlaunchtype    Off\n"
    )
    f = parse("hyperv", text)
    assert _one(f, key="SwitchType")["name"] == "Default Switch"
    assert _one(f, key="hypervisorlaunchtype")["value"] == "Off"


# --- the shared real cases


@pytest.mark.parametrize(
    ("name", "kind"), [("tcpdump.txt", "tcpdump"), ("sw_vers.txt", None), ("unified.log", "unified_log")]
)
def test_shared_cases_parse_without_rejects(name: str, kind: str | None) -> None:
    paths = sorted(CASES.glob(f"*/{name}"))
    if not paths:
        pytest.skip("shared cases not available")
    for path in paths:
        text = path.read_text(encoding="utf-8", errors="replace")
        got = kind or identify(text)[0]
        assert got in ("tcpdump", "sw_vers", "os_release", "unified_log"), path
        assert parse(str(got), text).attrs["coverage"]["rejected"] == 0, path
