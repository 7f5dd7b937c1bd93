"""``mpkit doctor``: a guided session on the broken host, from a first look to a checked fix.

1. **First look**: the platform's read-only catalog without the slow log
   queries (seconds), then the diagnosis: cause, confidence, failed stage and
   one line of evidence.
2. **Learn**: while the verdict is not settled (no cause named with
   :data:`SETTLED` confidence, and no good start seen), offer the read-only
   step worth the most information per unit of cost (:mod:`.plan`), with its
   exact commands and why; run it on a yes (``yes=True`` agrees to these
   steps; ``no_start=True`` leaves out every step that starts the instance),
   diagnose again and show what changed.  A step that needs root, when the
   session is not root, is printed for the person to run instead.
3. **Fix**: the remediation ladder (:mod:`.ladder`), least destructive first.
   A step the doctor can run (start, stop and start, restart the daemon, ping
   the guest) is offered with its own question, then checked by a timed start;
   the session stops at the first step after which the start works.  Every
   other step is printed (a change to firewall rules, settings or software, a
   step needing root when not root, a step for the person's hands); steps
   that can lose data are printed with what to back up first, and never run.
4. **End**: the bundle holds every output, ``doctor/transcript.jsonl`` (every
   step, command, exit status, duration and answer) and ``doctor/report.html``;
   the result says healthy or fixed (exit status 0), not fixed (1), or
   stopped by the person or by Ctrl-C (3).

Everything runs through the collection :class:`~mpkit.collect.Runner`, live or
replayed, and no command the doctor runs itself escalates privileges, changes a
firewall rule or deletes anything (:func:`mpkit.doctor.ladder.refusal`).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ..bundle import Bundle, load_bundle
from ..collect import catalog as cat
from ..collect.collector import (
    Session,
    capture_argv,
    close_session,
    open_session,
    run_source,
    watch_snapshots,
)
from ..collect.manifest import utc_now
from ..collect.probe import run_attempt
from ..collect.runner import Runner
from ..diagnose.bayes import OTHER, Observation, load_model
from ..diagnose.engine import EvidenceTable, evidence, infer, no_failure
from ..diagnose.model import Diagnosis, confidence_words
from ..errors import DiagnoseError
from ..i18n import _, localize
from . import ladder as lad
from . import plan
from .html import write_report
from .steps import AFTER_START, SLOW_SOURCES, InfoStep, steps_for
from .term import EOF, QUIT, YES, Terminal
from .transcript import REPORT, TRANSCRIPT, Transcript

log = logging.getLogger(__name__)

#: exit status: the start works (it did, or a step fixed it)
EXIT_FIXED = 0
#: exit status: no step made the start work (or nothing could be checked)
EXIT_NOT_FIXED = 1
#: exit status: the person stopped the session (``q`` or Ctrl-C)
EXIT_STOPPED = 3
#: exit status of each outcome
EXIT_STATUS = {
    "healthy": EXIT_FIXED,
    "fixed": EXIT_FIXED,
    "not-fixed": EXIT_NOT_FIXED,
    "stopped": EXIT_STOPPED,
    "interrupted": EXIT_STOPPED,
    "error": 2,  # mpkit itself failed (the exception is raised once the bundle is closed)
}
#: a named cause at this confidence or above needs no more evidence
SETTLED = 0.85
#: where the instances' folders are, per platform (what to copy before a destructive step)
INSTANCES_DIR = {
    "linux": "/var/snap/multipass/common/data/multipassd/vault/instances",
    "macos": "/var/root/Library/Application Support/multipassd/qemu/vault/instances",
    "windows": "C:\\ProgramData\\Multipass\\data\\vault\\instances",
}
#: failing checks listed after the first look
SHOWN_CHECKS = 8
#: instance states that say "this one will not start", most telling first (for guessing the instance)
STUCK_STATES = (("Unknown", "Starting", "Delayed Shutdown"), ("Suspended", "Suspending"), ("Stopped",))
#: states in which a guest may be booting, so that watching its leases without a start can tell something
BOOTING_STATES = frozenset({"Unknown", "Starting", "Running"})


class _Stop(Exception):
    """The person answered ``q``."""


@dataclass
class DoctorResult:
    """How a session ended and where its record is."""

    outcome: str  # healthy, fixed, not-fixed, stopped, interrupted
    exit_status: int
    bundle: Path
    transcript: Path
    report: Path | None
    instance: str | None
    diagnosis: Diagnosis | None = None
    #: the remediation step after which the start worked (its text), when fixed
    fixed_by: str | None = None
    steps: list[dict[str, Any]] = field(default_factory=list)


def _default_out(now: dt.datetime) -> Path:
    return Path.cwd() / f"mpkit-doctor-{now.astimezone(dt.UTC).strftime('%Y-%m-%dT%H-%M-%SZ')}"


def _cost(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def _argv_text(argv: Sequence[str]) -> str:
    return "read " + argv[-1] if argv and argv[0] == "read" else shlex.join(argv)


class Doctor:
    """One session; :meth:`run` does it all and returns a :class:`DoctorResult`."""

    def __init__(
        self,
        instance: str | None,
        *,
        yes: bool,
        no_start: bool,
        out_dir: str | Path | None,
        since: str | float,
        timeout: float,
        interval: float,
        platform: str | None,
        runner: Runner | None,
        targets: cat.Targets | None,
        terminal: Terminal,
        max_log_bytes: int,
    ) -> None:
        self.instance = instance
        self.yes, self.no_start = yes, no_start
        self.timeout, self.interval = float(timeout), float(interval)
        self.term = terminal
        self.progress_log: list[str] = []
        started = utc_now()
        self.session: Session = open_session(
            out_dir if out_dir is not None else _default_out(started),
            mode="doctor",
            since=since,
            platform=platform,
            runner=runner,
            progress=self.progress_log.append,
            targets=targets,
            max_log_bytes=max_log_bytes,
            instances=[instance] if instance else (),
        )
        self.ctx = self.session.ctx
        self.platform = self.ctx.platform
        self.targets = self.ctx.targets
        self.root = self.ctx.runner.is_root
        self.transcript = Transcript(self.session.out / TRANSCRIPT)
        self.model = load_model()
        self.offered: set[str] = set()
        self.attempts = 0
        self.root_failed: list[str] = []
        self.bundle: Bundle | None = None
        self.during = "first look"
        self.fixed_by: str | None = None
        self.options = [
            o for o, on in (("--yes", yes), ("--no-start", no_start), (f"--timeout {timeout:g}", True)) if on
        ]

    # -- the record ---------------------------------------------------------------------------
    def step_record(self, phase: str, title: str, **fields: Any) -> dict[str, Any]:
        """Write one step of the session to the transcript."""
        return self.transcript.write("step", phase=phase, title=str(title), **fields)

    @staticmethod
    def _command(res_argv: Sequence[str], exit_code: Any, state: str, duration: float) -> dict[str, Any]:
        return {
            "command": _argv_text(res_argv),
            "exit_code": exit_code,
            "state": state,
            "duration_s": round(float(duration or 0.0), 3),
        }

    # -- diagnosis ----------------------------------------------------------------------------
    def diagnose(self) -> tuple[Diagnosis, EvidenceTable]:
        """Read the bundle as it is now and diagnose it."""
        old, self.bundle = self.bundle, load_bundle(self.session.out)
        if old is not None:
            old.close()
        try:
            table = evidence(self.bundle, instance=self.instance)
        except DiagnoseError:  # the bundle does not know the instance yet (no list, no attempt)
            table = evidence(self.bundle)
        return infer(table), table

    @staticmethod
    def healthy(table: EvidenceTable) -> bool:
        """A good start and no failure sign anywhere."""
        return no_failure(table)[0]

    @staticmethod
    def nothing(table: EvidenceTable) -> bool:
        """No start attempt and no failure sign: the bundle cannot tell whether the start fails."""
        return no_failure(table)[1]

    def settled(self, d: Diagnosis, table: EvidenceTable) -> bool:
        """Whether more evidence is unnecessary: a good start, or a cause named confidently."""
        return self.healthy(table) or (d.root_cause.id != OTHER and d.root_cause.confidence >= SETTLED)

    def _suspect(self, d: Diagnosis) -> tuple[str, float] | None:
        causes = [(h, p) for h, p in d.posterior if h != OTHER]
        return causes[0] if causes else None

    def show_verdict(
        self, d: Diagnosis, table: EvidenceTable, label: str, changed: list[dict[str, Any]] | None = None
    ) -> None:
        """The verdict so far (cause, confidence, stage, one line of evidence), also in the transcript."""
        rc = d.root_cause
        t = self.term
        suspect = None
        if self.healthy(table):
            t.rule(_("Verdict: no failure found, the start worked"))
            t.line(_("failed stage: none"), 2)
        elif self.nothing(table):
            t.rule(_("Verdict so far: no failure recorded yet (no start attempt in the bundle)"))
            t.line(_("failed stage: unknown until a start fails"), 2)
            suspect = self._suspect(d)
            if suspect is not None:
                t.line(
                    _("if it fails, the likeliest cause: {cause} ({p:.2f})").format(
                        cause=suspect[0], p=suspect[1]
                    ),
                    2,
                    4,
                )
        else:
            t.rule(_("Verdict so far: {cause} — {title}").format(cause=rc.id, title=localize(rc.title)))
            t.line(
                _("confidence: {words} ({conf:.2f})   failed stage: {stage}").format(
                    words=_(confidence_words(rc.confidence)), conf=rc.confidence, stage=d.failed_stage
                ),
                2,
                4,
            )
        evid = self.evidence_lines(d, table, suspect[0] if suspect else rc.id)
        if evid:
            t.line(_("evidence: {line}").format(line=evid[0]), 2, 4)
        self.transcript.write(
            "verdict",
            label=label,
            instance=self.instance,
            cause=rc.id,
            title=str(rc.title),
            confidence=round(rc.confidence, 3),
            words=confidence_words(rc.confidence),
            stage=d.failed_stage,
            healthy=self.healthy(table),
            suspect={"id": suspect[0], "p": round(suspect[1], 3)} if suspect else None,
            evidence=evid[:3],
            checks=[
                {"id": c.id, "state": c.state, "summary": str(c.summary)}
                for c in d.checks
                if c.state in ("fail", "warn")
            ],
            changed=changed or [],
            host=d.host,
        )

    def evidence_lines(self, d: Diagnosis, table: EvidenceTable, cause: str) -> list[str]:
        """Evidence for ``cause``, the check that speaks most for it first (``file line: excerpt``)."""
        weighed = []
        for c in table.checks.values():
            if c.state in ("fail", "warn") and c.evidence:
                w = self.model.log_lr(Observation(c.id, c.state, c.strength), cause)
                if w > 0:
                    specific = c.evidence[0].locator.startswith("line")  # a line, not a whole file
                    weighed.append((not specific, -w, c.id, c))
        out = []
        for *_key, c in sorted(weighed, key=lambda x: x[:3]):
            e = c.evidence[0]
            out.append(f"{e.artifact} {e.locator}: {localize(e.excerpt)}")
        for e in d.root_cause.evidence:
            line = f"{e.artifact} {e.locator}: {localize(e.excerpt)}"
            if line not in out:
                out.append(line)
        return out

    def show_checks(self, d: Diagnosis) -> None:
        """The failing and warning checks, in the checklist style of ``mpkit diagnose``."""
        loud = [c for c in d.checks if c.state in ("fail", "warn", "could-not-parse")]
        loud.sort(key=lambda c: (["fail", "warn", "could-not-parse"].index(c.state), c.id))
        for c in loud[:SHOWN_CHECKS]:
            self.term.check(c.state, c.id, str(localize(c.summary)))
        if len(loud) > SHOWN_CHECKS:
            self.term.line(
                _("… {n} more (`mpkit diagnose {bundle} --verbose` shows every check)").format(
                    n=len(loud) - SHOWN_CHECKS, bundle=self.session.out
                ),
                2,
                4,
            )

    @staticmethod
    def changes(before: Diagnosis, after: Diagnosis) -> list[dict[str, Any]]:
        """The checks whose state a step changed."""
        old = {c.id: c.state for c in before.checks}
        return [
            {"check": c.id, "from": old.get(c.id, "not-collected"), "to": c.state, "summary": str(c.summary)}
            for c in after.checks
            if old.get(c.id, "not-collected") != c.state
        ]

    def show_changes(
        self,
        before: tuple[Diagnosis, EvidenceTable],
        after: tuple[Diagnosis, EvidenceTable],
        changed: list[dict[str, Any]],
    ) -> None:
        """The checks a step changed (failures first; the rest counted) and the verdict before and after."""
        t = self.term
        t.line(_("What changed:"), 2)
        loud = [c for c in changed if c["to"] in ("fail", "warn", "could-not-parse")]
        loud.sort(key=lambda c: (c["to"] != "fail", c["check"]))
        for c in loud[:SHOWN_CHECKS]:
            t.check(c["to"], c["check"], f"{_(c['from'])} → {c['summary']}", indent=4)
        quiet = len(changed) - min(len(loud), SHOWN_CHECKS)
        if not changed:
            t.line(_("no check changed state"), 4)
        elif quiet and len(loud) <= SHOWN_CHECKS:
            t.line(_("{n} more checks changed, none to a failure").format(n=quiet), 4)
        elif quiet:
            t.line(_("… and {n} more").format(n=quiet), 4)
        t.line(
            _("verdict: {a} → {b}").format(a=self.verdict_label(*before), b=self.verdict_label(*after)), 4, 6
        )

    def verdict_label(self, d: Diagnosis, table: EvidenceTable) -> str:
        """The verdict in a few words: the cause and its confidence, or what the bundle cannot tell yet."""
        if self.healthy(table):
            return _("no failure (the start worked)")
        if self.nothing(table):
            return _("no failure recorded yet")
        return f"{d.root_cause.id} ({d.root_cause.confidence:.2f})"

    # -- steps --------------------------------------------------------------------------------
    def first_look(self) -> None:
        """The platform's catalog without the slow log queries: what the host shows in seconds."""
        srcs = [s for s in cat.sources_for(self.platform, self.targets) if s.file not in SLOW_SOURCES]
        commands: list[dict[str, Any]] = []
        t0 = utc_now()
        with self.term.progress(_("First look: {n} read-only sources").format(n=len(srcs))) as res:
            for src in srcs:
                for e in run_source(src, self.ctx, self.session.writer):
                    argv = e.get("argv") or ["read", e.get("path") or "?"]
                    commands.append(self._command(argv, e["exit_code"], e["state"], e["duration_s"]))
            self.root_failed = sorted(self.ctx.needs_sudo)  # what the collector could not read without root
            ok = sum(1 for c in commands if c["state"] == "ok")
            res.append(_("{ok} ok, {bad} did not work").format(ok=ok, bad=len(commands) - ok))
        self.step_record(
            "first-look",
            _("First look: {n} read-only sources").format(n=len(srcs)),
            commands=commands,
            answer="not asked (read-only)",
            ran=True,
            duration_s=round((utc_now() - t0).total_seconds(), 3),
            result=res[0] if res else "",
        )
        if self.root_failed:
            self.term.line(
                _("Not readable without root: {files}").format(files=", ".join(self.root_failed)), 2, 4
            )

    def pick_instance(self, d: Diagnosis, table: EvidenceTable) -> str | None:
        """The instance to look at: the diagnosis's, else the only one, else the one not running."""
        if d.instance:
            return d.instance
        inst = table.bundle.frame("instances")
        if inst.empty:
            return None
        names = list(dict.fromkeys(str(n) for n in inst["name"].dropna()))
        if len(names) == 1:
            return names[0]
        for states in STUCK_STATES:  # the instance stuck in a broken state, when only one is
            stuck = list(
                dict.fromkeys(str(r["name"]) for _, r in inst.iterrows() if str(r["state"]) in states)
            )
            if stuck:
                return stuck[0] if len(stuck) == 1 else None
        return None

    def _offers(self, table: EvidenceTable) -> list[tuple[plan.Offer, str | None]]:
        """Every step still worth offering, with why it can only be printed (None: runnable)."""
        out: list[tuple[plan.Offer, str | None]] = []
        for step in steps_for(self.platform):
            if step.id in self.offered:
                continue
            if step.starts_instance and (self.no_start or not self.instance):
                continue
            files: tuple[str, ...] = step.files
            if step.id == "root-sources":
                if self.root or not self.root_failed:
                    continue
                files = tuple(self.root_failed)
            if step.id == "dhcp-capture" and self.root:
                continue  # as root, every start attempt captures DHCP already
            if step.mode == "watch" and (not self.instance or self._state(table) not in BOOTING_STATES):
                continue  # no guest is booting: the leases would not move
            printed = _("needs root") if step.needs_root and not self.root else None
            offer = plan.value(step, table, self.model, files=files, start_timeout=self.timeout)
            out.append((offer, printed))
        ranked = plan.rank(o for o, _p in out)
        why = {o.step.id: p for o, p in out}
        return [(o, why[o.step.id]) for o in ranked]

    def _title(self, step: InfoStep, files: Sequence[str] = ()) -> str:
        return _(step.title).format(
            instance=self.instance or "?",
            bridge=self.targets.bridge or "?",
            seconds=step.seconds,
            files=", ".join(files),
        )

    def _step_commands(self, offer: plan.Offer, *, sudo: bool) -> list[str]:
        """What ``offer`` runs, as the person would type it."""
        step = offer.step
        out: list[str] = []
        if step.mode == "sources":
            srcs = {s.file: s for s in cat.sources_for(self.platform, self.targets)}
            for f in offer.files:
                src = srcs.get(f)
                if src is None:
                    continue
                if src.path is not None:
                    out.append(lad.shown(("cat", cat.fill(src.path, self.targets)), sudo=sudo))
                else:
                    out.extend(lad.shown(self.ctx.expand(argv), sudo=sudo) for argv in src.commands)
            return out
        snaps = cat.snapshot_sources(self.platform, self.targets)
        if step.mode == "attempt":
            out.append(lad.shown((*self.targets.multipass, "start", self.instance or "NAME")))
        names = ", ".join(s.file for s in snaps)
        out.append(_("+ snapshots of {files} every {s:g} s").format(files=names, s=self.interval))
        cap = capture_argv(self.ctx)
        if step.id == "dhcp-capture" and cap is None and self.targets.bridge:
            cap = ("tcpdump", "-n", "-l", "-c", "2000", "-i", self.targets.bridge, "udp port 67 and port 68")
        if cap is not None:
            out.append("+ " + lad.shown(cap, sudo=sudo))
        return out

    def learn(self, d: Diagnosis, table: EvidenceTable) -> tuple[Diagnosis, EvidenceTable]:
        """Offer read-only steps, best information per cost first, until the verdict is settled."""
        n = 0
        told_no_start = False
        while not self.settled(d, table):
            if self.no_start and not told_no_start and self.nothing(table):
                self.term.rule(_("--no-start: no step that starts the instance will be offered."))
                told_no_start = True
            offers = self._offers(table)
            if not offers:
                self.term.rule(_("Nothing left to learn: no read-only step would change the verdict."))
                break
            offer, printed = offers[0]
            self.offered.add(offer.step.id)
            n += 1
            self.during = f"learn step {n}"
            title = self._title(offer.step, offer.files)
            self.term.rule(_("Step {n} · {title}").format(n=n, title=title))
            self.term.line(_("why: {why}").format(why=_(offer.step.why)), 2, 7)
            cmds = self._step_commands(offer, sudo=printed is not None)
            for i, c in enumerate(cmds):
                self.term.line(("runs: " if i == 0 else "      ") + c, 2, 8)
            self.term.line(
                _("worth: {bits:.2f} bits for ~{cost:.0f} s").format(bits=offer.gain, cost=offer.cost_s), 2, 7
            )
            if printed is not None:
                self.term.line(
                    _(
                        "This needs root and mpkit does not escalate by itself: run the commands above "
                        "(or the whole session: sudo mpkit doctor), then diagnose again."
                    ),
                    2,
                    2,
                )
                self.step_record(
                    "learn",
                    title,
                    printed=cmds,
                    answer=f"not asked ({printed})",
                    ran=False,
                    gain_bits=offer.gain,
                    cost_s=offer.cost_s,
                    result="printed",
                )
                continue
            answer = self.term.ask(_("Run it?"), auto=YES if self.yes else None)
            shown_answer = "yes (--yes)" if self.yes else answer
            if answer == QUIT:
                self.step_record("learn", title, printed=cmds, answer="quit", ran=False, result="stopped")
                raise _Stop
            if answer != YES:
                self.step_record(
                    "learn",
                    title,
                    printed=cmds,
                    answer=shown_answer if answer != EOF else "no answer (end of input)",
                    ran=False,
                    result="skipped",
                )
                continue
            t0 = utc_now()
            commands, result = self.run_info(offer)
            before = (d, table)
            d, table = self.diagnose()
            changed = self.changes(before[0], d)
            self.step_record(
                "learn",
                title,
                commands=commands,
                answer=shown_answer,
                ran=True,
                duration_s=round((utc_now() - t0).total_seconds(), 3),
                gain_bits=offer.gain,
                cost_s=offer.cost_s,
                result=result,
            )
            self.show_changes(before, (d, table), changed)
            self.show_verdict(d, table, f"after step {n}", changed)
        return d, table

    def run_info(self, offer: plan.Offer) -> tuple[list[dict[str, Any]], str]:
        """Run one information step; returns its commands and a one-word result."""
        step = offer.step
        if step.mode == "attempt":
            rec = self.start_attempt(_("start {instance}").format(instance=self.instance))
            return [rec["command"], *self.after_start()], rec["outcome"]
        if step.mode == "watch":
            with self.term.progress(_("snapshots for {s:g} s").format(s=step.seconds)) as res:
                before = len(self.session.manifest.doc["artifacts"])
                watch_snapshots(self.session, step.seconds, self.interval)
                taken = self.session.manifest.doc["artifacts"][before:]
                res.append(_("{n} snapshot files").format(n=len(taken)))
            cmds = [
                self._command(
                    e.get("argv") or ["read", e.get("path") or "?"],
                    e["exit_code"],
                    e["state"],
                    e["duration_s"],
                )
                for e in taken
            ]
            return cmds, res[0]
        srcs = {s.file: s for s in cat.sources_for(self.platform, self.targets)}
        commands: list[dict[str, Any]] = []
        with self.term.progress(", ".join(offer.files)) as res:
            for f in offer.files:
                if f in srcs:
                    for e in run_source(srcs[f], self.ctx, self.session.writer):
                        argv = e.get("argv") or ["read", e.get("path") or "?"]
                        commands.append(self._command(argv, e["exit_code"], e["state"], e["duration_s"]))
            states = sorted({c["state"] for c in commands}) or ["-"]
            res.append("/".join(states))
        return commands, res[0]

    def after_start(self) -> list[dict[str, Any]]:
        """Read the daemon's log and the instance's state again: what the attempt left behind."""
        srcs = [s for s in cat.sources_for(self.platform, self.targets) if s.file in AFTER_START]
        if self.root_failed:
            srcs = [s for s in srcs if s.file not in self.root_failed]  # still unreadable
        commands: list[dict[str, Any]] = []
        with self.term.progress(_("the daemon's log and the instance's state, again")) as res:
            for src in srcs:
                for e in run_source(src, self.ctx, self.session.writer):
                    argv = e.get("argv") or ["read", e.get("path") or "?"]
                    commands.append(self._command(argv, e["exit_code"], e["state"], e["duration_s"]))
            res.append(_("{n} sources").format(n=len(srcs)))
        return commands

    def start_attempt(self, label: str) -> dict[str, Any]:
        """A timed start of the instance with lease/ARP snapshots, added to the bundle."""
        assert self.instance is not None
        self.attempts += 1
        snaps = cat.snapshot_sources(self.platform, self.targets)
        with self.term.progress(label) as res:
            rec = run_attempt(
                self.session,
                self.instance,
                self.attempts,
                timeout=self.timeout,
                interval=self.interval,
                stop_first=False,
                snapshots=snaps,
            )
            res.append(_("{outcome}, exit {code}").format(outcome=rec["outcome"], code=rec["exit_code"]))
        state = "ok" if rec["outcome"] == "ok" else ("timed-out" if rec.get("timed_out") else "failed")
        rec = dict(rec)
        rec["command"] = self._command(rec["command"], rec["exit_code"], state, rec["duration_s"])
        return rec

    # -- the ladder ---------------------------------------------------------------------------
    def facts(self, table: EvidenceTable) -> dict[str, Any]:
        """What the remediation templates are filled with."""
        lease = self.targets.lease_file or ""
        return {
            "instance": self.instance or "NAME",
            "guest_ip": table.context.entity.get("guest_ip") or "<guest-ip>",
            "bridge": self.targets.bridge or "the bridge",
            "lease_file": lease or "the lease file",
            "network_dir": os.path.dirname(lease) if lease else "the network directory",
            "instances_dir": INSTANCES_DIR.get(self.platform or "", "the instances directory"),
        }

    def how(self, rung: lad.Rung, table: EvidenceTable) -> tuple[list[tuple[str, ...]] | None, str | None]:
        """The commands the doctor would run for ``rung`` (None when it only prints it) and why not."""
        if rung.destructive:
            return None, _("can lose data: never run by mpkit")
        if rung.action is None:
            return None, {
                "config": _("changes the host's settings: yours to do"),
                "upgrade": _("installs software: yours to do"),
                "firewall": _("changes firewall rules: mpkit never does"),
                "manual": _("needs your hands"),
            }.get(rung.kind, _("printed only"))
        if not self.instance:
            return None, _("no instance named")
        if self.no_start and rung.action in ("start", "stop-start"):
            return None, _("starts the instance (--no-start)")
        if rung.action in lad.ROOT_ACTIONS and not self.root:
            return None, _("needs root, and mpkit does not escalate by itself")
        if rung.action == "stop-start" and self._state(table) == "Suspended":
            return None, _("the instance is suspended: a forced stop discards its suspended session")
        guest = table.context.entity.get("guest_ip")
        cmds = lad.action_commands(rung.action, self.targets, self.instance, guest)
        if cmds is None:
            return None, _("cannot be run here (no command for it on this host)")
        return cmds, None

    def _state(self, table: EvidenceTable) -> str | None:
        inst = table.bundle.frame("instances")
        rows = inst[inst["name"] == self.instance] if len(inst) else inst
        return str(rows.iloc[-1]["state"]) if len(rows) else None

    def _printed_command(self, rung: lad.Rung) -> str | None:
        if rung.action == "restart-daemon" and self.targets.daemon_restart:
            return lad.shown(self.targets.daemon_restart, sudo=not self.root)
        return rung.command

    def fix(self, d: Diagnosis, table: EvidenceTable) -> str:
        """Walk the remediation ladder; returns ``fixed`` or ``not-fixed``."""
        rungs = lad.build(d, table, self.facts(table), self.platform)
        t = self.term
        if not rungs:
            t.rule(_("No remediation is known for this verdict."))
            return "not-fixed"
        plans = [self.how(r, table) for r in rungs]
        t.rule(_("What to do, least destructive first (chance it fixes · cost)"))
        for i, (r, (cmds, _why)) in enumerate(zip(rungs, plans, strict=True), 1):
            tag = _("runnable") if cmds is not None else (_("never run") if r.destructive else _("printed"))
            t.line(f"{i}. [{r.kind}, {tag}] {localize(r.text)} ({r.p_fix:.0%} · ~{_cost(r.cost_s)})", 2, 5)
        self.transcript.write(
            "ladder",
            rungs=[
                {
                    "n": i,
                    "text": str(r.text),
                    "command": (
                        " && ".join(lad.shown(c) for c in cmds) if cmds else self._printed_command(r)
                    ),
                    "kind": r.kind,
                    "action": r.action,
                    "p_fix": r.p_fix,
                    "cost_s": r.cost_s,
                    "causes": list(r.causes),
                    "destructive": r.destructive,
                    "warning": str(r.warning) if r.warning else None,
                    "backup": r.backup,
                    "detail": list(r.detail),
                    "runnable": cmds is not None,
                    "how": why,
                }
                for i, (r, (cmds, why)) in enumerate(zip(rungs, plans, strict=True), 1)
            ],
        )
        for i, (r, (cmds, why)) in enumerate(zip(rungs, plans, strict=True), 1):
            self.during = f"fix step {i}"
            t.rule(_("Fix {n} · {text}").format(n=i, text=localize(r.text)))
            for line in r.detail:
                t.line("- " + line, 2, 4)
            if r.destructive:
                self.show_destructive(r)
                self.step_record(
                    "fix",
                    str(r.text),
                    printed=[c for c in (r.command, r.backup) if c],
                    answer="not asked (can lose data: never run)",
                    ran=False,
                    result="printed",
                )
                continue
            if cmds is None:
                cmd = self._printed_command(r)
                if cmd:
                    t.line(_("command: {cmd}").format(cmd=cmd), 2, 11)
                t.line(_("Not run by mpkit: {why}.").format(why=why), 2, 4)
                if self.no_start or not self.instance:
                    self.step_record(
                        "fix",
                        str(r.text),
                        printed=[cmd] if cmd else [],
                        answer="not asked",
                        ran=False,
                        result="printed",
                    )
                    continue
                answer = t.ask(_("Done it yourself? Check with a start now?"))
                self.step_record(
                    "fix",
                    str(r.text),
                    printed=[cmd] if cmd else [],
                    answer=answer if answer != EOF else "no answer (end of input)",
                    ran=False,
                    result="printed",
                )
                if answer == QUIT:
                    raise _Stop
                if answer == YES and self.verify(r):
                    return "fixed"
                continue
            shown = [lad.shown(c) for c in cmds]
            runs = ", then ".join(shown) if shown else ""
            t.line(
                (
                    _("runs: {cmds}, then starts {instance} to check").format(
                        cmds=runs, instance=self.instance
                    )
                    if runs
                    else _("runs: {cmd}").format(
                        cmd=lad.shown((*self.targets.multipass, "start", self.instance or ""))
                    )
                ),
                2,
                8,
            )
            answer = t.ask(_("Run it?"))
            if answer != YES:
                self.step_record(
                    "fix",
                    str(r.text),
                    printed=shown,
                    answer=answer if answer != EOF else "no answer (end of input)",
                    ran=False,
                    result="stopped" if answer == QUIT else "skipped",
                )
                if answer == QUIT:
                    raise _Stop
                continue
            t0 = utc_now()
            commands: list[dict[str, Any]] = []
            failed = False
            for argv in cmds:
                refused = lad.refusal(argv)
                if refused is not None:  # never reached by the shipped data; a guard for edits to it
                    t.line(_("refused: {cmd} ({why})").format(cmd=lad.shown(argv), why=refused), 2, 4)
                    commands.append({"command": lad.shown(argv), "state": "refused", "exit_code": None})
                    failed = True
                    break
                with t.progress(lad.shown(argv)) as res:
                    out = self.ctx.runner.run(argv, max(self.timeout, 120.0), max_bytes=1_000_000)
                    res.append(f"{out.state}, exit {out.exit_code}")
                commands.append(self._command(argv, out.exit_code, out.state, out.duration_s))
                if not out.ok:
                    failed = True
                    err = (out.error or out.stderr.decode("utf-8", "replace").strip())[-200:]
                    t.line(_("it did not work: {err}").format(err=err), 4, 6)
                    break
            self.step_record(
                "fix",
                str(r.text),
                commands=commands,
                answer="yes",
                ran=True,
                duration_s=round((utc_now() - t0).total_seconds(), 3),
                result="failed" if failed else "done",
            )
            if failed:
                continue
            if self.no_start:
                t.line(_("--no-start: start {instance} yourself to check.").format(instance=self.instance), 2)
                continue
            if self.verify(r):
                return "fixed"
        return "not-fixed"

    def show_destructive(self, r: lad.Rung) -> None:
        """A step that can lose data: what it does, what is lost, what to back up first. Never run."""
        t = self.term
        if r.command:
            t.line(_("command: {cmd}").format(cmd=r.command), 2, 6)
        t.line(
            _("WARNING: {warning}").format(
                warning=localize(r.warning) if r.warning else _("it can lose data")
            ),
            2,
            4,
        )
        if r.backup:
            t.line(_("back up first: {backup}").format(backup=r.backup), 2, 4)
        t.line(_("mpkit never runs this step; do it yourself only after the backup."), 2, 4)

    def verify(self, r: lad.Rung) -> bool:
        """A timed start: did the step fix it?"""
        rec = self.start_attempt(_("start {instance} (check)").format(instance=self.instance))
        ok = rec["outcome"] == "ok"
        self.step_record(
            "verify",
            _("Check: start {instance}").format(instance=self.instance),
            commands=[rec["command"]],
            answer="part of the step",
            ran=True,
            duration_s=rec["command"]["duration_s"],
            result=rec["outcome"],
        )
        if ok:
            self.fixed_by = str(r.text)
            self.term.line(_("Fixed: {instance} started.").format(instance=self.instance), 2)
        else:
            self.term.line(_("Still failing ({outcome}); next step.").format(outcome=rec["outcome"]), 2)
        return ok

    # -- the session --------------------------------------------------------------------------
    def run(self) -> DoctorResult:
        """The whole session; Ctrl-C or ``q`` end it with a valid bundle."""
        t = self.term
        out = self.session.out
        self.transcript.write(
            "session",
            instance=self.instance,
            platform=self.platform,
            root=self.root,
            options=self.options,
            bundle=str(out),
            targets={k: v for k, v in vars(self.targets).items() if v not in (None, "")},
        )
        self.session.manifest.set(
            "doctor", {"transcript": TRANSCRIPT, "report": REPORT, "instance": self.instance}
        )
        t.line(
            _("mpkit doctor · {platform} · {who}").format(
                platform=self.platform, who=_("running as root") if self.root else _("not root")
            )
        )
        t.line(_("Bundle: {out}").format(out=out), 0, 2)
        outcome = "not-fixed"
        d: Diagnosis | None = None
        interrupted = False
        failure: Exception | None = None
        try:
            try:
                self.first_look()
                d, table = self.diagnose()
                if self.instance is None:
                    self.instance = self.pick_instance(d, table)
                    if self.instance is not None and self.instance != d.instance:
                        d, table = self.diagnose()  # the evidence of the instance found
                t.line(_("Instance: {name}").format(name=self.instance or _("(none found; name it)")), 2)
                self.show_checks(d)
                self.show_verdict(d, table, "first look")
                d, table = self.learn(d, table)
                self.during = "fix"
                if self.healthy(table):
                    outcome = "healthy"
                    t.rule(_("Nothing to fix: {instance} starts.").format(instance=self.instance or "?"))
                elif self.nothing(table):
                    t.rule(
                        _(
                            "No start attempt, so mpkit cannot tell whether {instance} fails; "
                            "run without --no-start, or `mpkit probe {instance}`."
                        ).format(instance=self.instance or "NAME")
                    )
                else:
                    outcome = self.fix(d, table)
            except _Stop:
                outcome = "stopped"
                t.rule(_("Stopped here, as you asked."))
        except KeyboardInterrupt:
            outcome, interrupted = "interrupted", True
            t.write("\n")
            t.line(_("Interrupted during {what}; the bundle so far is kept.").format(what=self.during))
        except Exception as exc:  # closed like an interruption, then raised: the bundle stays valid
            outcome, interrupted, failure = "error", True, exc
        status = EXIT_STATUS[outcome]
        close_session(self.session, interrupted=interrupted)
        self.session.manifest.set(
            "doctor",
            {
                "transcript": TRANSCRIPT,
                "report": REPORT,
                "instance": self.instance,
                "outcome": outcome,
                "exit_status": status,
            },
        )
        self.transcript.write(
            "end",
            instance=self.instance,
            outcome=outcome,
            exit_status=status,
            during=self.during if interrupted else None,
            error=f"{type(failure).__name__}: {failure}" if failure is not None else None,
            fixed_by=self.fixed_by,
        )
        report: Path | None = write_report(out)
        if self.bundle is not None:
            self.bundle.close()
        if failure is not None:
            raise failure
        t.rule(_("Bundle: {out}").format(out=out))
        t.line(_("transcript: {path}").format(path=out / TRANSCRIPT), 2, 4)
        t.line(_("report: {path}").format(path=report), 2, 4)
        t.line(_("Result: {outcome} (exit status {status})").format(outcome=outcome, status=status))
        return DoctorResult(
            outcome,
            status,
            out,
            out / TRANSCRIPT,
            report,
            self.instance,
            d,
            self.fixed_by,
            [r for r in self.transcript.records if r.get("event") == "step"],
        )


def doctor(
    instance: str | None = None,
    *,
    yes: bool = False,
    no_start: bool = False,
    out_dir: str | Path | None = None,
    since: str | float = "2h",
    timeout: float = 330.0,
    interval: float = 1.0,
    platform: str | None = None,
    runner: Runner | None = None,
    targets: cat.Targets | None = None,
    answers: TextIO | None = None,
    output: TextIO | None = None,
    max_log_bytes: int = 50_000_000,
) -> DoctorResult:
    """Run a guided troubleshooting session for ``instance`` on this host (or ``runner``'s recordings).

    ``yes`` agrees to every read-only information step (a timed start attempt
    included, unless ``no_start``); remediation steps always ask.  Answers are
    read from ``answers`` (default stdin), the session is written to ``output``
    (default stdout).  The bundle goes to ``out_dir`` (default
    ``./mpkit-doctor-<UTC time>``).  Ctrl-C ends the session with a valid
    bundle: the result's outcome is then ``interrupted``.
    """
    term = Terminal(output or sys.stdout, answers or sys.stdin)
    return Doctor(
        instance,
        yes=yes,
        no_start=no_start,
        out_dir=out_dir,
        since=since,
        timeout=timeout,
        interval=interval,
        platform=platform,
        runner=runner,
        targets=targets,
        terminal=term,
        max_log_bytes=max_log_bytes,
    ).run()
