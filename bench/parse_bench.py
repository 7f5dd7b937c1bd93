"""Daemon-log parsing speed: mpkit vs a naive per-line regex loop vs lnav, in one run.

    python bench/parse_bench.py 100          # MB of generated log (10 … 1000)
    python bench/parse_bench.py 10 100 1000  # several sizes: shows growth

Prints MB/s, lines/s and peak RSS (each parser runs in its own subprocess so
peak RSS is its own), and the ratios the issue sets as targets:
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
    rnd = random.Random(seed)
    target = size_mb * 1024 * 1024
    t = 1_726_660_000.0
    n = 0
    with open(path, "w") as fh:
        written = 0
        while written < target:
            t += rnd.random() * 2
            ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int((t % 1) * 1000):03d}"
            inst = rnd.choice(INSTANCES)
            r = rnd.random()
            if r < 0.45:
                line = f"[{ts}] [debug] [arp] [{rnd.randint(1000, 99999)}] started: arp -an\n"
            elif r < 0.6:
                line = f"[{ts}] [trace] [{inst}] Could not determine IP address within 1000ms\n"
            elif r < 0.7:
                line = (
                    f'[{ts}] [debug] [{inst}] QMP: {{"timestamp": {{"seconds": {int(t)}, "microseconds": 1234}}, '
                    f'"event": "NIC_RX_FILTER_CHANGED", "data": {{"path": "/machine/unattached/device[9]/virtio-backend"}}}}\n\n'
                )
            elif r < 0.75:
                line = (
                    f"[{ts}] [warning] [qemu-system-aarch64] qemu-system-aarch64: warning: something odd\n"
                    "qemu-system-aarch64: second line of stderr\n"
                )
            elif r < 0.8:
                line = (
                    f"[{ts}] [info] [{inst}] process arguments '-machine, virt,gic-version=3, -accel, hvf, -nic, "
                    f"vmnet-shared,model=virtio-net-pci,mac=52:54:00:{rnd.randint(0, 255):02x}:0a:0b, -m, 4096M, -smp, 2'\n"
                )
            elif r < 0.9:
                line = f"[{ts}] [debug] [{inst}] Waiting for SSH to be up\n"
            else:
                line = f"[{ts}] [info] [daemon] Starting Multipass 1.15.1+mac\n"
            fh.write(line)
            written += len(line)
            n += line.count("\n")
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
