"""The diagnosis: an evidence table read by a probabilistic model.

1. Pick the attempt to explain (default: the latest failed attempt; the
   instance and attempt number can be chosen).  A bundle without one (a pasted
   journal excerpt, a client error) is judged on what it holds.
2. **Evidence** (:func:`evidence`): every registered check runs over whatever
   the bundle holds (the attempt's log window, the rest of the log, client
   output, host artifacts, notes, unrecognised text and the prose of a paste)
   and gives one row: state, facts, evidence lines, and a strength below 1 when
   the evidence is far in time from the attempt, rests on an inferred link, or
   comes from badly parsed input.  A check never decides a cause.
3. **Inference** (:func:`infer`): the model of :mod:`mpkit.diagnose.bayes`
   reads only that table and the platform, and gives the posterior over the
   causes and ``unknown``; its numbers are data (``rules/model.json``, fitted by
   :mod:`mpkit.diagnose.fit` from the case library).  The written rules
   (``rules/*.json``) are the expert's prior for those numbers and explain,
   for the reader, what each piece of evidence means.
4. "No failure found" needs positive evidence of a good start and no failure
   sign anywhere; what to collect next is ranked by expected information gain.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from ..bundle import Bundle, load_bundle
from ..derived import derive
from ..derived.attempts import SSH_BUDGET_S, instance_codes, known_instances
from ..errors import DiagnoseError
from ..i18n import Message
from .bayes import Model, Observation, decide, load_model, stated
from .checks import FACTS, SIGNS, Context, parse_version, run_all
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


#: the files of ``rules/`` that hold no rules
NOT_RULES = ("causes.json", "signatures.json", "model.json", "groups.json", "collect-next.json")


@cache
def _rules_data() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    root = resources.files("mpkit.diagnose").joinpath("rules")
    causes = json.loads(root.joinpath("causes.json").read_text())["causes"]
    rules: list[dict[str, Any]] = []
    for entry in sorted(root.iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".json") and entry.name not in NOT_RULES:
            rules.extend(json.loads(entry.read_text())["rules"])
    return causes, rules


def causes() -> dict[str, Any]:
    """Every root cause, by id: title, summary, family, remediation, references (rules data)."""
    return _rules_data()[0]


#: a check that raised on this input counts as not collected, and each one
#: scales the stated confidence by this factor
BROKEN_CHECK_FACTOR = 0.9


def rules() -> list[dict[str, Any]]:
    """Every written rule: which check in which state speaks for or against which cause."""
    return _rules_data()[1]


class _SafeDict(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


def _fill(template: str, facts: dict[str, Any]) -> str:
    return template.format_map(_SafeDict({k: v for k, v in facts.items() if v is not None}))


def _text(template: str, facts: dict[str, Any]) -> Message:
    """A rules-data template filled with ``facts``: English as a ``str``, translatable where shown."""
    return Message.fill(template, facts)


def _select_attempt(
    bundle: Bundle, instance: str | None, attempt: int | None
) -> tuple[str | None, dict[str, Any]]:
    att = derive(bundle).attempts
    if instance is not None:
        mine = att[att["instance"] == instance]
        if mine.empty:
            known = sorted(set(att["instance"].dropna()) | set(bundle.frame("instances")["name"].dropna()))
            if instance not in known:
                raise DiagnoseError(
                    Message(
                        "no instance {instance!r} in this bundle; known: {known}",
                        instance=instance,
                        known=", ".join(known) or Message("none"),
                    )
                )
            return instance, {}
    else:
        mine = att
    if attempt is not None:
        pick = mine[mine["attempt"] == attempt]
        if pick.empty:
            raise DiagnoseError(
                Message(
                    "no attempt {attempt} for {instance}; attempts: {attempts}",
                    attempt=attempt,
                    instance=instance or Message("the instance"),
                    attempts=sorted(mine["attempt"].dropna().tolist()),
                )
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
    # decided on whole columns (no copy of the log, no Python object per row), then one selection
    in_file = (dl["file"] == att["file"]).to_numpy(dtype=bool)
    lines = dl["line"].to_numpy(dtype="int64", na_value=-1)
    lo = int(att["first_line"])
    att_all = derive(bundle).attempts
    later = att_all[
        (att_all["instance"] == att.get("instance"))
        & (att_all["file"] == att["file"])
        & (att_all["first_line"] > lo)
    ]
    hi = int(later["first_line"].min()) - 1 if len(later) else int(lines[in_file].max())
    codes, names = instance_codes(dl, known_instances(bundle))
    no_inst = codes < 0
    mine = no_inst | (codes == names.index(att["instance"])) if att.get("instance") in names else no_inst
    keep = (lines >= lo) & (lines <= hi) & mine
    start = att.get("started_at")
    if start is not None and not _na(start):
        late = (dl["time"] > start + pd.Timedelta(seconds=SSH_BUDGET_S + 60)).fillna(False)
        keep &= ~late.to_numpy(dtype=bool)
        early = (dl["time"] >= start - pd.Timedelta(seconds=2)).fillna(False)
        keep |= (lines < lo) & early.to_numpy(dtype=bool) & no_inst
    return dl[in_file & keep]


def _context(bundle: Bundle, instance: str | None, att: dict[str, Any]) -> Context:
    ent = derive(bundle).entities
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
    return _fill_steps(cause["remediation"], facts, platform)


def _fill_steps(steps: list[dict[str, Any]], facts: dict[str, Any], platform: str | None) -> tuple[Step, ...]:
    return tuple(
        Step(
            _text(s["text"], facts),
            _fill(s["command"], facts) if s.get("command") else None,
            bool(s.get("destructive")),
            Message.literal(s["warning"]) if s.get("warning") else None,
        )
        for s in steps
        if platform in (None, "any") or s.get("platform") in (None, platform)
    )


@cache
def _general_prevention() -> list[dict[str, Any]]:
    root = resources.files("mpkit.diagnose").joinpath("rules")
    return list(json.loads(root.joinpath("causes.json").read_text()).get("prevention", []))


def prevention(
    cause: str | None = None, *, platform: str | None = None, instance: str | None = None
) -> tuple[Step, ...]:
    """How to keep a failure from coming back after an OS or Multipass update.

    With ``cause``: that cause's own steps followed by the general ones when the cause can recur
    after an update (``recurs_after_update`` in ``rules/causes.json``), else nothing. Without it:
    the general steps (snapshot first, read the compatibility notes, keep Multipass current).
    Steps for another platform are left out; ``{instance}`` is filled in (``NAME`` when unknown).
    """
    facts: dict[str, Any] = {"instance": instance or "NAME"}
    steps = _fill_steps(_general_prevention(), facts, platform)
    if cause is not None:
        c = causes().get(cause, {})
        if not c.get("recurs_after_update"):
            return ()
        steps = _fill_steps(c.get("prevention", []), facts, platform) + steps
    return tuple(dict.fromkeys(steps))  # one platform's wording may repeat another's


@dataclass
class EvidenceTable:
    """What the checks found in one bundle, and the attempt they looked at: all the inference reads."""

    bundle: Bundle
    instance: str | None
    attempt: dict[str, Any]
    context: Context
    checks: dict[str, CheckResult]
    notes: list[str]

    @property
    def platform(self) -> str | None:
        """The host platform the checks saw (``None`` when the bundle does not say)."""
        return self.context.platform

    def observations(self) -> list[Observation]:
        """The table as the model reads it: each check's state and strength."""
        return [Observation(c.id, c.state, c.strength) for c in self.checks.values()]

    def frame(self) -> pd.DataFrame:
        """One row per check: state, strength, how it was obtained, facts, evidence (file:line)."""
        rows = [
            {
                "check": c.id,
                "state": c.state,
                "strength": c.strength,
                "how": c.how,
                "softened_by": c.softened_by,
                "summary": c.summary,
                "facts": dict(c.facts),
                "evidence": [f"{e.artifact} {e.locator}: {e.excerpt}" for e in c.evidence],
            }
            for c in sorted(self.checks.values(), key=lambda c: c.id)
        ]
        return pd.DataFrame(rows)


#: a badly parsed input weakens every check by the share of its lines that were rejected
def _parse_quality(bundle: Bundle) -> tuple[float, list[str]]:
    cov = bundle.coverage
    if not len(cov):
        return 1.0, []
    bad = cov[(cov["lines"] > 0) & (cov["rejected"] > 0)]
    if not len(bad):
        return 1.0, []
    worst = float((bad["rejected"] / bad["lines"]).max())
    return max(0.0, 1.0 - worst), [
        Message("{file} ({rejected}/{lines} lines rejected)", file=r.file, rejected=r.rejected, lines=r.lines)
        for r in bad.itertuples()
    ]


def evidence(
    bundle: Bundle | str | Path, *, instance: str | None = None, attempt: int | None = None
) -> EvidenceTable:
    """Run every check over whatever ``bundle`` holds: the evidence table the inference reads."""
    if not isinstance(bundle, Bundle):
        bundle = load_bundle(bundle)
    instance, att = _select_attempt(bundle, instance, attempt)
    ctx = _context(bundle, instance, att)
    checks = run_all(ctx)
    notes: list[str] = []
    quality, bad = _parse_quality(bundle)
    if bad:
        notes.append(
            Message(
                "some inputs parsed badly, so every check counts less: {files}",
                files=Message.joined(", ", bad),
            )
        )
        badly = Message("inputs parsed badly")
        for cid, r in list(checks.items()):
            if r.state in ("fail", "warn", "pass"):
                checks[cid] = replace(
                    r,
                    strength=r.strength * quality,
                    softened_by=Message.joined("; ", [r.softened_by, badly]) if r.softened_by else badly,
                )
    broken = [c.id for c in checks.values() if c.facts.get("error")]
    if broken:
        notes.append(
            Message(
                "{n} checks failed on this input and count as not collected: {checks}",
                n=len(broken),
                checks=", ".join(broken),
            )
        )
    trunc = bundle.truncated_sources()
    if trunc:
        notes.append(
            Message("truncated inputs: {sources}", sources=", ".join(_source_name(e) for e in trunc))
        )
    failed = bundle.failed_sources()
    if failed:
        notes.append(
            Message(
                "sources that failed to collect: {sources}",
                sources=Message.joined(
                    ", ",
                    [
                        Message(
                            "{source} ({error})",
                            source=_source_name(e),
                            error=e.get("error") or Message("failed"),
                        )
                        for e in failed[:8]
                    ],
                ),
            )
        )
    return EvidenceTable(bundle, instance, att, ctx, checks, notes)


def _failure_signs(table: EvidenceTable) -> list[str]:
    """Signs that something failed: signatures found, a client error, an attempt that ended badly."""
    return [
        c.id
        for c in table.checks.values()
        if c.state == "fail" and ((c.id in SIGNS and c.id not in FACTS) or c.facts.get("failure_sign"))
    ]


def no_failure(table: EvidenceTable) -> tuple[bool, bool]:
    """(a good start and no failure sign anywhere, no attempt and no failure sign at all)."""
    signs = _failure_signs(table)
    client = table.bundle.frame("client")
    client_failed = bool(len(client)) and client["kind"].astype("str").isin(list(_CLIENT_FAILURES)).any()
    ok_start = table.attempt.get("outcome") == "ok" and not client_failed and not signs
    nothing = not table.attempt and not client_failed and not signs
    return bool(ok_start), bool(nothing)


@cache
def collect_commands() -> dict[str, dict[str, tuple[str, str]]]:
    """check → platform → (bundle file, command) that would settle it (``rules/collect-next.json``)."""
    root = resources.files("mpkit.diagnose").joinpath("rules")
    data = json.loads(root.joinpath("collect-next.json").read_text())["commands"]
    return {c: {p: (v[0], v[1]) for p, v in per.items()} for c, per in data.items()}


def _collect_hint(check: str, platform: str | None) -> tuple[str, str] | None:
    """The file and command for ``check`` on ``platform``; on an unknown platform, each platform's."""
    per = collect_commands().get(check)
    if not per:
        return None
    if platform in per:
        return per[platform]
    if "any" in per:
        return per["any"]
    if platform is not None:
        return None  # nothing to run on this platform
    return " / ".join(a for a, _ in per.values()), "; ".join(f"{p}: {c}" for p, (_, c) in per.items())


#: a command in ``collect-next.json`` may end with a note in words: ``tcpdump … (while starting the instance)``
_COMMAND_NOTE = re.compile(r"^(?P<command>.*\S) \((?P<note>[a-z][^()`]*)\)$")


def _command_text(command: str) -> str:
    """A command to run, with its trailing note in words (if any) translatable."""
    m = _COMMAND_NOTE.match(command)
    if m is None:
        return command
    return Message.fill("{command} (" + m["note"] + ")", {"command": m["command"]})


def _what_next(table: EvidenceTable, model: Model, ranked: list[str], limit: int = 4) -> list[str]:
    """The not-collected inputs that would most change the verdict, by expected information gain."""
    obs = table.observations()
    gains = []
    for cid, c in table.checks.items():
        if c.state != "not-collected" or cid not in collect_commands():
            continue
        g = model.expected_gain(cid, obs, table.platform)
        if g > 0.01:
            gains.append((g, cid))
    out: list[str] = []
    seen: set[str] = set()
    for g, cid in sorted(gains, reverse=True):
        hint = _collect_hint(cid, table.platform)
        if hint is None or hint[0] in seen:
            continue
        seen.add(hint[0])
        between = [h for h in ranked[:3] if model.likelihood.get(cid, {}).get(h)]
        command = _command_text(hint[1])
        if len(between) > 1:
            line = Message(
                "{file}: `{command}` would separate {causes} ({bits:.2f} bits expected)",
                file=hint[0],
                command=command,
                causes=" / ".join(between),
                bits=g,
            )
        else:
            line = Message(
                "{file}: `{command}` would test the leading candidate ({bits:.2f} bits expected)",
                file=hint[0],
                command=command,
                bits=g,
            )
        out.append(line)
        if len(out) >= limit:
            break
    return out


def _findings(table: EvidenceTable, model: Model, cause: str, facts: dict[str, Any]) -> list[Finding]:
    """What speaks for and against ``cause``: each rule whose check is in its state, weighed by the model."""
    out: list[Finding] = []
    covered: set[str] = set()
    for r in rules():
        if r["cause"] != cause:
            continue
        res = table.checks.get(r["check"])
        if res is None or res.state != r["on"]:
            continue
        w = model.log_lr(Observation(res.id, res.state, res.strength), cause)
        msg = _text(
            r["message"], {"instance": table.instance or Message("the instance"), **facts, **res.facts}
        )
        if res.strength < 1.0 and res.softened_by:
            msg = Message("{finding} (counts less: {why})", finding=msg, why=res.softened_by)
        out.append(Finding(r["rule"], r["check"], cause, w, msg, res.evidence))
        covered.add(r["check"])
    for res in table.checks.values():  # what the library taught beyond the written rules
        if res.id in covered or res.state not in ("fail", "warn", "pass"):
            continue
        w = model.log_lr(Observation(res.id, res.state, res.strength), cause)
        if abs(w) >= math.log(2.0) and (res.state != "pass" or w < 0):
            out.append(Finding(f"learned:{res.id}", res.id, cause, w, res.summary, res.evidence))
    return sorted(out, key=lambda f: -f.weight)


def diagnose(
    bundle: Bundle | str | Path, *, instance: str | None = None, attempt: int | None = None
) -> Diagnosis:
    """Explain why ``instance``'s start (default: the latest failed one) did not work."""
    table = evidence(bundle, instance=instance, attempt=attempt)
    return infer(table)


def infer(table: EvidenceTable, model: Model | None = None) -> Diagnosis:
    """The diagnosis the model reads off an evidence table."""
    model = model or load_model()
    bundle, instance, att, ctx, checks = (
        table.bundle,
        table.instance,
        table.attempt,
        table.context,
        table.checks,
    )
    cz = causes()
    platform = ctx.platform
    obs = table.observations()
    post = model.posterior(obs, platform)
    verdict = stated(decide(post, model.threshold), model)
    ranked = [h for h, _ in verdict.ranked]

    ok_start, nothing = no_failure(table)

    facts: dict[str, Any] = {
        "instance": instance or "NAME",
        "guest_ip": ctx.entity.get("guest_ip") or "<guest-ip>",
        "driver": bundle.host.driver or Message("the driver"),
    }
    for res in checks.values():
        for k, v in res.facts.items():
            facts.setdefault(k, v)
    facts.setdefault("fw_detail", "")
    facts.setdefault(
        "lookup",
        Message("the lease file") if ctx.version and ctx.version <= (1, 14, 0) else Message("the ARP table"),
    )
    facts.setdefault("bridge", "bridge100" if ctx.platform == "macos" else "mpqemubr0")
    facts.setdefault("other", Message("another hypervisor"))
    facts.setdefault("route_detail", Message("the VM subnet"))

    findings = {h: _findings(table, model, h, facts) for h in ranked[:3]}
    root_id = "unknown" if (ok_start or nothing) else verdict.cause
    root_conf = verdict.confidence
    missing: list[str] = []
    if ok_start:
        root_conf = 1.0 - max((p for _, p in verdict.ranked), default=0.0)  # no cause is more likely
        cands = [Candidate("unknown", root_conf)]
    elif nothing:  # no failure shown, which is not the same as a good start: say so without weight
        root_conf = max(verdict.p_other, max((p for _, p in verdict.ranked), default=0.0))
        cands = [Candidate("unknown", root_conf)]
        missing = [
            Message(
                "attempts.jsonl: `mpkit probe NAME` would record a failing start with lease and ARP snapshots"
            )
        ]
    else:
        missing = _what_next(table, model, ranked)
        cands = []
        for h, p in verdict.candidates():
            if cands and p < 0.01 and len(cands) >= 3:
                break
            cands.append(Candidate(h, p, p, tuple(findings.get(h, []))))
            if len(cands) >= 8:
                break
    facts.setdefault("detail", next((f.message for f in findings.get(root_id, []) if f.weight > 0), ""))

    cause = cz[root_id]
    evid: list[Evidence] = []
    for h in [root_id] if root_id != "unknown" else ([] if (ok_start or nothing) else ranked[:2]):
        for f in findings.get(h, []):
            if f.weight > 0:
                evid.extend(e for e in f.evidence if e not in evid)
    if att.get("client_error"):
        evid.append(Evidence("client.txt", Message("client output"), _last_line(att["client_error"])))
    consequences: list[str] = []
    if root_id != "unknown":
        for h in ranked[1:]:  # symptom-level causes that the named cause produces
            if root_id in cz[h].get("fallback_for", []):
                consequences.append(h)
        consequences = consequences[:4]
    title: str
    summary: str
    if ok_start:
        title = Message("No failure found: the start succeeded")
        summary = Message(
            "The latest attempt of {instance} reached SSH and nothing in the bundle shows a failure.",
            instance=instance or Message("the instance"),
        )
    elif nothing:
        title = Message("No failure found in this bundle")
        summary = Message(
            "The bundle holds no start attempt, no client error and no failure signature, so there is "
            "nothing to explain yet. Reproduce the failure while recording it: `mpkit probe NAME`."
        )
    else:
        title = Message.literal(cause["title"])
        collect = (
            Message("Collect: {files}.", files="; ".join(str(m).split(":")[0] for m in missing[:3]))
            if missing
            else Message("Run `mpkit collect` (and `mpkit probe NAME`) on the host.")
        )
        facts["what_next"] = (
            Message(
                "Open candidates: {causes}. {collect}",
                causes=", ".join(ranked[:3]),
                collect=collect,
            )
            if ranked
            else collect
        )
        summary = _text(cause["summary"], facts)
        reasons = [f.message for f in findings.get(root_id, []) if f.weight > 0][:3]
        if reasons:
            summary = Message(
                "{summary} Evidence: {reasons}.", summary=summary, reasons=Message.joined("; ", reasons)
            )
    broken = sum(1 for c in checks.values() if c.facts.get("error"))
    root_conf *= BROKEN_CHECK_FACTOR**broken  # evidence that could not be read leaves more room for doubt
    root = RootCause(
        root_id,
        round(root_conf, 3),
        title,
        summary,
        tuple(evid[:8]),
        () if ok_start else _steps(cause, facts, ctx.platform),  # nothing failed: nothing to fix
        tuple(cause["references"]),
        cause["family"],
        tuple(consequences),
        () if (ok_start or nothing) else prevention(root_id, platform=ctx.platform, instance=instance),
    )
    if ok_start:
        stage = "none"
    elif nothing:
        stage = "unknown"
    else:
        stage = _failed_stage(att, root_id, root_id != "unknown")
    host = bundle.host
    return Diagnosis(
        root_cause=root,
        candidates=tuple(cands),
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
        notes=tuple(table.notes + list(bundle.notes)),
        posterior=tuple(post.items()),
    )
