"""Focused tests for the DHCP / neighbour / interface / route parsers (the tricky points)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from mpkit.parsers import module, parse

KINDS = ("dhcpd_leases", "dnsmasq_leases", "bootpd_plist", "arp", "ip_neigh", "ifconfig", "ip_addr", "routes")
CASES = Path("/work/shared/cases")
CASE_FILES = {"dhcpd_leases": "dhcpd_leases", "arp.txt": "arp", "routes.txt": "routes"}

LEASES = (
    "{\n\tname=primary\n\tip_address=192.168.64.7\n\thw_address=1,52:54:0:3c:a:f1\n"
    "\tidentifier=1,52:54:0:3c:a:f1\n\tlease=0x6848a3f1\n}\n"
    "{\n\tname=ubuntu\n\tip_address=192.168.64.5\n"
    "\thw_address=ff,d2:81:6c:3e:0:2:0:0:ab:11:42:9a:17:c0:5b:e3:8d:21\n"
    "\tidentifier=ff,d2:81:6c:3e:0:2:0:0:ab:11:42:9a:17:c0:5b:e3:8d:21\n\tlease=0x6846f0aa\n}\n"
    "{\n\tname=ubuntu\n\tip_address=192.168.64.9\n\thw_address=ff,1:2:3:4:0:2:0:0:ab:11:9:8:7:6:5:4:3:2\n"
    "\tlease=0x6846f0ab\n}\n"
    "{\n\tip_address=192.168.65.3\n\tlease=0x6612d04e\n\thw_address=1,52:54:0:3c:a:f1\n\tname=primary\n}\n"
)


def coverage(frame: pd.DataFrame) -> dict:
    return frame.attrs["coverage"]


# --- dhcpd_leases -------------------------------------------------------------------------


def test_dhcpd_mac_is_zero_padded_and_expiry_is_utc() -> None:
    f = parse("dhcpd_leases", LEASES)
    first = f.iloc[0]
    assert first["mac"] == "52:54:00:3c:0a:f1"
    assert first["hw_type"] == "1"
    assert first["expires"] == pd.Timestamp("2025-06-10T21:30:25Z")
    assert str(f["expires"].dtype) == "datetime64[ns, UTC]"
    assert not f["malformed"].any()
    assert coverage(f)["rejected"] == 0


def test_dhcpd_ff_identifier_has_no_mac() -> None:
    f = parse("dhcpd_leases", LEASES)
    ff = f[f["hw_type"] == "ff"]
    assert len(ff) == 2
    assert ff["mac"].isna().all()
    assert ff.iloc[0]["client_id"].startswith("ff,d2:81:6c:3e")


def test_dhcpd_duplicates_flag_every_member() -> None:
    f = parse("dhcpd_leases", LEASES)
    # same MAC in two subnets (key order differs in the second block)
    assert f[f["mac"] == "52:54:00:3c:0a:f1"]["duplicate"].tolist() == [True, True]
    # same name and no MAC
    assert f[f["name"] == "ubuntu"]["duplicate"].tolist() == [True, True]


def test_dhcpd_name_shared_by_entries_with_macs_is_not_a_duplicate() -> None:
    text = LEASES.replace(
        "hw_address=1,52:54:0:3c:a:f1\n\tname=primary", "hw_address=1,52:54:0:3c:a:f2\n\tname=primary"
    )
    f = parse("dhcpd_leases", text)
    assert not f[f["name"] == "primary"]["duplicate"].any()


def test_dhcpd_malformed_blocks_are_rows_and_counted() -> None:
    text = "{\n\tname=a\n\thw_address=1,52:54:0:1:2:3\n\tlease=0x1\n}\n{\n\tip_address=10.0.0.2\n\tlease=0xnope\n}\n"
    f = parse("dhcpd_leases", text)
    assert f["malformed"].tolist() == [True, True]
    assert f["ip"].isna().tolist() == [True, False]
    assert pd.isna(f.iloc[1]["expires"])
    cov = coverage(f)
    assert cov["rejected"] == 2
    assert [n for n, _ in cov["rejects"]] == [1, 8]
    assert cov["lines"] == cov["parsed"] + cov["ignored"] + cov["rejected"]


def test_dhcpd_truncated_and_braceless_pastes() -> None:
    text = "\tip_address=192.168.64.12\n\thw_address=1,52:54:0:5:c1:9e\n\tlease=0x67a1f0c3\n{\n\tname=cut\n\tip_address=192.168.64.13\n"
    f = parse("dhcpd_leases", text)
    assert f["ip"].tolist() == ["192.168.64.12", "192.168.64.13"]
    assert f["line"].tolist() == [1, 4]
    assert not f["malformed"].any()
    assert f["infinite"].isna().tolist() == [False, True]  # no lease= line: unknown
    assert coverage(f)["rejected"] == 0


def test_dhcpd_declined_and_permanent_lease() -> None:
    text = "{\n\tip_address=192.168.64.4\n\thw_address=1,52:54:0:e4:19:2b\n\tlease=0xffffffffffffffff\n\tdeclined=1,52:54:0:e4:19:2b\n}\n"
    f = parse("dhcpd_leases", text)
    row = f.iloc[0]
    assert bool(row["infinite"]) and pd.isna(row["expires"]) and not row["malformed"]
    assert pd.isna(row["client_id"])


# --- dnsmasq_leases -----------------------------------------------------------------------


def test_dnsmasq_infinite_expiry_and_star_fields() -> None:
    f = parse(
        "dnsmasq_leases",
        "0 52:54:00:77:B2:05 10.115.28.15 * *\n1749591025 52:54:00:1a:2b:3c 10.115.28.20 old-vm 01:02\n",
    )
    assert f["mac"].tolist() == ["52:54:00:77:b2:05", "52:54:00:1a:2b:3c"]
    assert f["infinite"].tolist() == [True, False]
    assert pd.isna(f.iloc[0]["expires"])
    assert f.iloc[1]["expires"] == pd.Timestamp("2025-06-10T21:30:25Z")
    assert pd.isna(f.iloc[0]["name"]) and pd.isna(f.iloc[0]["client_id"])
    assert f.iloc[1]["client_id"] == "01:02"


def test_dnsmasq_duplicates_and_rejects() -> None:
    text = "0 52:54:00:3c:0a:f1 10.1.1.7 a *\n0 52:54:00:3c:0a:f1 10.2.2.7 a *\nnot a lease\n0 52:54:00:3c:0a:f2 10.1.1.999 b *\n"
    f = parse("dnsmasq_leases", text)
    assert f["duplicate"].tolist() == [True, True, False]
    assert f["malformed"].tolist() == [False, False, True]
    assert coverage(f)["rejected"] == 2


# --- bootpd_plist -------------------------------------------------------------------------


def test_bootpd_plist_broken_xml_gives_empty_frame_and_a_reject() -> None:
    f = parse(
        "bootpd_plist", '<?xml version="1.0"?>\n<plist version="1.0">\n<dict>\n<key>Subnets</key>\n<array>\n'
    )
    assert f.empty and list(f.columns) == list(module("bootpd_plist").SCHEMA)
    assert coverage(f)["rejected"] == 1


# --- neighbours ---------------------------------------------------------------------------


def test_arp_incomplete_permanent_and_mac_padding() -> None:
    text = (
        "? (192.168.64.1) at ba:7e:1c:44:90:64 on bridge100 ifscope permanent [bridge]\n"
        "? (192.168.64.5) at 52:54:0:e4:19:2b on bridge100 ifscope [bridge]\n"
        "? (192.168.64.9) at (incomplete) on bridge100 ifscope [bridge]\n"
        "garbage\n"
    )
    f = parse("arp", text)
    assert f["state"].tolist() == ["permanent", "complete", "incomplete"]
    assert f["permanent"].tolist() == [True, False, False]
    assert f.iloc[1]["mac"] == "52:54:00:e4:19:2b"
    assert pd.isna(f.iloc[2]["mac"])
    assert f.iloc[1]["flags"] == "ifscope [bridge]"
    assert coverage(f)["rejected"] == 1


def test_arp_table_form() -> None:
    text = (
        "Neighbor                Linklayer Address Expire(O) Expire(I)          Netif Refs Prbs\n"
        "192.168.64.5            52:54:0:1e:a:3    19m41s    19m41s    bridge10    1\n"
        "192.168.64.9            (incomplete)      (none)    (none)    bridge10    1    3\n"
    )
    f = parse("arp", text)
    assert f["mac"].tolist()[0] == "52:54:00:1e:0a:03"
    assert f["state"].tolist() == ["complete", "incomplete"]
    assert coverage(f)["ignored"] == 1


def test_ip_neigh_text_and_json_agree() -> None:
    text = "10.1.2.7 dev mpqemubr0 lladdr 52:54:00:3C:0A:F1 REACHABLE \n10.1.2.8 dev mpqemubr0 FAILED \n"
    js = '[{"dst":"10.1.2.7","dev":"mpqemubr0","lladdr":"52:54:00:3c:0a:f1","state":["REACHABLE"]},{"dst":"10.1.2.8","dev":"mpqemubr0","state":["FAILED"]}]'
    a, b = parse("ip_neigh", text), parse("ip_neigh", js)
    cols = ["ip", "mac", "interface", "state", "permanent"]
    pd.testing.assert_frame_equal(a[cols], b[cols])
    assert a.iloc[0]["mac"] == "52:54:00:3c:0a:f1"
    assert pd.isna(a.iloc[1]["mac"])


def test_ip_neigh_json_router_flag_and_truncation() -> None:
    js = '[{"dst":"fe80::1","dev":"enp3s0","lladdr":"a4:2b:b0:1d:2b:f4","router":null,"state":["STALE"]},{"dst":"10.1'
    f = parse("ip_neigh", js)
    assert len(f) == 1 and f.iloc[0]["flags"] == "router"
    assert coverage(f)["rejected"] == 1


# --- interfaces ---------------------------------------------------------------------------


def test_ifconfig_bridge_prefix_and_members() -> None:
    text = (
        "bridge100: flags=8a63<UP,BROADCAST,SMART,RUNNING,ALLMULTI,SIMPLEX,MULTICAST> mtu 1500\n"
        "\tether ba:7e:1c:4:90:64\n\tinet 192.168.64.1 netmask 0xffffff00 broadcast 192.168.64.255\n"
        "\tmember: vmenet0 flags=3<LEARNING,DISCOVER>\n\t        ifmaxaddr 0 port 24 priority 0 path cost 0\n"
        "\tstatus: active\n"
        "vmenet0: flags=8963<UP,BROADCAST,SMART,RUNNING,PROMISC,SIMPLEX,MULTICAST> mtu 1500\n"
    )
    f = parse("ifconfig", text)
    br = f.iloc[0]
    assert (br["mac"], br["inet"], br["prefixlen"], br["members"]) == (
        "ba:7e:1c:04:90:64",
        "192.168.64.1",
        24,
        "vmenet0",
    )
    assert bool(br["is_bridge"]) and bool(br["up"]) and br["status"] == "active"
    assert not f.iloc[1]["is_bridge"]


def test_ip_addr_json_bridge_and_members() -> None:
    js = (
        '[{"ifname":"mpqemubr0","flags":["NO-CARRIER","BROADCAST","MULTICAST","UP"],"mtu":1500,"operstate":"DOWN",'
        '"address":"52:54:00:9E:41:D7","addr_info":[{"family":"inet","local":"10.115.28.1","prefixlen":24}]},'
        '{"ifname":"tap-1","flags":["UP"],"master":"mpqemubr0","operstate":"UP","address":"62:1f:8e:d4:30:5a","addr_info":[]}]'
    )
    f = parse("ip_addr", js)
    br = f.iloc[0]
    assert (br["mac"], br["inet_all"], br["status"], br["members"]) == (
        "52:54:00:9e:41:d7",
        "10.115.28.1/24",
        "DOWN",
        "tap-1",
    )
    assert bool(br["is_bridge"]) and not f.iloc[1]["is_bridge"]


# --- routes -------------------------------------------------------------------------------


def test_netstat_default_via_utun_and_dotted_mac_kept_raw() -> None:
    text = (
        "default            10.8.0.1           UGScg               utun4       \n"
        "default            192.168.1.1        UGScIg                en0       \n"
        "192.168.64.7       52.54.0.3c.a.f1    UHLWIi          bridge100   1196\n"
    )
    f = parse("routes", text)
    assert f["is_default"].tolist() == [True, True, False]
    assert f["via_tunnel"].tolist() == [True, False, False]
    assert f["interface"].tolist() == ["utun4", "en0", "bridge100"]
    assert f.iloc[2]["gateway"] == "52.54.0.3c.a.f1"
    assert (f["family"] == "inet").all()


def test_netstat_old_columns_without_header() -> None:
    f = parse("routes", "default            10.82.17.5         UGSc          130        0   utun2\n")
    assert f.iloc[0]["interface"] == "utun2" and bool(f.iloc[0]["via_tunnel"])


def test_linux_routes_metric_and_linkdown() -> None:
    text = (
        "default via 192.168.1.1 dev wlp2s0 proto dhcp metric 600 \n"
        "10.0.0.0/24 dev mpqemubr0 proto kernel scope link src 10.0.0.1 linkdown \n"
    )
    f = parse("routes", text)
    assert f["metric"].tolist()[0] == 600 and pd.isna(f["metric"].tolist()[1])
    assert f.iloc[0]["gateway"] == "192.168.1.1" and pd.isna(f.iloc[1]["gateway"])
    assert "linkdown" in f.iloc[1]["flags"]
    assert not f["via_tunnel"].any()


def test_multipass_tap_ports_are_not_tunnels() -> None:
    f = parse("routes", "10.8.0.0/24 dev tap0 proto kernel\n10.9.0.0/24 dev tap-3c9a1f proto kernel\n")
    assert f["via_tunnel"].tolist() == [True, False]


# --- every kind ---------------------------------------------------------------------------

JUNK = [
    "",
    "\n\n",
    "\x00\x01\ufffd\ufffd binary",
    "{",
    "[",
    '[{"dst":',
    "}\n}\n",
    "\t\t=\n",
    "0 0 0 0 0",
    "<plist>",
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("text", JUNK)
def test_never_raises_and_keeps_columns(kind: str, text: str) -> None:
    f = parse(kind, text)
    assert list(f.columns) == list(module(kind).SCHEMA)
    cov = coverage(f)
    assert cov["lines"] == cov["parsed"] + cov["ignored"] + cov["rejected"]
    assert 0.0 <= module(kind).sniff(text) <= 1.0


@pytest.mark.skipif(not CASES.is_dir(), reason="shared cases not available")
def test_shared_case_files_parse_without_rejects() -> None:
    seen = 0
    for path in sorted(CASES.glob("*/*")):
        kind = CASE_FILES.get(path.name)
        if kind is None:
            continue
        f = parse(kind, path.read_text(encoding="utf-8", errors="replace"))
        assert len(f) > 0, path
        assert coverage(f)["rejected"] == 0, (path, coverage(f)["rejects"])
        seen += 1
    assert seen > 0


def test_linux_netstat_r_names_and_ufw_on_iface_shapes_are_read() -> None:
    """Shapes seen in real outputs (more in tests/test_parsers_real.py), counted honestly."""
    rt = parse(
        "routes",
        "default         _gateway        0.0.0.0         UG        0 0          0 wlp2s0\n"
        "not a route at all\n",
    )
    assert rt.iloc[0][["destination", "gateway", "flags", "interface"]].tolist() == [
        "default",
        "_gateway",
        "UG",
        "wlp2s0",
    ]
    assert bool(rt.iloc[0]["is_default"]) and coverage(rt)["rejected"] == 1
    fw = parse(
        "host_firewall",
        "Status: active\n67/udp on mpqemubr0          ALLOW       Anywhere\n"
        "10.0.0.0/24 22 on eth0 ALLOW 192.168.1.0/24 5000\nufw is ALLOW happy\n",
    )
    rules = fw[fw["record"] == "rule"][["dport", "proto", "sport", "interface"]]
    got = [[None if pd.isna(v) else v for v in row] for row in rules.itertuples(index=False)]
    assert got == [["67", "udp", None, "mpqemubr0"], ["22", None, "5000", "eth0"]]
    assert coverage(fw)["rejected"] == 1 and coverage(fw)["rejects"][0][0] == 4
