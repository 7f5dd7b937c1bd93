"""The diagnosis engine: checks → rules → ranked causes with evidence and confidence.

1. Pick the attempt to explain (default: the latest failed attempt; the
   instance and attempt number can be chosen).
2. Run every registered check on that attempt's log window and the host artifacts.
3. Fire the rules (``rules/*.json``): each failing/passing check adds weight
   for or against a cause.
4. Score = the rules' weights, plus the platform prior of each network-class
   cause when the attempt shows only the generic network-timeout skeleton.
5. Rank; collapse cascades (a decided upstream cause turns downstream
   network causes into consequences); decide or answer ``unknown``; make the
   confidence honest (lowered for missing, failed, truncated or badly parsed
   inputs); say what to collect next.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from ..attempts import SSH_BUDGET_S, known_instances, log_instance
from ..bundle import Bundle, load_bundle
from ..errors import DiagnoseError
from .checks import Context, parse_version, run_all
from .model import Candidate, CheckResult, Diagnosis, Evidence, Finding, RootCause, Step

#: client output kinds that mean the command failed even when the start itself worked
_CLIENT_FAILURES = {
    "timeout",
    "init-timeout",
    "shutdown-while-starting",
    "unknown-state",
    "ip-not-found",
    "ssh",
    "socket",
    "client-timeout",
    "qemu-stderr",
}
STAGE_ORDER = ["daemon", "precheck", "qemu", "boot", "dhcp", "ip-discovery", "ssh", "cloud-init", "mounts"]
NETWORK_CLASS = {
    "dhcp-no-lease",
    "firewall-blocks-bootpd",
    "ip-discovery-failed",
    "third-party-hypervisor-conflict",
    "host-firewall-blocks-dhcp",
    "dhcp-server-not-running",
    "dhcp-lease-pool-exhausted",
    "dhcp-lease-file-corrupt",
    "vpn-route-conflict",
    "subnet-conflict",
    "bridge-interface-missing",
    "guest-boot-slow",
    "host-hardware-fault",
}
#: check → (artifact, command) that would settle it, for "what to collect next"
SEPARATORS: dict[str, tuple[str, str]] = {
    "firewall.app-firewall": (
        "firewall.txt",
        "/usr/libexec/ApplicationFirewall/socketfilterfw --getglobalstate --getblockall --listapps",
    ),
    "dhcp.requests-unanswered": (
        "tcpdump.txt",
        "sudo tcpdump -n -i bridge100 udp port 67 and port 68 (while starting the instance)",
    ),
    "lease.for-instance": (
        "dhcpd_leases / dnsmasq.leases",
        "cat /var/db/dhcpd_leases (Linux: sudo cat /var/snap/multipass/common/data/multipassd/network/dnsmasq.leases)",
    ),
    "arp.for-instance": ("arp.txt / ip-neigh.txt", "arp -an (Linux: ip neigh show)"),
    "host.other-hypervisor": (
        "processes.txt",
        "ps -axo pid,ppid,etime,command | grep -Ei 'qemu|vmware|parallels|prl_|vbox|docker'",
    ),
    "routes.vpn": ("routes.txt", "netstat -rn -f inet (Linux: ip route show)"),
    "firewall.host": (
        "host-firewall.txt",
        "sudo nft list ruleset; sudo ufw status verbose; sudo firewall-cmd --get-active-zones",
    ),
    "dhcp.server-running": (
        "journal.txt",
        "journalctl -u snap.multipass.multipassd -o short-iso --since -1h",
    ),
    "dhcp.no-discover-at-server": (
        "journal.txt",
        "journalctl -u snap.multipass.multipassd -o short-iso --since -1h",
    ),
    "net.subnet-overlap": ("ifconfig.txt / ip-addr.json", "ifconfig -a (Linux: ip -j addr show)"),
    "net.bridge": ("ifconfig.txt / ip-addr.json", "ifconfig -a (Linux: ip -j addr show)"),
    "host.local-network-privacy": ("sw_vers.txt", "sw_vers"),
    "version.sequoia-lease-lookup": ("multipass-version.txt", "multipass version"),
    "instance.running-with-ip": ("multipass-list.txt", "multipass list"),
    "lease.pool-full": ("dhcpd_leases / dnsmasq.leases", "cat /var/db/dhcpd_leases"),
    "attempt.nic-up": (
        "multipassd.log",
        "sudo cat /Library/Logs/Multipass/multipassd.log (Linux: journalctl -u snap.multipass.multipassd)",
    ),
}


@cache
def _rules_data() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    root = resources.files("mpkit.diagnose").joinpath("rules")
    causes = json.loads(root.joinpath("causes.json").read_text())["causes"]
    rules: list[dict[str, Any]] = []
    for entry in sorted(root.iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".json") and entry.name not in ("causes.json", "signatures.json"):
            rules.extend(json.loads(entry.read_text())["rules"])
    return causes, rules


def causes() -> dict[str, Any]:
    return _rules_data()[0]


def rules() -> list[dict[str, Any]]:
    return _rules_data()[1]


class _SafeDict(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


def _fill(template: str, facts: dict[str, Any]) -> str:
    return template.format_map(_SafeDict({k: v for k, v in facts.items() if v is not None}))


def _select_attempt(
    bundle: Bundle, instance: str | None, attempt: int | None
) -> tuple[str | None, dict[str, Any]]:
    att = bundle.attempts
    if instance is not None:
        mine = att[att["instance"] == instance]
        if mine.empty:
            known = sorted(set(att["instance"].dropna()) | set(bundle.frame("instances")["name"].dropna()))
            if instance not in known:
                raise DiagnoseError(
                    f"no instance {instance!r} in this bundle; known: {', '.join(known) or 'none'}"
                )
            return instance, {}
    else:
        mine = att
    if attempt is not None:
        pick = mine[mine["attempt"] == attempt]
        if pick.empty:
            raise DiagnoseError(
                f"no attempt {attempt} for {instance or 'the instance'}; attempts: {sorted(mine['attempt'].dropna().tolist())}"
            )
        row = pick.iloc[-1]
    elif mine.empty:
        return instance, {}
    else:
        failed = mine[mine["outcome"] != "ok"]
        pool = failed if len(failed) else mine
        timed = pool.dropna(subset=["started_at"])
        row = timed.sort_values("started_at").iloc[-1] if len(timed) else pool.iloc[-1]
    d = {k: (None if _na(v) else v) for k, v in row.to_dict().items()}
    return d.get("instance") or instance, d


def _prior(priors: dict[str, float], platform: str) -> float:
    """The cause's prior on ``platform``; on an unknown platform, a platform-only cause counts at 60 %."""
    if platform != "any":
        return float(priors.get(platform, priors.get("any", 0.0)))
    if "any" in priors:
        return float(priors["any"])
    return 0.6 * max(priors.values(), default=0.0)


def _source_name(entry: dict[str, Any]) -> str:
    """How to name a manifest entry: its command (what failed), else its file or kind."""
    cmd = entry.get("command")
    if isinstance(cmd, list):
        cmd = " ".join(map(str, cmd))
    return str(cmd or entry.get("file") or entry.get("kind") or entry.get("path") or "a source")


def _last_line(text: Any) -> str:
    """The last non-blank line of a multi-line output (the `<name>: <error>` line of the client)."""
    lines = [ln.strip() for ln in str(text).splitlines() if ln.strip()]
    return lines[-1][:300] if lines else ""


def _na(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _window(bundle: Bundle, att: dict[str, Any]) -> pd.DataFrame:
    """The daemon-log rows that belong to the attempt.

    From the attempt's first line to the next attempt of the same instance (or
    the end of the log, at most the SSH budget plus a minute later): the
    instance's own rows and rows about no instance (dnsmasq, arp, QEMU stderr,
    daemon), never another instance's.  QEMU stderr logged up to 2 s before the
    first line is included.
    """
    dl = bundle.frame("daemon_log")
    if dl.empty or att.get("source") != "daemon_log" or att.get("first_line") is None:
        return dl
    f = dl[dl["file"] == att["file"]]
    lo = int(att["first_line"])
    att_all = bundle.attempts
    later = att_all[
        (att_all["instance"] == att.get("instance"))
        & (att_all["file"] == att["file"])
        & (att_all["first_line"] > lo)
    ]
    hi = int(later["first_line"].min()) - 1 if len(later) else int(f["line"].max())
    inst = log_instance(f, known_instances(bundle))
    keep = (f["line"] >= lo) & (f["line"] <= hi) & (inst.isna() | (inst == att.get("instance")))
    start = att.get("started_at")
    if start is not None and not _na(start):
        keep &= ~(f["time"] > start + pd.Timedelta(seconds=SSH_BUDGET_S + 60)).fillna(False)
        keep |= (f["line"] < lo) & (f["time"] >= start - pd.Timedelta(seconds=2)).fillna(False) & inst.isna()
    return f[keep]


def _context(bundle: Bundle, instance: str | None, att: dict[str, Any]) -> Context:
    ent = bundle.entities
    row: dict[str, Any] = {}
    if len(ent):
        mine = ent[ent["instance"] == instance] if instance else ent
        if len(mine):
            row = {k: (None if _na(v) else v) for k, v in mine.iloc[0].to_dict().items()}
    mac = att.get("mac") or row.get("mac")
    host = bundle.host
    os_v = parse_version(host.os_version) if host.platform == "macos" or host.os_name == "macOS" else None
    return Context(
        bundle,
        instance,
        att,
        mac,
        _window(bundle, att),
        host.platform,
        parse_version(host.multipass_version),
        os_v,
        row,
    )


def _network_skeleton(att: dict[str, Any], checks: dict[str, CheckResult]) -> bool:
    if att.get("outcome") in ("timeout", "in-progress", "unknown") and att.get("stage_reached") in (
        None,
        "boot",
        "dhcp",
        "ip-discovery",
        "ssh",
    ):
        return True
    return checks["client.ip-not-determined"].state == "fail"


def _failed_stage(att: dict[str, Any], root: str, decided: bool) -> str:
    if att.get("outcome") == "ok" and not decided:
        return "none"
    if decided:
        st = causes()[root]["stage"]
        if root == "daemon-state-inconsistent" and att.get("outcome") != "refused":
            return "qemu"
        return st
    out = att.get("outcome")
    if out == "refused":
        return "precheck"
    if out == "qemu-exited":
        return "qemu"
    if out in ("timeout", "in-progress", "unknown"):
        if att.get("ssh_failures") and not att.get("ip_failures"):
            return "ssh"
        if att.get("stage_reached") == "cloud-init":
            return "cloud-init"
        if (
            att.get("ssh_wait_at") is not None
            or att.get("ip_failures")
            or att.get("arp_lookups")
            or att.get("source") == "client"
        ):
            return "ip-discovery" if att.get("nic_up_at") is not None or att.get("ip_failures") else "dhcp"
    return "unknown"


def _steps(cause: dict[str, Any], facts: dict[str, Any], platform: str | None = None) -> tuple[Step, ...]:
    """The cause's remediation ladder, filled in; steps for another platform are left out."""
    return tuple(
        Step(
            _fill(s["text"], facts),
            _fill(s["command"], facts) if s.get("command") else None,
            bool(s.get("destructive")),
            s.get("warning"),
        )
        for s in cause["remediation"]
        if platform in (None, "any") or s.get("platform") in (None, platform)
    )


def diagnose(
    bundle: Bundle | str | Path, *, instance: str | None = None, attempt: int | None = None
) -> Diagnosis:
    """Explain why ``instance``'s start (default: the latest failed one) did not work."""
    if not isinstance(bundle, Bundle):
        bundle = load_bundle(bundle)
    instance, att = _select_attempt(bundle, instance, attempt)
    ctx = _context(bundle, instance, att)
    checks = run_all(ctx)
    cz = causes()
    platform = ctx.platform or "any"

    findings: dict[str, list[Finding]] = {}
    for r in rules():
        res = checks.get(r["check"])
        if res is None or res.state != r["on"]:
            continue
        rule_facts = {"instance": instance or "the instance", **res.facts}
        findings.setdefault(r["cause"], []).append(
            Finding(
                r["rule"],
                r["check"],
                r["cause"],
                float(r["weight"]),
                _fill(r["message"], rule_facts),
                res.evidence,
            )
        )

    skeleton = _network_skeleton(att, checks)
    scores: dict[str, float] = {}
    for cid, fs in findings.items():
        scores[cid] = sum(f.weight for f in fs)
    strong_upstream = [c for c, s in scores.items() if c not in NETWORK_CLASS and s >= 3.0]
    if skeleton and not strong_upstream:
        for cid in NETWORK_CLASS:
            prior = _prior(cz[cid]["prior"], platform)
            if prior > 0:
                scores[cid] = scores.get(cid, 0.0) + prior
    if platform != "any":  # causes that cannot happen on this platform (no prior for it, none generic)
        for cid in list(scores):
            pr = cz[cid]["prior"]
            if platform not in pr and "any" not in pr:
                scores.pop(cid)
    positive = {c: s for c, s in scores.items() if s > 0.05 and c != "unknown"}
    support = {c: sum(f.weight for f in findings.get(c, []) if f.weight > 0) for c in positive}

    consequences: list[str] = []
    for c in list(positive):  # a symptom-level fallback gives way to a supported specific cause
        specific = [x for x in cz[c].get("fallback_for", []) if support.get(x, 0.0) >= 2.0]
        if specific:
            consequences.append(c)
            del positive[c]
    ranked = sorted(positive, key=lambda c: (-positive[c], c))
    if ranked:
        head = ranked[0]
        head_stage = STAGE_ORDER.index(cz[head]["stage"]) if cz[head]["stage"] in STAGE_ORDER else 99
        if support.get(head, 0) >= 3.0 and head not in NETWORK_CLASS:
            for c in list(ranked[1:]):
                st = cz[c]["stage"]
                if c in NETWORK_CLASS and st in STAGE_ORDER and STAGE_ORDER.index(st) > head_stage:
                    consequences.append(c)
                    ranked.remove(c)

    # missing inputs that would separate the open candidates
    missing: list[str] = []
    open_ = [c for c in ranked[:4] if positive[c] >= 0.3 * positive[ranked[0]]]
    for i, a in enumerate(open_[:1]):
        for b in open_[i + 1 :]:
            for chk in sorted(
                {f.check for f in findings.get(a, [])}
                | {f.check for f in findings.get(b, [])}
                | set(SEPARATORS)
            ):
                if chk in SEPARATORS and checks.get(chk) and checks[chk].state == "not-collected":
                    rel_a = any(r["check"] == chk and r["cause"] == a for r in rules())
                    rel_b = any(r["check"] == chk and r["cause"] == b for r in rules())
                    if rel_a or rel_b:
                        art, cmd = SEPARATORS[chk]
                        line = f"{art}: `{cmd}` would separate {a} from {b}"
                        if line not in missing:
                            missing.append(line)
    missing = missing[:8]
    # quality penalties
    penalty = 1.0
    notes: list[str] = []
    cov = bundle.coverage
    bad = cov[(cov["lines"] > 0) & (cov["rejected"] > 0.2 * cov["lines"])] if len(cov) else cov
    if len(bad):
        penalty *= 0.85
        notes.append(
            "some inputs parsed badly: "
            + ", ".join(f"{r.file} ({r.rejected}/{r.lines} lines rejected)" for r in bad.itertuples())
        )
    trunc = bundle.truncated_sources()
    if trunc:
        penalty *= 0.9
        notes.append("truncated inputs: " + ", ".join(_source_name(e) for e in trunc))
    failed = bundle.failed_sources()
    if failed:
        notes.append(
            "sources that failed to collect: "
            + ", ".join(f"{_source_name(e)} ({e.get('error') or 'failed'})" for e in failed[:8])
        )
    if missing:
        penalty *= max(0.75, 0.95 ** len(missing))

    sq = {c: positive[c] ** 2 for c in ranked}
    unknown_mass = min(2.0, 1.0 + 0.25 * len(missing)) ** 2
    total = sum(sq.values()) + unknown_mass
    conf = {c: min(0.97, sq[c] / total) * penalty for c in ranked}

    top = ranked[0] if ranked else None
    decided = (
        top is not None
        and support.get(top, 0.0) >= 2.0
        and (len(ranked) < 2 or positive[top] - positive[ranked[1]] >= 0.6)
    )
    if (
        top in ("host-hardware-fault", "host-network-change", "guest-boot-slow")
        and support.get(top, 0.0) < 3.0
    ):
        decided = False
    client = bundle.frame("client")
    client_failed = bool(len(client)) and client["kind"].astype("str").isin(list(_CLIENT_FAILURES)).any()
    ok_start = att.get("outcome") == "ok" and not client_failed
    # no start attempt, no client error, no strong log signature: there is no failure to explain
    no_failure = not att and not client_failed and not strong_upstream
    if ok_start or no_failure:
        decided = False

    facts: dict[str, Any] = {
        "instance": instance or "NAME",
        "guest_ip": ctx.entity.get("guest_ip") or "<guest-ip>",
        "driver": bundle.host.driver or "the driver",
    }
    for res in checks.values():
        for k, v in res.facts.items():
            facts.setdefault(k, v)
    facts.setdefault("fw_detail", "")
    facts.setdefault(
        "lookup", "the lease file" if ctx.version and ctx.version <= (1, 14, 0) else "the ARP table"
    )
    facts.setdefault("bridge", "bridge100" if ctx.platform == "macos" else "mpqemubr0")
    facts.setdefault("other", "another hypervisor")
    facts.setdefault("route_detail", "the VM subnet")
    facts.setdefault("detail", next((f.message for f in findings.get(top or "", []) if f.weight > 0), ""))

    if decided and top:
        root_id, root_conf = top, conf[top]
        cands = [Candidate(c, conf[c], positive[c], tuple(findings.get(c, []))) for c in ranked]
    else:
        root_id = "unknown"
        best = max(conf.values(), default=0.0)
        root_conf = (
            0.9 if ok_start else 0.5 if no_failure else min(0.6, max(0.2, 1.0 - best - 0.1 * len(ranked[:3])))
        )
        scale = min(1.0, (root_conf - 0.01) / best) if best and best >= root_conf else 1.0
        cands = [Candidate("unknown", root_conf)]
        if not (ok_start or no_failure):
            cands += [Candidate(c, conf[c] * scale, positive[c], tuple(findings.get(c, []))) for c in ranked]

    cause = cz[root_id]
    evid: list[Evidence] = []
    if root_id != "unknown":
        for f in findings.get(root_id, []):
            if f.weight > 0:
                evid.extend(e for e in f.evidence if e not in evid)
    elif not no_failure:
        for c in ranked[:2]:
            for f in findings.get(c, []):
                if f.weight > 0:
                    evid.extend(e for e in f.evidence if e not in evid)
    if att.get("client_error"):
        evid.append(Evidence("client.txt", "client output", _last_line(att["client_error"])))
    if ok_start:
        title, summary = (
            "No failure found: the start succeeded",
            f"The latest attempt of {instance or 'the instance'} reached SSH; nothing failed.",
        )
    elif no_failure:
        title, summary = (
            "No failed start in this bundle",
            "The bundle holds no start attempt, no client error and no failure signature, so there is "
            "nothing to explain yet. Reproduce the failure while recording it: `mpkit probe NAME`.",
        )
        missing = [
            "attempts.jsonl: `mpkit probe NAME` would record a failing start with lease and ARP snapshots"
        ]
    else:
        title = cause["title"]
        what_next = ("Open candidates: " + ", ".join(ranked[:3]) + ". " if ranked else "") + (
            "Collect: " + "; ".join(m.split(":")[0] for m in missing[:3]) + "."
            if missing
            else "Run `mpkit collect` (and `mpkit probe NAME`) on the host."
        )
        facts["what_next"] = what_next
        summary = _fill(cause["summary"], facts)
        reasons = [f.message for f in findings.get(root_id, []) if f.weight > 0][:3]
        if reasons:
            summary += " Evidence: " + "; ".join(reasons) + "."
    root = RootCause(
        root_id,
        round(root_conf, 3),
        title,
        summary,
        tuple(evid[:8]),
        _steps(cause, facts, ctx.platform),
        tuple(cause["references"]),
        cause["family"],
        tuple(consequences),
    )
    stage = "unknown" if no_failure else _failed_stage(att, root_id, root_id != "unknown")
    host = bundle.host
    return Diagnosis(
        root_cause=root,
        candidates=tuple(sorted(cands, key=lambda c: -c.confidence) if root_id != "unknown" else cands),
        failed_stage=stage,
        instance=instance,
        missing_evidence=tuple(missing),
        checks=tuple(sorted(checks.values(), key=lambda c: c.id)),
        attempt=att,
        host={
            "platform": host.platform,
            "os_name": host.os_name,
            "os_version": host.os_version,
            "multipass_version": host.multipass_version,
            "driver": host.driver,
            "clock": bundle.clock,
            "clock_note": bundle.clock_note,
        },
        notes=tuple(notes + list(bundle.notes)),
    )
