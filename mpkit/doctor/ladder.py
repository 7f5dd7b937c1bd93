"""The remediation ladder: the causes' steps, ordered by chance of fixing per unit of cost.

Each remediation step of ``rules/causes.json`` carries, as data, its ``kind``
(read-only, retry, restart, config, upgrade, firewall, manual, destructive),
``p_fix`` = P(the step fixes the failure | the cause), ``cost_s`` and, when
the doctor may run it itself, an ``action``.  Over the causes the diagnosis
leaves open, a step's chance of fixing the failure is

    P(fix) = Σ_h P(h | evidence) · P(fix | h)

(the same step under several causes, e.g. restarting the daemon, is one rung)
and the ladder is ordered by P(fix) / cost, the order that minimises the
expected cost of troubleshooting when steps fix independently; destructive
steps come last and are never run.  Read-only steps are looks, not fixes: the
information phase covers them.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ..collect.catalog import Targets
from ..diagnose.engine import EvidenceTable, causes
from ..diagnose.model import Diagnosis
from ..i18n import Message

#: every kind a remediation step can have, least intrusive first
KINDS = ("read-only", "retry", "restart", "config", "upgrade", "firewall", "manual", "destructive")
#: kinds the doctor may run itself (with the person's yes), when the step has an action
RUNNABLE_KINDS = frozenset({"retry", "restart"})
#: what a runnable step does; each is followed by a timed start that checks whether it worked
ACTIONS = ("start", "stop-start", "restart-daemon", "ping-guest")
#: actions that need root (the doctor prints them instead when it is not root)
ROOT_ACTIONS = frozenset({"restart-daemon"})
#: causes below this confidence contribute no steps (the named cause always does)
CAUSE_FLOOR = 0.05


class _Facts(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


def fill(template: str, facts: dict[str, Any]) -> str:
    """``template`` with ``{name}`` fields from ``facts`` (``?`` for a missing one)."""
    return template.format_map(_Facts({k: v for k, v in facts.items() if v is not None}))


@dataclass(frozen=True)
class Rung:
    """One step of the ladder, merged over the causes that list it."""

    key: str
    text: str
    command: str | None
    kind: str
    action: str | None
    p_fix: float
    cost_s: float
    causes: tuple[str, ...]
    warning: str | None = None
    backup: str | None = None
    #: the concrete change, when the bundle shows it (the firewall rule, the stale leases)
    detail: tuple[str, ...] = field(default=())

    @property
    def destructive(self) -> bool:
        """The step can lose data: it is printed, with what to back up, and never run."""
        return self.kind == "destructive"

    @property
    def score(self) -> float:
        """Chance of fixing per second of cost."""
        return self.p_fix / max(self.cost_s, 1e-6)


def weights(d: Diagnosis) -> dict[str, float]:
    """P(h) for the causes the diagnosis leaves open (its candidates, ``unknown`` included)."""
    out = {c.id: float(c.confidence) for c in d.candidates if c.confidence >= CAUSE_FLOOR}
    out.setdefault(d.root_cause.id, float(d.root_cause.confidence))
    return out


def _firewall_tools(table: EvidenceTable) -> set[str] | None:
    """The firewall tools the bundle shows (those dropping DHCP when any does); None when not listed."""
    hf = table.bundle.frame("host_firewall")
    if hf.empty:
        return None
    drops = hf[hf["drops_dhcp"].fillna(False).astype(bool)]
    rows = drops if len(drops) else hf
    tools = {str(t) for t in rows["tool"].dropna()}
    return tools or None


def _nft_detail(table: EvidenceTable) -> tuple[str, ...]:
    """The nftables rules that drop DHCP, and how the person would remove one (printed, never run)."""
    hf = table.bundle.frame("host_firewall")
    if hf.empty:
        return ()
    drops = hf[hf["drops_dhcp"].fillna(False).astype(bool) & (hf["tool"] == "nft")]
    out: list[str] = []
    chains: list[tuple[str, str, str]] = []
    for _, r in drops.iterrows():
        fam, tab, chain = (str(r[c]) if not pd.isna(r[c]) else "?" for c in ("family", "table", "chain"))
        if (fam, tab, chain) not in chains:
            chains.append((fam, tab, chain))
        out.append(
            str(
                Message(
                    "{file} line {line}, table {family} {table}, chain {chain}: `{rule}`",
                    file=r["file"],
                    line=r["line"],
                    family=fam,
                    table=tab,
                    chain=chain,
                    rule=str(r["rule"]).strip(),
                )
            )
        )
    for fam, tab, chain in chains:
        out.append(
            str(
                Message(
                    "to remove it from {chain}: `sudo nft -a list chain {family} {table} {chain}` shows its "
                    "handle, then `sudo nft delete rule {family} {table} {chain} handle <handle>`",
                    family=fam,
                    table=tab,
                    chain=chain,
                )
            )
        )
    if chains:
        out.append(str(Message("or narrow the rule so that udp 67/68 on the bridge is accepted")))
    return tuple(out)


def _stale_leases(table: EvidenceTable) -> tuple[str, ...]:
    """Leases whose MAC and name belong to no instance in the bundle (candidates to prune)."""
    leases = table.bundle.frame("leases")
    if leases.empty:
        return ()
    snap = leases[leases["snapshot_at"].isna()] if "snapshot_at" in leases else leases
    names = {str(n) for n in table.bundle.frame("instances")["name"].dropna()}
    mine = {table.context.mac} if table.context.mac else set()
    out = []
    for _, r in snap.iterrows():
        mac = None if pd.isna(r["mac"]) else str(r["mac"])
        name = None if pd.isna(r["name"]) else str(r["name"])
        if mac in mine or (name is not None and name in names):
            continue
        out.append(
            str(
                Message(
                    "lease of {mac} ({name}) holds {ip}: no instance of this host has that MAC",
                    mac=mac or "?",
                    name=name or "-",
                    ip=r["ip"],
                )
            )
        )
    return tuple(out)


def _detail(cause: str, step: dict[str, Any], table: EvidenceTable) -> tuple[str, ...]:
    if step.get("tool") == "nft":
        return _nft_detail(table)
    if cause == "dhcp-lease-pool-exhausted" and step.get("kind") == "destructive":
        return _stale_leases(table)
    return ()


def build(d: Diagnosis, table: EvidenceTable, facts: dict[str, Any], platform: str | None) -> list[Rung]:
    """The ladder for diagnosis ``d``: fixes by chance per cost, destructive steps last."""
    cz = causes()
    tools = _firewall_tools(table)
    merged: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    for cause, p in weights(d).items():
        for step in cz.get(cause, {}).get("remediation", []):
            if platform not in (None, "any") and step.get("platform") not in (None, platform):
                continue
            kind = step.get("kind", "manual")
            if kind == "read-only":
                continue
            if step.get("tool") and tools is not None and step["tool"] not in tools:
                continue
            p_fix = float(step.get("p_fix", 0.0))
            if p_fix <= 0.0 and kind != "destructive":
                continue
            action = step.get("action") if kind in RUNNABLE_KINDS else None
            key = f"action:{action}" if action else f"text:{step['text']}|{step.get('command', '')}"
            entry = merged.get(key)
            if entry is None:
                entry = merged[key] = {
                    "step": step,
                    "cause": cause,
                    "p": 0.0,
                    "best": -1.0,
                    "cost": float(step.get("cost_s", 60.0)),
                    "causes": [],
                }
                order.append(key)
            entry["p"] += p * p_fix
            entry["cost"] = min(entry["cost"], float(step.get("cost_s", 60.0)))
            entry["causes"].append(cause)
            if p * p_fix > entry["best"]:
                entry["best"], entry["step"], entry["cause"] = p * p_fix, step, cause
    rungs = []
    for key in order:
        e = merged[key]
        step, kind = e["step"], e["step"].get("kind", "manual")
        rungs.append(
            Rung(
                key,
                Message.fill(step["text"], facts),
                fill(step["command"], facts) if step.get("command") else None,
                kind,
                step.get("action") if kind in RUNNABLE_KINDS else None,
                round(min(1.0, e["p"]), 4),
                e["cost"],
                tuple(e["causes"]),
                Message.literal(step["warning"]) if step.get("warning") else None,
                fill(step["backup"], facts) if step.get("backup") else None,
                _detail(e["cause"], step, table),
            )
        )
    first = {k: i for i, k in enumerate(order)}
    return sorted(rungs, key=lambda r: (r.destructive, -r.score, first[r.key]))


def action_commands(
    action: str, targets: Targets, instance: str, guest_ip: str | None
) -> list[tuple[str, ...]] | None:
    """The commands ``action`` runs before its checking start (None when it cannot run here)."""
    mp = tuple(targets.multipass)
    if action == "start":
        return []
    if action == "stop-start":
        return [(*mp, "stop", "--force", instance)]
    if action == "restart-daemon":
        return [tuple(targets.daemon_restart)] if targets.daemon_restart else None
    if action == "ping-guest":
        return [("ping", "-c", "1", "-W", "2", guest_ip)] if guest_ip else None
    return None


def shown(argv: Sequence[str], *, sudo: bool = False) -> str:
    """A command as the person would type it (``sudo`` in front when it needs root)."""
    return ("sudo " if sudo else "") + shlex.join(argv)


#: programs that raise privileges
_ESCALATE = frozenset({"sudo", "su", "doas", "pkexec", "runas"})
#: programs that change firewall rules (listing them is a collection source, never a fix)
_FIREWALL = frozenset({"nft", "iptables", "ip6tables", "ufw", "firewall-cmd", "socketfilterfw", "pfctl"})
#: programs that delete, move or rewrite data
_LOSS_PROGRAMS = frozenset({"rm", "rmdir", "unlink", "shred", "truncate", "dd", "mv", "qemu-img"})
#: arguments that delete or discard
_LOSS = frozenset({"rm", "delete", "purge", "flush", "remove", "-r", "--force-delete", "Remove-HNSNetwork"})


def refusal(argv: Sequence[str]) -> str | None:
    """Why the doctor must not run ``argv`` itself (None when it may, given a yes).

    The last line of defence under the ladder's data: no command the doctor
    runs raises privileges, changes firewall rules or deletes anything.  A
    forced stop is allowed (the ladder refuses it for a suspended instance).
    """
    if not argv:
        return "empty command"
    prog = argv[0].replace("\\", "/").rsplit("/", 1)[-1]
    if prog in _ESCALATE:
        return "raises privileges"
    if prog in _FIREWALL:
        return "changes firewall rules"
    if prog in _LOSS_PROGRAMS:
        return "can lose data"
    if any(a in _LOSS for a in argv[1:]):
        return "can lose data"
    return None
