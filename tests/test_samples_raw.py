"""The sample bundles in ``mpkit/samples_data/`` as raw files: generated, complete, and on one clock.

These tests read the bytes with the standard library only (no mpkit parsers), so
they hold whatever state the parsers are in: ``scripts/make_samples.py`` is
deterministic and ``mpkit/samples_data/`` (their only copy) is what it writes; every manifest has the spec's keys
and points at files that exist; every artifact the collection catalog knows is
named, kinded and commanded as the catalog says; and every time in a bundle
agrees with every other (local daemon-log times, the manifest's zone, UTC
snapshot folders and attempt times, QMP epochs, lease expiries, tcpdump times).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from mpkit.collect import catalog as cat

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "mpkit" / "samples_data"
SCRIPT = ROOT / "scripts" / "make_samples.py"
BUNDLES = ["sequoia-ip-discovery", "firewall-blocks-bootpd", "healthy-start", "linux-dhcp-firewalled"]

MANIFEST_KEYS = {"format", "created_at", "finished_at", "host", "mpkit_version", "redacted", "artifacts"}
HOST_KEYS = {"platform", "os_version", "arch", "hostname", "timezone", "utc_offset"}
ENTRY_KEYS = {
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
ATTEMPT_KEYS = {
    "attempt",
    "instance",
    "command",
    "started_at",
    "ended_at",
    "duration_s",
    "exit_code",
    "outcome",
    "client_output",
}
LOG_RE = re.compile(r"^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})\] \[(\w+)\] \[([^\]]*)\] ?(.*)$")
JOURNAL_RE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:?\d\d) (\S+) ([^\[:]+)\[(\d+)\]: (.*)$")
SNAP_RE = re.compile(r"^(\d{4}-\d\d-\d\d)T(\d\d)-(\d\d)-(\d\d\.\d{3})Z$")


def _run_generator(out: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), str(out)], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("samples")
    _run_generator(out)
    return out


def _utc(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def _offset(m: dict) -> timezone:
    off = m["host"]["utc_offset"]
    sign = -1 if off.startswith("-") else 1
    h, mi = off[1:].split(":")
    return timezone(sign * timedelta(hours=int(h), minutes=int(mi)))


def _manifest(name: str) -> dict:
    return json.loads((DATA / name / "manifest.json").read_text(encoding="utf-8"))


def _attempts(name: str) -> list[dict]:
    text = (DATA / name / "attempts.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _events(name: str) -> list[tuple[datetime, str, str]]:
    """(aware time, category or identifier, message) of the daemon log or journal."""
    folder, m = DATA / name, _manifest(name)
    out = []
    if (folder / "multipassd.log").exists():
        tz = _offset(m)
        for line in (folder / "multipassd.log").read_text(encoding="utf-8").splitlines():
            mm = LOG_RE.match(line)
            if mm:
                out.append((datetime.fromisoformat(mm[1]).replace(tzinfo=tz), mm[3], mm[4]))
    else:
        for line in (folder / "journal.txt").read_text(encoding="utf-8").splitlines():
            mm = JOURNAL_RE.match(line)
            if mm:
                out.append((datetime.fromisoformat(mm[1]), mm[3], mm[5]))
    return out


# --------------------------------------------------------------------------- generator


def test_generator_is_deterministic(generated: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    _run_generator(again)
    assert _tree(again) == _tree(generated)


def test_data_is_up_to_date(generated: Path) -> None:
    want = _tree(generated)
    have = _tree(DATA)
    stale = sorted(k for k in want if have.get(k) != want[k])
    extra = sorted(k for k in have if k not in want)
    assert not stale and not extra, (
        f"mpkit/samples_data/ differs from scripts/make_samples.py output (run it): changed/missing {stale[:10]}, extra {extra[:10]}"
    )


# --------------------------------------------------------------------------- manifest and files


@pytest.mark.parametrize("name", BUNDLES)
def test_manifest_has_the_spec_keys(name: str) -> None:
    m = _manifest(name)
    assert MANIFEST_KEYS <= set(m)
    assert m["format"] == "mpkit-bundle/1"
    assert m["mpkit_version"] == "0.1.0"
    assert m["redacted"] is False
    assert HOST_KEYS <= set(m["host"])
    assert m["host"]["platform"] in {"macos", "linux"}
    assert _utc(m["created_at"]) < _utc(m["finished_at"])
    for e in m["artifacts"]:
        assert ENTRY_KEYS <= set(e), e
        assert e["source"] in {"command", "file"}
        assert ("command" if e["source"] == "command" else "path") in e
        if "file" not in e:
            assert e["error"], f"a failed source must say why: {e}"
            assert e["bytes"] is None
    failed = [e for e in m["artifacts"] if "file" not in e]
    assert failed, "every sample shows at least one failed source"


@pytest.mark.parametrize("name", BUNDLES)
def test_manifest_files_exist_and_match(name: str) -> None:
    folder, m = DATA / name, _manifest(name)
    sizes: dict[str, int] = {}
    for e in m["artifacts"]:
        if "file" in e:
            assert (folder / e["file"]).is_file(), e["file"]
            sizes[e["file"]] = sizes.get(e["file"], 0) + e["bytes"]
    for rel, total in sizes.items():  # several commands may write one file one after another
        assert (folder / rel).stat().st_size == total, rel
    on_disk = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert on_disk - set(sizes) == {"manifest.json", "attempts.jsonl"}


@pytest.mark.parametrize("name", BUNDLES)
def test_bundle_is_small(name: str) -> None:
    assert sum(p.stat().st_size for p in (DATA / name).rglob("*") if p.is_file()) < 300_000


@pytest.mark.parametrize("name", BUNDLES)
def test_attempts_match_client_txt(name: str) -> None:
    atts = _attempts(name)
    assert len(atts) == 1
    a = atts[0]
    assert ATTEMPT_KEYS <= set(a)
    assert a["command"] == ["multipass", "start", a["instance"]]
    assert (DATA / name / "client.txt").read_text(encoding="utf-8") == a["client_output"]
    dur = (_utc(a["ended_at"]) - _utc(a["started_at"])).total_seconds()
    assert abs(dur - a["duration_s"]) < 0.002
    if a["outcome"] == "timeout":
        assert a["exit_code"] == 2 and 300 <= dur < 302
        assert a["client_output"].endswith(f"{a['instance']}: timed out waiting for response\n")
    else:
        assert (a["outcome"], a["exit_code"]) == ("ok", 0) and dur < 60


# --------------------------------------------------------------------------- the collection catalog

#: stands for the time window (``--since @N``, ``--last Nm``), which each sample chooses
_ANY_WINDOW = 987_654_321


def _catalog_name(rel: str) -> str:
    """The catalog's name for a bundle file: snapshots hold the same files under ``snapshots/<time>/``."""
    return rel.split("/", 2)[2] if rel.startswith("snapshots/") else rel


def _follows(entry: dict, src: cat.Source, targets: cat.Targets) -> bool:
    """Whether a manifest entry carries ``src``'s kind and one of its commands (or its path), filled."""
    if entry["kind"] != src.kind:
        return False
    if src.path is not None:
        return entry["source"] == "file" and entry.get("path") == cat.fill(src.path, targets)
    if entry["source"] != "command":
        return False
    for argv in src.commands:
        filled = cat.expand(argv, targets, since_epoch=_ANY_WINDOW, since_minutes=_ANY_WINDOW)
        pattern = "\0".join(re.escape(part).replace(str(_ANY_WINDOW), r"\d+") for part in filled)
        if re.fullmatch(pattern, "\0".join(entry["command"])):
            return True
    return False


@pytest.mark.parametrize("name", BUNDLES)
def test_catalog_files_carry_the_catalog_kind_and_command(name: str) -> None:
    folder, m = DATA / name, _manifest(name)
    platform = m["host"]["platform"]
    targets = cat.Targets().resolved(platform)
    entries: dict[str, list[dict]] = {}
    for e in m["artifacts"]:
        if "file" in e:
            entries.setdefault(e["file"], []).append(e)
    checked = 0
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        src = cat.source_for_file(platform, _catalog_name(rel)) if path.is_file() else None
        if src is None:
            continue
        assert entries.get(rel), f"{rel}: no manifest entry"
        for e in entries[rel]:
            assert _follows(e, src, targets), f"{rel}: {e} is not what the catalog records for {src}"
        assert src.snapshot or not rel.startswith("snapshots/"), f"{rel}: not a snapshot source"
        checked += 1
    assert checked >= 10


@pytest.mark.parametrize("name", BUNDLES)
def test_catalog_kinds_come_from_catalog_sources(name: str) -> None:
    """An entry of a kind the catalog collects (failed ones too) is one of those sources, under its name."""
    m = _manifest(name)
    platform = m["host"]["platform"]
    targets = cat.Targets().resolved(platform)
    for e in m["artifacts"]:
        sources = [s for s in cat.CATALOG[platform] if e["kind"] is not None and s.kind == e["kind"]]
        if not sources:
            continue  # not a catalog source (the start attempt's output, the packet capture)
        matching = [s for s in sources if _follows(e, s, targets)]
        assert matching, f"{e} matches none of the catalog's {e['kind']} sources"
        if "file" in e:
            assert _catalog_name(e["file"]) in {s.file for s in matching}, e


# --------------------------------------------------------------------------- one clock


@pytest.mark.parametrize("name", BUNDLES)
def test_zone_and_offset_agree(name: str) -> None:
    m = _manifest(name)
    zone = ZoneInfo(m["host"]["timezone"])
    for key in ("created_at", "finished_at"):
        assert _utc(m[key]).astimezone(zone).utcoffset() == _offset(m).utcoffset(None)


@pytest.mark.parametrize("name", BUNDLES)
def test_times_inside_the_collection(name: str) -> None:
    m = _manifest(name)
    lo, hi = _utc(m["created_at"]), _utc(m["finished_at"])
    for e in m["artifacts"]:
        start = _utc(e["started_at"])
        assert lo <= start and start + timedelta(seconds=e["duration_s"]) <= hi + timedelta(milliseconds=1), e
    a = _attempts(name)[0]
    assert lo < _utc(a["started_at"]) < _utc(a["ended_at"]) < hi


@pytest.mark.parametrize("name", BUNDLES)
def test_daemon_log_starting_matches_attempt(name: str) -> None:
    a = _attempts(name)[0]
    start, end = _utc(a["started_at"]), _utc(a["ended_at"])
    starting = [
        t
        for t, cat, msg in _events(name)
        if msg == "process state changed to Starting" and cat in {a["instance"], "multipassd"}
    ]
    assert starting, "no 'process state changed to Starting' line"
    gap = (starting[-1] - start).total_seconds()
    assert -1.0 <= gap <= 3.0, f"Starting logged {gap:+.3f}s from attempts.jsonl started_at"
    waits = [t for t, _, msg in _events(name) if msg == "Waiting for SSH to be up"]
    assert start - timedelta(seconds=1) <= waits[-1] <= end
    if a["outcome"] == "ok":
        cached = [t for t, _, msg in _events(name) if msg == "Caching initial SSH session"]
        assert cached and abs((end - cached[-1]).total_seconds()) < 2
    else:
        assert not any(msg == "Caching initial SSH session" for _, _, msg in _events(name))


@pytest.mark.parametrize("name", BUNDLES)
def test_qmp_epochs_match_log_times(name: str) -> None:
    nic = [(t, msg) for t, _, msg in _events(name) if "NIC_RX_FILTER_CHANGED" in msg]
    assert len(nic) == 1
    t, msg = nic[0]
    ts = json.loads(msg.removeprefix("QMP: "))["timestamp"]
    qmp = datetime.fromtimestamp(ts["seconds"] + ts["microseconds"] / 1e6, UTC)
    assert abs((t - qmp).total_seconds()) < 1.0  # the journal prints whole seconds


@pytest.mark.parametrize("name", BUNDLES)
def test_snapshots_span_the_attempt(name: str) -> None:
    a = _attempts(name)[0]
    start, end = _utc(a["started_at"]), _utc(a["ended_at"])
    times = []
    for d in sorted((DATA / name / "snapshots").iterdir()):
        mm = SNAP_RE.match(d.name)
        assert mm, d.name
        times.append(datetime.fromisoformat(f"{mm[1]}T{mm[2]}:{mm[3]}:{mm[4]}+00:00"))
        assert {p.name for p in d.iterdir()} in (
            {"dhcpd_leases", "arp.txt"},
            {"dnsmasq.leases", "ip-neigh.txt"},
        )
    assert times[0] < start and times[-1] > end
    gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:], strict=False)]
    assert min(gaps) >= 2.0 and max(gaps) <= 5.0


def _bootpd_acks(name: str) -> list[tuple[datetime, str]]:
    path = DATA / name / "bootpd.log"
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        ev = json.loads(line)
        mm = re.match(r"ACK sent \S+ (\S+) ", ev["eventMessage"])
        if mm:
            out.append((datetime.strptime(ev["timestamp"], "%Y-%m-%d %H:%M:%S.%f%z"), mm[1]))
    return out


def _lease_blocks(text: str) -> list[dict[str, str]]:
    blocks = []
    for body in re.findall(r"\{\n(.*?)\n\}", text, flags=re.S):
        assert all(line.startswith("\t") for line in body.split("\n")), "dhcpd_leases indents with one TAB"
        blocks.append(dict(line.strip().split("=", 1) for line in body.split("\n")))
    return blocks


@pytest.mark.parametrize("name", ["sequoia-ip-discovery", "healthy-start"])
def test_lease_expiry_is_ack_plus_a_day(name: str) -> None:
    acks = _bootpd_acks(name)
    assert len(acks) == 1
    ack, ip = acks[0]
    block = next(
        b for b in _lease_blocks((DATA / name / "dhcpd_leases").read_text()) if b["ip_address"] == ip
    )
    assert int(block["lease"], 16) == int(ack.timestamp()) + 86400
    # the snapshots show the block rewritten right after the ACK, not before
    for d in sorted((DATA / name / "snapshots").iterdir()):
        m = SNAP_RE.match(d.name)
        assert m
        taken = datetime.fromisoformat(f"{m[1]}T{m[2]}:{m[3]}:{m[4]}+00:00")
        snap = next(b for b in _lease_blocks((d / "dhcpd_leases").read_text()) if b["ip_address"] == ip)
        fresh = int(snap["lease"], 16) == int(block["lease"], 16)
        assert fresh == (taken > ack + timedelta(milliseconds=5)), d.name


@pytest.mark.parametrize("name", ["firewall-blocks-bootpd", "linux-dhcp-firewalled"])
def test_tcpdump_inside_the_attempt(name: str) -> None:
    m, a = _manifest(name), _attempts(name)[0]
    start = _utc(a["started_at"]).astimezone(_offset(m))
    end = _utc(a["ended_at"]).astimezone(_offset(m))
    lines = (DATA / name / "tcpdump.txt").read_text().splitlines()
    assert lines and not any("Reply" in line for line in lines)
    nic = next(t for t, _, msg in _events(name) if "NIC_RX_FILTER_CHANGED" in msg)
    for line in lines:
        clock = datetime.strptime(line.split()[0], "%H:%M:%S.%f").time()
        t = datetime.combine(start.date(), clock, start.tzinfo)
        assert nic - timedelta(seconds=1) <= t <= end


# --------------------------------------------------------------------------- what each sample is for


def test_sequoia_guest_has_an_ip_the_lookup_cannot_see() -> None:
    folder = DATA / "sequoia-ip-discovery"
    log = (folder / "multipassd.log").read_text()
    assert "Starting Multipass 1.14.0+mac" in log and "[arp]" not in log
    mac = re.search(r"-nic, vmnet-shared,model=virtio-net-pci,mac=([0-9a-f:]{17})", log)[1]
    nozero = ":".join(f"{int(o, 16):x}" for o in mac.split(":"))
    blocks = _lease_blocks((folder / "dhcpd_leases").read_text())
    first = blocks[0]
    assert first["hw_address"].startswith("ff,") and nozero not in first["hw_address"]
    assert any(b["hw_address"].startswith("1,") for b in blocks[1:])
    arp = (folder / "arp.txt").read_text()
    assert f"? ({first['ip_address']}) at {nozero} on bridge100 ifscope [bridge]" in arp
    assert "ProductVersion:\t\t15.0\n" in (folder / "sw_vers.txt").read_text()


def test_firewall_sample_never_gets_a_lease() -> None:
    folder = DATA / "firewall-blocks-bootpd"
    log = (folder / "multipassd.log").read_text()
    arp_lines = log.count("[debug] [arp] ")
    assert 140 <= arp_lines <= 155  # about one every 2 s over 300 s
    mac = re.search(r"mac=([0-9a-f:]{17})", log)[1]
    nozero = ":".join(f"{int(o, 16):x}" for o in mac.split(":"))
    assert nozero not in (folder / "dhcpd_leases").read_text()
    assert nozero not in (folder / "arp.txt").read_text()
    fw = (folder / "firewall.txt").read_text()
    assert "Firewall is enabled." in fw and "block all state set to enabled" in fw and "bootpd" not in fw


def test_linux_sample_drops_dhcp_before_dnsmasq() -> None:
    folder = DATA / "linux-dhcp-firewalled"
    journal = (folder / "journal.txt").read_text()
    mac = re.search(r"mac=([0-9a-f:]{17})", journal)[1]
    assert "DHCP, IP range" in journal and "DHCPDISCOVER" not in journal
    assert mac not in (folder / "dnsmasq.leases").read_text()
    assert mac not in (folder / "ip-neigh.txt").read_text()
    rules = (folder / "host-firewall.txt").read_text()
    drop = re.search(r'iifname "mpqemubr0" udp dport 67 counter packets (\d+) bytes \d+ drop', rules)
    assert drop and int(drop[1]) == len((folder / "tcpdump.txt").read_text().splitlines())
    assert "ID=ubuntu" in (folder / "sw_vers.txt").read_text()
