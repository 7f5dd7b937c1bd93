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

from ..schema import Column, conform
from .attempts import known_instances, log_instance

if TYPE_CHECKING:
    from ..bundle import Bundle

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


def build_timeline(bundle: Bundle) -> pd.DataFrame:
    """Every timed event on one clock.  The daemon log (possibly millions of rows) is taken as
    columns; the other, small sources row by row."""
    rows: list[dict[str, Any]] = []
    log_part: pd.DataFrame | None = None
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
        log_part = pd.DataFrame(
            {
                "time": dl["time"],
                "source": pd.Series("daemon_log", index=dl.index, dtype="str"),
                "kind": kind.astype("str"),
                "instance": inst.astype("str"),
                "mac": dl["mac"].astype("str"),
                "ip": dl["ip"].astype("str"),
                "level": dl["level"].astype("str"),
                "message": dl["message"].astype("str").str.split("\n", n=1).str[0],
                "file": dl["file"].astype("str"),
                "line": dl["line"],
            }
        )
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
                    "message": f"{kind.split('-')[0]} entry {_shown(r.get('ip'))} ↔ {_shown(r.get('mac'), 'no MAC')}",
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
    if log_part is not None and len(log_part):
        frame["time"] = _same_clock(frame["time"], log_part["time"])
        frame = (
            pd.concat([log_part, frame], ignore_index=True) if len(frame) else log_part.reset_index(drop=True)
        )
    if len(frame):
        frame = frame.sort_values(["time", "file", "line"], kind="stable", na_position="last").reset_index(
            drop=True
        )
    return frame


def _same_clock(times: pd.Series, like: pd.Series) -> pd.Series:
    """``times`` with the time-zone awareness of ``like`` (both are on the bundle's clock already)."""
    aware, want = isinstance(times.dtype, pd.DatetimeTZDtype), isinstance(like.dtype, pd.DatetimeTZDtype)
    if aware and not want:
        return times.dt.tz_convert(None)
    if want and not aware:
        return times.dt.tz_localize("UTC")
    return times


def _shown(v: Any, missing: str = "?") -> str:
    """A value for a timeline message: ``missing`` instead of ``nan``/``None``/``<NA>``."""
    return missing if _isna(v) else str(v)


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


def build_links(bundle: Bundle, attempts: pd.DataFrame) -> pd.DataFrame:
    """Every instance ↔ MAC ↔ IP link in the bundle, with the artifact and line it came from."""
    rows: list[dict[str, Any]] = []
    known = set(attempts["instance"].dropna()) if len(attempts) else set()
    dl = bundle.frame("daemon_log")
    if not dl.empty:
        names = known_instances(bundle)
        known |= names
        with_mac = dl[dl["mac"].notna()]  # the few rows naming a MAC, looked at column by column
        args = with_mac[with_mac["message"].astype("str").str.startswith("process arguments")]
        inst = log_instance(args, names)
        for who, mac, file, line, time in zip(
            inst.tolist(),
            args["mac"].tolist(),
            args["file"].tolist(),
            args["line"].tolist(),
            args["time"].tolist(),
            strict=True,
        ):
            rows.append(
                {
                    "instance": who,
                    "mac": mac,
                    "link": "instance-mac",
                    "via": "qemu-args",
                    "file": file,
                    "line": line,
                    "time": time,
                }
            )
        prog = with_mac["program"]
        dnsmasq = (
            [c for c in prog.cat.categories if str(c).startswith("dnsmasq")]
            if isinstance(prog.dtype, pd.CategoricalDtype)
            else None
        )
        dh = with_mac[
            prog.isin(dnsmasq) if dnsmasq is not None else prog.astype("str").str.startswith("dnsmasq")
        ]
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


def build_entities(bundle: Bundle, links: pd.DataFrame, attempts: pd.DataFrame) -> pd.DataFrame:
    """The links folded into one row per instance and MAC: lease, ARP entry and the guest's IP."""
    im = (
        links[links["link"] == "instance-mac"]
        .dropna(subset=["instance", "mac"])
        .drop_duplicates(["instance", "mac"])
    )
    pairs: dict[tuple[str, str | None], str | None] = {
        (r.instance, r.mac): r.via for r in im.itertuples(index=False)
    }
    paired = {k[0] for k in pairs}
    # lease names / DHCP host names that equal an instance name also tie a MAC to it
    named = links[links["link"].isin(["mac-lease", "mac-dhcp"])].dropna(subset=["instance", "mac"])
    for r in named.drop_duplicates(["instance", "mac"]).itertuples(index=False):
        if r.instance not in paired:
            pairs.setdefault((r.instance, r.mac), "lease-name" if r.link == "mac-lease" else "dhcp-hostname")
    paired = {k[0] for k in pairs}
    instances = set(attempts["instance"].dropna()) if len(attempts) else set()
    instances |= (
        set(bundle.frame("instances")["name"].dropna()) if "name" in bundle.frame("instances") else set()
    )
    claimed = {k[1] for k in pairs}
    orphans = sorted(n for n in instances if n not in paired)
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
    le_now = (
        le[le["snapshot_at"].isna()]
        if le["snapshot_at"].isna().any()
        else le[le["snapshot_at"] == le["snapshot_at"].max()]
    )
    ff = int((le_now["hw_type"] == "ff").sum()) if "hw_type" in le_now.columns else 0

    def last_by(frame: pd.DataFrame, key: str) -> dict[Any, dict[str, Any]]:
        """The newest row (by time, rows without a time first) for each value of ``key``."""
        if frame.empty:
            return {}
        if frame["time"].notna().any():
            frame = frame.sort_values("time", na_position="first", kind="stable")
        return {k: r for k, r in zip(frame[key], frame.to_dict("records"), strict=True)}

    lease_rows = links[links["link"] == "mac-lease"]
    if lease_rows["time"].isna().any():  # the lease file itself; its snapshots are history
        current = lease_rows[lease_rows["time"].isna()]
    else:
        current = lease_rows[lease_rows["time"] == lease_rows["time"].max()]
    lease_last = last_by(lease_rows, "mac")
    lease_count = current.groupby("mac").size().to_dict()
    arp_last = last_by(links[links["link"] == "mac-arp"], "mac")
    dhcp = links[(links["link"] == "mac-dhcp") & links["ip"].notna()]
    ack_last = last_by(dhcp[dhcp["detail"].astype("str").str.contains("ACK", na=False)], "mac")
    listed_last = last_by(links[links["link"] == "instance-ip"], "instance")
    expires = (
        {m: e for m, e in zip(le["mac"], le["expires"], strict=True) if isinstance(m, str)}
        if "mac" in le.columns
        else {}
    )
    rows = []
    for (inst, mac), via in pairs.items():
        lease, arp, ack, listed = (
            lease_last.get(mac),
            arp_last.get(mac),
            ack_last.get(mac),
            listed_last.get(inst),
        )
        ips = {
            "dhcp-ack": ack and ack["ip"],
            "lease": lease and lease["ip"],
            "arp": arp and arp["ip"],
            "list": listed and listed["ip"],
        }
        guest, gvia = next(((v, n) for n, v in ips.items() if isinstance(v, str)), (None, None))
        rows.append(
            {
                "instance": inst,
                "mac": mac,
                "mac_via": via,
                "lease_ip": ips["lease"],
                "lease_expires": expires.get(mac) if lease and mac else None,
                "lease_count": int(lease_count.get(mac, 0)),
                "arp_ip": ips["arp"],
                "arp_interface": arp and arp["detail"],
                "dhcp_acked_ip": ips["dhcp-ack"],
                "listed_ip": ips["list"],
                "guest_ip": guest,
                "guest_ip_via": gvia,
                "ff_leases_nearby": ff,
            }
        )
    frame = conform([{k: (None if _isna(v) else v) for k, v in r.items()} for r in rows], ENTITIES)
    frame["lease_expires"] = _times(frame["lease_expires"])
    return frame
