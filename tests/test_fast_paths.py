"""The fast paths give exactly what the plain implementations give.

1. The daemon-log parser (byte-level scan, chunked, threaded) against :func:`reference_parse`, a
   plain per-line regular-expression parser kept here: same frame, same dtypes, same coverage,
   on generated logs of several shapes, on hostile text, and on every real daemon log we have.
2. The derived views (attempts, entities, links, timeline) and the verdict of every sample,
   shared case, case-library bundle and generated bundle against digests recorded with the plain
   implementations (``tests/data/derived_digests.json``; ``MPKIT_REGEN=1`` rewrites it, review
   the change like a golden).

No timing here: speed is measured by ``bench/table.py``.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import os
import random
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mpkit
from conftest import CASES_DIR, DATA
from mpkit import derive
from mpkit.diagnose.library import find_cases
from mpkit.parsers import daemon_log
from mpkit.parsers._logcore import LEVEL_DTYPE, LEVELS
from mpkit.schema import REJECT_SAMPLE

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from parse_bench import generate  # noqa: E402

# -- the reference parser ----------------------------------------------------------------------
# Python's `re` with ASCII classes spelled out, so that it means what RE2 means: \d is 0-9, \s is
# [\t\n\f\r ] (no \v), `$` is the end of the text (written \Z: Python's `$` also matches before a
# final newline).

_HEADER = re.compile(
    r"(?:\[(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?\] )?"
    r"\[(error|warning|info|debug|trace)\] \[([^\]]*)\] ?(.*)\Z",
    re.ASCII | re.DOTALL,
)
_STARTED = re.compile(r"\[(\d+)\] started: ([^\t\n\f\r ]+)(?: ([^\n]*))?\Z", re.ASCII)
_QMP_EVENT = re.compile(r'"event": ?"([A-Z_]+)"', re.ASCII)
_QMP_TIME = re.compile(r'"seconds": ?(\d+), ?"microseconds": ?(\d+)', re.ASCII)
_VERSION = re.compile(r"Starting Multipass ([^\t\n\f\r ]+)", re.ASCII)
_MAC = re.compile(r"mac=([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5})", re.ASCII)
_DHCP = re.compile(
    r"DHCP[A-Z]+\([^)]*\) (?:(\d+\.\d+\.\d+\.\d+) )?([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5})", re.ASCII
)
_IP_CONTEXT = re.compile(r"connecting to |Found ip match|IPv4|ssh connection failed|ping")
_IP = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b", re.ASCII)
_QEMU = {
    "qemu_memory": re.compile(r"(?:^|[ ,])-m,? (\d+[KMGT]?)", re.ASCII),
    "qemu_smp": re.compile(r"(?:^|[ ,])-smp,? (\d+)", re.ASCII),
    "qemu_loadvm": re.compile(r"(?:^|[ ,])-loadvm,? ([^,' ]+)", re.ASCII),
}


def _wall_clock(g: tuple[str | None, ...]) -> int | None:
    """Nanoseconds since 1970 of the printed time, as the C library's strptime and timegm give it:
    each field checked against its own range only, then normalised (2 Feb 30 is 1 March)."""
    y, mo, d, h, mi, s, frac = g
    if not (1 <= int(mo) <= 12 and 1 <= int(d) <= 31 and int(h) <= 23 and int(mi) <= 59 and int(s) <= 61):
        return None
    secs = calendar.timegm((int(y), int(mo), 1, int(h), int(mi), int(s))) + (int(d) - 1) * 86400
    return (secs * 1_000_000 + (int(frac.ljust(6, "0")) if frac else 0)) * 1000


def _ns(values: list[int | None]) -> np.ndarray:
    """Nanoseconds since 1970, None as NaT."""
    return np.array([np.iinfo(np.int64).min if x is None else x for x in values], dtype="int64")


def _categorical(values: list[Any]) -> pd.Series:
    """Strings as a categorical whose categories are in order of first appearance."""
    cats = list(dict.fromkeys(v for v in values if v is not None))
    if not values:
        return pd.Series([], dtype="category")
    index = pd.Index(cats, dtype="str") if cats else pd.Index([], dtype=object)
    return pd.Series(pd.Categorical(values, categories=index))


def reference_parse(text: str) -> pd.DataFrame:
    """The ``daemon_log`` frame of ``text``, one line at a time."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    cov = {"lines": len(lines), "parsed": 0, "ignored": 0, "rejected": 0, "rejects": []}
    recs: list[dict[str, Any]] = []
    for i, ln in enumerate(lines):
        m = _HEADER.match(ln)
        if m:
            *ts, level, cat, msg = m.groups()
            recs.append(
                {
                    "line": i + 1,
                    "time": _wall_clock(tuple(ts)) if ts[0] else None,
                    "level": level,
                    "category": cat or None,
                    "head": msg.rstrip(),
                    "rest": [],
                }
            )
            cov["parsed"] += 1
        elif not ln.strip():
            cov["ignored"] += 1
            if recs:
                recs[-1]["rest"].append(ln)
        elif recs:
            cov["parsed"] += 1
            recs[-1]["rest"].append(ln)
            recs[-1]["cont"] = True
        else:
            cov["rejected"] += 1
            if len(cov["rejects"]) < REJECT_SAMPLE:
                cov["rejects"].append((i + 1, ln[:300]))
    cols: dict[str, list[Any]] = {k: [] for k in daemon_log.SCHEMA}
    for r in recs:
        msg = r["head"]
        if r.get("cont"):
            body = "\n".join(r["rest"]).rstrip()
            msg = msg + "\n" + body if msg else body
        started = _STARTED.match(msg) if msg.startswith("[") else None
        qmp = msg.startswith("QMP:")
        event = _QMP_EVENT.search(msg) if qmp else None
        qtime = _QMP_TIME.search(msg) if qmp else None
        version = _VERSION.match(msg) if msg.startswith("Starting Multipass ") else None
        args = msg.startswith("process arguments")
        mac = _MAC.search(msg) if args else None
        dhcp = _DHCP.search(msg) if msg.startswith("DHCP") else None
        ip = dhcp.group(1) if dhcp and dhcp.group(1) else None
        if ip is None and _IP_CONTEXT.search(msg):
            found = _IP.search(msg)
            ip = found.group(0) if found else None
        qemu = {k: (rx.search(msg) if args else None) for k, rx in _QEMU.items()}
        row = {
            "line": r["line"],
            "time": r["time"],
            "utc_offset": None,
            "level": r["level"],
            "category": r["category"],
            "program": "multipassd",
            "pid": None,
            "message": msg,
            "n_lines": 1 + len(r["rest"]),
            "subprocess": started.group(2) if started else None,
            "subprocess_pid": int(started.group(1)) if started else None,
            "argv": (started.group(3) or None) if started else None,
            "qmp_event": event.group(1) if event else None,
            "qmp_time": (int(qtime.group(1)) * 1_000_000 + int(qtime.group(2))) * 1000 if qtime else None,
            "daemon_version": version.group(1) if version else None,
            "mac": (mac.group(1) if mac else dhcp.group(2) if dhcp else None),
            "ip": ip,
            "qemu_memory": qemu["qemu_memory"].group(1) if qemu["qemu_memory"] else None,
            "qemu_smp": int(qemu["qemu_smp"].group(1)) if qemu["qemu_smp"] else None,
            "qemu_loadvm": qemu["qemu_loadvm"].group(1) if qemu["qemu_loadvm"] else None,
        }
        row["mac"] = row["mac"].lower() if row["mac"] else None
        for k, v in row.items():
            cols[k].append(v)
    frame = {}
    for name, col in daemon_log.SCHEMA.items():
        v = cols[name]
        if col.dtype == "int":
            frame[name] = pd.Series(pd.array(v, dtype="Int64"))
        elif col.dtype == "category":
            frame[name] = _categorical(v).astype(LEVEL_DTYPE if name == "level" else "category")
        elif col.dtype == "str":
            frame[name] = pd.Series(v, dtype="str")
        elif col.dtype == "datetime":
            frame[name] = pd.Series(_ns(v).view("M8[ns]"))
        else:
            frame[name] = pd.Series(_ns(v).view("M8[ns]")).dt.tz_localize("UTC")
    out = pd.DataFrame(frame)
    out.attrs["coverage"] = cov
    return out


def assert_same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(got, want, check_categorical=True, check_index_type=True)
    gc, wc = got.attrs["coverage"], want.attrs["coverage"]
    assert {**gc, "rejects": [tuple(r) for r in gc["rejects"]]} == {
        **wc,
        "rejects": [tuple(r) for r in wc["rejects"]],
    }


# -- texts to parse ----------------------------------------------------------------------------

_MSGS = [
    "process state changed to Running",
    "process program 'qemu-system-aarch64'",
    "process arguments '-machine, virt, -nic, vmnet-shared,model=virtio-net-pci,mac=52:54:00:AB:cd:01, "
    "-m, 4096M, -smp, 4, -loadvm, suspend'",
    "[4242] started: arp -an",
    "[77] started: qemu-img",
    "[77] started:  two  spaces",
    "[x] started: no",
    "[12] started: prog\targ",
    "[123456789] started: a long pid",
    "[12345678] started: eight digits",
    "[1] started: ",
    "[1]started: x",
    "[5] started: prog\x0barg",
    "[5] started: /a/very/long/path/to/some/program/binary/that/goes/on arg1",
    "[5] started: ü-prog arg",
    "[5] started: prog\u00a0x",
    'QMP: {"timestamp": {"seconds": 1726660000, "microseconds": 5}, "event": "NIC_RX_FILTER_CHANGED"}',
    'QMP: {"QMP": {"version": 8}}',
    "Starting Multipass 1.15.1+mac",
    "Starting Multipass ",
    "DHCPACK(bridge100) 192.168.64.7 52:54:00:ab:cd:01 primary",
    "DHCPDISCOVER(mpqemubr0) 52:54:00:AB:CD:02",
    "ssh connection failed: connecting to 192.168.64.7:22",
    "Found ip match 10.0.0.5",
    "ping 1.2.3.4 failed",
    "ping 999.1.1.1 x",
    "IPv4 1.2.3.4.5",
    "Waiting for SSH to be up",
    "Caching initial SSH session",
    "Could not determine IP address within 1000ms",
    "trailing spaces   ",
    "trailing tab\t",
    "nbsp\u00a0",
    "ideographic space\u3000",
    "",
    " ",
    "x\x1c",
    "ünïcødé message ✓",
    "msg with ] bracket [x]",
]
_CATS = ["primary", "dev", "daemon", "arp", "qemu-system-aarch64", "ci runner", "", "ünïcode", "a]"]
_ODD = [
    "",
    "   \t",
    "qemu-system-aarch64: a continuation line",
    "[INFO] [x] not a level",
    "[2024-09-20T10:00:00.000] [info] no category",
    "[2024-09-20T10:00:00.000]  [info] [x] two spaces",
    "[2024-09-20 10:00:00] [info] [x] a space for the T",
    "[not a header]",
]


def _time(rnd: random.Random) -> str:
    r = rnd.random()
    if r < 0.03:
        return "2024-02-30T10:00:00.500"  # rolled over to 1 March, as strptime does
    if r < 0.04:
        return "2024-09-20T24:00:00.000"  # no such hour: no time
    if r < 0.05:
        return "2023-02-29T23:59:60.999"
    return (
        f"2024-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}T"
        f"{rnd.randint(0, 23):02d}:{rnd.randint(0, 59):02d}:{rnd.randint(0, 59):02d}.{rnd.randint(0, 999):03d}"
    )


def hostile_log(seed: int, n: int = 400, *, other_layouts: bool = False) -> str:
    """A log of standard records with every oddity a file can hold: prose before the first record,
    blank and continuation lines, non-ASCII, trailing blanks, impossible dates, CRLF.  With
    ``other_layouts``, some records have no time stamp or another precision."""
    rnd = random.Random(seed)
    out = ["some prose before", "", "  more prose  ", "[not a header]"] if rnd.random() < 0.5 else []
    for _ in range(n):
        r = rnd.random()
        if r < 0.78:
            ts = _time(rnd)
            if other_layouts and rnd.random() < 0.1:
                ts = rnd.choice(
                    ["2024-09-20T10:00:00", "2024-09-20T10:00:00.123456", "2024-09-20T10:00:00.5"]
                )
            head = "" if other_layouts and rnd.random() < 0.05 else f"[{ts}] "
            sep = " " if rnd.random() > 0.05 else ""
            out.append(f"{head}[{rnd.choice(LEVELS)}] [{rnd.choice(_CATS)}]{sep}{rnd.choice(_MSGS)}")
        else:
            out.append(rnd.choice(_ODD))
    end = rnd.choice(["\n", "\n", "\r\n"])
    return end.join(out) + (end if rnd.random() < 0.8 else "")


def real_logs() -> list[Path]:
    found = sorted((ROOT / "tests" / "data").rglob("daemon_log--*.txt"))
    found += sorted(DATA.rglob("multipassd.log"))
    found += sorted((ROOT / "data" / "cases").glob("*/multipassd.log"))
    if CASES_DIR.is_dir():
        found += sorted(CASES_DIR.glob("*/multipassd.log"))
    return found


# -- 1. the parser -----------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(40))
def test_hostile_text(seed: int) -> None:
    text = hostile_log(seed)
    assert_same(daemon_log.parse(text), reference_parse(text))


@pytest.mark.parametrize("seed", range(10))
def test_records_in_other_layouts(seed: int) -> None:
    text = hostile_log(seed, other_layouts=True)
    assert_same(daemon_log.parse(text), reference_parse(text))


@pytest.mark.parametrize(("seed", "chunk", "workers"), [(1, 1 << 16, 2), (2, 100_000, 1), (3, 1 << 20, 3)])
def test_generated_log_in_chunks(tmp_path: Path, seed: int, chunk: int, workers: int) -> None:
    path = tmp_path / "multipassd.log"
    generate(path, 1, seed=seed)
    want = reference_parse(path.read_text())
    assert_same(daemon_log.parse(path.read_text()), want)
    assert_same(daemon_log.parse_path(path, chunk_bytes=chunk, workers=workers), want)


def test_bytes_that_are_not_utf8(tmp_path: Path) -> None:
    raw = hostile_log(5).encode() + b"[2024-09-20T10:00:00.000] [info] [dev] bad \xff\xfe bytes\n\xc3(\n"
    path = tmp_path / "multipassd.log"
    path.write_bytes(raw)
    assert_same(
        daemon_log.parse_path(path, chunk_bytes=4096), reference_parse(raw.decode("utf-8", "replace"))
    )


@pytest.mark.parametrize("path", real_logs(), ids=lambda p: str(p.relative_to(p.parents[1])))
def test_real_log(path: Path) -> None:
    text = path.read_bytes().decode("utf-8", errors="replace")
    want = reference_parse(text)
    assert_same(daemon_log.parse(text), want)
    assert_same(daemon_log.parse_path(path, chunk_bytes=2048, workers=2), want)


_PIECES = st.sampled_from(_MSGS + _ODD + ["[", "]", " ", "\t", "\r", "é", "0", "."])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.booleans(), st.sampled_from(LEVELS), st.sampled_from(_CATS), st.lists(_PIECES, max_size=4)
        ),
        max_size=30,
    )
)
def test_any_mix_of_records(parts: list[tuple[bool, str, str, list[str]]]) -> None:
    lines = [
        f"[2024-09-20T10:00:0{i % 10}.{i:03d}] [{lv}] [{cat}] {''.join(body)}" if head else "".join(body)
        for i, (head, lv, cat, body) in enumerate(parts)
    ]
    text = "\n".join(lines)
    assert_same(daemon_log.parse(text), reference_parse(text))


# -- 2. derived views and verdicts -------------------------------------------------------------

DIGESTS = ROOT / "tests" / "data" / "derived_digests.json"


def _digest(frame: pd.DataFrame) -> str:
    body = json.dumps(
        {
            "columns": [f"{c}:{frame[c].dtype}" for c in frame.columns],
            "rows": frame.astype(object).values.tolist(),
        },
        default=str,
        ensure_ascii=False,
    )
    return hashlib.sha256(body.encode()).hexdigest()[:16]


def _generated_bundles(root: Path) -> dict[str, Path]:
    out = {}
    for seed, mb in ((1, 1), (2, 2), (3, 1)):
        d = root / f"generated-{seed}"
        d.mkdir()
        generate(d / "multipassd.log", mb, seed=seed)
        if seed != 3:
            (d / "client.txt").write_text(
                "start failed: The following errors occurred:\nprimary: timed out waiting for response\n"
            )
        out[f"generated/{seed}"] = d
    return out


def _bundles() -> dict[str, Path]:
    found = {f"sample/{k}": v for k, v in mpkit.samples().items()}
    for c in find_cases(CASES_DIR) + find_cases(ROOT / "data" / "cases"):
        found[c.key] = c.path
    return found


def _views(path: Path) -> dict[str, str]:
    b = mpkit.load_bundle(path)
    v = derive(b)
    d = mpkit.diagnose(b)
    verdict = {
        "root_cause": d.root_cause.id,
        "confidence": round(d.root_cause.confidence, 4),
        "failed_stage": d.failed_stage,
        "candidates": [(c.id, round(c.confidence, 4)) for c in d.candidates],
    }
    return {
        "attempts": _digest(v.attempts),
        "entities": _digest(v.entities),
        "links": _digest(v.links),
        "timeline": _digest(v.timeline),
        "verdict": hashlib.sha256(json.dumps(verdict).encode()).hexdigest()[:16],
    }


def test_derived_views_and_verdicts_unchanged(tmp_path: Path) -> None:
    bundles = {**_bundles(), **_generated_bundles(tmp_path)}
    got = {key: _views(path) for key, path in bundles.items()}
    if os.environ.get("MPKIT_REGEN"):
        DIGESTS.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
    want = json.loads(DIGESTS.read_text())
    changed = {k: [v for v in got[k] if got[k][v] != want.get(k, {}).get(v)] for k in got}
    changed = {k: v for k, v in changed.items() if v}
    assert not changed, f"derived views or verdicts changed: {changed}"
