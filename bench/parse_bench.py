"""Daemon-log parsing speed: mpkit vs a naive per-line regex loop vs lnav, in one run.

    python bench/parse_bench.py 100          # MB of generated log (10 … 1000)
    python bench/parse_bench.py 10 100 1000  # several sizes: shows growth

Prints MB/s, lines/s and peak RSS (each parser runs in its own subprocess so
peak RSS is its own), and the ratios the project aims for:
mpkit/lnav throughput ≥ 1.0, mpkit peak RSS ≤ 1.5 × file size.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

INSTANCES = ["primary", "dev", "web-1", "ci runner"]


def generate(path: Path, size_mb: int, seed: int = 7) -> int:
    """A realistic daemon log of about ``size_mb`` MB: start attempts of several instances, interleaved.

    Each attempt: the QEMU spawn lines, QMP greeting (a multi-line record with a blank line), the NIC
    event, `Waiting for SSH`, then ~2 s `arp -an` lookups and trace-level IP failures until SSH comes
    up (about half the attempts) or the 300 s budget runs out; QEMU stderr now and then; a daemon
    restart every ~40 attempts.  Returns the number of lines written.
    """
    rnd = random.Random(seed)
    target = size_mb * 1024 * 1024
    t = 1_726_660_000.0
    n = written = attempts = 0

    def ts() -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int((t % 1) * 1000):03d}"

    with open(path, "w") as fh:

        def put(text: str) -> None:
            nonlocal written, n
            fh.write(text)
            written += len(text)
            n += text.count("\n")

        while written < target:
            if attempts % 40 == 0:
                put(f"[{ts()}] [info] [daemon] Starting Multipass 1.15.1+mac\n")
            attempts += 1
            inst = rnd.choice(INSTANCES)
            mac = f"52:54:00:{INSTANCES.index(inst):02x}:0a:0b"
            t += 5
            put(f"[{ts()}] [info] [{inst}] process program 'qemu-system-aarch64'\n")
            put(
                f"[{ts()}] [info] [{inst}] process arguments '-machine, virt,gic-version=3, -accel, hvf, -nic, "
                f"vmnet-shared,model=virtio-net-pci,mac={mac}, -m, 4096M, -smp, 2'\n"
            )
            put(f"[{ts()}] [info] [{inst}] process state changed to Starting\n")
            put(f"[{ts()}] [info] [{inst}] process state changed to Running\n")
            put(
                f"[{ts()}] [debug] [qemu-system-aarch64] [{rnd.randint(1000, 99999)}] started: qemu-system-aarch64 -machine virt\n"
            )
            put(f'[{ts()}] [debug] [{inst}] QMP: {{"QMP": {{"version": {{"qemu": {{"major": 8}}}}}}}}\n\n')
            if rnd.random() < 0.1:
                put(
                    f"[{ts()}] [warning] [qemu-system-aarch64] qemu-system-aarch64: warning: something odd\n"
                    "qemu-system-aarch64: second line of stderr\n"
                )
            t += 4
            put(
                f'[{ts()}] [debug] [{inst}] QMP: {{"timestamp": {{"seconds": {int(t)}, "microseconds": 1234}}, '
                f'"event": "NIC_RX_FILTER_CHANGED", "data": {{"path": "/machine/unattached/device[9]/virtio-backend"}}}}\n\n'
            )
            put(f"[{ts()}] [debug] [{inst}] Waiting for SSH to be up\n")
            ok = rnd.random() < 0.5
            for _ in range(rnd.randint(5, 20) if ok else 150):
                t += 1 + rnd.random()
                put(f"[{ts()}] [debug] [arp] [{rnd.randint(1000, 99999)}] started: arp -an\n")
                put(f"[{ts()}] [trace] [{inst}] Could not determine IP address within 1000ms\n")
            if ok:
                put(f"[{ts()}] [debug] [{inst}] Caching initial SSH session\n")
    return n


RUNNERS = {
    "mpkit": "from mpkit.parsers.daemon_log import parse_path; f = parse_path(sys.argv[1]); n = len(f)",
    "naive": (
        "import re, pandas as pd\n"
        "rx = re.compile(r'^\\[(\\S+)\\] \\[(\\w+)\\] \\[([^\\]]*)\\] ?(.*)$')\n"
        "rows = []\n"
        "for ln in open(sys.argv[1], encoding='utf-8', errors='replace'):\n"
        "    m = rx.match(ln)\n"
        "    if m: rows.append(m.groups())\n"
        "f = pd.DataFrame(rows, columns=['time', 'level', 'category', 'message'])\n"
        "f['time'] = pd.to_datetime(f['time'])\n"
        "n = len(f)"
    ),
}


def run_py(name: str, path: Path) -> dict[str, float]:
    code = (
        "import sys, time, resource\nt0 = time.perf_counter()\n"
        + RUNNERS[name]
        + (
            "\nel = time.perf_counter() - t0\nprint(el, n, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
        )
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    ).stdout.split()
    return {"seconds": float(out[0]), "rows": float(out[1]), "rss_mb": float(out[2]) / 1024}


LNAV_FORMAT = {
    "$schema": "https://lnav.org/schemas/format-v1.schema.json",
    "multipassd_log": {
        "title": "Multipass daemon log",
        "description": "[ts] [level] [category] message",
        "regex": {
            "std": {
                "pattern": r"^\[(?<timestamp>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})\] \[(?<level>\w+)\] \[(?<category>[^\]]*)\] ?(?<body>.*)$"
            }
        },
        "level-field": "level",
        "level": {"error": "error", "warning": "warning", "info": "info", "debug": "debug", "trace": "trace"},
        "value": {"category": {"kind": "string", "identifier": True}},
        "timestamp-format": ["%Y-%m-%dT%H:%M:%S.%L"],
        "sample": [{"line": "[2024-10-05T18:05:19.211] [info] [primary] process state changed to Running"}],
    },
}


def run_lnav(path: Path) -> dict[str, float] | None:
    if not shutil.which("lnav"):
        return None
    home = Path(tempfile.mkdtemp(prefix="mpkit-lnav-"))
    fmt = home / "multipassd_log.json"
    fmt.write_text(json.dumps(LNAV_FORMAT))
    env = {**os.environ, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}
    subprocess.run(["lnav", "-i", str(fmt)], env=env, capture_output=True, check=False)
    cmd = [
        "/usr/bin/time",
        "-f",
        "%e %M",
        "lnav",
        "-n",
        "-c",
        ";SELECT count(*) FROM multipassd_log",
        str(path),
    ]
    if not Path("/usr/bin/time").exists():
        cmd = cmd[3:]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    el = time.perf_counter() - t0
    shutil.rmtree(home, ignore_errors=True)
    rss = 0.0
    tail = p.stderr.strip().split()
    if len(tail) >= 2 and tail[-1].isdigit():
        rss = float(tail[-1]) / 1024
    rows = next((float(x) for x in p.stdout.split() if x.isdigit()), 0.0)
    return {"seconds": el, "rows": rows, "rss_mb": rss}


def main(sizes: list[int]) -> None:
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "multipassd.log"
            lines = generate(path, size)
            mb = path.stat().st_size / 1024 / 1024
            print(f"\n== {mb:.0f} MB, {lines:,} lines")
            res = {name: run_py(name, path) for name in RUNNERS}
            ln = run_lnav(path)
            if ln:
                res["lnav"] = ln
            for name, r in res.items():
                print(
                    f"{name:>6}: {mb / r['seconds']:7.1f} MB/s  {lines / r['seconds']:12,.0f} lines/s  "
                    f"peak RSS {r['rss_mb']:8.0f} MB ({r['rss_mb'] / mb:4.1f}x file)  rows {r['rows']:,.0f}"
                )
            m = res["mpkit"]
            print(f"ratio mpkit/naive throughput: {res['naive']['seconds'] / m['seconds']:.2f}x")
            if ln:
                print(f"ratio mpkit/lnav throughput: {ln['seconds'] / m['seconds']:.2f}x (target >= 1.0)")
            print(f"mpkit peak RSS / file: {m['rss_mb'] / mb:.2f} (target <= 1.5)")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100])
