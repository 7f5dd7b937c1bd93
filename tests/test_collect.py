"""Collection: catalogs replayed (macOS, Windows), faults (hang, missing tool, EPERM, huge, SIGINT)."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import tarfile
import textwrap
import time
from pathlib import Path

import pytest

from lab import samples
from mpkit.collect import (
    CATALOG,
    LiveRunner,
    ReplayRunner,
    Source,
    Targets,
    collect,
    parse_since,
    probe,
    sources_for,
)
from mpkit.collect.manifest import load as load_manifest
from mpkit.collect.runner import NOT_FOUND, OK, PERMISSION_DENIED, TIMED_OUT
from mpkit.errors import CollectError

NOW = dt.datetime.now(dt.UTC)
ENTRY_KEYS = {
    "file",
    "kind",
    "source",
    "started_at",
    "duration_s",
    "exit_code",
    "timed_out",
    "truncated",
    "bytes",
    "error",
}


def _check_manifest(bundle: Path) -> dict:
    m = load_manifest(bundle)
    assert m["format"] == "mpkit-bundle/1"
    assert {"created_at", "finished_at", "host", "mpkit_version", "redacted", "artifacts"} <= set(m)
    assert {"platform", "os_version", "arch", "hostname", "timezone", "utc_offset"} <= set(m["host"])
    for a in m["artifacts"]:
        assert ENTRY_KEYS <= set(a), a
        assert ("command" in a) or ("path" in a)
        if a["file"]:
            assert (bundle / a["file"]).is_file(), a["file"]
        else:  # failed sources have no file and say why (the stop before a start is no artifact)
            assert a["error"] or a["kind"] is None, a
    assert not list(bundle.glob(".*.tmp"))
    return m


def _by_file(m: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for a in m["artifacts"]:
        name = a["file"] or a.get("command") or a.get("path")
        out.setdefault(name, []).append(a)
    return out


# --- catalogs ---------------------------------------------------------------------------------


def test_catalog_is_data_and_complete():
    for platform, entries in CATALOG.items():
        assert entries, platform
        for src in entries:
            assert isinstance(src, Source)
            assert (src.path is None) != (not src.commands), src.file
            assert src.timeout > 0 and src.max_bytes != 0
            if src.needs_root:
                assert src.why_root, src.file
    linux = {s.file for s in sources_for("linux")}
    assert {
        "journal.txt",
        "dnsmasq.leases",
        "ip-neigh.txt",
        "ip-addr.json",
        "routes.txt",
        "host-firewall.txt",
        "processes.txt",
    } <= linux
    mac = {s.file for s in sources_for("macos")}
    assert {"multipassd.log", "dhcpd_leases", "arp.txt", "firewall.txt", "pf-rules.txt", "bootpd.log"} <= mac
    assert {s.file for s in sources_for("macos") if s.snapshot} == {"dhcpd_leases", "arp.txt"}
    assert {s.file for s in sources_for("linux") if s.snapshot} == {"dnsmasq.leases", "ip-neigh.txt"}


def test_targets_point_linux_sources_elsewhere():
    tg = Targets(bridge="mpkbr0", lease_file="/tmp/x.leases", journal_command=("cat", "/tmp/j"))
    srcs = {s.file: s for s in sources_for("linux", tg)}
    assert "journal.json" not in srcs and srcs["journal.txt"].commands == (("cat", "/tmp/j"),)
    assert srcs["dnsmasq.leases"].path == "{lease_file}"
    assert tg.resolved("linux").lease_file == "/tmp/x.leases"
    assert Targets().resolved("linux").bridge == "mpqemubr0"


@pytest.mark.parametrize(
    "text,seconds", [("2h", 7200), ("30m", 1800), ("1h30m", 5400), ("90", 90), ("1d", 86400)]
)
def test_parse_since(text, seconds):
    assert parse_since(text) == seconds


@pytest.mark.parametrize("bad", ["", "abc", "2x", "0m"])
def test_parse_since_rejects(bad):
    with pytest.raises(CollectError):
        parse_since(bad)


def test_macos_replay_every_source(tmp_path):
    rec = samples.recordings("macos", NOW)
    runner = ReplayRunner(
        rec, platform="macos", root=True, host={"hostname": "mac", "timezone": "Europe/Paris"}
    )
    lines: list[str] = []
    out = collect(tmp_path / "b", platform="macos", runner=runner, progress=lines.append)
    m = _check_manifest(out)
    assert m["host"]["platform"] == "macos" and m["complete"] and not m.get("needs_sudo")
    for src in sources_for("macos"):
        assert (out / src.file).is_file(), src.file
    # every recording was asked for (the catalog and the recordings agree)
    assert set(rec) <= set(runner.calls)
    states = {a["state"] for a in m["artifacts"]}
    assert states == {OK}
    # the daemon log is cut to the window: the 10-hours-old line is gone
    log = (out / "multipassd.log").read_text()
    assert "1.16.1+mac" in log and "out-of-window" not in log
    entry = next(a for a in m["artifacts"] if a["file"] == "multipassd.log")
    assert entry["window_dropped_bytes"] > 0
    # firewall.txt: the outputs one after another
    assert (out / "firewall.txt").read_text().startswith("Firewall is enabled.")
    # one progress line per source, with a status and a time
    assert len([ln for ln in lines if ln.split()[0] in {s.file for s in sources_for("macos")}]) >= len(
        sources_for("macos")
    )
    assert any(" ok " in ln and "s " in ln for ln in lines)


def test_windows_replay_every_source(tmp_path):
    rec = samples.recordings("windows", NOW)
    runner = ReplayRunner(rec, platform="windows", root=True)
    out = collect(tmp_path / "b", platform="windows", runner=runner)
    m = _check_manifest(out)
    for src in sources_for("windows"):
        assert (out / src.file).is_file(), src.file
    assert all(a["state"] == OK for a in m["artifacts"])
    assert "Microsoft Windows [Version 10.0.22631.4460]" in (out / "winver.txt").read_text()
    hyperv = [a for a in m["artifacts"] if a["file"] == "hyperv.txt"]
    assert len(hyperv) >= 1 and all(a["command"].startswith("powershell.exe") for a in hyperv)


def test_replay_from_directory(tmp_path):
    rec = samples.recordings("macos", NOW)
    folder = ReplayRunner(rec).save(tmp_path / "rec")
    out = collect(tmp_path / "b", platform="macos", runner=ReplayRunner(folder, root=True))
    assert (out / "dhcpd_leases").read_text() == samples.MACOS_FILES["dhcpd_leases"]


def test_macos_faults_missing_eperm_hang_huge(tmp_path):
    rec = samples.recordings("macos", NOW, huge_log=b"")
    huge = "".join(
        f"[{samples._log_ts(NOW, 5)}] [debug] [arp] line {i:07d} {'x' * 80}\n" for i in range(60_000)
    )
    rec[samples.key_for("macos", "multipassd.log")] = huge
    del rec[samples.key_for("macos", "arp.txt")]  # the tool is missing
    rec[samples.key_for("macos", "pf-rules.txt")] = {
        "stderr": "pfctl: /dev/pf: Permission denied\n",
        "exit_code": 1,
        "state": "permission-denied",
    }
    rec[samples.key_for("macos", "dhcpd_leases")] = {"state": "permission-denied"}
    rec[samples.key_for("macos", "bootpd.log")] = {"state": "hang"}
    runner = ReplayRunner(rec, platform="macos", root=False)
    lines: list[str] = []
    out = collect(
        tmp_path / "b", platform="macos", runner=runner, progress=lines.append, max_log_bytes=100_000
    )
    m = _check_manifest(out)
    got = _by_file(m)
    arp = [a for a in m["artifacts"] if a.get("command") == "arp -an"][0]
    assert arp["state"] == NOT_FOUND and arp["file"] is None and not (out / "arp.txt").exists()
    pf = [a for a in m["artifacts"] if a.get("command") == "pfctl -s rules"][0]
    assert pf["state"] == PERMISSION_DENIED and "Permission denied" in pf["error"]
    leases = [a for a in m["artifacts"] if a.get("path") == "/var/db/dhcpd_leases"][0]
    assert leases["state"] == PERMISSION_DENIED
    hang = [
        a for a in m["artifacts"] if a.get("command", "").startswith("log show") and "bootpd" in a["command"]
    ][0]
    assert hang["state"] == TIMED_OUT and hang["timed_out"] is True and hang["file"] is None
    log = got["multipassd.log"][0]
    assert log["truncated"] is True and log["bytes"] <= 100_000
    text = (out / "multipassd.log").read_text()
    assert text.endswith(f"line {59_999:07d} {'x' * 80}\n") and text.startswith("[")  # tail, whole lines
    # collection went on after every failure, and says what needs sudo, without escalating
    assert (out / "sw_vers.txt").is_file()
    need = {n["file"] for n in m["needs_sudo"]}
    assert {"pf-rules.txt", "bootpd.log"} <= need
    assert "sudo mpkit collect" in "\n".join(lines)
    assert not any("sudo" in c.split()[0] for c in runner.calls if " " in c)


def test_replay_probe_macos(tmp_path):
    rec = samples.recordings("macos", NOW)
    rec["multipass stop --force primary"] = ""
    rec["multipass start primary"] = {
        "stderr": "start failed: The following errors occurred:\nprimary: timed out waiting for response\n",
        "exit_code": 2,
        "duration_s": 0.3,
    }
    runner = ReplayRunner(rec, platform="macos", root=True, real_time=True)
    out = probe(
        "primary",
        attempts=2,
        interval=0.1,
        stop_first=True,
        timeout=5,
        out_dir=tmp_path / "b",
        platform="macos",
        runner=runner,
    )
    m = _check_manifest(out)
    attempts = [json.loads(ln) for ln in (out / "attempts.jsonl").read_text().splitlines()]
    assert [a["attempt"] for a in attempts] == [1, 2]
    for a in attempts:
        assert a["outcome"] == "timeout" and a["exit_code"] == 2 and a["instance"] == "primary"
        assert a["command"] == ["multipass", "start", "primary"]
        assert "timed out waiting for response" in a["client_output"]
        assert a["started_at"] <= a["ended_at"]
    assert "timed out waiting for response" in (out / "client.txt").read_text()
    snaps = sorted((out / "snapshots").iterdir())
    assert len(snaps) >= 4
    assert all((s / "dhcpd_leases").is_file() and (s / "arp.txt").is_file() for s in snaps)
    assert (out / "multipassd.log").is_file()  # collect_after
    assert m["probe"]["instance"] == "primary"
    assert runner.calls.count("multipass stop --force primary") == 2
    # a start that never returns is killed at the timeout and recorded as such
    rec["multipass start primary"] = {"state": "hang"}
    out2 = probe(
        "primary",
        timeout=0.5,
        out_dir=tmp_path / "c",
        platform="macos",
        runner=ReplayRunner(rec),
        collect_after=False,
    )
    a = json.loads((out2 / "attempts.jsonl").read_text())
    assert a["outcome"] == "timeout" and a["timed_out"] is True


def test_watch_takes_snapshots_without_starting(tmp_path):
    rec = samples.recordings("macos", NOW)
    runner = ReplayRunner(rec, platform="macos")
    out = collect(tmp_path / "b", platform="macos", runner=runner, watch=0.5, interval=0.1)
    assert len(list((out / "snapshots").iterdir())) >= 3
    assert not any(" start " in c for c in runner.calls)
    assert load_manifest(out)["mode"] == "watch"


def test_tar_output(tmp_path):
    out = collect(
        tmp_path / "b", platform="macos", runner=ReplayRunner(samples.recordings("macos", NOW)), tar=True
    )
    assert out.name == "b.tar.gz" and out.is_file()
    with tarfile.open(out) as tar:
        assert "b/manifest.json" in tar.getnames()


def test_refuses_non_empty_output(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "x").write_text("keep me")
    with pytest.raises(CollectError, match="not empty"):
        collect(tmp_path / "b", platform="macos", runner=ReplayRunner({}))
    assert (tmp_path / "b" / "x").read_text() == "keep me"


# --- the live runner --------------------------------------------------------------------------


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purpose
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return True


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX process groups")
def test_live_hang_is_killed_with_its_children(tmp_path):
    pidfile = tmp_path / "child.pid"
    t0 = time.monotonic()
    res = LiveRunner().run(["sh", "-c", f"sleep 300 & echo $! > {pidfile}; sleep 300"], timeout=1.0)
    assert time.monotonic() - t0 < 8
    assert res.state == TIMED_OUT and res.timed_out and res.exit_code is None
    child = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child), "the hung command's child survived"


def test_live_missing_binary_and_eperm(tmp_path):
    res = LiveRunner().run(["mpkit-no-such-tool-xyz", "--version"], timeout=5)
    assert res.state == NOT_FOUND and "not found" in res.error
    script = tmp_path / "noexec.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o644)
    res = LiveRunner().run([str(script)], timeout=5)
    assert res.state == PERMISSION_DENIED
    res = LiveRunner().run(
        ["sh", "-c", "echo 'ls: cannot open directory /root: Permission denied' >&2; exit 2"], 5
    )
    assert res.state == PERMISSION_DENIED and res.exit_code == 2
    res = LiveRunner().read_file(str(tmp_path / "missing"))
    assert res.state == NOT_FOUND


def test_live_huge_output_keeps_tail_and_env(tmp_path):
    code = "import sys\nfor i in range(200000): sys.stdout.write(f'line {i:06d}\\n')"
    res = LiveRunner().run([sys.executable, "-c", code], timeout=30, max_bytes=10_000)
    assert res.ok and res.truncated and len(res.stdout) == 10_000 and res.total_bytes > 2_000_000
    assert res.stdout.endswith(b"line 199999\n")
    env = LiveRunner().run(["sh", "-c", 'echo "$LC_ALL $LANG"; cat'], timeout=5)
    assert env.stdout == b"C C\n"  # stdin closed: cat returns at once
    big = tmp_path / "big.log"
    big.write_bytes(b"x" * 50_000 + b"\nlast line\n")
    res = LiveRunner().read_file(str(big), max_bytes=100)
    assert res.truncated and res.stdout.endswith(b"last line\n") and len(res.stdout) == 100


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="live Linux catalog")
def test_live_linux_collect_writes_only_into_its_directory(tmp_path, monkeypatch):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    (tmp_path / "before.txt").write_text("x")
    before = _tree(tmp_path)
    out = collect(tmp_path / "bundle", platform="linux", since="10m")
    after = _tree(tmp_path)
    new = {p for p in after - before if not p.startswith("bundle")}
    assert new == {"bundle"} - {"bundle"}, new
    m = _check_manifest(out)
    assert m["complete"] and m["host"]["platform"] == "linux"
    assert (out / "uname.txt").read_text().startswith("Linux")


_INTERRUPT_SCRIPT = textwrap.dedent(
    """
    import sys
    from mpkit.collect import collect, Source
    out, pidfile = sys.argv[1], sys.argv[2]
    sources = [
        Source("first.txt", None, (("echo", "first"),)),
        Source("slow.txt", None, (("sh", "-c", f"echo $$ > {pidfile}; exec sleep 60"),), timeout=120),
        Source("never.txt", None, (("echo", "never"),)),
    ]
    try:
        collect(out, platform="linux", sources=sources)
    except KeyboardInterrupt:
        sys.exit(130)
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigint_mid_run_leaves_a_valid_partial_bundle(tmp_path):
    out, pidfile = tmp_path / "b", tmp_path / "slow.pid"
    proc = subprocess.Popen([sys.executable, "-c", _INTERRUPT_SCRIPT, str(out), str(pidfile)])
    try:
        deadline = time.monotonic() + 20
        while not pidfile.exists() or not pidfile.read_text().strip():
            assert time.monotonic() < deadline, "the slow source never started"
            assert proc.poll() is None
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    m = _check_manifest(out)
    assert m["interrupted"] is True and m["complete"] is False and m["finished_at"]
    files = [a["file"] for a in m["artifacts"]]
    assert files == ["first.txt"] and (out / "first.txt").read_text() == "first\n"
    slow = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while _alive(slow) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(slow), "the interrupted command was left running"
    assert _tree(tmp_path) - {"slow.pid"} == {"b"} | {f"b/{p}" for p in _tree(out)}
