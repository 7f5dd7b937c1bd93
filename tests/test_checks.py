"""Every check, on a small bundle where it must give each state the rules rely on.

The conformance test at the bottom runs the engine (evidence table, then the
findings it reports for the rule's cause) on those bundles: every rule must
appear on each bundle that puts its check in the rule's state, and must not
appear on the bundles that put it in another state.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import mpkit
from mpkit.diagnose import rules
from mpkit.diagnose.bayes import load_model
from mpkit.diagnose.checks import REGISTRY, SIGNATURES
from mpkit.diagnose.engine import _context, _findings, _select_attempt, evidence

MAC = "52:54:00:aa:bb:cc"
T = "2025-01-10T10:00:0"


def mac_log(*extra: str, version: str = "1.15.1+mac", loadvm: bool = False) -> str:
    args = f"-nic, vmnet-shared,model=virtio-net-pci,mac={MAC}, -m, 1024M" + (
        ", -loadvm, suspend" if loadvm else ""
    )
    lines = [
        f"[{T}0.000] [info] [daemon] Starting Multipass {version}",
        f"[{T}1.000] [info] [vm] process program 'qemu-system-aarch64'",
        f"[{T}1.001] [info] [vm] process arguments '{args}'",
        f"[{T}1.002] [info] [vm] process state changed to Starting",
        f"[{T}1.003] [info] [vm] process state changed to Running",
        f'[{T}5.000] [debug] [vm] QMP: {{"timestamp": {{"seconds": 1736503205, "microseconds": 0}}, "event": "NIC_RX_FILTER_CHANGED", "data": {{}}}}',
        f"[{T}5.100] [debug] [vm] Waiting for SSH to be up",
        *extra,
    ]
    return "\n".join(lines) + "\n"


CLIENT = "start failed: The following errors occurred:\nvm: timed out waiting for response\n"
MAC15 = "ProductName:\tmacOS\nProductVersion:\t15.1\n"
MAC14 = "ProductName:\tmacOS\nProductVersion:\t14.6\n"


IP_BRIDGE = (
    "3: mpqemubr0: <{flags}> mtu 1500 qdisc noqueue state DOWN group default qlen 1000\n"
    "    link/ether 52:54:00:9e:41:d7 brd ff:ff:ff:ff:ff:ff\n"
    "    inet 10.1.2.1/24 brd 10.1.2.255 scope global mpqemubr0\n"
    "       valid_lft forever preferred_lft forever\n"
)


def base(**files: str) -> dict[str, str]:
    return {"multipassd.log": mac_log(), "client.txt": CLIENT, "sw_vers.txt": MAC14, **files}


def linux(journal_extra: str = "", **files: str) -> dict[str, str]:
    j = (
        "2025-01-10T10:00:00+0000 h dnsmasq-dhcp[9]: DHCP, IP range 10.1.2.2 -- 10.1.2.254, lease time infinite\n"
        "2025-01-10T10:00:00+0000 h dnsmasq-dhcp[9]: DHCP, sockets bound exclusively to interface mpqemubr0\n"
        f"2025-01-10T10:00:01+0000 h multipassd[5]: process arguments '-nic, tap,ifname=tap-1,model=virtio-net-pci,mac={MAC}'\n"
        "2025-01-10T10:00:01+0000 h multipassd[5]: process state changed to Running\n"
        "2025-01-10T10:00:02+0000 h multipassd[5]: Waiting for SSH to be up\n" + journal_extra
    )
    return {
        "journal.txt": j,
        "client.txt": CLIENT,
        "sw_vers.txt": 'NAME="Ubuntu"\nVERSION_ID="24.04"\nID=ubuntu\n',
        **files,
    }


LEASE = "{\n\tname=vm\n\tip_address=192.168.64.5\n\thw_address=1,52:54:0:aa:bb:cc\n\tidentifier=1,52:54:0:aa:bb:cc\n\tlease=0x6781a0b0\n}\n"
OTHER_LEASE = "{\n\tname=old\n\tip_address=192.168.64.9\n\thw_address=1,52:54:0:11:22:33\n\tidentifier=1,52:54:0:11:22:33\n\tlease=0x6781a0b0\n}\n"
FF_LEASE = "{\n\tname=vm\n\tip_address=192.168.64.5\n\thw_address=ff,f1:f5:dd:7f:0:2:0:0:ab:11\n\tidentifier=ff,f1:f5:dd:7f:0:2:0:0:ab:11\n\tlease=0x6781a0b0\n}\n"
ARP = "? (192.168.64.5) at 52:54:0:aa:bb:cc on bridge100 ifscope [bridge]\n"
ARP_OTHER = "? (192.168.64.1) at 3e:22:fb:1:2:3 on bridge100 ifscope permanent [bridge]\n"
IFC_OK = "bridge100: flags=8863<UP,BROADCAST,SMART,RUNNING,SIMPLEX,MULTICAST> mtu 1500\n\tether 3e:22:fb:01:02:03\n\tinet 192.168.64.1 netmask 0xffffff00 broadcast 192.168.64.255\n\tmember: vmenet0 flags=3<LEARNING,DISCOVER>\n\tstatus: active\nen0: flags=8863<UP,BROADCAST,SMART,RUNNING,SIMPLEX,MULTICAST> mtu 1500\n\tinet 192.168.1.20 netmask 0xffffff00 broadcast 192.168.1.255\n\tstatus: active\n"
IFC_CLASH = IFC_OK.replace("192.168.1.20", "192.168.64.20").replace("192.168.1.255", "192.168.64.255")
IFC_NOBRIDGE = "en0: flags=8863<UP,BROADCAST,SMART,RUNNING,SIMPLEX,MULTICAST> mtu 1500\n\tinet 192.168.1.20 netmask 0xffffff00 broadcast 192.168.1.255\n\tstatus: active\n"
TCP_REQ = f"10:00:06.100000 IP 0.0.0.0.68 > 255.255.255.255.67: BOOTP/DHCP, Request from {MAC}, length 300\n"
TCP_REP = "10:00:06.200000 IP 192.168.64.1.67 > 192.168.64.5.68: BOOTP/DHCP, Reply, length 300\n"
FW_ON = "Firewall is enabled. (State = 1)\nFirewall has block all state set to enabled.\n"
FW_OFF = "Firewall is disabled. (State = 0)\n"
ROUTES_VPN = "default            10.82.17.5         UGSc          utun2\ndefault            192.168.1.1        UGScI           en0\n"
ROUTES_OK = "default            192.168.1.1        UGScI           en0\n192.168.64         link#22            UC          bridge100      !\n"
NFT_DROP = 'table inet filter {\n\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n\t\tiifname "mpqemubr0" udp dport 67 drop\n\t}\n}\n'
NFT_OK = "table inet filter {\n\tchain input {\n\t\ttype filter hook input priority filter; policy accept;\n\t}\n}\n"
UFW_ON = "Status: active\nLogging: on (low)\nDefault: deny (incoming), allow (outgoing), disabled (routed)\n"
PF_DROP = "block drop in quick on bridge100 proto udp from any to any port = 67\n"
PF_OK = 'anchor "com.apple/*" all\n'
PS_VMWARE = "  PID  PPID     ELAPSED COMMAND\n  501     1       10:00 /Applications/VMware Fusion.app/Contents/Library/vmware-vmx -s vmx.stdio.keep=TRUE\n"
PS_DNSMASQ = "  PID  PPID     ELAPSED COMMAND\n  5     1       10:00 /snap/multipass/current/bin/multipassd --verbosity debug\n  9     5       10:00 dnsmasq --keep-in-foreground --interface=mpqemubr0\n"
PS_NO_DNSMASQ = "  PID  PPID     ELAPSED COMMAND\n  5     1       10:00 /snap/multipass/current/bin/multipassd --verbosity debug\n"
DF_FULL = "Filesystem     Size   Used  Avail Capacity iused ifree %iused  Mounted on\n/dev/disk3s5  460Gi  460Gi    0Bi   100%  1000  0  100%   /System/Volumes/Data\n"
DF_OK = "Filesystem     Size   Used  Avail Capacity iused ifree %iused  Mounted on\n/dev/disk3s5  460Gi  100Gi  360Gi    22%  1000  0  1%   /System/Volumes/Data\n"
LIST_RUNNING = "Name                    State             IPv4             Image\nvm                      Running           192.168.64.5     Ubuntu 24.04 LTS\n"
LIST_UNKNOWN = "Name                    State             IPv4             Image\nvm                      Unknown           --               Ubuntu 24.04 LTS\n"
DB = (
    '{"vm": {"num_cores": 1, "mem_size": "1073741824", "disk_space": "5368709120", "ssh_username": "ubuntu", "state": STATE, "deleted": false, "metadata": {}, "mac_addr": "'
    + MAC
    + '", "extra_interfaces": [], "mounts": []}}\n'
)


def pool_leases(n: int) -> str:
    return "".join(
        f"{{\n\tname=old{i}\n\tip_address=192.168.64.{i + 2}\n\thw_address=1,52:54:0:11:22:{i:x}\n\tlease=0x6781a0b0\n}}\n"
        for i in range(n)
    )


#: check → [(expected state, bundle files)]
CASES: dict[str, list[tuple[str, dict[str, str]]]] = {
    "lease.for-instance": [
        ("pass", base(dhcpd_leases=LEASE)),
        ("fail", base(dhcpd_leases=OTHER_LEASE)),
        ("not-collected", base()),
    ],
    "arp.for-instance": [
        ("pass", base(**{"arp.txt": ARP})),
        ("fail", base(**{"arp.txt": ARP_OTHER})),
        ("not-collected", base()),
    ],
    "lease.ff-identifiers": [("fail", base(dhcpd_leases=FF_LEASE)), ("pass", base(dhcpd_leases=LEASE))],
    "version.sequoia-lease-lookup": [
        ("fail", base(**{"multipassd.log": mac_log(version="1.14.0+mac"), "sw_vers.txt": MAC15})),
        ("pass", base(**{"sw_vers.txt": MAC15})),
    ],
    "host.local-network-privacy": [("fail", base(**{"sw_vers.txt": MAC15})), ("pass", base())],
    "dhcp.requests-unanswered": [
        ("fail", base(**{"tcpdump.txt": TCP_REQ * 3})),
        ("pass", base(**{"tcpdump.txt": TCP_REQ + TCP_REP})),
        ("warn", base(**{"tcpdump.txt": TCP_REQ.replace(MAC, "52:54:00:dd:ee:ff")})),
        ("not-collected", base()),
    ],
    "dhcp.server-running": [
        ("pass", linux()),
        ("fail", linux("2025-01-10T10:00:03+0000 h dnsmasq[9]: exiting on receipt of SIGTERM\n")),
        ("fail", linux(**{"processes.txt": PS_NO_DNSMASQ})),
        ("pass", linux(**{"processes.txt": PS_DNSMASQ})),
    ],
    "dhcp.no-discover-at-server": [
        ("fail", linux()),
        ("pass", linux(f"2025-01-10T10:00:03+0000 h dnsmasq-dhcp[9]: DHCPDISCOVER(mpqemubr0) {MAC}\n")),
    ],
    "lease.pool-full": [("fail", base(dhcpd_leases=pool_leases(253))), ("pass", base(dhcpd_leases=LEASE))],
    "lease.file-damaged": [
        ("fail", base(dhcpd_leases=LEASE + LEASE)),
        ("pass", base(dhcpd_leases=LEASE + OTHER_LEASE)),
    ],
    "firewall.app-firewall": [
        ("fail", base(**{"firewall.txt": FW_ON})),
        ("pass", base(**{"firewall.txt": FW_OFF})),
        ("not-collected", base()),
    ],
    "firewall.host": [
        ("fail", linux(**{"host-firewall.txt": NFT_DROP})),
        ("pass", linux(**{"host-firewall.txt": NFT_OK})),
        ("warn", linux(**{"host-firewall.txt": UFW_ON})),
    ],
    "firewall.pf": [("fail", base(**{"pf-rules.txt": PF_DROP})), ("pass", base(**{"pf-rules.txt": PF_OK}))],
    "routes.vpn": [
        ("fail", base(**{"routes.txt": ROUTES_VPN})),
        ("pass", base(**{"routes.txt": ROUTES_OK})),
        ("not-collected", base()),
    ],
    "net.subnet-overlap": [
        ("fail", base(**{"ifconfig.txt": IFC_CLASH})),
        ("pass", base(**{"ifconfig.txt": IFC_OK})),
    ],
    "net.bridge": [
        ("fail", base(**{"ifconfig.txt": IFC_NOBRIDGE})),
        ("pass", base(**{"ifconfig.txt": IFC_OK})),
        # an idle Linux bridge (up, no guest attached) is DOWN with NO-CARRIER: not a fault
        ("pass", linux(**{"ip-addr.txt": IP_BRIDGE.format(flags="NO-CARRIER,BROADCAST,MULTICAST,UP")})),
        ("fail", linux(**{"ip-addr.txt": IP_BRIDGE.format(flags="BROADCAST,MULTICAST")})),
    ],
    "host.other-hypervisor": [
        ("fail", base(**{"processes.txt": PS_VMWARE})),
        ("pass", base(**{"processes.txt": PS_DNSMASQ})),
    ],
    "host.hv-support": [
        ("fail", base(**{"hv_support.txt": "kern.hv_support: 0\n"})),
        ("pass", base(**{"hv_support.txt": "kern.hv_support: 1\n"})),
    ],
    "host.disk-usage": [("fail", base(**{"df.txt": DF_FULL})), ("pass", base(**{"df.txt": DF_OK}))],
    "instance.running-with-ip": [
        ("pass", base(**{"multipass-list.txt": LIST_RUNNING})),
        ("fail", base(**{"multipass-list.txt": LIST_UNKNOWN})),
    ],
    "instance-db.state": [
        ("fail", base(**{"vm-instances.json": DB.replace("STATE", "8")})),
        ("pass", base(**{"vm-instances.json": DB.replace("STATE", "4")})),
    ],
    "attempt.nic-up": [
        ("pass", base()),
        (
            "fail",
            base(
                **{
                    "multipassd.log": mac_log().replace(
                        '"event": "NIC_RX_FILTER_CHANGED"', '"event": "RESUME"'
                    )
                }
            ),
        ),
    ],
    "attempt.ip-lookups-failing": [
        (
            "fail",
            base(
                **{
                    "multipassd.log": mac_log(
                        *[
                            f"[{T}6.{i:03d}] [trace] [vm] Could not determine IP address within 1000ms"
                            for i in range(3)
                        ]
                    )
                }
            ),
        ),
        ("pass", base(**{"multipassd.log": mac_log(f"[{T}9.000] [debug] [vm] Caching initial SSH session")})),
    ],
    "attempt.ssh-failing": [
        (
            "fail",
            base(
                **{
                    "multipassd.log": mac_log(
                        *[
                            f"[{T}6.{i:03d}] [trace] [vm] ssh connection failed: 'Timeout connecting to 192.168.64.5'"
                            for i in range(3)
                        ]
                    )
                }
            ),
        ),
        ("pass", base(**{"multipassd.log": mac_log(f"[{T}9.000] [debug] [vm] Caching initial SSH session")})),
    ],
    "attempt.resume": [("fail", base(**{"multipassd.log": mac_log(loadvm=True)})), ("pass", base())],
    "attempt.after-daemon-restart": [
        (
            "fail",
            base(
                **{
                    "multipassd.log": mac_log().replace(
                        "Starting Multipass 1.15.1+mac",
                        "Starting Multipass 1.15.1+mac\n[2025-01-10T10:00:00.500] [info] [daemon] vm needs starting. Starting now...",
                    )
                }
            ),
        ),
        ("pass", base()),
    ],
}

# log signatures: their own example line fires them, a healthy log does not
for _sig in SIGNATURES:
    _line = _sig["example"]
    if "log" in _sig["where"]:
        _files = base(**{"multipassd.log": mac_log(f"[{T}6.000] [warning] [daemon] {_line}")})
    elif "client" in _sig["where"]:
        _files = base(**{"client.txt": _line + "\n"})
    else:
        _files = base(**{"kernel.log": f"2025-01-10T10:00:06+0000 h kernel: {_line}\n"})
    CASES[_sig["check"]] = [("fail", _files), ("pass", base())]

# what the client said: a line of that kind fires the check, another client error does not,
# and with no client output the check did not look
_CLIENT_LINES = {
    "timeout": CLIENT,
    "init-timeout": "launch failed: The following errors occurred:\nvm: timed out waiting for initialization to complete\n",
    "shutdown-while-starting": "start failed: The following errors occurred:\nvm: shutdown called while starting\n",
    "unknown-state": "start failed: Instance 'vm' is already running, but in an unknown state\n",
    "ssh": "shell failed: ssh connection failed: 'Failed to connect: No route to host'\n",
    "socket": "list failed: cannot connect to the multipass socket\n",
    "qemu-stderr": "start failed: The following errors occurred:\nqemu-system-aarch64: -accel hvf: Error: HV_ERROR\nvm: shutdown called while starting\n",
}
for _kind, _text in _CLIENT_LINES.items():
    _other = CLIENT if _kind != "timeout" else _CLIENT_LINES["init-timeout"]
    CASES[f"client.says-{_kind}"] = [
        ("fail", base(**{"client.txt": _text})),
        ("pass", base(**{"client.txt": _other})),
        ("not-collected", {"multipassd.log": mac_log()}),
    ]

# how the attempt ended
_OK = mac_log(f"[{T}8.000] [debug] [vm] Executing '[ -e /var/lib/cloud/instance/boot-finished ]'")
_EXITED = mac_log(f"[{T}6.000] [info] [vm] process finished with exit code 1")
CASES["attempt.ended-timeout"] = [
    ("fail", base()),
    ("pass", {"multipassd.log": _EXITED}),
    ("not-collected", {"sw_vers.txt": MAC14}),
]
CASES["attempt.ended-qemu-exited"] = [
    ("fail", {"multipassd.log": _EXITED}),
    ("pass", base()),
    ("not-collected", {"sw_vers.txt": MAC14}),
]
CASES["attempt.ended-refused"] = [
    ("fail", {"client.txt": "start failed: Instance 'vm' is already running, but in an unknown state\n"}),
    ("pass", base()),
    ("not-collected", {"sw_vers.txt": MAC14}),
]

PARAMS = [(cid, i, state) for cid, cases in CASES.items() for i, (state, _) in enumerate(cases)]


def _check(tmp_path: Path, cid: str, files: dict[str, str]) -> str:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    bundle = mpkit.load_bundle(tmp_path)
    instance, att = _select_attempt(bundle, None, None)
    result = REGISTRY[cid](_context(bundle, instance, att))
    return result.state


@pytest.mark.parametrize(("cid", "i", "state"), PARAMS, ids=[f"{c}-{s}-{i}" for c, i, s in PARAMS])
def test_check_state(tmp_path: Path, cid: str, i: int, state: str) -> None:
    assert _check(tmp_path, cid, CASES[cid][i][1]) == state


def _fired(tmp_path: Path, files: dict[str, str], cause: str) -> set[str]:
    """The rules the engine reports for ``cause`` on a bundle of ``files`` (evidence, then findings)."""
    tmp_path.mkdir()
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    table = evidence(mpkit.load_bundle(tmp_path))
    return {f.rule for f in _findings(table, load_model(), cause, {})}


@pytest.mark.parametrize("rule", rules(), ids=[r["rule"] for r in rules()])
def test_every_rule_fires_on_a_bundle_and_stays_silent_on_another(tmp_path: Path, rule: dict) -> None:
    cases = CASES.get(rule["check"], [])
    fire = [files for state, files in cases if state == rule["on"]]
    silent = [files for state, files in cases if state != rule["on"]]
    assert fire and silent, (
        f"{rule['rule']}: needs a bundle with {rule['check']} {rule['on']} and one without"
    )
    for i, files in enumerate(fire):
        fired = _fired(tmp_path / f"fire{i}", files, rule["cause"])
        assert rule["rule"] in fired, (
            f"{rule['rule']} did not fire on a bundle where {rule['check']} is {rule['on']}"
        )
    for i, files in enumerate(silent):
        fired = _fired(tmp_path / f"silent{i}", files, rule["cause"])
        assert rule["rule"] not in fired, (
            f"{rule['rule']} fired on a bundle where {rule['check']} is not {rule['on']}"
        )


def test_every_check_is_exercised() -> None:
    assert set(REGISTRY) <= set(CASES), set(REGISTRY) - set(CASES)
