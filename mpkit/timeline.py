"""The unified timeline and the entity join (instance ↔ MAC ↔ lease ↔ ARP ↔ IP).

``build_timeline`` puts every timed event of a bundle on one clock, one row an
event (:data:`TIMELINE`).  ``build_links`` lists every link between an instance,
a MAC and an IP with the artifact and line it came from (:data:`LINKS`);
``build_entities`` folds the links into one row per instance/MAC
(:data:`ENTITIES`): the guest's MAC, whether a lease and an ARP entry exist for
it, and which IP the guest really had.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from .attempts import known_instances, log_instance
from .schema import Column, conform

if TYPE_CHECKING:
    from .bundle import Bundle

TIMELINE = {
    "time": Column("object", "event time on the bundle's clock (UTC when known, else host-local wall clock)"),
    "source": Column(
        "str", "frame the event came from (daemon_log, system_log, leases, neighbours, probe_attempts, …)"
    ),
    "kind": Column(
        "str", "log, qmp, subprocess, dhcp, lease-seen, arp-seen, attempt-start, attempt-end, kernel"
    ),
    "instance": Column("str", "instance the event is about, when known"),
    "mac": Column("str", "canonical MAC involved"),
    "ip": Column("str", "IP involved"),
    "level": Column("str", "log level when the source has one"),
    "message": Column("str", "one-line description or the log message"),
    "file": Column("str", "artifact path inside the bundle"),
    "line": Column("int", "line in that artifact"),
}

LINKS = {
    "instance": Column("str", "instance name, NA when the link does not know it"),
    "mac": Column("str", "canonical MAC"),
    "ip": Column("str", "IPv4 address, NA for instance↔MAC links"),
    "link": Column("str", "instance-mac, mac-lease, mac-arp, mac-dhcp, instance-ip"),
    "via": Column(
        "str",
        "qemu-args, instance-db, lease-name, dhcp-hostname, lease, arp, dnsmasq, bootpd, tcpdump, list, info",
    ),
    "file": Column("str", "artifact the link was read from"),
    "line": Column("int", "line in that artifact"),
    "time": Column("object", "snapshot or event time, when known"),
    "detail": Column(
        "str", "DHCP message (DHCPACK, ACK, request…) for mac-dhcp links, the interface for mac-arp links"
    ),
}

ENTITIES = {
    "instance": Column("str", "instance name (NA for a MAC no instance claims)"),
    "mac": Column("str", "the instance's canonical MAC"),
    "mac_via": Column("str", "where the MAC came from (qemu-args, instance-db, …)"),
    "lease_ip": Column("str", "IP of the newest lease for the MAC"),
    "lease_expires": Column("object", "expiry of that lease"),
    "lease_count": Column("int", "lease entries for the MAC (duplicates > 1)"),
    "arp_ip": Column("str", "IP of the ARP / neighbour entry for the MAC"),
    "arp_interface": Column("str", "interface of that entry"),
    "dhcp_acked_ip": Column("str", "IP the DHCP server acknowledged (dnsmasq / bootpd log)"),
    "listed_ip": Column("str", "IPv4 shown by `multipass list` / `info`"),
    "guest_ip": Column("str", "the IP the guest most likely had (ack > lease > arp > list)"),
    "guest_ip_via": Column("str", "which source gave guest_ip"),
    "ff_leases_nearby": Column(
        "int", "`hw_address=ff,…` leases (no MAC: macOS 15 client-ids) in the lease file"
    ),
}


def _col(f: pd.DataFrame, name: str) -> pd.Series:
    return f[name] if name in f.columns else pd.Series([None] * len(f), index=f.index, dtype="object")


def build_timeline(bundle: Bundle) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    dl = bundle.frame("daemon_log")
    if not dl.empty:
        inst = log_instance(dl, known_instances(bundle))
        kind = pd.Series("log", index=dl.index, dtype="object")
        kind[dl["subprocess"].notna()] = "subprocess"
        kind[dl["qmp_event"].notna()] = "qmp"
        kind[
            dl["program"].astype("str").str.startswith("dnsmasq")
            & dl["message"].astype("str").str.startswith("DHCP")
        ] = "dhcp"
        part = pd.DataFrame(
            {
                "time": dl["time"],
                "source": "daemon_log",
                "kind": kind,
                "instance": inst,
                "mac": dl["mac"],
                "ip": dl["ip"],
                "level": dl["level"].astype("object"),
                "message": dl["message"].astype("str").str.split("\n").str[0],
                "file": dl["file"],
                "line": dl["line"],
            }
        )
        rows.extend(part.to_dict("records"))
    sl = bundle.frame("system_log")
    for r in sl.to_dict("records"):
        rows.append(
            {
                "time": r.get("time"),
                "source": "system_log",
                "kind": "dhcp" if r.get("dhcp_msg") else "log",
                "mac": r.get("mac"),
                "ip": r.get("ip"),
                "level": r.get("level"),
                "message": f"{r.get('process') or ''}: {str(r.get('message') or '').splitlines()[0] if r.get('message') else ''}",
                "file": r.get("file"),
                "line": r.get("line"),
            }
        )
    kl = bundle.frame("kernel_log")
    for r in kl.to_dict("records"):
        rows.append(
            {
                "time": r.get("time"),
                "source": "kernel_log",
                "kind": "kernel",
                "message": r.get("message"),
                "file": r.get("file"),
                "line": r.get("line"),
            }
        )
    # first sighting of each lease / neighbour entry across snapshots
    for fname, kind in (("leases", "lease-seen"), ("neighbours", "arp-seen")):
        f = bundle.frame(fname)
        if f.empty or f["snapshot_at"].isna().all():
            continue
        snap = f.dropna(subset=["snapshot_at"]).sort_values("snapshot_at")
        first = snap.drop_duplicates(subset=["mac", "ip"], keep="first")
        for r in first.to_dict("records"):
            rows.append(
                {
                    "time": r["snapshot_at"],
                    "source": fname,
                    "kind": kind,
                    "mac": r.get("mac"),
                    "ip": r.get("ip"),
                    "message": f"{kind.split('-')[0]} entry {r.get('ip')} ↔ {r.get('mac')}",
                    "file": r.get("file"),
                    "line": r.get("line"),
                }
            )
    pa_ = bundle.frame("probe_attempts")
    for r in pa_.to_dict("records"):
        rows.append(
            {
                "time": r.get("started_at"),
                "source": "probe_attempts",
                "kind": "attempt-start",
                "instance": r.get("instance"),
                "message": f"probe attempt {r.get('attempt')} started: {r.get('command')}",
                "file": r.get("file"),
                "line": r.get("line"),
            }
        )
        rows.append(
            {
                "time": r.get("ended_at"),
                "source": "probe_attempts",
                "kind": "attempt-end",
                "instance": r.get("instance"),
                "message": f"probe attempt {r.get('attempt')} ended: {r.get('outcome')} (exit {r.get('exit_code')})",
                "file": r.get("file"),
                "line": r.get("line"),
            }
        )
    frame = conform(
        [{k: (None if _isna(v) else v) for k, v in r.items() if k in TIMELINE} for r in rows], TIMELINE
    )
    frame["time"] = _times(frame["time"])
    if len(frame):
        frame = frame.sort_values(["time", "file", "line"], kind="stable", na_position="last").reset_index(
            drop=True
        )
    return frame


def _isna(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _times(s: pd.Series) -> pd.Series:
    vals = [v if isinstance(v, pd.Timestamp) else pd.NaT for v in s]
    aware = [v for v in vals if v is not pd.NaT and v.tzinfo is not None]
    if aware:
        vals = [
            v.tz_convert("UTC")
            if v is not pd.NaT and v.tzinfo
            else (v.tz_localize("UTC") if v is not pd.NaT else v)
            for v in vals
        ]
        return pd.Series(vals, index=s.index, dtype="datetime64[ns, UTC]")
    return pd.Series(vals, index=s.index, dtype="datetime64[ns]")


def build_links(bundle: Bundle) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    known = set(bundle.attempts["instance"].dropna()) if len(bundle.attempts) else set()
    dl = bundle.frame("daemon_log")
    if not dl.empty:
        names = known_instances(bundle)
        known |= names
        inst = log_instance(dl, names)
        args = dl[dl["mac"].notna() & dl["message"].astype("str").str.startswith("process arguments")]
        for i, r in args.iterrows():
            rows.append(
                {
                    "instance": inst.get(i),
                    "mac": r["mac"],
                    "link": "instance-mac",
                    "via": "qemu-args",
                    "file": r["file"],
                    "line": r["line"],
                    "time": r["time"],
                }
            )
        dh = dl[dl["mac"].notna() & dl["program"].astype("str").str.startswith("dnsmasq")]
        for _, r in dh.iterrows():
            msg = str(r["message"])
            host = msg.split()[-1] if msg.startswith("DHCPACK") and len(msg.split()) >= 4 else None
            rows.append(
                {
                    "instance": host if host in known else None,
                    "mac": r["mac"],
                    "ip": r["ip"],
                    "link": "mac-dhcp",
                    "via": "dnsmasq",
                    "file": r["file"],
                    "line": r["line"],
                    "time": r["time"],
                    "detail": msg.split("(")[0],
                }
            )
    db = bundle.frame("instance_db")
    for r in db.to_dict("records"):
        for col in ("mac", "nic_mac"):
            if isinstance(r.get(col), str):
                rows.append(
                    {
                        "instance": r.get("name"),
                        "mac": r[col],
                        "link": "instance-mac",
                        "via": "instance-db",
                        "file": r.get("file"),
                        "line": r.get("line"),
                    }
                )
                break
    le = bundle.frame("leases")
    for r in le.to_dict("records"):
        if isinstance(r.get("mac"), str):
            rows.append(
                {
                    "instance": r.get("name") if r.get("name") in known else None,
                    "mac": r["mac"],
                    "ip": r.get("ip"),
                    "link": "mac-lease",
                    "via": "lease",
                    "file": r.get("file"),
                    "line": r.get("line"),
                    "time": r.get("snapshot_at"),
                }
            )
    nb = bundle.frame("neighbours")
    for r in nb.to_dict("records"):
        if isinstance(r.get("mac"), str):
            rows.append(
                {
                    "mac": r["mac"],
                    "ip": r.get("ip"),
                    "link": "mac-arp",
                    "via": "arp",
                    "file": r.get("file"),
                    "line": r.get("line"),
                    "time": r.get("snapshot_at"),
                    "detail": r.get("interface"),
                }
            )
    sl = bundle.frame("system_log")
    if "dhcp_msg" in sl.columns:
        for r in sl[sl["mac"].notna()].to_dict("records"):
            rows.append(
                {
                    "mac": r["mac"],
                    "ip": r.get("ip"),
                    "link": "mac-dhcp",
                    "via": "bootpd",
                    "file": r.get("file"),
                    "line": r.get("line"),
                    "time": r.get("time"),
                    "detail": r.get("dhcp_msg"),
                }
            )
    tcp = bundle.frame("dhcp_packets")
    if "mac" in tcp.columns:
        for r in tcp[tcp["mac"].notna()].to_dict("records"):
            rows.append(
                {
                    "mac": r["mac"],
                    "link": "mac-dhcp",
                    "via": "tcpdump",
                    "file": r.get("file"),
                    "line": r.get("line"),
                    "detail": r.get("direction"),
                }
            )
    ins = bundle.frame("instances")
    for r in ins.to_dict("records"):
        if isinstance(r.get("ipv4"), str) and r.get("ipv4") not in ("N/A", "--"):
            rows.append(
                {
                    "instance": r.get("name"),
                    "ip": r["ipv4"],
                    "link": "instance-ip",
                    "via": str(r.get("source") or "list"),
                    "file": r.get("file"),
                    "line": r.get("line"),
                }
            )
    frame = conform([{k: (None if _isna(v) else v) for k, v in r.items()} for r in rows], LINKS)
    frame["time"] = _times(frame["time"])
    return frame


def build_entities(bundle: Bundle) -> pd.DataFrame:
    links = bundle.links
    im = links[links["link"] == "instance-mac"].dropna(subset=["instance", "mac"])
    pairs: dict[tuple[str, str | None], str | None] = {}
    for r in im.itertuples(index=False):
        pairs.setdefault((r.instance, r.mac), r.via)
    # lease names / DHCP host names that equal an instance name also tie a MAC to it
    for r in (
        links[links["link"].isin(["mac-lease", "mac-dhcp"])]
        .dropna(subset=["instance", "mac"])
        .itertuples(index=False)
    ):
        if not any(k[0] == r.instance for k in pairs):
            pairs.setdefault((r.instance, r.mac), "lease-name" if r.link == "mac-lease" else "dhcp-hostname")
    instances = set(bundle.attempts["instance"].dropna()) if len(bundle.attempts) else set()
    instances |= (
        set(bundle.frame("instances")["name"].dropna()) if "name" in bundle.frame("instances") else set()
    )
    claimed = {k[1] for k in pairs}
    orphans = sorted(n for n in instances if not any(k[0] == n for k in pairs))
    # evidence of a live guest (ARP, DHCP traffic) only: lease files keep history of other instances
    live = links[links["link"].isin(["mac-arp", "mac-dhcp"])]
    qemu_macs = sorted(
        {m for m in live["mac"].dropna() if str(m).startswith("52:54:00:") and m not in claimed}
    )
    if len(orphans) == 1 and len(qemu_macs) == 1:
        # one instance without a known MAC, one unclaimed QEMU MAC on the host: assume they belong together
        pairs[(orphans[0], qemu_macs[0])] = "sole-qemu-mac (inferred)"
        orphans = []
    for name in orphans:
        pairs[(name, None)] = None
    le = bundle.frame("leases")
    ff = int((le["hw_type"] == "ff").sum()) if "hw_type" in le.columns else 0
    rows = []
    for (inst, mac), via in pairs.items():
        mine = links[links["mac"] == mac] if mac else links.iloc[0:0]
        lease = mine[mine["link"] == "mac-lease"]
        if len(lease) and lease["time"].notna().any():
            lease = lease.sort_values("time", na_position="first")
        arp = mine[mine["link"] == "mac-arp"]
        if len(arp) and arp["time"].notna().any():
            arp = arp.sort_values("time", na_position="first")
        acks = mine[
            (mine["link"] == "mac-dhcp")
            & mine["ip"].notna()
            & mine["detail"].astype("str").str.contains("ACK", na=False)
        ]
        listed = links[(links["link"] == "instance-ip") & (links["instance"] == inst)]
        lease_ip = lease["ip"].iloc[-1] if len(lease) else None
        arp_ip = arp["ip"].iloc[-1] if len(arp) else None
        ack_ip = acks["ip"].iloc[-1] if len(acks) else None
        listed_ip = listed["ip"].iloc[-1] if len(listed) else None
        guest, gvia = next(
            (
                (v, n)
                for v, n in ((ack_ip, "dhcp-ack"), (lease_ip, "lease"), (arp_ip, "arp"), (listed_ip, "list"))
                if v
            ),
            (None, None),
        )
        lease_exp = None
        if len(lease):
            le_rows = le[(le["mac"] == mac)] if "mac" in le.columns else le.iloc[0:0]
            if len(le_rows):
                lease_exp = le_rows["expires"].iloc[-1]
        rows.append(
            {
                "instance": inst,
                "mac": mac,
                "mac_via": via,
                "lease_ip": lease_ip,
                "lease_expires": lease_exp,
                "lease_count": int(len(lease.drop_duplicates(subset=["file", "line"]))) if len(lease) else 0,
                "arp_ip": arp_ip,
                "arp_interface": arp["detail"].iloc[-1] if len(arp) else None,
                "dhcp_acked_ip": ack_ip,
                "listed_ip": listed_ip,
                "guest_ip": guest,
                "guest_ip_via": gvia,
                "ff_leases_nearby": ff,
            }
        )
    frame = conform([{k: (None if _isna(v) else v) for k, v in r.items()} for r in rows], ENTITIES)
    frame["lease_expires"] = _times(frame["lease_expires"])
    return frame
