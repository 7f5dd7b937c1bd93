"""Start-attempt segmentation: interleaved instances, restarts, refusals, QEMU exits, counted waits."""

from __future__ import annotations

from pathlib import Path

import mpkit
from mpkit import derive
from mpkit.regexes import for_arrow

T = "2025-01-10T10:00:"


def _bundle(tmp_path: Path, log: str, client: str = "") -> mpkit.Bundle:
    (tmp_path / "multipassd.log").write_text(log)
    if client:
        (tmp_path / "client.txt").write_text(client)
    return mpkit.load_bundle(tmp_path)


def test_interleaved_instances_restart_and_refusal(tmp_path: Path) -> None:
    log = "\n".join(
        [
            f"[{T}00.000] [info] [daemon] Starting Multipass 1.15.1+mac",
            f"[{T}01.000] [info] [a] process state changed to Starting",
            f"[{T}01.100] [info] [b] process state changed to Starting",
            f"[{T}01.200] [info] [a] process state changed to Running",
            f"[{T}01.300] [info] [b] process state changed to Running",
            f"[{T}02.000] [debug] [a] Waiting for SSH to be up",
            f"[{T}02.100] [debug] [b] Waiting for SSH to be up",
            f"[{T}03.000] [debug] [arp] [11] started: arp -an",
            f"[{T}04.000] [debug] [arp] [12] started: arp -an",
            f"[{T}04.500] [trace] [a] Could not determine IP address within 1000ms",
            f"[{T}05.000] [debug] [b] Caching initial SSH session",
            f"[{T}06.000] [debug] [arp] [13] started: arp -an",
            f"[{T}10.000] [info] [daemon] Starting Multipass 1.16.0+mac",
            f"[{T}11.000] [warning] [daemon] Instance 'a' is already running, but in an unknown state",
            "",
        ]
    )
    att = derive(_bundle(tmp_path, log)).attempts.set_index(["instance", "attempt"])
    assert att.loc[("a", 1), "outcome"] == "unknown" and att.loc[("a", 1), "daemon_version"] == "1.15.1+mac"
    assert att.loc[("a", 1), "arp_lookups"] == 3 and att.loc[("a", 1), "ip_failures"] == 1
    assert att.loc[("b", 1), "outcome"] == "ok" and att.loc[("b", 1), "arp_lookups"] == 2
    assert att.loc[("a", 2), "outcome"] == "refused" and att.loc[("a", 2), "daemon_version"] == "1.16.0+mac"


def test_qemu_exit_and_a_stop_is_not_an_attempt(tmp_path: Path) -> None:
    log = "\n".join(
        [
            f"[{T}00.000] [info] [vm] process state changed to NotRunning",
            f"[{T}01.000] [info] [vm] process program 'qemu-system-aarch64'",
            f"[{T}01.100] [info] [vm] process state changed to Starting",
            f"[{T}01.200] [warning] [qemu-system-aarch64] qemu-system-aarch64: boom",
            f"[{T}01.300] [error] [vm] Qemu quit unexpectedly with exit code 1 and with output:",
            "",
        ]
    )
    att = derive(
        _bundle(
            tmp_path,
            log,
            "start failed: The following errors occurred:\nvm: shutdown called while starting\n",
        )
    ).attempts
    assert len(att) == 1
    assert att.iloc[0]["outcome"] == "qemu-exited" and att.iloc[0]["qemu_errors"] >= 1
    assert att.iloc[0]["client_error"] == "shutdown called while starting"


def test_timeout_from_the_log_length_and_trace_only_paste(tmp_path: Path) -> None:
    lines = [f"[{T}00.000] [debug] [vm] Waiting for SSH to be up"]
    lines += [
        f"[2025-01-10T10:{m:02d}:00.000] [trace] [vm] Could not determine IP address within 1000ms"
        for m in range(1, 7)
    ]
    att = derive(_bundle(tmp_path, "\n".join(lines) + "\n")).attempts
    assert att.iloc[0]["outcome"] == "timeout" and att.iloc[0]["ip_failures"] == 6
    assert att.iloc[0]["duration_s"] == 360.0


def test_samples_attempt_counts() -> None:
    fw = derive(mpkit.load_bundle(mpkit.sample("firewall-blocks-bootpd"))).attempts.iloc[0]
    assert fw["outcome"] == "timeout" and fw["arp_lookups"] == 146 and fw["stage_reached"] == "dhcp"
    ok = derive(mpkit.load_bundle(mpkit.sample("healthy-start"))).attempts.iloc[0]
    assert ok["outcome"] == "ok" and ok["ssh_up_at"] > ok["ssh_wait_at"]


def test_for_arrow_keeps_meaning() -> None:
    import re

    pat = r"^(\S+) needs (?:starting|syncing)\s[\d.]+"
    fast = for_arrow(pat)
    for text in ("vm needs starting 1.2", "vm needs syncing\t33", "x y needs starting 1"):
        assert bool(re.search(pat, text)) == bool(re.search(fast, text))


def test_1_17_dev_wording(tmp_path: Path) -> None:
    """1.17-dev: `IP not available` replaces `Could not determine IP…`; `Instance shutdown during start`
    replaces `shutdown called while starting`."""
    log = "\n".join(
        [
            f"[{T}00.000] [info] [daemon] Starting Multipass 1.17.0-dev.2929.pr661+gc67ef6641.mac",
            f"[{T}01.000] [info] [vm] process state changed to Running",
            f"[{T}02.000] [debug] [vm] Waiting for SSH to be up",
            f"[{T}03.000] [trace] [vm] IP not available",
            f"[{T}04.000] [trace] [vm] IP not available",
            "",
        ]
    )
    att = derive(_bundle(tmp_path, log)).attempts.iloc[0]
    assert att["ip_failures"] == 2 and att["daemon_version"].startswith("1.17.0-dev")
    other = tmp_path / "b"
    other.mkdir()
    (other / "client.txt").write_text(
        "start failed: The following errors occurred:\nqemu-system-aarch64: boom\nvm: Instance shutdown during start\n"
    )
    assert derive(mpkit.load_bundle(other)).attempts.iloc[0]["outcome"] == "qemu-exited"
