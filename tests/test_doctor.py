"""``mpkit doctor``: the ladder's data and order, the step planner, the terminal, and the real lab.

The lab tests (marked ``root`` and ``slow``) run a whole session against the
network-namespace lab of ``tests/lab/`` with answers scripted on a text
stream: one test per scenario, then every answer sequence replayed on what
the live session recorded, checking that nothing destructive is ever run.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import mpkit
from lab.doctor_replay import RecordingRunner, SequenceReplay, is_destructive
from lab.fixtures import require_lab
from lab.netlab import INSTANCE, SCENARIOS, Lab
from mpkit.diagnose import causes
from mpkit.diagnose.bayes import load_model
from mpkit.diagnose.engine import evidence
from mpkit.diagnose.model import Candidate, Diagnosis, RootCause
from mpkit.doctor import EXIT_FIXED, EXIT_NOT_FIXED, doctor, load_transcript, plan
from mpkit.doctor import ladder as lad
from mpkit.doctor.steps import STEPS, InfoStep
from mpkit.doctor.term import EOF, NO, QUIT, YES, Terminal

# --- the ladder's data ----------------------------------------------------------------------------


def test_doctor_every_remediation_step_says_how_the_doctor_may_treat_it():
    for cid, c in causes().items():
        for step in c["remediation"]:
            where = (cid, step["text"])
            assert step["kind"] in lad.KINDS, where
            assert 0.0 <= step.get("p_fix", 0.0) <= 1.0, where
            if step["kind"] != "read-only":
                assert step["cost_s"] > 0, where
            assert (step["kind"] == "destructive") == bool(step.get("destructive")), where
            if step["kind"] == "destructive":
                assert step.get("warning") and step.get("backup"), where
            if "action" in step:
                assert step["action"] in lad.ACTIONS and step["kind"] in lad.RUNNABLE_KINDS, where
            cmd = step.get("command") or ""
            if step["kind"] in lad.RUNNABLE_KINDS and step.get("action"):
                assert not re.search(r"\b(delete|purge|rm|nft|ufw|firewall-cmd|socketfilterfw)\b", cmd), where


def _diagnosis(weights: dict[str, float], instance: str = INSTANCE) -> Diagnosis:
    top = max(weights, key=lambda k: weights[k])
    rc = RootCause(
        id=top,
        confidence=weights[top],
        title=causes()[top]["title"],
        summary="",
        evidence=(),
        remediation=(),
        references=(),
    )
    cands = tuple(Candidate(h, p) for h, p in sorted(weights.items(), key=lambda kv: -kv[1]))
    return Diagnosis(rc, cands, causes()[top]["stage"], instance, ())


@pytest.fixture(scope="module")
def tables() -> dict[str, Any]:
    return {
        "linux": evidence(mpkit.sample("linux-dhcp-firewalled")),
        "macos": evidence(mpkit.sample("firewall-blocks-bootpd")),
    }


FACTS = {
    "instance": INSTANCE,
    "guest_ip": "10.0.0.7",
    "bridge": "mpqemubr0",
    "lease_file": "/x/leases",
    "network_dir": "/x",
    "instances_dir": "/v",
}


@pytest.mark.parametrize("platform", ["linux", "macos", "windows"])
def test_doctor_every_ladder_runs_only_safe_commands(tables, platform):
    """For every cause: destructive steps carry no action, and what an action runs is never destructive."""
    table = tables.get(platform, tables["linux"])
    targets = mpkit.collect.Targets().resolved(platform)
    for cid in causes():
        rungs = lad.build(_diagnosis({cid: 0.9}), table, FACTS, platform)
        for r in rungs:
            if r.destructive:
                assert r.action is None and r.warning and r.backup, (cid, r.text)
            if r.action is None:
                continue
            for argv in lad.action_commands(r.action, targets, INSTANCE, "10.0.0.7") or []:
                assert is_destructive(argv) is None, (cid, argv)
                assert lad.refusal(argv) is None, (cid, argv)
        # least destructive first, then by chance of fixing per second of cost
        keys = [(r.destructive, -r.score) for r in rungs]
        assert keys == sorted(keys), cid
        assert not [r for r in rungs if r.kind == "read-only"], cid


def test_doctor_ladder_adds_up_a_step_shared_by_causes(tables):
    d = _diagnosis({"dhcp-server-not-running": 0.6, "daemon-state-inconsistent": 0.3, "unknown": 0.1})
    rungs = lad.build(d, tables["linux"], FACTS, "linux")
    restart = [r for r in rungs if r.action == "restart-daemon"]
    assert len(restart) == 1  # one rung, whichever causes list it
    assert restart[0].p_fix == pytest.approx(0.6 * 0.75 + 0.3 * 0.6)
    assert set(restart[0].causes) == {"dhcp-server-not-running", "daemon-state-inconsistent"}
    stop = next(r for r in rungs if r.action == "stop-start")
    assert stop.p_fix == pytest.approx(0.3 * 0.5 + 0.1 * 0.2)
    assert rungs[0] is restart[0] and rungs[-1].destructive
    # a cause below the floor adds nothing
    d = _diagnosis({"dhcp-server-not-running": 0.97, "image-corrupt": 0.03})
    assert not [r for r in lad.build(d, tables["linux"], FACTS, "linux") if "image-corrupt" in r.causes]


def test_doctor_ladder_keeps_the_firewall_tool_the_host_has(tables):
    rungs = lad.build(_diagnosis({"host-firewall-blocks-dhcp": 0.9}), tables["linux"], FACTS, "linux")
    texts = [str(r.text) for r in rungs]
    assert any(t.startswith("nftables") for t in texts)
    assert not any(t.startswith(("ufw", "firewalld")) for t in texts)  # the sample host runs nftables only
    nft = next(r for r in rungs if str(r.text).startswith("nftables"))
    assert nft.kind == "firewall" and nft.action is None
    assert any("nft delete rule inet filter input handle" in line for line in nft.detail)


def test_doctor_refusal_guard():
    for argv in (
        ("sudo", "snap", "restart", "multipass"),
        ("nft", "delete", "table", "inet", "x"),
        ("/usr/libexec/ApplicationFirewall/socketfilterfw", "--add", "/usr/libexec/bootpd"),
        ("multipass", "delete", "primary"),
        ("multipass", "purge"),
        ("rm", "/var/db/dhcpd_leases"),
        (),
    ):
        assert lad.refusal(argv), argv
    for argv in (
        ("multipass", "start", "x"),
        ("multipass", "stop", "--force", "x"),
        ("snap", "restart", "mp"),
    ):
        assert lad.refusal(argv) is None, argv


# --- the planner ----------------------------------------------------------------------------------


def _without(tmp: Path, sample: str, *names: str) -> Path:
    out = tmp / sample
    shutil.copytree(mpkit.sample(sample), out)
    for n in names:
        p = out / n
        shutil.rmtree(p) if p.is_dir() else p.unlink()
    return out


def test_doctor_plan_values_what_a_step_can_still_tell(tmp_path):
    model = load_model()
    bare = evidence(
        _without(
            tmp_path,
            "linux-dhcp-firewalled",
            "attempts.jsonl",
            "client.txt",
            "snapshots",
            "host-firewall.txt",
        )
    )
    start = next(s for s in STEPS if s.id == "start-attempt")
    root = next(s for s in STEPS if s.id == "root-sources")
    o_start = plan.value(start, bare, model, start_timeout=60)
    assert o_start.cost_s == start.cost_s + 60
    o_fw = plan.value(root, bare, model, files=("host-firewall.txt",))
    assert o_fw.checks == ("firewall.host",)
    single = model.expected_gain("firewall.host", bare.observations(), "linux")
    assert o_fw.gain == pytest.approx(single, abs=1e-3) and o_fw.gain > plan.MIN_GAIN
    # the same step on the full sample: the firewall was read, there is nothing left for it to tell
    full = evidence(mpkit.sample("linux-dhcp-firewalled"))
    assert plan.value(root, full, model, files=("host-firewall.txt",)).gain == 0.0
    # joint gain over several checks is at least the best single one
    checks = ("firewall.host", "lease.for-instance", "arp.for-instance")
    best = max(model.expected_gain(c, bare.observations(), "linux") for c in checks)
    assert plan.joint_gain(model, bare.observations(), checks, "linux") >= best - 1e-9


def test_doctor_plan_counts_the_unknown_outcome_of_a_first_start(tmp_path):
    model = load_model()
    start = next(s for s in STEPS if s.id == "start-attempt")
    no_attempt = evidence(
        _without(
            tmp_path, "linux-dhcp-firewalled", "attempts.jsonl", "client.txt", "snapshots", "journal.txt"
        )
    )
    assert not no_attempt.attempt
    with_attempt = evidence(mpkit.sample("linux-dhcp-firewalled"))
    g0 = plan.value(start, no_attempt, model).gain
    assert g0 >= plan.OUTCOME_BITS  # does the start fail at all? one bit, on top of what it shows
    assert plan.value(start, with_attempt, model).gain < plan.OUTCOME_BITS


def test_doctor_plan_ranks_by_bits_per_second():
    a = InfoStep("a", "a", "a", "sources", cost_s=10)
    b = InfoStep("b", "b", "b", "sources", cost_s=100)
    offers = [plan.Offer(b, (), 1.0, 100.0), plan.Offer(a, (), 0.5, 10.0), plan.Offer(a, (), 0.001, 1.0)]
    ranked = plan.rank(offers)
    assert [o.step.id for o in ranked] == ["a", "b"]  # 0.05 bit/s before 0.01 bit/s; too little left out


# --- the terminal ---------------------------------------------------------------------------------


def test_doctor_terminal_wraps_to_80_columns_and_reads_answers():
    out = io.StringIO()
    t = Terminal(out, io.StringIO("maybe\ny\n\nq\nN\n"))
    t.line("word " * 60, 2, 4)
    t.check("fail", "dhcp.server-running", "dnsmasq stopped: " + "x" * 150)
    t.pair("left", "right")
    assert max(len(ln) for ln in out.getvalue().splitlines()) <= 80
    assert [t.ask("Run it?") for _ in range(5)] == [YES, NO, QUIT, NO, EOF]
    assert "Please answer y (yes), n (no) or q (stop here)." in out.getvalue()
    assert t.ask("Run it?", auto=YES) == YES and out.getvalue().endswith("[y/n/q] y  (--yes)\n")


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_doctor_terminal_progress_line_on_a_terminal_and_off_it():
    live = _Tty()
    t = Terminal(live, io.StringIO())
    with t.progress("a step whose label is long enough to be cut to fit one line " * 2) as res:
        time.sleep(0.7)  # one tick of the elapsed-time counter
        res.append("ok, exit 0")
    text = live.getvalue()
    assert "\r" in text and "s" in text
    final = text.rsplit("\r", 1)[-1]
    assert final.rstrip("\n").endswith(" s") and "ok, exit 0" in final
    assert max(len(seg) for seg in re.split(r"[\r\n]", text)) <= 80
    piped = io.StringIO()
    with Terminal(piped, io.StringIO()).progress("multipass start primary") as res:
        res.append("timeout, exit 2")
    assert piped.getvalue().startswith("  … multipass start primary\n    → timeout, exit 2, 0.")
    # a step stopped by an exception says so
    piped = io.StringIO()
    with pytest.raises(KeyboardInterrupt), Terminal(piped, io.StringIO()).progress("x"):
        raise KeyboardInterrupt
    assert "→ stopped, " in piped.getvalue()


# --- the real lab ---------------------------------------------------------------------------------

#: what the person answers in each scenario, by the step asked about (first match; otherwise no)
ANSWERS: dict[str, list[tuple[str, str]]] = {
    "healthy": [(r"^Start primary", "y")],
    "dnsmasq-down": [(r"^Start primary", "y"), (r"^Restart the Multipass daemon", "y")],
    "nft-drop": [(r"^Start primary", "y"), (r"^Stop the instance hard", "y")],
    "pool-exhausted": [(r"^Start primary", "y")],
    "bridge-down": [(r"^Start primary", "y"), (r"^Restart the Multipass daemon", "y")],
}


class Person(io.StringIO):
    """Answers typed on standard input, each chosen by the step the question is about.

    The step is the last ``Step n · …`` / ``Fix n · …`` heading the session
    wrote to ``out``; the first rule whose pattern matches its title gives the
    answer, otherwise ``n``.  ``given`` keeps (title, answer) pairs.
    """

    def __init__(self, out: io.StringIO, rules: list[tuple[str, str]]) -> None:
        super().__init__("")
        self.out, self.rules = out, rules
        self.given: list[tuple[str, str]] = []

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        heads = re.findall(r"^(?:Step|Fix) \d+ · (.+)$", self.out.getvalue(), re.M)
        title = heads[-1] if heads else ""
        answer = next((a for pat, a in self.rules if re.search(pat, title)), "n")
        self.given.append((title, answer))
        return answer + "\n"


@dataclass
class DoctorRun:
    """One live session in the lab, and what the lab looked like around it."""

    scenario: str
    result: Any
    text: str
    calls: list[tuple[str, ...]]
    recordings: dict[str, dict[str, Any]]
    targets: Any
    lab: dict[str, Any] = field(default_factory=dict)
    leftovers: list[str] = field(default_factory=list)


def _nft_table(table: str) -> str:
    out = subprocess.run(["nft", "list", "table", "inet", table], capture_output=True, text=True).stdout
    return re.sub(r"counter packets \d+ bytes \d+", "counter", out)


@pytest.fixture(scope="module")
def lab_doctor(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], DoctorRun]]:
    """``lab_doctor(scenario)``: build the lab, run one scripted session, tear the lab down; cached."""
    cache: dict[str, DoctorRun] = {}
    old_path = os.environ.get("PATH", "")

    def run(scenario: str) -> DoctorRun:
        require_lab()
        if scenario in cache:
            return cache[scenario]
        base = tmp_path_factory.mktemp(f"doctor-{scenario}")
        lab = Lab(base / "lab", scenario, timeout_s=6.0)
        runner = RecordingRunner()
        facts: dict[str, Any] = {}
        out = io.StringIO()
        try:
            with lab:
                os.environ["PATH"] = f"{lab.bin}{os.pathsep}{old_path}"
                facts["nft_before"] = _nft_table(lab.nft_table)
                facts["leases_before"] = lab.lease_file.read_text() if lab.lease_file.exists() else ""
                res = doctor(
                    INSTANCE,
                    out_dir=base / "bundle",
                    platform="linux",
                    runner=runner,
                    targets=lab.targets(),
                    since="15m",
                    timeout=30,
                    interval=1.0,
                    answers=Person(out, ANSWERS[scenario]),
                    output=out,
                )
                facts["nft_after"] = _nft_table(lab.nft_table)
                facts["leases_after"] = lab.lease_file.read_text() if lab.lease_file.exists() else ""
                link = subprocess.run(
                    ["ip", "-o", "link", "show", lab.bridge], capture_output=True, text=True
                )
                facts["bridge_up"] = ",UP" in link.stdout or "<UP" in link.stdout
                pid = lab._dnsmasq_pid()
                facts["dnsmasq_running"] = pid is not None and os.path.exists(f"/proc/{pid}")
                facts["bridge"], facts["nft_table"], facts["mac"] = lab.bridge, lab.nft_table, lab.mac
                targets = lab.targets()
        finally:
            os.environ["PATH"] = old_path
        cache[scenario] = DoctorRun(
            scenario, res, out.getvalue(), runner.calls, runner.recordings, targets, facts, lab.leftovers()
        )
        return cache[scenario]

    yield run
    os.environ["PATH"] = old_path


def _common(run: DoctorRun) -> list[dict[str, Any]]:
    assert run.leftovers == [], f"lab not torn down: {run.leftovers}"
    bad = [(c, is_destructive(c)) for c in run.calls if is_destructive(c)]
    assert not bad, bad
    assert not [c for c in run.calls if c[0] in ("sudo", "su", "doas")]
    assert not [c for c in run.calls if c[0] == "nft" and c[1:2] != ("list",)]  # rules are only listed
    assert max(len(ln) for ln in run.text.splitlines() if str(run.result.bundle) not in ln) <= 80
    recs = load_transcript(run.result.bundle)
    assert recs[0]["event"] == "session" and recs[0]["root"] is True
    end = recs[-1]
    assert end["event"] == "end" and end["outcome"] == run.result.outcome
    assert end["exit_status"] == run.result.exit_status
    b = mpkit.load_bundle(run.result.bundle)  # the bundle stays readable
    assert mpkit.diagnose(b).failed_stage
    return recs


def flat(run: DoctorRun) -> str:
    """The session's output with the 80-column wrapping undone."""
    return " ".join(run.text.split())


def _verdicts(recs: list[dict[str, Any]]) -> list[str]:
    return [r["cause"] for r in recs if r["event"] == "verdict"]


def _phase(recs: list[dict[str, Any]], phase: str) -> list[dict[str, Any]]:
    return [r for r in recs if r["event"] == "step" and r["phase"] == phase]


@pytest.mark.root
@pytest.mark.slow
def test_doctor_lab_healthy_says_so_and_changes_nothing(lab_doctor):
    run = lab_doctor("healthy")
    recs = _common(run)
    assert run.result.outcome == "healthy" and run.result.exit_status == EXIT_FIXED
    assert "Verdict: no failure found, the start worked" in flat(run)
    assert "Nothing to fix: primary starts." in flat(run)
    assert _phase(recs, "fix") == [] and _phase(recs, "verify") == []
    learn = _phase(recs, "learn")
    assert len(learn) == 1 and learn[0]["result"] == "ok" and learn[0]["answer"] == "yes"
    multipass = [c for c in run.calls if c[0].endswith("/multipass") and c[1] in ("start", "stop")]
    assert [c[1:] for c in multipass] == [("start", INSTANCE)]  # one start, no stop, no restart
    assert not [c for c in run.calls if c[0].endswith("/snap")]


@pytest.mark.root
@pytest.mark.slow
def test_doctor_lab_dnsmasq_down_restarts_the_daemon_and_checks_the_start(lab_doctor):
    run = lab_doctor("dnsmasq-down")
    recs = _common(run)
    assert "Verdict so far: dhcp-server-not-running" in flat(run)
    assert _verdicts(recs)[-1] == "dhcp-server-not-running"
    assert run.result.outcome == "fixed" and run.result.exit_status == EXIT_FIXED
    fix = [r for r in _phase(recs, "fix") if r["ran"]]
    assert len(fix) == 1 and fix[0]["title"].startswith("Restart the Multipass daemon")
    assert fix[0]["commands"][0]["command"].endswith("/snap restart multipass")
    assert fix[0]["commands"][0]["exit_code"] == 0 and fix[0]["answer"] == "yes"
    verify = _phase(recs, "verify")
    assert [v["result"] for v in verify] == ["ok"]
    assert run.lab["dnsmasq_running"]  # the restarted daemon started dnsmasq again
    assert run.result.fixed_by.startswith("Restart the Multipass daemon")
    # the ladder went on to a destructive rung (moving the network directory aside), never reached
    ladder = next(r for r in recs if r["event"] == "ladder")["rungs"]
    gone = [r for r in ladder if r["destructive"]]
    assert gone and not any(r["runnable"] for r in gone) and gone[0]["backup"].startswith("sudo cp -a ")
    assert not [c for c in run.calls if "mv" in c]


@pytest.mark.root
@pytest.mark.slow
def test_doctor_lab_nft_drop_proposes_the_rule_change_and_touches_no_rule(lab_doctor):
    run = lab_doctor("nft-drop")
    recs = _common(run)
    assert _verdicts(recs)[-1] == "host-firewall-blocks-dhcp"
    assert run.result.outcome == "not-fixed" and run.result.exit_status == EXIT_NOT_FIXED
    table = run.lab["nft_table"]
    assert f'iifname "{run.lab["bridge"]}" udp dport 67' in flat(run)
    assert f"sudo nft delete rule inet {table} input handle <handle>" in flat(run)
    assert "changes firewall rules" in flat(run)
    assert run.lab["nft_before"] and run.lab["nft_before"] == run.lab["nft_after"]
    fw = next(r for r in _phase(recs, "fix") if r["title"].startswith("nftables"))
    assert fw["ran"] is False and fw["answer"] == "no"
    stop = next(r for r in _phase(recs, "fix") if r["title"].startswith("Stop the instance hard"))
    assert stop["ran"] and stop["commands"][0]["command"].endswith(f"multipass stop --force {INSTANCE}")
    assert [v["result"] for v in _phase(recs, "verify")] == ["timeout"]


@pytest.mark.root
@pytest.mark.slow
def test_doctor_lab_pool_exhausted_names_it_and_prints_the_prune(lab_doctor):
    run = lab_doctor("pool-exhausted")
    recs = _common(run)
    assert _verdicts(recs)[-1] == "dhcp-lease-pool-exhausted"
    assert run.result.outcome == "not-fixed"
    assert "no address available" in flat(run)
    assert "lease of 52:54:00:ee:00:01 (old-vm1)" in flat(run) and "(old-vm2)" in flat(run)
    assert "WARNING: removing a lease of a VM that still exists" in flat(run)
    assert "back up first: sudo cp " in flat(run) and "dnsmasq.leases ~/dnsmasq.leases.backup" in flat(run)
    prune = next(r for r in _phase(recs, "fix") if "prune" in r["title"])
    assert prune["ran"] is False and prune["answer"].startswith("not asked")
    old = {ln.split()[1] for ln in run.lab["leases_before"].splitlines() if ln.strip()}
    assert old <= {ln.split()[1] for ln in run.lab["leases_after"].splitlines() if ln.strip()}


@pytest.mark.root
@pytest.mark.slow
def test_doctor_lab_bridge_down_names_it_and_prints_the_link_change(lab_doctor):
    run = lab_doctor("bridge-down")
    recs = _common(run)
    assert _verdicts(recs)[-1] in ("bridge-interface-missing", "dhcp-no-lease")
    assert "bridge-interface-missing" in flat(run)
    assert f"sudo ip link set {run.lab['bridge']} up" in flat(run)
    assert run.result.outcome == "not-fixed"
    assert run.lab["bridge_up"] is False  # the doctor printed the change; it did not make it
    assert not [c for c in run.calls if c[0] == "ip" and "set" in c]


#: programs of fixes the doctor must reach in each scenario on some answer path
LAB_FIXES: dict[str, list[str]] = {
    "healthy": [],
    "dnsmasq-down": ["snap"],
    "nft-drop": ["multipass"],
    "pool-exhausted": [],
    "bridge-down": ["snap"],
}


@pytest.mark.root
@pytest.mark.slow
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_doctor_lab_no_answer_sequence_reaches_a_destructive_command(lab_doctor, tmp_path, scenario):
    """Every y/n answer sequence, replayed on the live session's outputs (each in the order it came)."""
    from test_doctor_replay import Script, explore

    run = lab_doctor(scenario)
    n = 0
    reached: set[str] = set()
    for root in (False, True):

        def session(script: Script, root: bool = root) -> None:
            nonlocal n
            n += 1
            runner = SequenceReplay(platform="linux", root=root, sequences=run.recordings)
            doctor(
                INSTANCE,
                out_dir=tmp_path / f"s{n}",
                platform="linux",
                runner=runner,
                targets=run.targets,
                since="15m",
                timeout=30,
                answers=script,
                output=io.StringIO(),
            )
            bad = [(c, is_destructive(c)) for c in runner.calls if is_destructive(c)]
            assert not bad, (script.answers, bad)
            assert not [c for c in runner.calls if c.startswith("sudo")]
            for r in load_transcript(tmp_path / f"s{n}"):
                if r["event"] == "step" and r["phase"] == "fix":
                    reached.update(
                        c["command"].split(" ", 1)[0].rsplit("/", 1)[-1] for c in r.get("commands", [])
                    )

        explore(session)
    assert n >= 2
    # the walk reached the fixes the doctor may run here (what was checked above was not empty),
    # and nothing but the actions it may take
    assert set(LAB_FIXES[scenario]) <= reached <= {"multipass", "snap", "ping"}, reached
