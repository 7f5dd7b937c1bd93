"""Diagnosis: samples, the JSON contract, rule/check conformance, remediation safety, CLI behaviour."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import mpkit
from mpkit.diagnose import causes, rules
from mpkit.diagnose.checks import REGISTRY, SIGNATURES

GOLDEN = Path(__file__).parent / "golden"
EXPECTED_SAMPLES = {
    "sequoia-ip-discovery": ("ip-discovery-failed", "ip-discovery"),
    "firewall-blocks-bootpd": ("firewall-blocks-bootpd", "dhcp"),
    "healthy-start": ("unknown", "none"),
    "linux-dhcp-firewalled": ("host-firewall-blocks-dhcp", "dhcp"),
}
TAXONOMY = Path(__file__).resolve().parents[2] / "shared" / "reference" / "root-causes.md"


@pytest.mark.parametrize(("name", "expected"), EXPECTED_SAMPLES.items())
def test_samples_diagnosed(name: str, expected: tuple[str, str]) -> None:
    d = mpkit.diagnose(mpkit.sample(name))
    assert (d.root_cause.id, d.failed_stage) == expected
    if expected[0] != "unknown":
        assert d.root_cause.confidence >= 0.6
        assert d.root_cause.evidence


@pytest.mark.parametrize("name", EXPECTED_SAMPLES)
def test_golden_json(name: str) -> None:
    """A change in ranking or wording shows up here (regenerate with MPKIT_REGEN=1 and review)."""
    import os

    got = mpkit.diagnose(mpkit.sample(name)).to_dict()
    path = GOLDEN / f"{name}.json"
    if os.environ.get("MPKIT_REGEN"):
        path.write_text(json.dumps(got, indent=1, ensure_ascii=False) + "\n")
    want = json.loads(path.read_text())
    assert got == want, _golden_diff(want, got)


def _golden_diff(want: dict, got: dict) -> str:
    """What changed in verdict, confidence, stage and candidates, for the reviewer of a regeneration."""

    def brief(d: dict) -> str:
        rc = d["root_cause"]
        cands = ", ".join(f"{c['id']} {c['confidence']}" for c in d["candidates"][:5])
        return f"{rc['id']} {rc['confidence']} stage {d['failed_stage']}; candidates {cands}"

    lines = [f"golden: {brief(want)}", f"now:    {brief(got)}"]
    for key in ("summary", "evidence", "remediation"):
        if want["root_cause"].get(key) != got["root_cause"].get(key):
            lines.append(f"root_cause.{key} changed")
    if want["missing_evidence"] != got["missing_evidence"]:
        lines.append(f"missing_evidence: {want['missing_evidence']} -> {got['missing_evidence']}")
    return "\n".join(lines)


def test_every_taxonomy_id_is_covered() -> None:
    ids = set(causes())
    if TAXONOMY.exists():
        import re

        listed = set(re.findall(r"^\| `([a-z0-9-]+)` \|", TAXONOMY.read_text(), re.M))
        assert listed <= ids, listed - ids
    assert "unknown" in ids
    supported = {r["cause"] for r in rules() if r["weight"] > 0}
    no_signature = {"host-network-change", "host-hardware-fault", "guest-boot-slow", "unknown"}
    assert ids - supported <= no_signature, ids - supported - no_signature


def test_rules_reference_real_checks_and_causes() -> None:
    ids = set(causes())
    for r in rules():
        assert r["check"] in REGISTRY, r
        assert r["cause"] in ids, r
        assert r["on"] in ("fail", "pass", "warn")
    from mpkit.diagnose.bayes import load_model

    referenced = {r["check"] for r in rules()} | set(load_model().likelihood)
    unused = set(REGISTRY) - referenced
    assert not unused, f"checks that neither a rule nor the fitted model uses: {unused}"


def test_every_signature_fires_on_its_own_example_and_not_on_a_healthy_log() -> None:
    healthy = mpkit.load_bundle(mpkit.sample("healthy-start"))
    msgs = healthy.frame("daemon_log")["message"].astype(str)
    for sig in SIGNATURES:
        rx = re.compile(sig["pattern"])
        assert rx.search(sig["example"]), sig["check"]
        assert not any(rx.search(m) for m in msgs), sig["check"]


def test_remediation_warns_before_destroying() -> None:
    for cid, c in causes().items():
        for step in c["remediation"]:
            text = (step["text"] + " " + step.get("command", "")).lower()
            if re.search(r"\b(delete|purge|rm|discard)\b", text):
                assert step.get("destructive") and step.get("warning"), (cid, step)


def test_confidence_is_honest_on_skeleton_only(tmp_path: Path) -> None:
    (tmp_path / "multipassd.log").write_text(
        "[2024-01-01T10:00:00.000] [info] [vm] process state changed to Running\n[2024-01-01T10:00:00.100] [debug] [vm] Waiting for SSH to be up\n"
    )
    (tmp_path / "client.txt").write_text(
        "start failed: The following errors occurred:\nvm: timed out waiting for response\n"
    )
    d = mpkit.diagnose(tmp_path)
    assert d.root_cause.id == "unknown" and d.root_cause.confidence < 0.7
    assert d.missing_evidence
    assert d.failed_stage in ("dhcp", "ip-discovery")


def test_firewall_state_turns_skeleton_into_a_verdict(tmp_path: Path) -> None:
    (tmp_path / "multipassd.log").write_text(
        "[2024-01-01T10:00:00.000] [info] [vm] process state changed to Running\n[2024-01-01T10:00:00.100] [debug] [vm] Waiting for SSH to be up\n"
    )
    (tmp_path / "client.txt").write_text(
        "start failed: The following errors occurred:\nvm: timed out waiting for response\n"
    )
    (tmp_path / "sw_vers.txt").write_text("ProductName:\tmacOS\nProductVersion:\t14.5\n")
    (tmp_path / "firewall.txt").write_text(
        "Firewall is enabled. (State = 1)\nFirewall has block all state set to enabled.\n"
    )
    (tmp_path / "tcpdump.txt").write_text(
        "16:05:06.191497 IP 0.0.0.0.bootpc > 255.255.255.255.bootps: BOOTP/DHCP, Request from 52:54:00:7b:a1:d4, length 291\n"
        * 3
    )
    d = mpkit.diagnose(tmp_path)
    assert d.root_cause.id == "firewall-blocks-bootpd"
    assert d.root_cause.confidence >= 0.6
    assert any("socketfilterfw" in (s.command or "") for s in d.root_cause.remediation)


def test_old_attempt_crash_does_not_leak_into_latest() -> None:
    cases = Path(__file__).resolve().parents[2] / "shared" / "cases" / "001"
    if not cases.exists():
        pytest.skip("shared cases absent")
    d = mpkit.diagnose(cases)
    assert d.root_cause.id != "qemu-crash"
    crash = next(c for c in d.checks if c.id == "qemu.crashed")
    if crash.state == "fail":  # an older attempt's crash is evidence far in time: it counts, but less
        assert crash.strength < 1.0 and "time window" in crash.softened_by
    ids = [c.id for c in d.candidates]
    assert "qemu-crash" not in ids[:2]


def test_cli_json_contract_and_exit_codes(tmp_path: Path) -> None:
    run = [sys.executable, "-m", "mpkit.cli", "diagnose"]
    ok = subprocess.run([*run, str(mpkit.sample()), "--json"], capture_output=True, text=True)
    assert ok.returncode == 0
    d = json.loads(ok.stdout)
    assert set(d["root_cause"]) == {
        "id",
        "confidence",
        "title",
        "summary",
        "evidence",
        "remediation",
        "references",
    }
    bad = subprocess.run([*run, str(tmp_path / "missing")], capture_output=True, text=True)
    assert bad.returncode != 0 and bad.stderr.startswith("mpkit: ") and bad.stderr.count("\n") == 1
    text = subprocess.run([*run, str(mpkit.sample())], capture_output=True, text=True, check=True).stdout
    for heading in ("Checks", "Verdict:", "Evidence", "What to do"):
        assert heading in text


def test_unknown_instance_is_a_clear_error() -> None:
    with pytest.raises(mpkit.DiagnoseError, match="no instance"):
        mpkit.diagnose(mpkit.sample(), instance="nope")


def test_a_host_without_any_failure_gets_no_cause(tmp_path: Path) -> None:
    """`mpkit collect` on a machine with no failed start (here: no Multipass at all) must not invent one."""
    (tmp_path / "ip-addr.json").write_text(
        '[{"ifindex": 1, "ifname": "lo", "flags": ["LOOPBACK", "UP"], "operstate": "UNKNOWN",'
        ' "addr_info": [{"family": "inet", "local": "127.0.0.1", "prefixlen": 8}]}]'
    )
    (tmp_path / "os-release.txt").write_text('NAME="Debian GNU/Linux"\nVERSION_ID="12"\nID=debian\n')
    d = mpkit.diagnose(tmp_path)
    assert d.root_cause.id == "unknown" and d.failed_stage == "unknown"
    assert [c.id for c in d.candidates] == ["unknown"] and not d.root_cause.evidence
    assert "mpkit probe" in d.root_cause.summary
    assert all(
        "launchctl" not in (s.command or "") for s in d.root_cause.remediation
    )  # Linux host: no macOS steps
