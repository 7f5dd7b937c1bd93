"""Recorded outputs for the replay tests (macOS and Windows catalogs), with planted fake secrets.

All values are made up. The planted secrets (:data:`SECRETS`) must never
survive redaction; :data:`KEEP` must.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from mpkit.collect import Targets, sources_for
from mpkit.collect.catalog import expand
from mpkit.collect.runner import command_key, file_key

HOST = "Janes-MacBook-Pro"
USER = "janedoe"
VM_MAC = "52:54:00:3c:0a:f1"
SECRETS = [
    HOST,
    "janes-macbook-pro",
    USER,
    "3c:0a:f1",  # VM MAC (zero-padded tail)
    "3c:a:f1",  # same, macOS spelling
    "3c.a.f1",  # same, netstat spelling
    "a4:2b:b0:1d:2b:f4",  # LAN router
    "b6:56:e3:96:45:db",  # a phone
    "192.168.1.23",  # LAN address
    "81.2.69.160",  # public address
    "C02XK1ABJGH5",  # serial number
    "5C1E9D7A-0B3F-4E2A-9C61-2D7F8A4B3E10",  # a UUID
    "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b",  # a boot id
    "Jane's phone",  # a DHCP client name
    "fe80::5054:ff:fe3c:af1",  # EUI-64 of the VM MAC
]
KEEP = [
    "1.16.1+mac",
    "Running",
    "Unknown",
    "timed out waiting for response",
    "NIC_RX_FILTER_CHANGED",
    "Waiting for SSH to be up",
    "primary",
    "52:54:00:",
    "52:54:0:",
    "bridge100",
    "mpqemubr0",
    "Ubuntu 24.04 LTS",
    "10.0.22631.4460",
    "255.255.255.0",
    "127.0.0.1",
    "Firewall is enabled. (State = 1)",
    "ProductVersion:\t15.5",
    "no ip addresses",
]


def _log_ts(now: dt.datetime, minutes_ago: float) -> str:
    t = (now - dt.timedelta(minutes=minutes_ago)).astimezone()
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}"


def daemon_log(now: dt.datetime) -> str:
    old = _log_ts(now, 600)  # outside a 2 h window
    lines = [
        f"[{old}] [info] [daemon] Starting Multipass 1.15.0+mac (an old, out-of-window line)",
        f"[{_log_ts(now, 30)}] [info] [daemon] Starting Multipass 1.16.1+mac",
        f"[{_log_ts(now, 29)}] [info] [primary] process program 'qemu-system-aarch64'",
        f"[{_log_ts(now, 29)}] [info] [primary] process arguments '-machine, virt,gic-version=3, -nic, "
        f"vmnet-shared,model=virtio-net-pci,mac={VM_MAC}, -drive, file=/Users/{USER}/Library/x.img'",
        f'[{_log_ts(now, 28)}] [debug] [primary] QMP: {{"event": "NIC_RX_FILTER_CHANGED"}}',
        f"[{_log_ts(now, 28)}] [debug] [primary] Waiting for SSH to be up",
        f"[{_log_ts(now, 27)}] [debug] [arp] [48260] started: arp -an",
    ]
    return "\n".join(lines) + "\n"


MACOS_FILES: dict[str, str] = {
    "multipass-version.txt": "multipass   1.16.1+mac\nmultipassd  1.16.1+mac\n",
    "multipass-list.txt": "Name                    State             IPv4             Image\n"
    "primary                 Unknown           --               Ubuntu 24.04 LTS\n",
    "multipass-list.json": '{"list": [{"ipv4": [], "name": "primary", "release": "24.04 LTS", "state": "Unknown"}]}\n',
    "multipass-info.json": '{"errors": [], "info": {"primary": {"state": "Unknown", "ipv4": []}}}\n',
    "multipass-info.txt": "Name:           primary\nState:          Unknown\nIPv4:           --\n",
    "local-driver.txt": "qemu\n",
    "dhcpd_leases": "{\n\tname=primary\n\tip_address=192.168.64.7\n\thw_address=1,52:54:0:3c:a:f1\n"
    "\tidentifier=1,52:54:0:3c:a:f1\n\tlease=0x6848a3f1\n}\n"
    "{\n\tname=Jane's phone\n\tip_address=192.168.2.2\n\thw_address=1,b6:56:e3:96:45:db\n"
    "\tidentifier=1,b6:56:e3:96:45:db\n\tlease=0x68478e21\n}\n",
    "bootpd.plist": "<plist><dict><key>dhcp_enabled</key><array><string>bridge100</string></array>"
    "<key>net_mask</key><string>255.255.255.0</string></dict></plist>\n",
    "vm-instances.json": '{"primary": {"mac_addr": "52:54:00:3c:0a:f1", "state": 8, '
    '"metadata": {"machine_type": "virt"}, "ssh_username": "ubuntu"}}\n',
    "arp.txt": "? (192.168.1.1) at a4:2b:b0:1d:2b:f4 on en0 ifscope [ethernet]\n"
    "? (192.168.64.1) at ba:7e:1c:44:90:64 on bridge100 ifscope permanent [bridge]\n"
    "? (192.168.64.7) at 52:54:0:3c:a:f1 on bridge100 ifscope [bridge]\n"
    "? (127.0.0.1) at 0:0:0:0:0:0 on lo0 ifscope permanent\n",
    "ifconfig.txt": "bridge100: flags=8a63<UP,BROADCAST,SMART,RUNNING,ALLMULTI,SIMPLEX,MULTICAST> mtu 1500\n"
    "\tether ba:7e:1c:44:90:64\n\tinet 192.168.64.1 netmask 0xffffff00 broadcast 192.168.64.255\n"
    "\tinet6 fe80::5054:ff:fe3c:af1%bridge100 prefixlen 64 scopeid 0x17\n"
    "en0: flags=8863<UP> mtu 1500\n\tinet 192.168.1.23 netmask 0xffffff00 broadcast 192.168.1.255\n",
    "routes.txt": "Routing tables\n\nInternet:\nDestination        Gateway            Flags               Netif Expire\n"
    "default            192.168.1.1        UGScIg                en0\n"
    "192.168.64.7       52.54.0.3c.a.f1    UHLWIi          bridge100   1196\n",
    "firewall.txt": "Firewall is enabled. (State = 1)\nFirewall has block all state set to disabled.\n",
    "pf-rules.txt": 'anchor "com.apple/*" all\n',
    "bootpd.log": '{"eventMessage":"no ip addresses","processImagePath":"/usr/libexec/bootpd",'
    '"timestamp":"2025-06-10 14:30:25.104871-0700","bootUUID":"5C1E9D7A-0B3F-4E2A-9C61-2D7F8A4B3E10"}\n',
    "unified.log": '{"eventMessage":"Local network allowed by preference for '
    f'{HOST}.local","processImagePath":"/usr/libexec/nehelper"}}\n',
    "processes.txt": "  PID  PPID     ELAPSED COMMAND\n"
    f"  412     1    03:12:44 /Library/Application Support/com.canonical.multipass/bin/multipassd --verbosity debug\n"
    f"48211     1       00:10 /usr/libexec/bootpd -d\n  900   899       10:00 /bin/zsh -l /Users/{USER}/x\n",
    "sw_vers.txt": "ProductName:\t\tmacOS\nProductVersion:\t15.5\nBuildVersion:\t\t24F74\n",
    "uname.txt": f"Darwin {HOST}.local 24.5.0 Darwin Kernel Version 24.5.0 arm64\n",
    "hv_support.txt": "kern.hv_support: 1\n",
    "df.txt": "Filesystem     Size   Used  Avail Capacity  Mounted on\n/dev/disk3s5  460Gi  300Gi  150Gi    67%    /System/Volumes/Data\n",
    "notes/launchctl-disabled.txt": 'disabled services = {\n\t"com.apple.bootpd" => enabled\n}\n',
    "notes/lsof-udp67.txt": "COMMAND   PID USER   FD   TYPE\nbootpd  48211 root    3u  IPv4 UDP *:67\n",
}

WINDOWS_FILES: dict[str, str] = {
    "multipass-version.txt": "multipass   1.16.1+win\nmultipassd  1.16.1+win\n",
    "multipass-list.txt": MACOS_FILES["multipass-list.txt"],
    "multipass-list.json": MACOS_FILES["multipass-list.json"],
    "multipass-info.json": MACOS_FILES["multipass-info.json"],
    "multipass-info.txt": MACOS_FILES["multipass-info.txt"],
    "local-driver.txt": "hyperv\n",
    "windows-events.txt": "TimeCreated      : 6/10/2025 2:30:25 PM\nLevelDisplayName : Information\n"
    "Message          : [primary] Waiting for SSH to be up\n",
    "hyperv.txt": "Name        : Default Switch\nId          : c08cb7b8-9b3c-408e-8e30-5e16a3aeb444\nSwitchType  : Internal\n",
    "notes/vm-network-adapters.json": '{"VMName": "primary", "MacAddress": "5254003C0AF1", "SwitchName": "Default Switch"}\n',
    "notes/hosts.ics": "172.27.112.45 primary.mshome.net # 2025 6 2 10 12 30 25 104\n",
    "winver.txt": "\nMicrosoft Windows [Version 10.0.22631.4460]\n",
    "processes.txt": 'ProcessId ParentProcessId CommandLine\n4242 700 "C:\\Program Files\\Multipass\\bin\\multipassd.exe" /svc\n',
    "df.txt": "Name Used (GB) Free (GB) Provider Root\nC    200.00    275.00 FileSystem C:\\\n",
}


def recordings(platform: str, now: dt.datetime, *, huge_log: bytes | None = None) -> dict[str, Any]:
    """A recording for every catalog entry of ``platform`` (the first command of each)."""
    files = MACOS_FILES if platform == "macos" else WINDOWS_FILES
    tg = Targets().resolved(platform)
    out: dict[str, Any] = {}
    for src in sources_for(platform):
        if src.file == "multipassd.log":
            out[file_key(tg.daemon_log or "")] = huge_log if huge_log is not None else daemon_log(now)
            continue
        text = files[src.file]
        if src.path is not None:
            from mpkit.collect.catalog import fill

            out[file_key(fill(src.path, tg))] = text
            continue
        cmds = src.commands if src.mode == "all" else src.commands[:1]
        for i, argv in enumerate(cmds):
            key = command_key(expand(argv, tg, since_epoch=0, since_minutes=120))
            out[key] = text if i == 0 else ""
    return out


def key_for(platform: str, file: str, index: int = 0) -> str:
    tg = Targets().resolved(platform)
    src = next(s for s in sources_for(platform) if s.file == file)
    if src.path is not None:
        from mpkit.collect.catalog import fill

        return file_key(fill(src.path, tg))
    return command_key(expand(src.commands[index], tg, since_epoch=0, since_minutes=120))
