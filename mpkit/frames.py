"""Schemas of the frames that several artifact kinds feed.

A parser whose ``FRAME`` is one of these uses the schema from here as its
``SCHEMA`` (a test checks that every module of a frame has the same schema).
Frames fed by one kind only declare their schema in their own module.

Every frame in :attr:`mpkit.Bundle.frames` also gets, from the bundle:
``file`` (the artifact's path inside the bundle) and ``snapshot_at`` (the
snapshot time for ``snapshots/<time>/…`` files, NaT otherwise).
"""

from __future__ import annotations

from .schema import Column

LOG_EVENTS = {
    "line": Column("int", "1-based line of the record's first line in the artifact"),
    "time": Column("datetime", "wall-clock time as printed (host local unless utc_offset says otherwise)"),
    "utc_offset": Column("int", "minutes east of UTC printed with the time (journald), NA when not printed"),
    "level": Column("category", "error / warning / info / debug / trace (NA when the source has none)"),
    "category": Column(
        "category", "Multipass logging category: instance name, daemon, rpc, qemu-system-aarch64, arp, …"
    ),
    "program": Column("category", "the process that wrote the line (multipassd, dnsmasq-dhcp, kernel, …)"),
    "pid": Column("int", "pid of the writer (journald), NA otherwise"),
    "message": Column("str", "the message, continuation lines joined with newlines"),
    "n_lines": Column("int", "how many physical lines the record spans"),
    "subprocess": Column("category", "for `[pid] started: prog args` lines: the program started"),
    "subprocess_pid": Column("int", "for `started:` lines: the child's pid"),
    "argv": Column("str", "for `started:` lines: the arguments as printed"),
    "qmp_event": Column(
        "category", "for `QMP:` lines with an event: the event name (NIC_RX_FILTER_CHANGED, …)"
    ),
    "qmp_time": Column("datetime_utc", "for QMP events: the event's own epoch timestamp"),
    "daemon_version": Column(
        "category", "for `Starting Multipass <ver>`: the version (daemon restart marker)"
    ),
    "mac": Column("category", "canonical MAC mentioned (QEMU `mac=`, dnsmasq DHCP lines), NA otherwise"),
    "ip": Column("category", "IPv4 address mentioned (DHCPACK, ssh errors), NA otherwise"),
    "qemu_memory": Column("category", "for `process arguments`: the `-m` value (e.g. 4096M)"),
    "qemu_smp": Column("int", "for `process arguments`: the `-smp` CPU count"),
    "qemu_loadvm": Column(
        "category", "for `process arguments`: the `-loadvm` snapshot (resume from suspend)"
    ),
}

INSTANCES = {
    "line": Column("int", "1-based line where the instance's record starts"),
    "name": Column("str", "instance name"),
    "state": Column("str", "state as printed (Running, Stopped, Unknown, …)"),
    "ipv4": Column("str", "first IPv4 address, NA when `--`/none"),
    "ipv4_all": Column("str", "all IPv4 addresses, comma-separated"),
    "release": Column("str", "image / release column"),
    "image_hash": Column("str", "image hash (info only)"),
    "cpus": Column("int", "CPU count (info only)"),
    "memory_total": Column("int", "memory total in bytes (info json only)"),
    "source": Column("category", "list or info"),
}

LEASES = {
    "line": Column("int", "1-based line where the lease entry starts"),
    "name": Column("str", "host name the client sent, NA when absent"),
    "ip": Column("str", "leased IPv4 address"),
    "mac": Column("str", "canonical MAC, NA when the entry carries no MAC (hw_address=ff,…)"),
    "hw_type": Column("str", "hardware type prefix of hw_address (`1` Ethernet, `ff` RFC 4361 client-id)"),
    "client_id": Column("str", "identifier / client-id as written"),
    "expires": Column("datetime_utc", "lease expiry (UTC); NaT when infinite or unreadable"),
    "infinite": Column(
        "bool",
        "the lease never expires (dnsmasq expiry 0, bootpd 0xffffffffffffffff); NA when no expiry was written",
    ),
    "duplicate": Column("bool", "another entry has the same MAC (or the same name and no MAC)"),
    "malformed": Column("bool", "the entry lacked a required field or held an unreadable value"),
    "raw": Column("str", "the entry as written, on one line"),
}

NEIGHBOURS = {
    "line": Column("int", "1-based line"),
    "ip": Column("str", "neighbour IP address"),
    "mac": Column("str", "canonical MAC, NA when incomplete/failed"),
    "interface": Column("str", "interface name (bridge100, mpqemubr0, en0, …)"),
    "state": Column(
        "str", "complete / incomplete / permanent (arp) or REACHABLE / STALE / FAILED / … (ip neigh)"
    ),
    "permanent": Column("bool", "static / permanent entry"),
    "flags": Column("str", "anything else printed (ifscope, [bridge], [ethernet], router, …)"),
}

INTERFACES = {
    "line": Column("int", "1-based line where the interface stanza starts"),
    "name": Column("str", "interface name"),
    "flags": Column("str", "flags as printed (UP,BROADCAST,…)"),
    "up": Column("bool", "UP flag set"),
    "mtu": Column("int", "MTU"),
    "mac": Column("str", "canonical link-layer address"),
    "inet": Column("str", "first IPv4 address"),
    "prefixlen": Column("int", "IPv4 prefix length"),
    "inet_all": Column("str", "all IPv4 addresses with prefix, comma-separated (a.b.c.d/nn)"),
    "status": Column("str", "status: active / inactive (macOS), operstate (Linux)"),
    "members": Column("str", "bridge members, comma-separated (vmenet0, tap-…)"),
    "is_bridge": Column("bool", "the interface is a bridge"),
}

HOST_FACTS = {
    "line": Column("int", "1-based line"),
    "key": Column(
        "str", "fact name (ProductVersion, VERSION_ID, multipassd, local.driver, kern.hv_support, …)"
    ),
    "value": Column("str", "the value as printed"),
}
