"""The inference: evidence first, naive Bayes with a background hypothesis, parameters as data.

Unit tests of the model on hand-made observation sets, behaviour on small
hand-made bundles (fragments, notes, far-in-time evidence), and the guard that no
rule or signature names a library case.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

import pytest

import mpkit
from mpkit.diagnose import engine
from mpkit.diagnose.bayes import OTHER, Model, Observation, calibrate, decide, load_model
from mpkit.diagnose.checks import REGISTRY, SIGNATURES
from mpkit.diagnose.library import find_cases

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = ROOT / "data" / "cases"


def _toy() -> Model:
    bg = {
        "sig.a": {"fail": 0.05, "warn": 0.01, "pass": 0.94},
        "sym.b": {"fail": 0.6, "warn": 0.01, "pass": 0.39},
    }
    lik = {
        "sig.a": {"cause-a": {"fail": 0.9, "warn": 0.01, "pass": 0.09}},
        "sym.b": {
            "cause-a": {"fail": 0.9, "warn": 0.01, "pass": 0.09},
            "cause-b": {"fail": 0.95, "warn": 0.01, "pass": 0.04},
        },
    }
    prior = {"any": {"cause-a": 0.2, "cause-b": 0.5, OTHER: 0.3}}
    return Model(["cause-a", "cause-b", OTHER], prior, bg, lik, 1.0, 0.5, 1.0, {}, (1.0, 0.0))


def test_not_collected_carries_no_information() -> None:
    m = _toy()
    assert m.posterior([Observation("sig.a", "not-collected")], None) == m.posterior([], None)


def test_a_signature_decides_and_explains_the_symptom_away() -> None:
    m = _toy()
    symptom_only = m.posterior([Observation("sym.b", "fail")], None)
    assert max(symptom_only, key=symptom_only.get) == "cause-b"
    both = m.posterior([Observation("sym.b", "fail"), Observation("sig.a", "fail")], None)
    assert max(both, key=both.get) == "cause-a"  # the upstream cause with its own signature wins


def test_weak_evidence_moves_the_posterior_less() -> None:
    m = _toy()
    full = m.posterior([Observation("sig.a", "fail", 1.0)], None)["cause-a"]
    soft = m.posterior([Observation("sig.a", "fail", 0.5)], None)["cause-a"]
    none = m.posterior([], None)["cause-a"]
    assert none < soft < full


def test_grouped_checks_count_once() -> None:
    m = _toy()
    m.likelihood["sig.c"] = {"cause-a": dict(m.likelihood["sig.a"]["cause-a"])}
    m.background["sig.c"] = dict(m.background["sig.a"])
    obs = [Observation("sig.a", "fail"), Observation("sig.c", "fail")]
    twice = m.posterior(obs, None)["cause-a"]
    m.groups = {"sig.a": "g", "sig.c": "g"}
    once = m.posterior(obs, None)["cause-a"]
    assert once < twice
    assert once == pytest.approx(m.posterior(obs[:1], None)["cause-a"])


def test_decide_names_a_cause_only_above_the_threshold() -> None:
    v = decide({"cause-a": 0.45, OTHER: 0.3, "cause-b": 0.25}, 0.5)
    assert v.cause == OTHER and v.confidence == pytest.approx(0.45)
    v = decide({"cause-a": 0.6, OTHER: 0.3, "cause-b": 0.1}, 0.5)
    assert v.cause == "cause-a" and v.confidence == pytest.approx(0.6)


def test_calibration_map_is_monotone_and_keeps_confident_wrong_answers_out() -> None:
    xs = [i / 20 for i in range(0, 21)]
    assert calibrate(0.3, ()) == pytest.approx(0.3)
    knots = ((0.0, 0.2), (0.5, 0.6), (1.0, 0.9))
    ys = [calibrate(x, knots) for x in xs]
    assert ys == sorted(ys) and calibrate(0.25, knots) == pytest.approx(0.4)
    m = load_model()
    ys = [calibrate(x, m.calibration) for x in xs]
    assert ys == sorted(ys) and all(0.0 <= y <= 1.0 for y in ys)


def test_fitted_calibration_states_no_wrong_verdict_as_likely() -> None:
    from mpkit.diagnose.fit import Outcome, fit_calibration
    from mpkit.diagnose.library import Case

    def out(conf: float, ok: bool) -> Outcome:
        case = Case("x", Path("x"), "bundle", {"root_cause": "a", "acceptable": ["a"] if ok else ["b"]})
        return Outcome(type("E", (), {"case": case})(), "a", conf, ("a",))  # type: ignore[arg-type]

    outs = [out(0.4 + i / 100, True) for i in range(50)] + [out(0.8, False)] + [out(0.95, True)] * 10
    knots = fit_calibration(outs)
    assert calibrate(0.8, knots) < 0.7  # the wrong verdict stays below "likely"
    assert calibrate(0.95, knots) > 0.9  # verdicts above every wrong one may say so


def test_information_gain_prefers_the_separating_check() -> None:
    m = _toy()
    obs = [Observation("sym.b", "fail")]
    assert m.expected_gain("sig.a", obs, None) > 0.05
    m.background["irrelevant"] = {"fail": 0.5, "warn": 0.0, "pass": 0.5}
    assert m.expected_gain("irrelevant", obs, None) == pytest.approx(0.0, abs=1e-9)


def test_shipped_model_is_consistent() -> None:
    m = load_model()
    known = set(engine.causes())
    assert set(m.hypotheses) <= known and OTHER in m.hypotheses
    for plat, pri in m.prior.items():
        assert abs(sum(pri.values()) - 1.0) < 1e-3, plat
    for check, table in m.likelihood.items():
        assert check in REGISTRY, check
        for h, dist in table.items():
            assert h in known
            assert abs(sum(dist.values()) - 1.0) < 1e-3, (check, h)
    assert 0 < m.threshold < 1 and m.temperature > 0
    assert (m.meta or {}).get("cases", 0) >= 100


def test_every_check_is_used_by_a_rule_or_learned() -> None:
    learned = set(load_model().likelihood)
    by_rule = {r["check"] for r in engine.rules()}
    assert set(REGISTRY) <= learned | by_rule, set(REGISTRY) - learned - by_rule


# -- behaviour on small hand-made bundles ------------------------------------------------------


def test_a_fragment_with_a_decisive_signature_gets_its_cause(tmp_path: Path) -> None:
    """A journal excerpt alone, with no start attempt in it, still names the cause it shows."""
    (tmp_path / "journal.txt").write_text(
        "2023-04-02T10:11:12+0000 box dnsmasq[812]: cannot open or create lease file "
        "/var/snap/multipass/common/data/multipassd/network/dnsmasq.leases: Permission denied\n"
        "2023-04-02T10:11:12+0000 box dnsmasq[812]: FAILED to start up\n"
    )
    d = mpkit.diagnose(tmp_path)
    assert d.root_cause.id == "dhcp-server-not-running"
    assert d.root_cause.evidence


def test_notes_are_read(tmp_path: Path) -> None:
    (tmp_path / "client.txt").write_text(
        "launch failed: The following errors occurred:\nvm: timed out waiting for response\n"
    )
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "what-i-tried.txt").write_text(
        "I also ran it by hand and got:\nVBoxManage.exe: error: VT-x is disabled in the BIOS for all CPU modes "
        "(VERR_VMX_MSR_ALL_VMX_DISABLED)\n"
    )
    d = mpkit.diagnose(tmp_path)
    ids = [c.id for c in d.candidates]
    assert "hypervisor-unavailable" in ids[:2]
    found = {e.artifact for c in d.checks if c.id == "host.hypervisor-unavailable" for e in c.evidence}
    assert "notes/what-i-tried.txt" in found


def test_the_prose_of_a_paste_is_read(tmp_path: Path) -> None:
    p = tmp_path / "report.md"
    p.write_text(
        "**Describe the bug**\nThe instance never starts. Running `multipass shell` says\n"
        "ssh: connect to host 192.168.64.5 port 22: Undefined error: 0\n"
        "but with sudo it works. macOS 15.1.\n"
    )
    b = mpkit.load_bundle(p)
    assert len(b.free_text)
    t = engine.evidence(b)
    assert t.checks["client.no-route-to-host"].state == "fail"


def test_the_answer_file_is_never_evidence(tmp_path: Path) -> None:
    (tmp_path / "client.txt").write_text(
        "launch failed: The following errors occurred:\nvm: timed out waiting for response\n"
    )
    (tmp_path / "expected.json").write_text(
        json.dumps({"note": "KVM support is not enabled on this machine"})
    )
    b = mpkit.load_bundle(tmp_path)
    assert "expected.json" not in set(b.free_text["file"])
    assert engine.evidence(b).checks["host.hypervisor-unavailable"].state == "pass"


def test_evidence_far_from_the_attempt_counts_less(tmp_path: Path) -> None:
    early = (
        "[2024-01-01T08:00:00.000] [error] [daemon] Failed to write settings: No space left on device\n"
        "[2024-01-01T08:00:01.000] [info] [daemon] Starting Multipass 1.13.1+mac\n"
    )
    start = (
        "[2024-01-02T10:00:00.000] [info] [vm] process state changed to Starting\n"
        "[2024-01-02T10:00:00.500] [info] [vm] process state changed to Running\n"
        "[2024-01-02T10:00:01.000] [debug] [vm] Waiting for SSH to be up\n"
    )
    (tmp_path / "multipassd.log").write_text(early + start)
    t = engine.evidence(tmp_path)
    r = t.checks["host.disk-full"]
    assert r.state == "fail" and r.strength < 1.0 and r.softened_by
    near = tmp_path / "near"
    near.mkdir()
    (near / "multipassd.log").write_text(
        start + "[2024-01-02T10:00:02.000] [error] [vm] qemu-img: No space left on device\n"
    )
    assert engine.evidence(near).checks["host.disk-full"].strength == 1.0


def test_permission_denied_on_the_image_is_not_corruption() -> None:
    rx = next(re.compile(s["pattern"]) for s in SIGNATURES if s["check"] == "image.corrupt")
    unless = next(re.compile(s["unless"]) for s in SIGNATURES if s["check"] == "image.corrupt")
    line = (
        "qemu-system-x86_64: -drive file=/x/vm.img,if=virtio: Could not open '/x/vm.img': Permission denied"
    )
    assert not rx.search(line) or unless.search(line)


def test_every_signature_variant_matches() -> None:
    for s in SIGNATURES:
        rx = re.compile(s["pattern"])
        unless = re.compile(s["unless"]) if s.get("unless") else None
        for ex in [s["example"], *s.get("variants", [])]:
            assert rx.search(ex), (s["check"], ex)
            assert not (unless and unless.search(ex)), (s["check"], ex)


def test_healthy_sample_reads_as_no_failure() -> None:
    d = mpkit.diagnose(mpkit.sample("healthy-start"))
    assert d.root_cause.title.startswith("No failure found")
    assert d.failed_stage == "none"


# -- no rule names a case -----------------------------------------------------------------------


def _rules_text() -> str:
    root = resources.files("mpkit.diagnose").joinpath("rules")
    texts = []
    for name in ("signatures.json", "causes.json", "groups.json", "dhcp-ip.json", "host-and-security.json"):
        d = json.loads(root.joinpath(name).read_text())
        d.pop("_doc", None)
        if name == "signatures.json":  # examples and variants are made-up lines; patterns and titles count
            d = [{k: v for k, v in s.items() if k not in ("example", "variants")} for s in d["signatures"]]
        if (
            name == "causes.json"
        ):  # references are reading for the user (they may cite a thread); they decide nothing
            d = {cid: {k: v for k, v in c.items() if k != "references"} for cid, c in d["causes"].items()}
        texts.append(json.dumps(d))
    return "\n".join(texts)


_VALUE = re.compile(r"\b(?:[0-9a-f]{1,2}:){5}[0-9a-f]{1,2}\b|\b(?:\d{1,3}\.){3}\d{1,3}\b", re.I)


@pytest.mark.skipif(not LIBRARY.is_dir(), reason="no case library")
def test_no_rule_or_pattern_names_a_library_case() -> None:
    text = _rules_text()
    dirs = [LIBRARY, ROOT.parent / "shared" / "cases"]
    names: set[str] = set()
    values: set[str] = set()
    for d in dirs:
        for c in find_cases(d, pastes=False):
            exp = c.expected
            assert exp["url"] not in text, exp["url"]
            assert not re.search(rf"\b{re.escape(c.name)}\b", text), c.name
            b = mpkit.load_bundle(c.path)
            inst = b.frame("client")["instance"].dropna().astype(str)
            names |= {n for n in inst if len(n) >= 4 and n not in ("primary",)}
            for f in c.path.rglob("*"):
                if f.is_file() and f.name != "expected.json":
                    values |= set(_VALUE.findall(f.read_text(errors="replace")))
    for n in sorted(names):
        assert not re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", text), f"instance name {n!r} in the rules"
    for v in sorted(values):
        assert v not in text, f"value {v!r} from the library in the rules"


def _every_bundle() -> list[Path]:
    from mpkit.samples import samples

    out = list(samples().values())
    shared = ROOT.parent / "shared" / "cases"
    out += [c.path for d in (LIBRARY, shared) for c in find_cases(d, pastes=False) if d.is_dir()]
    return out


def test_no_check_raises_on_any_sample_or_case() -> None:
    """A check that raises is kept as could-not-parse and counted; on real inputs none may raise."""
    raised = []
    for path in _every_bundle():
        t = engine.evidence(path)
        raised += [f"{path.name}: {c.id}: {c.summary}" for c in t.checks.values() if c.facts.get("error")]
    assert not raised, raised[:10]


def test_a_check_that_raises_is_counted_and_lowers_the_confidence(monkeypatch: pytest.MonkeyPatch) -> None:
    from mpkit.diagnose import checks

    before = mpkit.diagnose(mpkit.sample("default"))

    def boom(ctx: object) -> None:
        raise ValueError("unexpected shape")

    broken = sorted(checks.REGISTRY)[:2]
    for cid in broken:
        monkeypatch.setitem(checks.REGISTRY, cid, boom)
    t = engine.evidence(mpkit.sample("default"))
    assert [t.checks[c].state for c in broken] == ["could-not-parse"] * 2
    assert all("ValueError: unexpected shape" in str(t.checks[c].summary) for c in broken)
    assert any("2 checks failed on this input" in str(n) for n in t.notes)
    after = engine.infer(t)
    assert after.root_cause.confidence < before.root_cause.confidence


def test_collect_commands_are_per_platform_and_name_real_checks() -> None:
    cmds = engine.collect_commands()
    assert set(cmds) <= set(REGISTRY)
    for check, per in cmds.items():
        assert set(per) <= {"macos", "linux", "windows", "any"}, check
        for plat, (_, command) in per.items():
            if plat == "linux":
                assert "bridge100" not in command and "/Library/" not in command, check
            if plat == "macos":
                assert "mpqemubr0" not in command and "journalctl" not in command, check
    assert engine._collect_hint("lease.for-instance", "linux")[0] == "dnsmasq.leases"
    unknown = engine._collect_hint("lease.for-instance", None)
    assert "dhcpd_leases" in unknown[0] and "dnsmasq.leases" in unknown[0]
    assert engine._collect_hint("firewall.app-firewall", "windows") is None


def test_evidence_table_as_a_frame() -> None:
    t = engine.evidence(mpkit.sample("default"))
    f = t.frame()
    assert list(f.columns) == [
        "check",
        "state",
        "strength",
        "how",
        "softened_by",
        "summary",
        "facts",
        "evidence",
    ]
    assert set(f["check"]) == set(REGISTRY)
    assert f["strength"].between(0, 1).all()
    assert engine.infer(t).to_dict() == mpkit.diagnose(mpkit.sample("default")).to_dict()
