"""Every collection source, declared as data, per platform.

A :class:`Source` is one canonical artifact (``file``) and how to get it: one or
more command templates or a file path, a timeout, whether it normally needs
root (and why), a size cap (the *tail* is kept) and whether it is also taken in
``snapshots/`` during ``probe`` / ``--watch``. Adding a source is one entry.

Templates are filled from :class:`Targets` and the time window:
``{multipass}`` (an argv element that expands to the multipass command),
``{bridge}``, ``{lease_file}``, ``{daemon_log}``, ``{vm_instances}``,
``{data_dir}``, ``{since_epoch}``, ``{since_minutes}``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

PLATFORMS = ("linux", "macos", "windows")

#: default per-source output cap (bytes, tail kept)
DEFAULT_MAX = 5_000_000
#: marker for the daemon-log cap: replaced by ``collect(max_log_bytes=...)``
LOG_MAX = -1


@dataclass(frozen=True)
class Source:
    """One artifact and the ordered ways to get it."""

    file: str
    kind: str | None
    commands: tuple[tuple[str, ...], ...] = ()
    path: str | None = None
    #: ``first``: the first command that works wins; ``all``: outputs one after another
    mode: Literal["first", "all"] = "first"
    timeout: float = 15.0
    needs_root: bool = False
    #: why root helps (shown in the "run with sudo" list)
    why_root: str = ""
    max_bytes: int = DEFAULT_MAX
    #: keep only lines matching this regex (plus the first, header line)
    line_filter: str | None = None
    #: a log file with ``[YYYY-MM-DDTHH:MM:SS.mmm]`` lines: cut to the ``since`` window
    windowed: bool = False
    #: also captured in ``snapshots/<time>/`` by probe / watch
    snapshot: bool = False


@dataclass(frozen=True)
class Targets:
    """What the catalog points at. Defaults are Multipass's real locations; the lab overrides them.

    ``journal_command`` replaces ``journalctl`` for ``journal.txt`` (and drops
    ``journal.json``): any command printing ``journalctl -o short-iso`` lines.
    """

    bridge: str | None = None
    lease_file: str | None = None
    daemon_log: str | None = None
    vm_instances: str | None = None
    data_dir: str | None = None
    multipass: tuple[str, ...] = ("multipass",)
    journal_command: tuple[str, ...] | None = None
    process_filter: str = r"qemu|multipass|bootpd|dnsmasq"
    #: the command that restarts the Multipass daemon (needs root; run only by ``mpkit doctor``, on a yes)
    daemon_restart: tuple[str, ...] | None = None

    def resolved(self, platform: str) -> Targets:
        """These targets with every unset location filled with the platform's default."""
        defaults = _DEFAULT_TARGETS.get(platform, {})
        changes: dict[str, Any] = {k: v for k, v in defaults.items() if getattr(self, k) is None}
        return replace(self, **changes)


_LINUX_DATA = "/var/snap/multipass/common/data/multipassd"
_MAC_DATA = "/var/root/Library/Application Support/multipassd"
_DEFAULT_TARGETS: dict[str, dict[str, Any]] = {
    "linux": {
        "bridge": "mpqemubr0",
        "lease_file": f"{_LINUX_DATA}/network/dnsmasq.leases",
        "vm_instances": f"{_LINUX_DATA}/qemu/multipassd-vm-instances.json",
        "data_dir": "/var/snap/multipass",
        "daemon_log": "",
        "daemon_restart": ("snap", "restart", "multipass"),
    },
    "macos": {
        "bridge": "bridge100",
        "lease_file": "/var/db/dhcpd_leases",
        "daemon_log": "/Library/Logs/Multipass/multipassd.log",
        "vm_instances": f"{_MAC_DATA}/qemu/multipassd-vm-instances.json",
        "data_dir": "/var/root",
        "daemon_restart": ("launchctl", "kickstart", "-k", "system/com.canonical.multipassd"),
    },
    "windows": {
        "bridge": "",
        "lease_file": "",
        "daemon_log": "",
        "vm_instances": "C:\\ProgramData\\Multipass\\data\\multipassd-vm-instances.json",
        "data_dir": "C:\\ProgramData\\Multipass",
        "daemon_restart": (
            "powershell.exe",
            "-NoProfile",
            "-NonInteractive",
            "-Command",
            "Restart-Service Multipass",
        ),
    },
}

MP = "{multipass}"


def _multipass_sources() -> list[Source]:
    """The multipass client's own outputs (same on every platform)."""
    return [
        Source("multipass-version.txt", "multipass_version", ((MP, "version"),), timeout=20),
        Source("multipass-list.txt", "multipass_list_text", ((MP, "list"),), timeout=30),
        Source("multipass-list.json", "multipass_list", ((MP, "list", "--format", "json"),), timeout=30),
        Source(
            "multipass-info.json",
            "multipass_info",
            ((MP, "info", "--format", "json"), (MP, "info", "--all", "--format", "json")),
            timeout=60,
        ),
        Source(
            "multipass-info.txt", "multipass_info_text", ((MP, "info"), (MP, "info", "--all")), timeout=60
        ),
        Source("local-driver.txt", "local_driver", ((MP, "get", "local.driver"),), timeout=20),
    ]


_ROOT_LEASES = "the DHCP lease file is readable by root only"
_ROOT_FW = "firewall rules can only be listed by root"
_ROOT_LOG = "the daemon log is readable by root (or the adm / systemd-journal group) only"

LINUX: list[Source] = [
    *_multipass_sources(),
    Source(
        "journal.txt",
        "journal_text",
        (
            (
                "journalctl",
                "--no-pager",
                "-o",
                "short-iso",
                "-u",
                "snap.multipass.multipassd",
                "--since",
                "@{since_epoch}",
            ),
        ),
        timeout=60,
        needs_root=True,
        why_root=_ROOT_LOG,
        max_bytes=LOG_MAX,
    ),
    Source(
        "journal.json",
        "journal_json",
        (
            (
                "journalctl",
                "--no-pager",
                "-o",
                "json",
                "-u",
                "snap.multipass.multipassd",
                "--since",
                "@{since_epoch}",
            ),
        ),
        timeout=60,
        needs_root=True,
        why_root=_ROOT_LOG,
        max_bytes=LOG_MAX,
    ),
    Source(
        "kernel.log",
        "kernel_log",
        (("journalctl", "--no-pager", "-k", "-o", "short-iso", "--since", "@{since_epoch}"), ("dmesg",)),
        timeout=30,
        needs_root=True,
        why_root="the kernel log is readable by root only on most distributions",
        line_filter=r"(?i)apparmor|kvm|bridge|br0|tap-|mpqemu|dnsmasq|veth",
    ),
    Source(
        "dnsmasq.leases",
        "dnsmasq_leases",
        path="{lease_file}",
        needs_root=True,
        why_root=_ROOT_LEASES,
        snapshot=True,
    ),
    Source(
        "vm-instances.json",
        "vm_instances",
        path="{vm_instances}",
        needs_root=True,
        why_root="Multipass's instance database is readable by root only",
    ),
    Source("ip-neigh.txt", "ip_neigh", (("ip", "neigh", "show"),), timeout=10, snapshot=True),
    Source("ip-addr.json", "ip_addr", (("ip", "-j", "addr", "show"),), timeout=10),
    Source("routes.txt", "routes", (("ip", "route", "show"),), timeout=10),
    Source(
        "host-firewall.txt",
        "host_firewall",
        (("ufw", "status", "verbose"), ("firewall-cmd", "--get-active-zones"), ("nft", "list", "ruleset")),
        mode="all",
        timeout=20,
        needs_root=True,
        why_root=_ROOT_FW,
    ),
    Source(
        "processes.txt",
        "processes",
        (("ps", "-eo", "pid,ppid,etime,args"),),
        timeout=10,
        line_filter="{process_filter}",
    ),
    # the bundle spec names this file sw_vers.txt on every platform; on Linux it holds os-release
    Source("sw_vers.txt", "os_release", path="/etc/os-release"),
    Source("uname.txt", "uname", (("uname", "-a"),), timeout=5),
    Source("df.txt", "df", (("df", "-h", "{data_dir}"), ("df", "-h")), timeout=15),
]

MACOS: list[Source] = [
    *_multipass_sources(),
    Source(
        "multipassd.log",
        "daemon_log",
        path="{daemon_log}",
        needs_root=True,
        why_root=_ROOT_LOG,
        max_bytes=LOG_MAX,
        windowed=True,
    ),
    Source("dhcpd_leases", "dhcpd_leases", path="{lease_file}", snapshot=True),
    Source("bootpd.plist", "bootpd_plist", path="/etc/bootpd.plist"),
    Source(
        "vm-instances.json",
        "vm_instances",
        path="{vm_instances}",
        needs_root=True,
        why_root="Multipass's instance database is readable by root only",
    ),
    Source("arp.txt", "arp", (("arp", "-an"),), timeout=10, snapshot=True),
    Source("ifconfig.txt", "ifconfig", (("ifconfig", "-a"),), timeout=10),
    Source("routes.txt", "routes", (("netstat", "-rn", "-f", "inet"),), timeout=15),
    Source(
        "firewall.txt",
        "firewall",
        tuple(
            ("/usr/libexec/ApplicationFirewall/socketfilterfw", opt)
            for opt in (
                "--getglobalstate",
                "--getblockall",
                "--getstealthmode",
                "--getallowsigned",
                "--listapps",
            )
        ),
        mode="all",
        timeout=15,
    ),
    Source(
        "pf-rules.txt",
        "pf_rules",
        (("pfctl", "-s", "rules"),),
        timeout=15,
        needs_root=True,
        why_root="pfctl needs root to read /dev/pf",
    ),
    Source(
        "bootpd.log",
        "unified_log",
        (
            (
                "log",
                "show",
                "--style",
                "ndjson",
                "--info",
                "--last",
                "{since_minutes}m",
                "--predicate",
                'process == "bootpd"',
            ),
        ),
        timeout=120,
        needs_root=True,
        why_root="the unified log is readable by administrators only",
        max_bytes=LOG_MAX,
    ),
    Source(
        "unified.log",
        "unified_log",
        (
            (
                "log",
                "show",
                "--style",
                "ndjson",
                "--info",
                "--last",
                "{since_minutes}m",
                "--predicate",
                'process == "InternetSharing" OR process == "socketfilterfw" OR process == "nehelper"'
                ' OR eventMessage CONTAINS[c] "vmnet"',
            ),
        ),
        timeout=120,
        needs_root=True,
        why_root="the unified log is readable by administrators only",
        max_bytes=LOG_MAX,
    ),
    Source(
        "processes.txt",
        "processes",
        (("ps", "-axo", "pid,ppid,etime,command"),),
        timeout=10,
        line_filter="{process_filter}",
    ),
    Source("sw_vers.txt", "sw_vers", (("sw_vers",),), timeout=5),
    Source("uname.txt", "uname", (("uname", "-a"),), timeout=5),
    Source("hv_support.txt", "hv_support", (("sysctl", "kern.hv_support"),), timeout=5),
    Source("df.txt", "df", (("df", "-h", "{data_dir}"),), timeout=15),
    Source(
        "notes/launchctl-disabled.txt",
        None,
        (("launchctl", "print-disabled", "system"),),
        timeout=10,
        needs_root=True,
        why_root="launchctl shows system daemons to root only",
    ),
    Source(
        "notes/lsof-udp67.txt",
        None,
        (("lsof", "-iUDP:67", "-n", "-P"),),
        timeout=20,
        needs_root=True,
        why_root="lsof sees root's processes (bootpd, launchd) only as root",
    ),
]


def _ps(script: str) -> tuple[str, ...]:
    return ("powershell.exe", "-NoProfile", "-NonInteractive", "-Command", script)


WINDOWS: list[Source] = [
    *_multipass_sources(),
    Source(
        "windows-events.txt",
        "windows_events",
        (
            _ps(
                "Get-WinEvent -FilterHashtable @{ProviderName='Multipass'; "
                "StartTime=(Get-Date).AddMinutes(-{since_minutes})} | "
                "Format-List TimeCreated,LevelDisplayName,Message"
            ),
        ),
        timeout=120,
        needs_root=True,
        why_root="some event-log entries are visible to administrators only",
        max_bytes=LOG_MAX,
    ),
    Source(
        "hyperv.txt",
        "hyperv",
        (
            _ps("Get-VMSwitch | Format-List *"),
            _ps("Get-HNSNetwork | Format-List *"),
            _ps("Get-NetNat | Format-List *"),
            _ps("bcdedit /enum '{current}' | Select-String hypervisorlaunchtype"),
        ),
        mode="all",
        timeout=30,
        needs_root=True,
        why_root="Hyper-V and bcdedit queries need an elevated (Administrator) shell",
    ),
    Source(
        "notes/vm-network-adapters.json",
        None,
        (_ps("Get-VMNetworkAdapter -VMName * | ConvertTo-Json -Depth 3"),),
        timeout=30,
        needs_root=True,
        why_root="Hyper-V queries need an elevated (Administrator) shell",
    ),
    Source("notes/hosts.ics", None, path="C:\\Windows\\System32\\drivers\\etc\\hosts.ics"),
    Source("winver.txt", "winver", (("cmd.exe", "/c", "ver"),), timeout=10),
    Source(
        "processes.txt",
        "processes",
        (
            _ps(
                "Get-CimInstance Win32_Process | Format-Table -AutoSize ProcessId,ParentProcessId,CommandLine"
            ),
        ),
        timeout=30,
        line_filter="(?i){process_filter}|ProcessId",
    ),
    Source("df.txt", "df", (_ps("Get-PSDrive -PSProvider FileSystem | Format-Table -AutoSize"),), timeout=20),
]

CATALOG: dict[str, list[Source]] = {"linux": LINUX, "macos": MACOS, "windows": WINDOWS}


def sources_for(platform: str, targets: Targets | None = None) -> list[Source]:
    """The catalog of ``platform``, adjusted to ``targets`` (a journal stand-in, a missing log path)."""
    if platform not in CATALOG:
        raise ValueError(f"unknown platform {platform!r}; expected one of {', '.join(PLATFORMS)}")
    tg = (targets or Targets()).resolved(platform)
    out: list[Source] = []
    for src in CATALOG[platform]:
        if src.file == "journal.txt" and tg.journal_command:
            src = replace(src, commands=(tuple(tg.journal_command),), needs_root=False)
        elif src.file == "journal.json" and tg.journal_command:
            continue
        if src.path is not None and not fill(src.path, tg):
            continue  # a location the platform does not have
        out.append(src)
    return out


def source_for_file(platform: str, file: str) -> Source | None:
    """The catalog source of ``platform`` that writes ``file`` (``None`` when no source does)."""
    if platform not in CATALOG:
        raise ValueError(f"unknown platform {platform!r}; expected one of {', '.join(PLATFORMS)}")
    return next((src for src in CATALOG[platform] if src.file == file), None)


def snapshot_sources(platform: str, targets: Targets | None = None) -> list[Source]:
    """The sources taken repeatedly in ``snapshots/<time>/``."""
    return [s for s in sources_for(platform, targets) if s.snapshot]


def _path_values(tg: Targets) -> dict[str, str]:
    return {
        "bridge": tg.bridge or "",
        "lease_file": tg.lease_file or "",
        "daemon_log": tg.daemon_log or "",
        "vm_instances": tg.vm_instances or "",
        "data_dir": tg.data_dir or "",
        "process_filter": tg.process_filter,
    }


def expand(argv: Sequence[str], targets: Targets, *, since_epoch: int, since_minutes: int) -> tuple[str, ...]:
    """Fill a command template (``{multipass}`` expands to several argv elements)."""
    values = {**_path_values(targets), "since_epoch": str(since_epoch), "since_minutes": str(since_minutes)}
    out: list[str] = []
    for part in argv:
        if part == MP:
            out.extend(targets.multipass)
        else:
            out.append(_fill(part, values))
    return tuple(out)


def _fill(template: str, values: dict[str, str]) -> str:
    # str.format would choke on PowerShell's braces ("@{...}"), so replace known names only
    for key, val in values.items():
        template = template.replace("{" + key + "}", val)
    return template


def fill(template: str, targets: Targets) -> str:
    """Fill a path or filter template."""
    return _fill(template, _path_values(targets))
