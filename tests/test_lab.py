"""The lab: real namespaces, bridge, dnsmasq and udhcpc; faults injected; probe + collect read them.

Needs root and ``ip netns`` (skipped otherwise). Only the lab's own namespace,
bridge and nft table are touched, and they are removed even when a test fails.
"""

from __future__ import annotations

import json

import pytest

import mpkit
from lab.fixtures import LabRun, lab_run  # noqa: F401
from mpkit.collect.manifest import load as load_manifest

pytestmark = [pytest.mark.root, pytest.mark.slow]

EXPECTED_OUTCOME = {
    "healthy": "ok",
    "nft-drop": "timeout",
    "pool-exhausted": "timeout",
    "dnsmasq-down": "timeout",
    "bridge-down": "timeout",
}
EXPECTED_CAUSE = {
    "healthy": None,
    "nft-drop": {"host-firewall-blocks-dhcp"},
    "pool-exhausted": {"dhcp-lease-pool-exhausted"},
    "dnsmasq-down": {"dhcp-server-not-running"},
    "bridge-down": {"bridge-interface-missing", "dhcp-no-lease"},
}


def _common_checks(run: LabRun) -> dict:
    b = run.bundle
    assert run.leftovers == [], f"lab not torn down: {run.leftovers}"
    manifest = load_manifest(b)
    assert manifest["complete"] is True and manifest["interrupted"] is False
    assert manifest["host"]["platform"] == "linux"
    assert manifest["host"]["timezone"] and manifest["host"]["utc_offset"]
    files = {a["file"] for a in manifest["artifacts"] if a["file"]}
    for name in (
        "journal.txt",
        "dnsmasq.leases",
        "ip-neigh.txt",
        "ip-addr.json",
        "routes.txt",
        "host-firewall.txt",
        "processes.txt",
        "multipass-list.txt",
        "multipass-version.txt",
        "attempts.jsonl",
    ):
        assert (b / name).is_file(), name
        assert name in files, name
    attempts = [json.loads(ln) for ln in (b / "attempts.jsonl").read_text().splitlines()]
    assert len(attempts) == 1
    assert attempts[0]["outcome"] == EXPECTED_OUTCOME[run.scenario], attempts[0]
    snaps = sorted((b / "snapshots").iterdir())
    assert len(snaps) >= 2
    for snap in snaps:
        assert (snap / "dnsmasq.leases").is_file() and (snap / "ip-neigh.txt").is_file()
    # the whole run: under the stand-in's 8 s start timeout plus collection
    assert run.timings["probe_and_collect_s"] < 30
    return {"manifest": manifest, "attempt": attempts[0], "snapshots": snaps}


def _lease_macs(text: str) -> set[str]:
    return {ln.split()[1] for ln in text.splitlines() if len(ln.split()) >= 3}


def test_lab_healthy(lab_run):  # noqa: F811
    run = lab_run("healthy")
    facts = _common_checks(run)
    b = run.bundle
    assert run.mac in _lease_macs((b / "dnsmasq.leases").read_text())
    assert f"DHCPACK({run.bridge})" in (b / "journal.txt").read_text()
    assert "Caching initial SSH session" in (b / "journal.txt").read_text()
    assert run.mac in (b / "ip-neigh.txt").read_text()
    assert "Running" in (b / "multipass-list.txt").read_text()
    assert facts["attempt"]["exit_code"] == 0
    # as root: the DHCP capture saw the reply
    assert "Reply" in (b / "tcpdump.txt").read_text()


def test_lab_nft_drop(lab_run):  # noqa: F811
    run = lab_run("nft-drop")
    facts = _common_checks(run)
    b = run.bundle
    fw = (b / "host-firewall.txt").read_text()
    assert run.nft_table in fw and "udp dport 67" in fw and "drop" in fw
    assert run.mac not in _lease_macs((b / "dnsmasq.leases").read_text())
    assert "DHCPDISCOVER" not in (b / "journal.txt").read_text()  # dropped before dnsmasq
    assert "timed out waiting for response" in facts["attempt"]["client_output"]
    assert f"Request from {run.mac}" in (b / "tcpdump.txt").read_text()


def test_lab_pool_exhausted(lab_run):  # noqa: F811
    run = lab_run("pool-exhausted")
    _common_checks(run)
    b = run.bundle
    leases = (b / "dnsmasq.leases").read_text()
    assert run.mac not in _lease_macs(leases) and len(_lease_macs(leases)) == 2
    assert f"DHCPDISCOVER({run.bridge}) {run.mac} no address available" in (b / "journal.txt").read_text()


def test_lab_dnsmasq_down(lab_run):  # noqa: F811
    run = lab_run("dnsmasq-down")
    _common_checks(run)
    b = run.bundle
    commands = [ln.split(None, 3)[3] for ln in (b / "processes.txt").read_text().splitlines()[1:]]
    assert any("multipassd" in c for c in commands) and not any(c.startswith("dnsmasq") for c in commands)
    journal = (b / "journal.txt").read_text()
    assert "exiting on receipt of SIGTERM" in journal and "DHCPDISCOVER" not in journal
    assert run.mac not in _lease_macs((b / "dnsmasq.leases").read_text())


def test_lab_bridge_down(lab_run):  # noqa: F811
    run = lab_run("bridge-down")
    _common_checks(run)
    b = run.bundle
    links = json.loads((b / "ip-addr.json").read_text())
    br = next(link for link in links if link["ifname"] == run.bridge)
    assert "UP" not in br["flags"] and br["operstate"] == "DOWN"
    assert run.mac not in _lease_macs((b / "dnsmasq.leases").read_text())
    assert "DHCPDISCOVER" not in (b / "journal.txt").read_text()


@pytest.mark.parametrize("scenario", list(EXPECTED_CAUSE))
def test_lab_diagnosis(lab_run, scenario):  # noqa: F811
    run = lab_run(scenario)
    diagnosis = mpkit.diagnose(mpkit.load_bundle(run.bundle))
    expected = EXPECTED_CAUSE[scenario]
    if expected is None:
        assert diagnosis.failed_stage == "none"
    else:
        assert diagnosis.root_cause.id in expected, diagnosis.root_cause.id
