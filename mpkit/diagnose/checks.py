"""The checks: small registered predicates over a bundle's frames.

Each check returns a :class:`~mpkit.diagnose.model.CheckResult` with a state:
``fail`` (the bad sign is there), ``pass`` (looked, and it is fine), ``warn``,
``not-collected`` (the input that would tell is absent or failed to collect),
``could-not-parse`` or ``not-applicable``.  Log signatures come from
``rules/signatures.json``; the structured checks are the functions below,
registered with :func:`check`.  Rules (``rules/*.json``) turn states into
support for causes.
"""

from __future__ import annotations

import ipaddress
import json
import re
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from importlib import resources
from typing import Any

import pandas as pd

from ..bundle import Bundle
from ..i18n import N_, Message
from ..regexes import for_arrow, non_capturing
from .model import CheckResult, Evidence

MAX_EVIDENCE = 5


@dataclass
class Context:
    """What the checks look at: the bundle, the instance and the attempt being explained."""

    bundle: Bundle
    instance: str | None
    attempt: dict[str, Any]
    mac: str | None
    window: pd.DataFrame  # daemon-log rows of the attempt (plus global non-instance errors in range)
    platform: str | None
    version: tuple[int, ...] | None
    os_version: tuple[int, ...] | None
    entity: dict[str, Any] = field(default_factory=dict)


CheckFn = Callable[[Context], CheckResult]
REGISTRY: dict[str, CheckFn] = {}
TITLES: dict[str, str] = {}
#: checks that state a fact about the host's era (OS and Multipass versions), not a sign of failure
FACTS: set[str] = set()


def check(
    check_id: str, title: str, *, fact: bool = False, sign: bool = False
) -> Callable[[CheckFn], CheckFn]:
    """Register a check; ``fact`` marks one whose ``fail`` describes the host, not a failure, and
    ``sign`` one whose ``fail`` is a failure signature read from a log or the client."""

    def deco(fn: CheckFn) -> CheckFn:
        REGISTRY[check_id] = fn
        TITLES[check_id] = title
        if fact:
            FACTS.add(check_id)
        if sign:
            SIGNS.add(check_id)
        return fn

    return deco


def _res(
    cid: str,
    state: str,
    summary: str,
    evidence: Iterable[Evidence] = (),
    *,
    strength: float = 1.0,
    how: str = "read",
    softened_by: str = "",
    **facts: Any,
) -> CheckResult:
    return CheckResult(
        cid,
        TITLES.get(cid, cid),
        state,
        summary,
        tuple(list(evidence)[:MAX_EVIDENCE]),
        facts,
        strength,
        how,
        softened_by,
    )


def ev(file: Any, line: Any, excerpt: Any) -> Evidence:
    """Evidence at ``line`` of ``file`` (None: the whole file): the excerpt's first line, cut at 300 characters.

    An excerpt written by mpkit (a :class:`~mpkit.i18n.Message`) stays translatable; one quoted from
    an artifact is kept as it is.
    """
    if isinstance(excerpt, Message) and "\n" not in excerpt and len(excerpt) <= 300:
        text: str = excerpt
    else:
        text = str(excerpt).strip().splitlines()[0][:300] if str(excerpt).strip() else ""
    loc = (
        Message("line {line}", line=int(line))
        if line is not None and not pd.isna(line)
        else Message("whole file")
    )
    return Evidence(str(file), loc, text)


def parse_version(v: str | None) -> tuple[int, ...] | None:
    """``"1.14.0+mac"`` → ``(1, 14, 0)``; ``None`` when there is no version."""
    if not v:
        return None
    m = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", v)
    return tuple(int(x) for x in m.groups() if x is not None) if m else None


# -- log signatures (data) -------------------------------------------------------------------


def _load_signatures() -> list[dict[str, Any]]:
    data = json.loads(resources.files("mpkit.diagnose").joinpath("rules/signatures.json").read_text())
    return list(data["signatures"])


SIGNATURES = _load_signatures()


#: how much a signature found outside the attempt's own log window still counts
FAR_STRENGTH = 0.5
#: how much a signature's absence counts: logs in a report are excerpts
ABSENT_STRENGTH = 0.5


#: whole-log patterns the checks look for: matched together in one pass (:func:`log_rows`), so
#: each check then looks at the few rows that can match instead of the whole log
_LOG_PATTERNS: list[str] = []


def _scan_for(pattern: str) -> str:
    """Register ``pattern`` (RE2 syntax) for :func:`log_rows`; returns it."""
    _LOG_PATTERNS.append(pattern)
    return pattern


_LOG_ROWS: weakref.WeakKeyDictionary[Bundle, tuple[int, pd.DataFrame]] = weakref.WeakKeyDictionary()


def log_rows(bundle: Bundle) -> pd.DataFrame:
    """The daemon-log rows that any registered whole-log pattern matches, in log order.

    One regular-expression pass per bundle; a row no pattern matches is no hit of any of them, so
    looking for one pattern in these rows finds exactly what looking in the whole log would.
    """
    full = bundle.frame("daemon_log")
    got = _LOG_ROWS.get(bundle)
    if got is None or got[0] != id(full):
        union = "|".join(f"(?:{p})" for p in _LOG_PATTERNS)
        hit = full["message"].astype("str").str.contains(union, regex=True, na=False) if len(full) else None
        got = (id(full), full[hit] if hit is not None else full)
        _LOG_ROWS[bundle] = got
    return got[1]


def _sources(ctx: Context, where: list[str]) -> list[tuple[str, pd.DataFrame, float, bool]]:
    """The frames a signature is looked for in, each with the strength a hit there carries.

    The attempt's log window counts fully; the rest of the daemon log (other
    attempts, hours away) counts at :data:`FAR_STRENGTH`.  Client output, the
    kernel log and free text (notes, unrecognised files, the prose of a paste)
    are what the reporter chose to show, and count fully.  The log frames hold only the rows a
    log signature can match (:func:`log_rows`); the last field says whether the source had any
    row at all.
    """
    out: list[tuple[str, pd.DataFrame, float, bool]] = []
    if "log" in where:
        window = ctx.window
        full = ctx.bundle.frame("daemon_log")
        if window.empty or full.empty:
            out.append(("log", window, 1.0, not window.empty))
        else:
            cand = log_rows(ctx.bundle)
            out.append(("log", window[window.index.isin(cand.index)], 1.0, True))
            if len(full) > len(window):
                out.append(("log-far", cand[~cand.index.isin(window.index)], FAR_STRENGTH, True))
    if "client" in where:
        client = ctx.bundle.frame("client")
        out.append(("client", client, 1.0, not client.empty))
    if "kernel" in where:
        kernel = ctx.bundle.frame("kernel_log")
        out.append(("kernel", kernel, 1.0, not kernel.empty))
    out.append(("text", ctx.bundle.free_text, 1.0, not ctx.bundle.free_text.empty))
    return out


def _make_signature_check(sig: dict[str, Any]) -> CheckFn:
    rx = re.compile(non_capturing(sig["pattern"]))
    fast = _scan_for(for_arrow(sig["pattern"])) if "log" in sig["where"] else for_arrow(sig["pattern"])
    unless = re.compile(sig["unless"]) if sig.get("unless") else None

    def fn(ctx: Context) -> CheckResult:
        found: list[Evidence] = []
        strength = 0.0
        looked = False
        for _name, frame, weight, present in _sources(ctx, sig["where"]):
            if frame is None or not present or "message" not in frame.columns:
                continue
            looked = True
            msgs = frame["message"].astype("str")
            hits = frame[msgs.str.contains(fast, regex=True, na=False)]
            if hits.empty:
                continue
            for r in hits[["file", "line", "message"]].head(MAX_EVIDENCE * 2).itertuples(index=False):
                text = str(r.message)
                m = rx.search(text)
                line_text = next((ln for ln in text.splitlines() if m and m.group(0) in ln), text)
                if unless is not None and unless.search(line_text):
                    continue
                e = ev(r.file, r.line, line_text)
                if e not in found:
                    found.append(e)
                    strength = max(strength, weight)
        if found:
            return _res(
                sig["check"],
                "fail",
                Message("found: {excerpt}", excerpt=found[0].excerpt),
                found,
                strength=strength,
                softened_by="" if strength >= 1.0 else Message("only outside the attempt's time window"),
                excerpt=found[0].excerpt,
                count=len(found),
            )
        if not looked:
            return _res(
                sig["check"], "not-collected", Message("no daemon log, client output or text to search")
            )
        # a report quotes the lines its writer thought mattered: a line not seen is weaker evidence
        # than a line seen
        return _res(
            sig["check"],
            "pass",
            Message("not seen"),
            strength=ABSENT_STRENGTH,
            softened_by=Message("logs in a report are excerpts"),
        )

    return fn


#: checks whose ``fail`` is a sign that something failed (a signature, what the client said, how the
#: attempt ended), as opposed to host state that may be fine (a firewall that is on)
SIGNS: set[str] = set()

for _sig in SIGNATURES:
    check(_sig["check"], _sig["title"], sign=True)(_make_signature_check(_sig))


# -- structured checks ------------------------------------------------------------------------


def _collected(ctx: Context, *kinds: str) -> bool:
    return any(ctx.bundle.has(k) for k in kinds)


def _failed_to_collect(ctx: Context, *names: str) -> list[str]:
    out: list[str] = []
    for e in ctx.bundle.failed_sources():
        f = str(e.get("file") or e.get("kind") or e.get("name") or "")
        if any(n in f or n == e.get("kind") for n in names):
            out.append(
                Message(
                    "{source}: {error}", source=f or e.get("kind"), error=e.get("error") or Message("failed")
                )
            )
    return out


def _not_collected(cid: str, ctx: Context, what: str, *names: str) -> CheckResult:
    failed = _failed_to_collect(ctx, *names)
    if failed:
        return _res(
            cid, "not-collected", Message("{what} failed to collect ({failed})", what=what, failed=failed[0])
        )
    return _res(cid, "not-collected", Message("{what} not in the bundle", what=what))


def _files_named(frame: pd.DataFrame) -> tuple[str, str]:
    """The artifact(s) a frame came from, snapshots counted rather than listed, and the main file."""
    main = sorted(set(frame.loc[frame["snapshot_at"].isna(), "file"].dropna().astype(str)))
    snaps = frame["snapshot_at"].dropna().nunique()
    first = main[0] if main else str(frame["file"].iloc[0]) if len(frame) else "the lease file"
    files = ", ".join(main) or Message("the lease file")
    return (Message("{files} and {n} snapshots", files=files, n=snaps) if snaps else files), first


@check("lease.for-instance", "a DHCP lease exists for the instance")
def lease_for_instance(ctx: Context) -> CheckResult:
    """``lease.for-instance``: a DHCP lease exists for the instance."""
    cid = "lease.for-instance"
    if not _collected(ctx, "dhcpd_leases", "dnsmasq_leases"):
        return _not_collected(
            cid, ctx, Message("lease file"), "dhcpd_leases", "dnsmasq.leases", "dnsmasq_leases"
        )
    le = ctx.bundle.frame("leases")
    files, first = _files_named(le)
    if ctx.mac:
        mine = le[le["mac"] == ctx.mac]
        if len(mine):
            r = mine.iloc[-1]
            return _res(
                cid,
                "pass",
                Message("lease {ip} for {mac}", ip=r["ip"], mac=ctx.mac),
                [ev(r["file"], r["line"], r["raw"])],
                ip=r["ip"],
                file=r["file"],
            )
        named = le[le["name"] == ctx.instance] if ctx.instance else le.iloc[0:0]
        if len(named):  # no entry under the MAC, but one under the instance's host name (an `ff,` client-id)
            r = named.iloc[-1]
            return _res(
                cid,
                "pass",
                Message(
                    "lease {ip} under the host name {instance} (no MAC in the entry)",
                    ip=r["ip"],
                    instance=ctx.instance,
                ),
                [ev(r["file"], r["line"], r["raw"])],
                ip=r["ip"],
                file=r["file"],
            )
        ff = le[le["hw_type"].astype("str").str.lower() == "ff"]
        if len(ff):
            return _res(
                cid,
                "warn",
                Message(
                    "no lease under {mac}, but {n} lease(s) carry only a client-id (ff,…) and may be the guest's",
                    mac=ctx.mac,
                    n=len(ff),
                ),
                [ev(r["file"], r["line"], r["raw"]) for _, r in ff.head(3).iterrows()],
                file=files,
            )
        return _res(
            cid,
            "fail",
            Message("no lease for {mac} in {files} ({n} entries)", mac=ctx.mac, files=files, n=len(le)),
            [ev(first, None, Message("{n} lease entries, none for {mac}", n=len(le), mac=ctx.mac))],
            file=files,
            mac=ctx.mac,
        )
    if ctx.instance:
        named = le[le["name"] == ctx.instance]
        if len(named):
            r = named.iloc[-1]
            return _res(
                cid,
                "pass",
                Message("lease {ip} named {instance}", ip=r["ip"], instance=ctx.instance),
                [ev(r["file"], r["line"], r["raw"])],
                ip=r["ip"],
                file=r["file"],
            )
        if le["mac"].notna().any() and not le["name"].isna().all():
            return _res(
                cid,
                "fail",
                Message(
                    "no lease named {instance} in {files} (the instance's MAC is unknown)",
                    instance=ctx.instance,
                    files=files,
                ),
                [
                    ev(
                        first,
                        None,
                        Message("{n} lease entries, none named {instance}", n=len(le), instance=ctx.instance),
                    )
                ],
                file=files,
                mac=Message("the instance"),
            )
    return _res(cid, "warn", Message("the instance's MAC is unknown, so its lease cannot be identified"))


@check("arp.for-instance", "the guest is in the host's ARP / neighbour table")
def arp_for_instance(ctx: Context) -> CheckResult:
    """``arp.for-instance``: the guest is in the host's ARP / neighbour table."""
    cid = "arp.for-instance"
    if not _collected(ctx, "arp", "ip_neigh"):
        return _not_collected(cid, ctx, Message("ARP / neighbour table"), "arp", "ip-neigh", "ip_neigh")
    nb = ctx.bundle.frame("neighbours")
    if not ctx.mac:
        return _res(cid, "warn", Message("the instance's MAC is unknown"))
    mine = nb[(nb["mac"] == ctx.mac)]
    if len(mine):
        r = mine.iloc[-1]
        return _res(
            cid,
            "pass",
            Message("{ip} at {mac} on {interface}", ip=r["ip"], mac=ctx.mac, interface=r["interface"]),
            [ev(r["file"], r["line"], f"{r['ip']} at {ctx.mac} on {r['interface']}")],
            ip=r["ip"],
            interface=r["interface"],
        )
    return _res(
        cid,
        "fail",
        Message("no neighbour entry for {mac} ({n} entries)", mac=ctx.mac, n=len(nb)),
        [
            ev(
                nb["file"].iloc[0] if len(nb) else "arp.txt",
                None,
                Message("{n} entries, none for {mac}", n=len(nb), mac=ctx.mac),
            )
        ],
    )


@check("lease.ff-identifiers", "leases recorded under `ff,` client identifiers (no MAC)")
def lease_ff(ctx: Context) -> CheckResult:
    """``lease.ff-identifiers``: leases recorded under `ff,` client identifiers (no MAC)."""
    cid = "lease.ff-identifiers"
    if not _collected(ctx, "dhcpd_leases"):
        return _not_collected(cid, ctx, Message("lease file"), "dhcpd_leases")
    le = ctx.bundle.frame("leases")
    if le["snapshot_at"].isna().any():
        le = le[le["snapshot_at"].isna()]  # the lease file itself, not its snapshot history
    ff = le[le["hw_type"].astype("str").str.lower() == "ff"]
    if len(ff):
        return _res(
            cid,
            "fail",
            Message("{n} lease(s) with hw_address=ff,…", n=len(ff)),
            [ev(r["file"], r["line"], r["raw"]) for _, r in ff.iterrows()],
            count=len(ff),
        )
    return _res(cid, "pass", Message("every lease carries a MAC"))


@check(
    "version.sequoia-lease-lookup",
    "Multipass ≤ 1.14.0 on macOS ≥ 15 (the Sequoia IP-lookup break)",
    fact=True,
)
def sequoia(ctx: Context) -> CheckResult:
    """``version.sequoia-lease-lookup``: Multipass ≤ 1.14.0 on macOS ≥ 15 (the Sequoia IP-lookup break)."""
    cid = "version.sequoia-lease-lookup"
    if ctx.platform not in (None, "macos"):
        return _res(cid, "not-applicable", Message("not macOS"))
    if ctx.version is None or ctx.os_version is None:
        return _res(cid, "not-collected", Message("Multipass or macOS version unknown"))
    v = ".".join(map(str, ctx.version))
    os_ = ".".join(map(str, ctx.os_version))
    if ctx.version <= (1, 14, 0) and ctx.os_version >= (15,):
        return _res(
            cid,
            "fail",
            Message("Multipass {version} reads the lease file; macOS {os} changed it", version=v, os=os_),
            version=v,
            os=os_,
        )
    return _res(
        cid, "pass", Message("Multipass {version} on macOS {os}", version=v, os=os_), version=v, os=os_
    )


@check("host.local-network-privacy", "macOS with Local Network privacy (15 and later)", fact=True)
def lnp_os(ctx: Context) -> CheckResult:
    """``host.local-network-privacy``: macOS with Local Network privacy (15 and later)."""
    cid = "host.local-network-privacy"
    if ctx.platform not in (None, "macos"):
        return _res(cid, "not-applicable", Message("not macOS"))
    if ctx.os_version is None:
        return _res(cid, "not-collected", Message("macOS version unknown"))
    os_ = ".".join(map(str, ctx.os_version))
    return _res(cid, "fail" if ctx.os_version >= (15,) else "pass", Message("macOS {os}", os=os_), os=os_)


def _dhcp_exchange(ctx: Context) -> tuple[int, int, list[Evidence], list[str]]:
    """Requests and replies for the instance's MAC (any QEMU MAC when unknown) across sources."""
    req = rep = 0
    evid: list[Evidence] = []
    sources = []

    def mine(frame: pd.DataFrame) -> pd.DataFrame:
        if "mac" not in frame.columns or frame.empty:
            return frame.iloc[0:0]
        if ctx.mac:
            return frame[frame["mac"] == ctx.mac]
        return frame[frame["mac"].astype("str").str.startswith("52:54:00")]

    tcp = mine(ctx.bundle.frame("dhcp_packets"))
    if len(tcp):
        sources.append("tcpdump")
        r_ = tcp[tcp["direction"].astype("str").str.lower().str.startswith("req")]
        req += len(r_)
        evid += [ev(r["file"], r["line"], r["raw"]) for _, r in r_.head(3).iterrows()]
    allt = ctx.bundle.frame("dhcp_packets")
    if len(allt):
        rep += int(allt["direction"].astype("str").str.lower().str.startswith("rep").sum())
    sl = mine(ctx.bundle.frame("system_log"))
    if len(sl) and "dhcp_msg" in sl.columns:
        sources.append("bootpd log")
        m = sl["dhcp_msg"].astype("str").str.upper()
        req += int(m.isin(["DISCOVER", "REQUEST"]).sum())
        rep += int(m.isin(["OFFER", "ACK"]).sum())
        evid += [ev(r["file"], r["line"], r["message"]) for _, r in sl.head(3).iterrows()]
    dl = ctx.bundle.frame("daemon_log")
    if len(dl):
        dn = mine(dl[_program_starts(dl, "dnsmasq")])
        if len(dn):
            sources.append("dnsmasq journal")
            msg = dn["message"].astype("str")
            req += int(msg.str.match(r"DHCP(DISCOVER|REQUEST)").sum())
            rep += int(msg.str.match(r"DHCP(OFFER|ACK)").sum())
            evid += [ev(r["file"], r["line"], r["message"]) for _, r in dn.head(3).iterrows()]
    return req, rep, evid, sources


@check("dhcp.requests-unanswered", "the guest's DHCP requests get replies")
def dhcp_unanswered(ctx: Context) -> CheckResult:
    """``dhcp.requests-unanswered``: the guest's DHCP requests get replies."""
    cid = "dhcp.requests-unanswered"
    if not (_collected(ctx, "tcpdump", "unified_log", "journal_text", "journal_json")):
        return _not_collected(
            cid, ctx, Message("DHCP capture / bootpd or dnsmasq log"), "tcpdump", "bootpd", "journal"
        )
    req, rep, evid, sources = _dhcp_exchange(ctx)
    src = ", ".join(sources) or Message("captures")
    who = ctx.mac or Message("a QEMU MAC")
    if req and not rep:
        return _res(
            cid,
            "fail",
            Message("{req} request(s) from {who}, no reply ({src})", req=req, who=who, src=src),
            evid,
            requests=req,
            mac=who,
            source=src,
        )
    if rep:
        return _res(
            cid,
            "pass",
            Message("{rep} repl(ies) to {who} ({src})", rep=rep, who=who, src=src),
            evid,
            source=src,
        )
    return _res(cid, "warn", Message("no DHCP traffic for the instance in the captures"), source=src)


R_DNSMASQ_UP = re.compile(r"^started, version|^DHCP, IP range|^DHCP, sockets bound")
R_DNSMASQ_DOWN = re.compile(
    _scan_for(
        r"^exiting on receipt of|^FAILED to start up|dnsmasq died|dnsmasq failed to start|cannot open or create lease file"
    )
)
_IP_RANGE = _scan_for(r"DHCP, IP range")


def _program_starts(dl: pd.DataFrame, prefix: str) -> pd.Series:
    """``dl["program"].astype("str").str.startswith(prefix)``, decided once per category."""
    prog = dl["program"]
    if not isinstance(prog.dtype, pd.CategoricalDtype):
        return prog.astype("str").str.startswith(prefix).fillna(False).astype(bool)
    return prog.isin([c for c in prog.cat.categories if str(c).startswith(prefix)])


@check("dhcp.server-running", "Multipass's dnsmasq is running (Linux)")
def dhcp_server(ctx: Context) -> CheckResult:
    """The latest word wins: the process list (taken at collection), else the journal's last start/stop line."""
    cid = "dhcp.server-running"
    if ctx.platform not in ("linux",):
        return _res(cid, "not-applicable", Message("only Linux runs its own dnsmasq"))
    pr = ctx.bundle.frame("processes")
    if len(pr) and "is_dnsmasq" in pr.columns:
        dns = pr[pr["is_dnsmasq"].fillna(False).astype(bool)]
        if len(dns):
            r = dns.iloc[0]
            return _res(
                cid,
                "pass",
                Message("a dnsmasq process runs"),
                [ev(r["file"], r["line"], r["command"])],
                detail=Message("a dnsmasq process is in the process list"),
            )
        if pr["is_multipassd"].fillna(False).astype(bool).any():
            r = pr[pr["is_multipassd"].fillna(False).astype(bool)].iloc[0]
            return _res(
                cid,
                "fail",
                Message("multipassd runs but no dnsmasq process"),
                [ev(r["file"], r["line"], r["command"])],
                detail=Message("multipassd runs but no dnsmasq process is in the process list"),
            )
    dl = ctx.bundle.frame("daemon_log")
    dns = dl[_program_starts(dl, "dnsmasq")] if len(dl) else dl
    up = dns[dns["message"].astype("str").str.contains(R_DNSMASQ_UP)] if len(dns) else dns
    seen = log_rows(ctx.bundle) if len(dl) else dl
    down = seen[seen["message"].astype("str").str.contains(R_DNSMASQ_DOWN)] if len(seen) else seen
    last_up = int(up["line"].max()) if len(up) else -1
    last_down = int(down["line"].max()) if len(down) else -1
    if last_down > last_up:
        r = down[down["line"] == last_down].iloc[0]
        return _res(
            cid,
            "fail",
            Message("dnsmasq stopped: {message}", message=r["message"]),
            [ev(r["file"], r["line"], r["message"])],
            detail=Message("dnsmasq stopped: {message}", message=r["message"]),
        )
    if last_up >= 0:
        r = up[up["line"] == last_up].iloc[0]
        return _res(
            cid,
            "pass",
            Message("dnsmasq started"),
            [ev(r["file"], r["line"], r["message"])],
            detail=str(r["message"])[:80],
        )
    return _res(cid, "not-collected", Message("no journal dnsmasq lines or process list"))


@check("dhcp.no-discover-at-server", "dnsmasq sees the instance's DHCPDISCOVER (Linux)")
def no_discover(ctx: Context) -> CheckResult:
    """``dhcp.no-discover-at-server``: dnsmasq sees the instance's DHCPDISCOVER (Linux)."""
    cid = "dhcp.no-discover-at-server"
    if ctx.platform not in ("linux",):
        return _res(cid, "not-applicable", Message("Linux only"))
    server = dhcp_server(ctx)
    if server.state != "pass":
        return _res(cid, "not-collected", Message("dnsmasq's own log is not in the bundle"))
    dl = ctx.bundle.frame("daemon_log")
    dn = dl[_program_starts(dl, "dnsmasq")]
    dn = dn[dn["message"].astype("str").str.startswith("DHCPDISCOVER")]
    if ctx.mac:
        dn = dn[dn["mac"] == ctx.mac]
    if len(dn):
        r = dn.iloc[-1]
        return _res(cid, "pass", Message("DHCPDISCOVER received"), [ev(r["file"], r["line"], r["message"])])
    return _res(
        cid,
        "fail",
        Message("dnsmasq is up but logged no DHCPDISCOVER for the instance"),
        list(server.evidence),
        server=server.facts.get("detail", ""),
    )


@check("lease.pool-full", "the DHCP pool has free addresses")
def pool_full(ctx: Context) -> CheckResult:
    """``lease.pool-full``: the DHCP pool has free addresses."""
    cid = "lease.pool-full"
    if not _collected(ctx, "dhcpd_leases", "dnsmasq_leases"):
        return _not_collected(cid, ctx, Message("lease file"), "dhcpd_leases", "dnsmasq")
    le = ctx.bundle.frame("leases")
    le = (
        le[le["snapshot_at"].isna()]
        if le["snapshot_at"].notna().any() and le["snapshot_at"].isna().any()
        else le
    )
    if le["snapshot_at"].notna().all() and len(le):
        le = le[le["snapshot_at"] == le["snapshot_at"].max()]
    size = 253
    cfg = ctx.bundle.frame("bootpd_config")
    if len(cfg) and cfg["net_range_start"].notna().any():
        try:
            r = cfg.dropna(subset=["net_range_start", "net_range_end"]).iloc[0]
            size = (
                int(ipaddress.ip_address(r["net_range_end"]))
                - int(ipaddress.ip_address(r["net_range_start"]))
                + 1
            )
        except ValueError:
            pass
    dl = ctx.bundle.frame("daemon_log")
    seen = log_rows(ctx.bundle) if len(dl) else dl
    rng = seen[seen["message"].astype("str").str.contains(_IP_RANGE, regex=True)] if len(seen) else seen
    if len(rng):
        m = re.search(r"IP range (\S+) -- (\S+)", str(rng["message"].iloc[-1]))
        if m:
            try:
                size = int(ipaddress.ip_address(m.group(2))) - int(ipaddress.ip_address(m.group(1))) + 1
            except ValueError:
                pass
    live = le.drop_duplicates(subset=["ip"])
    # leases in the instance's subnet only (bootpd's file is shared by other subnets)
    n = len(live)
    if n >= max(2, int(size * 0.9)):
        return _res(
            cid,
            "fail",
            Message("{n} live leases for a range of {size}", n=n, size=size),
            [ev(live["file"].iloc[0], None, Message("{n} distinct leased IPs", n=n))],
            live=n,
            size=size,
        )
    return _res(cid, "pass", Message("{n} leases for a range of {size}", n=n, size=size), live=n, size=size)


@check("lease.file-damaged", "the lease file is well-formed")
def lease_damaged(ctx: Context) -> CheckResult:
    """``lease.file-damaged``: the lease file is well-formed."""
    cid = "lease.file-damaged"
    if not _collected(ctx, "dhcpd_leases", "dnsmasq_leases"):
        return _not_collected(cid, ctx, Message("lease file"), "dhcpd_leases", "dnsmasq")
    le = ctx.bundle.frame("leases")
    base = (
        le[le["snapshot_at"].isna()]
        if le["snapshot_at"].isna().any()
        else le[le["snapshot_at"] == le["snapshot_at"].max()]
    )
    bad = base[base["malformed"].fillna(False).astype(bool)]
    dup = base[base["duplicate"].fillna(False).astype(bool)]
    if ctx.mac:
        dup = dup[dup["mac"] == ctx.mac] if len(dup[dup["mac"] == ctx.mac]) else dup.iloc[0:0]
    rejected = sum(
        a.coverage.get("rejected", 0)
        for a in ctx.bundle.artifacts
        if a.kind in ("dhcpd_leases", "dnsmasq_leases") and a.snapshot_at is None
    )
    if len(bad) or len(dup) or rejected:
        parts = []
        if len(dup):
            parts.append(
                Message("{n} duplicate entries for the instance's MAC", n=len(dup))
                if ctx.mac
                else Message("{n} duplicate entries", n=len(dup))
            )
        if len(bad) or rejected:
            parts.append(Message("{n} malformed entries/lines", n=max(len(bad), rejected)))
        rows = pd.concat([dup, bad]).head(MAX_EVIDENCE)
        return _res(
            cid,
            "fail",
            Message.joined("; ", parts),
            [ev(r["file"], r["line"], r["raw"]) for _, r in rows.iterrows()],
            detail=Message.joined("; ", parts),
        )
    return _res(cid, "pass", Message("{n} well-formed entries", n=len(base)))


@check("firewall.app-firewall", "the macOS application firewall lets bootpd answer")
def app_firewall(ctx: Context) -> CheckResult:
    """``firewall.app-firewall``: the macOS application firewall lets bootpd answer."""
    cid = "firewall.app-firewall"
    if ctx.platform not in (None, "macos"):
        return _res(cid, "not-applicable", Message("not macOS"))
    if not _collected(ctx, "firewall"):
        return _not_collected(cid, ctx, Message("firewall state (socketfilterfw)"), "firewall")
    fw = ctx.bundle.frame("firewall")

    def setting(name: str) -> pd.DataFrame:
        return fw[(fw["setting"] == name)]

    g, b = setting("global_state"), setting("block_all")
    apps = fw[fw["setting"] == "app"]
    boot = apps[apps["app"].astype("str").str.contains("bootpd", na=False)]
    evid: list[Evidence] = []
    why: list[str] = []
    on = len(g) and bool(g["enabled"].fillna(False).astype(bool).iloc[-1])
    if len(g):
        evid.append(ev(g["file"].iloc[-1], g["line"].iloc[-1], g["raw"].iloc[-1]))
    if len(b) and bool(b["enabled"].fillna(False).astype(bool).iloc[-1]):
        why.append(Message("block-all is on"))
        evid.append(ev(b["file"].iloc[-1], b["line"].iloc[-1], b["raw"].iloc[-1]))
    if len(boot) and not bool(boot["allowed"].fillna(True).astype(bool).iloc[-1]):
        why.append(Message("bootpd is blocked"))
        evid.append(ev(boot["file"].iloc[-1], boot["line"].iloc[-1], boot["raw"].iloc[-1]))
    elif on and len(apps) and not len(boot):
        why.append(Message("bootpd is not in the allowed apps"))
    if on:
        detail = Message(" ({reasons})", reasons=Message.joined(", ", why)) if why else ""
        return _res(
            cid,
            "fail",
            Message("firewall enabled{detail}", detail=detail),
            evid,
            detail=Message("the application firewall is enabled{detail}", detail=detail),
            fw_detail=detail,
        )
    if not len(g):
        return _res(cid, "could-not-parse", Message("firewall.txt has no global state line"))
    return _res(
        cid, "pass", Message("firewall disabled"), evid, detail=Message("the application firewall is off")
    )


@check("firewall.host", "the Linux host firewall lets DHCP through on the bridge")
def host_firewall(ctx: Context) -> CheckResult:
    """``firewall.host``: the Linux host firewall lets DHCP through on the bridge."""
    cid = "firewall.host"
    if ctx.platform not in (None, "linux"):
        return _res(cid, "not-applicable", Message("not Linux"))
    if not _collected(ctx, "host_firewall"):
        return _not_collected(cid, ctx, Message("host firewall listing"), "host-firewall", "host_firewall")
    hf = ctx.bundle.frame("host_firewall")
    drops = hf[hf["drops_dhcp"].fillna(False).astype(bool)]
    if len(drops):
        r = drops.iloc[0]
        return _res(
            cid,
            "fail",
            Message("{tool} drops DHCP: {rule}", tool=r["tool"], rule=r["rule"]),
            [ev(x["file"], x["line"], x["rule"]) for _, x in drops.iterrows()],
            detail=Message(
                "{tool} rule drops DHCP on the bridge: {rule}", tool=r["tool"], rule=str(r["rule"]).strip()
            ),
        )
    ufw = hf[(hf["tool"] == "ufw") & hf["active"].fillna(False).astype(bool)]
    if len(ufw):
        r = ufw.iloc[0]
        return _res(
            cid,
            "warn",
            Message("ufw is active"),
            [ev(r["file"], r["line"], r["rule"] if isinstance(r["rule"], str) else "Status: active")],
            detail=Message("ufw is active and may filter the bridge"),
        )
    return _res(
        cid,
        "pass",
        Message("no rule dropping DHCP"),
        detail=Message("no firewall rule drops DHCP on the bridge"),
    )


@check("firewall.pf", "pf rules let DHCP through (macOS)")
def pf(ctx: Context) -> CheckResult:
    """``firewall.pf``: pf rules let DHCP through (macOS)."""
    cid = "firewall.pf"
    if not _collected(ctx, "pf_rules"):
        return _not_collected(cid, ctx, Message("pf rules"), "pf-rules", "pf_rules")
    pr = ctx.bundle.frame("pf_rules")
    drops = pr[pr["drops_dhcp"].fillna(False).astype(bool)]
    if len(drops):
        r = drops.iloc[0]
        return _res(
            cid,
            "fail",
            Message("pf blocks DHCP: {rule}", rule=r["rule"]),
            [ev(r["file"], r["line"], r["rule"])],
            detail=Message("pf rule blocks DHCP: {rule}", rule=r["rule"]),
        )
    return _res(cid, "pass", Message("no pf rule blocks DHCP"))


@check("routes.vpn", "no VPN tunnel captures the default route or the VM subnet")
def vpn_routes(ctx: Context) -> CheckResult:
    """``routes.vpn``: no VPN tunnel captures the default route or the VM subnet."""
    cid = "routes.vpn"
    if not _collected(ctx, "routes"):
        return _not_collected(cid, ctx, Message("routing table"), "routes")
    rt = ctx.bundle.frame("routes")
    rt4 = rt[rt["family"].astype("str") != "inet6"]
    tun = rt4[rt4["via_tunnel"].fillna(False).astype(bool)]
    defaults = rt4[rt4["is_default"].fillna(False).astype(bool)]
    if len(defaults) and bool(defaults["via_tunnel"].fillna(False).astype(bool).iloc[0]):
        r = defaults.iloc[0]
        return _res(
            cid,
            "fail",
            Message("default route via {interface}", interface=r["interface"]),
            [ev(r["file"], r["line"], r["raw"])],
            detail=Message(
                "the default route goes through the tunnel {interface} ahead of the physical interface",
                interface=r["interface"],
            ),
            route_detail=Message("the default route"),
        )
    vm_nets = [
        n
        for n in rt4["destination"].dropna().astype(str)
        if re.match(r"^(192\.168\.(64|65|66|67|252)|10\.)", n)
    ]
    bad = tun[tun["destination"].astype("str").isin(vm_nets)]
    if len(bad):
        r = bad.iloc[0]
        return _res(
            cid,
            "fail",
            Message("{destination} via {interface}", destination=r["destination"], interface=r["interface"]),
            [ev(r["file"], r["line"], r["raw"])],
            detail=Message(
                "the VM subnet {destination} is routed through {interface}",
                destination=r["destination"],
                interface=r["interface"],
            ),
            route_detail=Message("the VM subnet {destination}", destination=r["destination"]),
        )
    return _res(cid, "pass", Message("{n} IPv4 routes, none through a tunnel for the VM", n=len(rt4)))


def _nets(
    frame: pd.DataFrame,
) -> list[tuple[str, ipaddress.IPv4Network | ipaddress.IPv6Network, Any, Any, bool]]:
    out = []
    for r in frame.itertuples(index=False):
        for addr in str(r.inet_all or "").split(","):
            addr = addr.strip()
            if "/" in addr:
                try:
                    out.append(
                        (str(r.name), ipaddress.ip_interface(addr).network, r.file, r.line, bool(r.is_bridge))
                    )
                except ValueError:
                    continue
    return out


@check("net.subnet-overlap", "the VM bridge's subnet overlaps no other network")
def subnet_overlap(ctx: Context) -> CheckResult:
    """``net.subnet-overlap``: the VM bridge's subnet overlaps no other network."""
    cid = "net.subnet-overlap"
    if not _collected(ctx, "ifconfig", "ip_addr"):
        return _not_collected(cid, ctx, Message("interfaces"), "ifconfig", "ip-addr")
    nets = _nets(ctx.bundle.frame("interfaces"))
    bridges = [n for n in nets if n[4] and not n[1].is_loopback]
    others = [n for n in nets if not n[4] and not n[1].is_loopback and not n[0].startswith(("utun", "lo"))]
    for b in bridges:
        for o in others:
            if b[1].overlaps(o[1]):
                return _res(
                    cid,
                    "fail",
                    Message(
                        "{bridge} {bridge_net} overlaps {other} {other_net}",
                        bridge=b[0],
                        bridge_net=b[1],
                        other=o[0],
                        other_net=o[1],
                    ),
                    [ev(b[2], b[3], f"{b[0]} {b[1]}"), ev(o[2], o[3], f"{o[0]} {o[1]}")],
                    detail=Message(
                        "the bridge {bridge} ({bridge_net}) overlaps {other} ({other_net})",
                        bridge=b[0],
                        bridge_net=b[1],
                        other=o[0],
                        other_net=o[1],
                    ),
                )
    if not bridges:
        return _res(cid, "not-applicable", Message("no bridge with an address"))
    return _res(cid, "pass", Message("no overlap"))


R_DNSMASQ_IF = re.compile(r"--interface=(\S+)|bound exclusively to interface (\S+)|DHCP[A-Z]+\((\S+)\)")


def vm_bridge_name(ctx: Context) -> str | None:
    """The bridge the instances use: the interface Multipass's dnsmasq serves, when the journal says."""
    dl = ctx.bundle.frame("daemon_log")
    if len(dl):
        msgs = dl["message"].astype("str")
        maybe = msgs.str.contains("interface", regex=False, na=False)
        maybe |= msgs.str.contains("DHCP", regex=False, na=False) | msgs.isna()
        for msg in msgs[maybe]:
            m = R_DNSMASQ_IF.search(msg) if ("interface" in msg or "DHCP" in msg) else None
            if m:
                return next(g for g in m.groups() if g)
    return None


@check("net.bridge", "the VM bridge exists and is up")
def bridge(ctx: Context) -> CheckResult:
    """``net.bridge``: the VM bridge exists and is up."""
    cid = "net.bridge"
    if not _collected(ctx, "ifconfig", "ip_addr"):
        return _not_collected(cid, ctx, Message("interfaces"), "ifconfig", "ip-addr")
    itf = ctx.bundle.frame("interfaces")
    if itf.empty:
        return _res(cid, "could-not-parse", Message("no interface parsed"))
    if itf["snapshot_at"].isna().any():
        itf = itf[itf["snapshot_at"].isna()]
    known = vm_bridge_name(ctx)
    if known:
        br = itf[itf["name"] == known]
        name = known
    else:
        br = itf[
            itf["is_bridge"].fillna(False).astype(bool)
            & itf["name"].astype("str").str.match(r"^(bridge1\d\d|mpqemubr)")
        ]
        name = "mpqemubr0" if ctx.platform == "linux" else "bridge100"
    if br.empty:
        return _res(
            cid,
            "fail",
            Message("no VM bridge ({name}) among {n} interfaces", name=name, n=len(itf)),
            [ev(itf["file"].iloc[0], None, Message("{n} interfaces, no {name}", n=len(itf), name=name))],
            detail=Message("no VM bridge ({name}) in the interface list", name=name),
            bridge=name,
        )
    r = br.iloc[0]
    down = not bool(r["up"]) if pd.notna(r["up"]) else False
    # a bridge that is administratively up but has no port with carrier (no guest attached yet)
    # reports operstate DOWN with NO-CARRIER: that is how an idle bridge looks, not a fault
    idle = bool(r["up"]) if pd.notna(r["up"]) else False
    idle = idle and "NO-CARRIER" in str(r["flags"]).upper().split(",")
    inactive = str(r["status"]).lower() in ("inactive", "down") and not idle
    noaddr = pd.isna(r["inet"])
    if down or inactive or noaddr:
        why = Message("down") if down or inactive else Message("has no IPv4 address")
        return _res(
            cid,
            "fail",
            Message("{name} {why}", translatable=False, name=r["name"], why=why),
            [
                ev(
                    r["file"],
                    r["line"],
                    f"{r['name']} flags={r['flags']} status={r['status']} inet={r['inet']}",
                )
            ],
            detail=Message("the bridge {name} is {why}", name=r["name"], why=why),
            bridge=r["name"],
        )
    return _res(
        cid,
        "pass",
        Message("{name} up with {inet}", name=r["name"], inet=r["inet"]),
        detail=Message("{name} is up with {inet}", name=r["name"], inet=r["inet"]),
        bridge=r["name"],
    )


@check("host.other-hypervisor", "no other hypervisor is running")
def other_hv(ctx: Context) -> CheckResult:
    """``host.other-hypervisor``: no other hypervisor is running."""
    cid = "host.other-hypervisor"
    found: list[Evidence] = []
    names: list[str] = []
    pr = ctx.bundle.frame("processes")
    if len(pr) and "other_hypervisor" in pr.columns:
        hv = pr[pr["other_hypervisor"].notna() & (pr["other_hypervisor"].astype("str") != "")]
        for _, r in hv.head(3).iterrows():
            names.append(str(r["other_hypervisor"]))
            found.append(ev(r["file"], r["line"], r["command"]))
    itf = ctx.bundle.frame("interfaces")
    if len(itf):
        odd = itf[itf["name"].astype("str").str.match(r"^(vmnet\d+|prl|vboxnet|vnic)")]
        for _, r in odd.head(2).iterrows():
            names.append(str(r["name"]))
            found.append(ev(r["file"], r["line"], r["name"]))
    if found:
        other = ", ".join(sorted(set(names)))
        return _res(
            cid,
            "fail",
            Message("found: {other}", other=other),
            found,
            detail=Message("another hypervisor is present: {other}", other=other),
            other=other,
        )
    if not _collected(ctx, "processes", "ifconfig"):
        return _not_collected(cid, ctx, Message("process list / interfaces"), "processes")
    return _res(cid, "pass", Message("none seen"))


@check("host.hv-support", "the Mac supports hardware virtualisation (kern.hv_support)")
def hv_support(ctx: Context) -> CheckResult:
    """``host.hv-support``: the Mac supports hardware virtualisation (kern.hv_support)."""
    cid = "host.hv-support"
    facts = ctx.bundle.frame("host_facts")
    hv = facts[facts["key"] == "kern.hv_support"]
    if hv.empty:
        return _res(cid, "not-collected", Message("kern.hv_support not in the bundle"))
    r = hv.iloc[-1]
    if str(r["value"]).strip() == "0":
        return _res(
            cid,
            "fail",
            Message("kern.hv_support: 0"),
            [ev(r["file"], r["line"], "kern.hv_support: 0")],
            detail=Message("kern.hv_support is 0"),
        )
    return _res(cid, "pass", Message("kern.hv_support: {value}", value=r["value"]))


@check("host.disk-usage", "the disk holding the instances has free space")
def disk_usage(ctx: Context) -> CheckResult:
    """``host.disk-usage``: the disk holding the instances has free space."""
    cid = "host.disk-usage"
    df = ctx.bundle.frame("disk_usage")
    if df.empty:
        return _not_collected(cid, ctx, Message("df output"), "df")
    full = df[df["use_pct"].fillna(0).astype(int) >= 98]
    if len(full):
        r = full.iloc[0]
        return _res(
            cid,
            "fail",
            Message("{mounted_on} {use_pct}% full", mounted_on=r["mounted_on"], use_pct=r["use_pct"]),
            [ev(r["file"], r["line"], f"{r['filesystem']} {r['use_pct']}% {r['mounted_on']}")],
            detail=Message(
                "{mounted_on} is {use_pct}% full", mounted_on=r["mounted_on"], use_pct=r["use_pct"]
            ),
        )
    return _res(cid, "pass", Message("no filesystem ≥ 98% full"))


#: instance states that show a start went wrong (a Stopped instance may simply be stopped)
STUCK_STATES = frozenset({"unknown", "starting", "restarting"})


@check("instance.running-with-ip", "the instance is Running with an IPv4 address")
def running_with_ip(ctx: Context) -> CheckResult:
    """``instance.running-with-ip``: the instance is Running with an IPv4 address."""
    cid = "instance.running-with-ip"
    ins = ctx.bundle.frame("instances")
    if ins.empty:
        return _not_collected(cid, ctx, Message("multipass list / info"), "list", "info")
    cand = ins[ins["name"] == ctx.instance] if ctx.instance and (ins["name"] == ctx.instance).any() else ins
    if ctx.instance and not (ins["name"] == ctx.instance).any() and ins["name"].notna().any():
        return _res(cid, "not-applicable", Message("{instance} not listed", instance=ctx.instance))
    r = cand.iloc[-1]
    if str(r["state"]).lower() == "running" and isinstance(r["ipv4"], str):
        return _res(
            cid,
            "pass",
            Message("Running with {ipv4}", ipv4=r["ipv4"]),
            [
                ev(
                    r["file"],
                    r["line"],
                    f"{r['name'] if isinstance(r['name'], str) else ''} {r['state']} {r['ipv4']}",
                )
            ],
            instance=ctx.instance or r["name"],
            ip=r["ipv4"],
        )
    return _res(
        cid,
        "fail",
        Message(
            "state {state}, IPv4 {ipv4}",
            state=r["state"],
            ipv4=r["ipv4"] if isinstance(r["ipv4"], str) else "--",
        ),
        [ev(r["file"], r["line"], f"{r['state']}")],
        inst_state=r["state"],
        failure_sign=str(r["state"]).lower() in STUCK_STATES,
    )


@check("instance-db.state", "the daemon's instance database is consistent")
def db_state(ctx: Context) -> CheckResult:
    """``instance-db.state``: the daemon's instance database is consistent."""
    cid = "instance-db.state"
    db = ctx.bundle.frame("instance_db")
    if db.empty:
        return _not_collected(cid, ctx, Message("instance database"), "vm-instances", "vm_instances")
    mine = db[db["name"] == ctx.instance] if ctx.instance else db
    if mine.empty:
        return _res(cid, "not-applicable", Message("instance not in the database"))
    r = mine.iloc[-1]
    if r["state_name"] == "unknown":
        return _res(
            cid,
            "fail",
            Message("stored state is unknown (8)"),
            [ev(r["file"], r["line"], f"{r['name']}: state {r['state']}")],
            detail=Message("the instance database stores state 8 (unknown)"),
            failure_sign=True,
        )
    return _res(cid, "pass", Message("stored state {state_name}", state_name=r["state_name"]))


# -- attempt-derived checks ---------------------------------------------------------------------


@check("attempt.nic-up", "the guest brought its NIC up (QMP NIC_RX_FILTER_CHANGED)")
def nic_up(ctx: Context) -> CheckResult:
    """``attempt.nic-up``: the guest brought its NIC up (QMP NIC_RX_FILTER_CHANGED)."""
    cid = "attempt.nic-up"
    a = ctx.attempt
    if a.get("source") != "daemon_log":
        return _res(cid, "not-collected", Message("no daemon log for the attempt"))
    if pd.notna(a.get("nic_up_at")):
        return _res(cid, "pass", Message("at {nic_up_at}", nic_up_at=a["nic_up_at"]))
    has_qmp = ctx.window["message"].astype("str").str.startswith("QMP:").any() if len(ctx.window) else False
    if (
        a.get("outcome") == "timeout"
        and has_qmp
        and a.get("qemu_at") is not None
        and pd.notna(a.get("qemu_at"))
    ):
        return _res(cid, "fail", Message("QMP events logged, but no NIC_RX_FILTER_CHANGED"))
    return _res(cid, "not-collected", Message("the log excerpt cannot show it"))


@check("attempt.ip-lookups-failing", "the daemon's IP lookups succeed")
def ip_lookups(ctx: Context) -> CheckResult:
    """``attempt.ip-lookups-failing``: the daemon's IP lookups succeed."""
    cid = "attempt.ip-lookups-failing"
    a = ctx.attempt
    n = int(a.get("ip_failures") or 0) + int(a.get("arp_lookups") or 0)
    if a.get("source") != "daemon_log":
        return _res(cid, "not-collected", Message("no daemon log for the attempt"))
    if n and pd.isna(a.get("ssh_up_at")):
        return _res(cid, "fail", Message("{n} lookups without success", n=n), count=n)
    return _res(
        cid,
        "pass" if pd.notna(a.get("ssh_up_at")) else "not-collected",
        Message("IP found")
        if pd.notna(a.get("ssh_up_at"))
        else Message("no lookups logged (trace level or ≤ 1.14.0)"),
    )


@check("attempt.ssh-failing", "SSH connects once the IP is known")
def ssh_failing(ctx: Context) -> CheckResult:
    """``attempt.ssh-failing``: SSH connects once the IP is known."""
    cid = "attempt.ssh-failing"
    a = ctx.attempt
    n = int(a.get("ssh_failures") or 0)
    if n and pd.isna(a.get("ssh_up_at")) and not int(a.get("ip_failures") or 0):
        hits = ctx.window[ctx.window["message"].astype("str").str.contains("ssh connection failed", na=False)]
        evid = [ev(r["file"], r["line"], r["message"]) for _, r in hits.head(3).iterrows()]
        return _res(
            cid,
            "fail",
            Message("{n} failed SSH connections", n=n),
            evid,
            detail=evid[0].excerpt if evid else Message("{n} failures", n=n),
        )
    return _res(
        cid,
        "pass" if pd.notna(a.get("ssh_up_at")) else "not-collected",
        Message("SSH up") if pd.notna(a.get("ssh_up_at")) else Message("no SSH attempts logged"),
    )


@check("attempt.resume", "the attempt resumed from a suspend snapshot")
def resume(ctx: Context) -> CheckResult:
    """``attempt.resume``: the attempt resumed from a suspend snapshot."""
    cid = "attempt.resume"
    lv = ctx.attempt.get("loadvm")
    if isinstance(lv, str):
        return _res(cid, "fail", Message("-loadvm {snapshot}", translatable=False, snapshot=lv))
    return _res(cid, "pass", Message("fresh boot"))


@check("attempt.after-daemon-restart", "the attempt was not an auto-start after a daemon restart")
def after_restart(ctx: Context) -> CheckResult:
    """``attempt.after-daemon-restart``: the attempt was not an auto-start after a daemon restart."""
    cid = "attempt.after-daemon-restart"
    if bool(ctx.attempt.get("daemon_restart")):
        return _res(cid, "fail", Message("auto-start after the daemon (re)started"))
    return _res(cid, "pass", Message("started by a client"))


# -- the shape of the failure: what the client said and how the attempt ended ---------------

#: client output kinds that become checks of their own (``client.says-<kind>``)
CLIENT_KINDS = {
    "timeout": N_("the client reports `timed out waiting for response`"),
    "init-timeout": N_("the client reports `timed out waiting for initialization to complete`"),
    "shutdown-while-starting": N_("the client reports the instance shut down while starting"),
    "unknown-state": N_("the client reports an unknown instance state"),
    "ssh": N_("the client reports an SSH failure"),
    "socket": N_("the client cannot reach the daemon's socket"),
    "qemu-stderr": N_("the client relays hypervisor error output"),
}


def _make_client_check(kind: str) -> CheckFn:
    cid = f"client.says-{kind}"

    def fn(ctx: Context) -> CheckResult:
        client = ctx.bundle.frame("client")
        if client.empty:
            return _res(cid, "not-collected", Message("no client output"))
        hits = client[client["kind"].astype("str") == kind]
        if len(hits):
            evid = [ev(r.file, r.line, r.message) for r in hits.head(3).itertuples(index=False)]
            return _res(cid, "fail", evid[0].excerpt, evid)
        return _res(cid, "pass", Message("not said"))

    return fn


for _kind, _title in CLIENT_KINDS.items():
    check(f"client.says-{_kind}", _title, sign=True)(_make_client_check(_kind))

#: how an attempt can end, each a check (``attempt.ended-<outcome>``): fail when it ended so
ATTEMPT_ENDINGS = {
    "timeout": N_("the start attempt timed out waiting for the instance"),
    "qemu-exited": N_("the VM process exited during the start"),
    "refused": N_("the daemon refused the start"),
}


def _make_ending_check(outcome: str) -> CheckFn:
    cid = f"attempt.ended-{outcome}"

    def fn(ctx: Context) -> CheckResult:
        got = ctx.attempt.get("outcome")
        if not ctx.attempt or got in (None, "unknown"):
            return _res(cid, "not-collected", Message("no attempt whose end is known"))
        if got == outcome or (outcome == "timeout" and got == "in-progress"):
            return _res(cid, "fail", Message("outcome {got}", got=got))
        return _res(cid, "pass", Message("outcome {got}", got=got))

    return fn


for _out, _title in ATTEMPT_ENDINGS.items():
    check(f"attempt.ended-{_out}", _title, sign=True)(_make_ending_check(_out))

#: checks that look the instance up by its MAC: weaker when the MAC was paired by guesswork
MAC_DEPENDENT = (
    "lease.for-instance",
    "arp.for-instance",
    "dhcp.requests-unanswered",
    "dhcp.no-discover-at-server",
)
#: how much a check resting on an inferred link still counts
INFERRED_STRENGTH = 0.5


def run_all(ctx: Context) -> dict[str, CheckResult]:
    """Every registered check on ``ctx``; a check that raises is kept as ``could-not-parse``."""
    out = {}
    for cid, fn in REGISTRY.items():
        try:
            out[cid] = fn(ctx)
        except (
            KeyError,
            ValueError,
            TypeError,
            AttributeError,
            IndexError,
        ) as exc:  # a check must never sink the diagnosis
            out[cid] = _res(
                cid,
                "could-not-parse",
                Message(
                    "check failed on this input: {error_type}: {error}",
                    error_type=type(exc).__name__,
                    error=exc,
                ),
                error=True,
            )
    via = str(ctx.entity.get("mac_via") or "")
    if not ctx.attempt.get("mac") and "inferred" in via:
        for cid in MAC_DEPENDENT:
            r = out.get(cid)
            if r is not None and r.state in ("pass", "fail", "warn"):
                out[cid] = replace(
                    r,
                    strength=min(r.strength, INFERRED_STRENGTH),
                    how="inferred",
                    softened_by=Message("the instance's MAC was paired by inference ({via})", via=via),
                )
    return out
