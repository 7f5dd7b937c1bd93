"""``mpkit doctor`` on replayed hosts: the shipped samples' outputs played back through the runner.

macOS flows (and a Linux one) cannot run here for real, so the doctor talks to
a :class:`~mpkit.collect.ReplayRunner` holding what each sample's host printed.
Answers are scripted on a text stream, exactly as a person would type them.
The exhaustive test walks every yes/no answer sequence and checks that no
destructive command ever reaches the runner.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import mpkit
from lab.doctor_replay import SINCE, WindowReplay, is_destructive, sample_recordings, sample_runner
from mpkit.cli import main as cli_main
from mpkit.collect import Targets
from mpkit.collect.manifest import load as load_manifest
from mpkit.collect.runner import Recording
from mpkit.doctor import (
    EXIT_FIXED,
    EXIT_NOT_FIXED,
    EXIT_STOPPED,
    TRANSCRIPT,
    doctor,
    load_transcript,
    write_report,
)

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ("firewall-blocks-bootpd", "sequoia-ip-discovery", "healthy-start", "linux-dhcp-firewalled")


class Script(io.StringIO):
    """Answers typed one per line; counts the questions asked (a question past the end reads EOF)."""

    def __init__(self, answers: tuple[str, ...] | list[str] = ()) -> None:
        super().__init__("")
        self.answers = list(answers)
        self.asked = 0

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        self.asked += 1
        return self.answers[self.asked - 1] + "\n" if self.asked <= len(self.answers) else ""


def run(
    tmp: Path, name: str, answers: tuple[str, ...] = (), *, root: bool = False, runner: Any = None, **kw: Any
) -> tuple[Any, str, Any, Script]:
    if runner is None:
        runner, platform, _inst = sample_runner(name, root=root)
    else:
        platform = runner.platform
    out, script = io.StringIO(), Script(answers)
    kw.setdefault("timeout", 30)
    res = doctor(
        kw.pop("instance", None),
        out_dir=tmp,
        platform=platform,
        runner=runner,
        since=SINCE,
        answers=script,
        output=out,
        **kw,
    )
    return res, out.getvalue(), runner, script


def calls(runner: Any) -> list[str]:
    return [c for c in runner.calls if not c.startswith("file:")]


def steps(res: Any, phase: str | None = None) -> list[dict[str, Any]]:
    return [r for r in load_transcript(res.bundle) if r["event"] == "step" and phase in (None, r["phase"])]


# --- macOS flows --------------------------------------------------------------------------------


def test_doctor_replay_macos_firewall_names_the_cause_and_changes_no_rule(tmp_path):
    res, text, runner, _ = run(tmp_path / "b", "firewall-blocks-bootpd", ("n", "n", "n", "y"))
    assert res.outcome == "not-fixed" and res.exit_status == EXIT_NOT_FIXED
    assert "Verdict so far: firewall-blocks-bootpd" in text
    assert "failed stage: dhcp" in text and "evidence: firewall.txt line" in text
    # the firewall changes are printed for the person, never run
    assert "sudo /usr/libexec/ApplicationFirewall/socketfilterfw --add" in text
    assert "changes firewall rules" in text
    ran = calls(runner)
    assert not [c for c in ran if "--add" in c or "--unblock" in c or c.startswith("sudo")]
    # the one runnable rung (start again) was run on the fourth yes, and checked by a start
    assert ran.count("multipass start primary") == 1
    fix = steps(res, "fix")
    assert [r["answer"] for r in fix] == ["no", "no", "no", "yes"]
    assert [r["ran"] for r in fix] == [False, False, False, True]
    verify = steps(res, "verify")
    assert len(verify) == 1 and verify[0]["result"] == "timeout"
    assert verify[0]["commands"][0]["command"] == "multipass start primary"
    assert verify[0]["commands"][0]["exit_code"] == 2


def test_doctor_replay_macos_sequoia_stops_at_the_first_step_that_works(tmp_path):
    rec, platform, host, inst = sample_recordings("sequoia-ip-discovery")
    rec["ping -c 1 -W 2 192.168.64.7"] = "1 packets transmitted, 1 packets received\n"
    rec["multipass stop --force dev"] = ""

    class PingFixes(WindowReplay):
        """The guest's address gets into the ARP table once pinged: the next start works."""

        def run(self, argv, timeout, *, max_bytes=None):
            if list(argv) == ["multipass", "start", "dev"] and "ping -c 1 -W 2 192.168.64.7" in self.calls:
                self.calls.append("multipass start dev")
                return self._play(tuple(argv), Recording(), timeout, max_bytes)
            return super().run(argv, timeout, max_bytes=max_bytes)

    runner = PingFixes(rec, platform=platform, host=host)
    res, text, _, script = run(tmp_path / "b", "", ("y", "y"), runner=runner)
    assert res.outcome == "fixed" and res.exit_status == EXIT_FIXED
    assert "Verdict so far: ip-discovery-failed" in text
    assert res.fixed_by and res.fixed_by.startswith("Fill the ARP cache")
    # stopped at the first rung that worked: the second (stop and start) was never offered
    assert script.asked == 1
    assert "multipass stop --force dev" not in runner.calls
    ran = calls(runner)
    ping = ran.index("ping -c 1 -W 2 192.168.64.7")
    # settled by the first look (no start needed to learn), then one checking start, after the ping
    assert ran.count("multipass start dev") == 1 and ran.index("multipass start dev") > ping
    assert [r["result"] for r in steps(res, "verify")] == ["ok"]
    end = load_transcript(res.bundle)[-1]
    assert end["event"] == "end" and end["outcome"] == "fixed" and end["exit_status"] == 0


def test_doctor_replay_macos_healthy_says_so_and_changes_nothing(tmp_path):
    res, text, runner, script = run(tmp_path / "b", "healthy-start", ("y", "y", "y"), yes=True)
    assert res.outcome == "healthy" and res.exit_status == EXIT_FIXED
    assert "Verdict: no failure found, the start worked" in text
    assert "Nothing to fix: web starts." in text
    assert script.asked == 0  # nothing to learn, nothing to fix: no question
    assert not [c for c in calls(runner) if " start " in f" {c} " or "stop" in c or "kickstart" in c]
    assert steps(res, "fix") == [] and steps(res, "verify") == []
    assert not [r for r in load_transcript(res.bundle) if r["event"] == "ladder"]


# --- Linux replay: what needs root is printed, never escalated ------------------------------------


def _dnsmasq_down(name: str = "linux-dhcp-firewalled") -> tuple[dict[str, Any], str, dict[str, Any], str]:
    """The Linux sample with its firewall open and dnsmasq stopped (the journal says so)."""
    rec, platform, host, inst = sample_recordings(name)
    for key in list(rec):
        if key.startswith("nft ") or key.startswith("ufw ") or key.startswith("firewall-cmd "):
            rec[key] = ""
        if key.startswith("ps "):
            rec[key] = "".join(ln for ln in rec[key].splitlines(True) if "dnsmasq" not in ln)
        if key.startswith("journalctl --no-pager -o short-iso -u"):
            rec[key] = rec[key] + (
                "2025-05-13T09:07:40-04:00 thinkpad-x1 dnsmasq[1301]: exiting on receipt of SIGTERM\n"
            )
    return rec, platform, host, inst


@pytest.mark.parametrize("root", [False, True])
def test_doctor_replay_prints_what_needs_root_and_runs_it_only_as_root(tmp_path, root):
    rec, platform, host, inst = _dnsmasq_down()
    rec["snap restart multipass"] = ""
    runner = WindowReplay(rec, platform=platform, host=host, root=root)
    res, text, _, _ = run(tmp_path / "b", "", ("y",) * 8, runner=runner, instance=inst)
    assert "Verdict so far: dhcp-server-not-running" in text
    ladder = next(r for r in load_transcript(res.bundle) if r["event"] == "ladder")
    restart = next(r for r in ladder["rungs"] if r["action"] == "restart-daemon")
    assert not any(c.startswith("sudo") for c in runner.calls)
    if root:
        assert restart["runnable"] and restart["command"] == "snap restart multipass"
        assert "snap restart multipass" in runner.calls
    else:
        assert not restart["runnable"] and restart["command"] == "sudo snap restart multipass"
        assert "command: sudo snap restart multipass" in text
        assert "needs root, and mpkit does not escalate by itself" in text
        assert "snap restart multipass" not in runner.calls
    # the destructive rung is printed with its backup, and never run
    gone = next(r for r in ladder["rungs"] if r["destructive"])
    assert gone["backup"] and gone["warning"] and not gone["runnable"]
    assert "back up first: sudo cp -a /var/snap/multipass/common/data/multipassd/network" in text
    assert not [c for c in runner.calls if "mv " in c or c.startswith("snap stop")]


def test_doctor_replay_no_start_never_starts(tmp_path):
    rec, platform, host, inst = _dnsmasq_down()
    rec["snap restart multipass"] = ""
    runner = WindowReplay(rec, platform=platform, host=host, root=True)
    res, text, _, _ = run(
        tmp_path / "b", "", ("y",) * 8, runner=runner, instance=inst, no_start=True, yes=True
    )
    assert not [c for c in runner.calls if re.search(r"multipass (start|stop)", c)]
    assert "snap restart multipass" in runner.calls  # a fix that does not start the instance still runs…
    assert "--no-start: start web yourself to check." in text  # …but cannot be checked
    assert res.outcome == "not-fixed"


def test_doctor_replay_yes_agrees_to_reading_not_to_fixing(tmp_path):
    runner, platform, inst = sample_runner("linux-dhcp-firewalled", root=True)
    res, text, _, script = run(tmp_path / "b", "", (), runner=runner, yes=True)
    learn = steps(res, "learn")
    assert learn and all(r["answer"] == "yes (--yes)" and r["ran"] for r in learn)
    assert "multipass start web" in runner.calls  # the start attempt was an information step
    fix = steps(res, "fix")
    assert fix and not any(r["ran"] for r in fix)  # every fix asked, and got no answer
    assert script.asked >= 1
    assert "multipass stop --force web" not in runner.calls


def test_doctor_replay_q_stops_the_session(tmp_path):
    res, text, runner, _ = run(tmp_path / "b", "firewall-blocks-bootpd", ("q",))
    assert res.outcome == "stopped" and res.exit_status == EXIT_STOPPED
    assert "Stopped here, as you asked." in text
    recs = load_transcript(res.bundle)
    assert recs[-1]["event"] == "end" and recs[-1]["outcome"] == "stopped" and recs[-1]["exit_status"] == 3
    assert load_manifest(res.bundle)["doctor"]["outcome"] == "stopped"
    assert "multipass start primary" not in runner.calls


def test_doctor_replay_an_error_in_mpkit_still_closes_the_bundle(tmp_path):
    class Broken(WindowReplay):
        def run(self, argv, timeout, *, max_bytes=None):
            if list(argv[1:2]) == ["start"]:
                raise RuntimeError("the runner broke")
            return super().run(argv, timeout, max_bytes=max_bytes)

    rec, platform, host, inst = sample_recordings("linux-dhcp-firewalled")
    with pytest.raises(RuntimeError, match="the runner broke"):
        run(tmp_path / "b", "", ("y",), runner=Broken(rec, platform=platform, host=host))
    end = load_transcript(tmp_path / "b")[-1]
    assert end["event"] == "end" and end["outcome"] == "error" and "the runner broke" in end["error"]
    m = load_manifest(tmp_path / "b")
    assert m["interrupted"] is True and m["finished_at"] and m["doctor"]["outcome"] == "error"
    assert (tmp_path / "b" / "doctor" / "report.html").is_file()
    assert mpkit.load_bundle(tmp_path / "b").frame("instances")["name"].notna().any()


# --- the record -----------------------------------------------------------------------------------


def test_doctor_transcript_records_every_step_and_loads_apart_from_the_evidence(tmp_path, capsys):
    res, text, _, _ = run(tmp_path / "b", "firewall-blocks-bootpd", ("n", "n", "n", "y"))
    recs = load_transcript(res.bundle)
    assert [r["seq"] for r in recs] == list(range(1, len(recs) + 1))
    assert recs[0]["event"] == "session" and recs[-1]["event"] == "end"
    first = next(r for r in recs if r["event"] == "step")
    assert first["phase"] == "first-look" and len(first["commands"]) > 15
    for r in recs:
        if r["event"] != "step":
            continue
        assert {"title", "answer", "ran", "result"} <= set(r)
        for c in r.get("commands", []):
            assert {"command", "exit_code", "state", "duration_s"} <= set(c)
    # the bundle still loads, and the session record is kept out of the evidence
    b = mpkit.load_bundle(res.bundle)
    assert not [a for a in b.artifacts if a.path.startswith("doctor/")]
    listed = {u.path: u.reason for u in b.unrecognised}
    assert "session record" in listed[TRANSCRIPT] and "doctor/report.html" in listed
    assert not [f for f in b.texts if f.startswith("doctor/")]
    d = mpkit.diagnose(b)
    assert d.root_cause.id == "firewall-blocks-bootpd"
    assert cli_main(["diagnose", str(res.bundle), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["root_cause"]["id"] == "firewall-blocks-bootpd"
    # the manifest points at the transcript and says how it ended
    m = load_manifest(res.bundle)
    assert m["mode"] == "doctor" and m["complete"] is True
    assert m["doctor"] == {
        "transcript": TRANSCRIPT,
        "report": "doctor/report.html",
        "instance": "primary",
        "outcome": "not-fixed",
        "exit_status": 1,
    }


def test_doctor_report_is_one_offline_html_file(tmp_path):
    res, text, _, _ = run(tmp_path / "b", "firewall-blocks-bootpd", ("n", "n", "n", "y"))
    html = Path(res.report).read_text()
    assert res.report == res.bundle / "doctor" / "report.html"
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert not re.search(r"<script|<link|<img|<iframe|@import|url\(|src=", html, re.I)
    assert not re.search(r'href="(?!#)', html)
    for s in ("firewall-blocks-bootpd", "socketfilterfw --add", "multipass start primary", "not fixed"):
        assert s in html
    assert html.count("<tr>") >= len(steps(res)) + 1
    # an interrupted transcript (no end record) still makes a report
    t = res.bundle / TRANSCRIPT
    t.write_text("\n".join(t.read_text().splitlines()[:3]) + "\n")
    out = write_report(res.bundle, tmp_path / "again.html")
    assert "no end record" in out.read_text() and "interrupted" in out.read_text()


def test_doctor_output_fits_80_columns(tmp_path):
    for name in ("firewall-blocks-bootpd", "sequoia-ip-discovery", "linux-dhcp-firewalled"):
        res, text, _, _ = run(tmp_path / name, name, ("y",) * 6, root=True)
        wide = [ln for ln in text.splitlines() if len(ln) > 80 and str(tmp_path) not in ln]
        assert not wide, wide


def test_doctor_cli_help_documents_exit_statuses():
    out = subprocess.run(
        [sys.executable, "-m", "mpkit.cli", "doctor", "--help"],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "COLUMNS": "80"},
    ).stdout
    assert "--yes" in out and "--no-start" in out and "-o" in out
    for code, words in (("0", "the start works"), ("1", "not fixed"), ("3", "stopped by you")):
        assert re.search(rf"^\s+{code}\s+{words}", out, re.M), code
    assert max(len(ln) for ln in out.splitlines()) <= 80


def test_doctor_targets_file(tmp_path):
    from mpkit.doctor import targets_from_file
    from mpkit.errors import CollectError

    f = tmp_path / "t.json"
    f.write_text(json.dumps({"bridge": "br9", "multipass": ["/opt/mp", "--x"], "daemon_restart": ["r"]}))
    assert targets_from_file(f) == Targets(bridge="br9", multipass=("/opt/mp", "--x"), daemon_restart=("r",))
    f.write_text(json.dumps({"brigde": "br9"}))
    with pytest.raises(CollectError, match="unknown targets brigde"):
        targets_from_file(f)
    for bad, why in (
        ({"bridge": 3}, "bridge must be a string"),
        ({"multipass": "multipass"}, "multipass must be a non-empty list of strings"),
        ({"daemon_restart": []}, "daemon_restart must be a non-empty list"),
    ):
        f.write_text(json.dumps(bad))
        with pytest.raises(CollectError, match=why):
            targets_from_file(f)


# --- no answer reaches a destructive command -----------------------------------------------------


def explore(session) -> int:
    """Run ``session(script)`` for every yes/no answer sequence it can be asked; returns how many ran.

    A question past the script reads end of input (taken as no); each such
    question is then answered yes in a branch of its own, so every path
    through the session's questions is taken once.  ``q`` only cuts a path
    short, so it reaches nothing the yes/no paths do not.
    """
    todo: list[tuple[str, ...]] = [()]
    runs = 0
    while todo:
        prefix = todo.pop()
        script = Script(prefix)
        session(script)
        runs += 1
        for i in range(len(prefix), script.asked):
            todo.append((*prefix, *("n",) * (i - len(prefix)), "y"))
        assert runs < 400, "the answer tree is larger than any ladder should make it"
    return runs


#: fixes the doctor must reach for each sample on some answer path
EXPECTED_FIXES: dict[str, list[str]] = {
    "firewall-blocks-bootpd": ["multipass start primary"],
    "sequoia-ip-discovery": [
        "multipass start dev",
        "multipass stop --force dev",
        "ping -c 1 -W 2 192.168.64.7",
    ],
    "healthy-start": [],
    "linux-dhcp-firewalled": ["multipass start web", "multipass stop --force web"],
}


@pytest.mark.slow
@pytest.mark.parametrize("name", SAMPLES)
def test_doctor_no_answer_sequence_reaches_a_destructive_command(tmp_path, name):
    """Every y/n sequence, as root and not, with and without --no-start: the runner sees nothing destructive."""
    n = 0
    reached: set[str] = set()
    for root in (False, True):
        for no_start in (False, True):

            def session(script: Script, root: bool = root, no_start: bool = no_start) -> None:
                nonlocal n
                n += 1
                rec, platform, host, inst = sample_recordings(name)
                for key in list(rec):  # every command a fix may run answers, so each path goes on
                    if key.startswith("multipass start"):
                        rec[key.replace("start", "stop --force", 1)] = ""
                rec["snap restart multipass"] = ""
                rec["launchctl kickstart -k system/com.canonical.multipassd"] = ""
                runner = WindowReplay(rec, platform=platform, host=host, root=root)
                doctor(
                    None,
                    out_dir=tmp_path / f"s{n}",
                    platform=platform,
                    runner=runner,
                    since=SINCE,
                    timeout=30,
                    no_start=no_start,
                    answers=script,
                    output=io.StringIO(),
                )
                bad = [(c, is_destructive(c)) for c in runner.calls if is_destructive(c)]
                assert not bad, (script.answers, bad)
                for r in load_transcript(tmp_path / f"s{n}"):
                    if r["event"] == "step" and r["phase"] in ("fix", "verify"):
                        reached.update(c["command"] for c in r.get("commands", []))

            explore(session)
    # the walk reached the fixes the ladder offers here (so the check above had something to check)
    assert set(EXPECTED_FIXES[name]) <= reached, sorted(reached)
    assert all(
        re.match(r"(multipass (start|stop --force) |ping -c 1 |snap restart |launchctl kickstart )", c)
        for c in reached
    )
    assert n >= 4


# --- Ctrl-C -------------------------------------------------------------------------------------


def _standin_targets(tmp: Path) -> Path:
    """A ``multipass`` stand-in (the lab's, without a network: list, info, version) and targets for it."""
    cfg = {
        "bridge": "mpkfake0",
        "journal_file": str(tmp / "journal"),
        "state_file": str(tmp / "state.json"),
        "lease_file": str(tmp / "dnsmasq.leases"),
        "timeout_s": 1,
        "dhcp_script": "",
        "version": "1.16.1",
        "daemon_pid": 4242,
        "instances": {"primary": {"ns": "mpk-none", "mac": "52:54:00:12:34:56"}},
    }
    (tmp / "standin.json").write_text(json.dumps(cfg))
    (tmp / "journal").write_text("")
    wrapper = tmp / "multipass"
    wrapper.write_text(
        f'#!/bin/sh\nexec "{sys.executable}" "{ROOT / "tests/lab/standin.py"}" --config "{tmp / "standin.json"}" "$@"\n'
    )
    wrapper.chmod(0o755)
    targets = {
        "multipass": [str(wrapper)],
        "bridge": "mpkfake0",
        "lease_file": str(tmp / "dnsmasq.leases"),
        "vm_instances": str(tmp / "state.json"),
        "data_dir": str(tmp),
        "journal_command": [sys.executable, str(ROOT / "tests/lab/journal.py"), str(tmp / "journal")],
        "daemon_restart": [str(tmp / "no-such-restart")],
    }
    path = tmp / "targets.json"
    path.write_text(json.dumps(targets))
    return path


@pytest.mark.slow
def test_doctor_ctrl_c_at_a_prompt_leaves_a_valid_bundle(tmp_path):
    targets = _standin_targets(tmp_path)
    out = tmp_path / "bundle"
    proc = subprocess.Popen(
        [sys.executable, "-m", "mpkit.cli", "doctor", "primary", "--targets", str(targets), "-o", str(out)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    seen = bytearray()

    def read() -> None:
        assert proc.stdout is not None
        while chunk := os.read(proc.stdout.fileno(), 4096):
            seen.extend(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 60
        while b"[y/n/q] " not in seen:
            assert proc.poll() is None, bytes(seen)
            assert time.monotonic() < deadline, bytes(seen)
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == EXIT_STOPPED
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join(timeout=5)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    text = seen.decode()
    assert "Interrupted during learn step 1" in text and "Result: interrupted (exit status 3)" in text
    recs = load_transcript(out)
    assert recs[-1]["event"] == "end" and recs[-1]["outcome"] == "interrupted"
    assert recs[-1]["exit_status"] == 3 and recs[-1]["during"] == "learn step 1"
    m = load_manifest(out)
    assert m["interrupted"] is True and m["complete"] is False and m["doctor"]["outcome"] == "interrupted"
    b = mpkit.load_bundle(out)
    assert b.frame("instances")["name"].tolist()[:1] == ["primary"]
    assert not [a for a in b.artifacts if a.path.startswith("doctor/")]
    assert cli_main(["diagnose", str(out)]) == 0
    assert (out / "doctor" / "report.html").is_file()
    assert "interrupted" in (out / "doctor" / "report.html").read_text()
