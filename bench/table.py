"""The performance table of the README in one run: each row measured, as a ratio, against its target.

    python bench/table.py              # 200 MB log, 5 pairs per row, growth up to 1 GB
    python bench/table.py --quick      # 50 MB log, 3 pairs, growth up to 200 MB (a minute or two)

Every comparison is paired: the command and its baseline run in turn (A B A B …), each as a whole
process (or, for the report, each as a whole papermill run in this process), and the figure is
the median of the per-pair ratios, so a machine whose speed drifts (other jobs on a shared host)
skews both sides of a pair alike.  Absolute times are printed for reference only.

Rows:

1. daemon-log parse throughput vs lnav on the same file (lnav time / mpkit time, ≥ 1.0);
2. peak RSS while parsing / file size (≤ 1.5), with the floor the documented dtypes impose;
3. attempts + entities + diagnose after parsing / parse time, on the big log (≤ 0.10);
4. ``mpkit diagnose big.log --json`` / lnav reading the same file (< 1.0: faster than lnav);
5. ``mpkit diagnose`` on the default sample / a Python that only imports pandas, pyarrow, numpy (≤ 1.5);
6. ``mpkit report`` on the default sample / papermill + nbconvert of a trivial notebook (≤ 1.5);
7. growth: seconds per MB at the largest size / at 100 MB (linear: ≤ 1.25), and the largest
   size parsed within the machine's memory.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from parse_bench import LNAV_FORMAT, generate  # noqa: E402

PY = sys.executable
MPKIT = str(Path(PY).with_name("mpkit"))


def run_once(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one whole process (its own rusage, from wait4)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[:3]}… exited {proc.returncode}")
    return wall, usage.ru_maxrss / 1024


def paired(a: Callable[[], float], b: Callable[[], float], pairs: int) -> tuple[float, float, float]:
    """Median of a/b over ``pairs`` runs in turn (after one warm-up each), and the medians of a and b."""
    a(), b()
    ratios, sa, sb = [], [], []
    for _ in range(pairs):
        x, y = a(), b()
        ratios.append(x / y)
        sa.append(x)
        sb.append(y)
    return statistics.median(ratios), statistics.median(sa), statistics.median(sb)


class Lnav:
    """lnav reading a file with a format for the daemon log, in a private HOME."""

    def __init__(self) -> None:
        self.home = Path(tempfile.mkdtemp(prefix="mpkit-lnav-"))
        fmt = self.home / "multipassd_log.json"
        fmt.write_text(json.dumps(LNAV_FORMAT))
        self.env = {**os.environ, "HOME": str(self.home), "XDG_CONFIG_HOME": str(self.home / ".config")}
        subprocess.run(["lnav", "-i", str(fmt)], env=self.env, capture_output=True, check=False)

    def cmd(self, path: Path) -> list[str]:
        return ["lnav", "-n", "-c", ";SELECT count(*) FROM multipassd_log", str(path)]

    def close(self) -> None:
        shutil.rmtree(self.home, ignore_errors=True)


ROWS: list[tuple[str, str, str, str]] = []


def row(what: str, figure: str, ratio: float, target: str, met: bool) -> None:
    ROWS.append((what, figure, f"{ratio:.2f}×", target, "met" if met else "missed"))
    print(
        f"  {what}: {figure}; ratio {ratio:.2f}× (target {target}) — {'met' if met else 'missed'}", flush=True
    )


def parse_cmd(path: Path) -> list[str]:
    return [PY, "-c", f"from mpkit.parsers.daemon_log import parse_path; parse_path({str(path)!r})"]


def split_cmd(root: Path) -> list[str]:
    """A process that loads the bundle, then derives and diagnoses, printing both times as JSON."""
    code = (
        "import json, sys, time\n"
        "t0 = time.perf_counter()\n"
        "import mpkit\n"
        "from mpkit import derive\n"
        "t1 = time.perf_counter()\n"
        f"b = mpkit.load_bundle({str(root)!r}); _ = b.frames\n"
        "t2 = time.perf_counter()\n"
        "_ = derive(b).attempts; _ = derive(b).entities; mpkit.diagnose(b)\n"
        "t3 = time.perf_counter()\n"
        "print(json.dumps({'parse': t2 - t1, 'rest': t3 - t2}))\n"
    )
    return [PY, "-c", code]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="50 MB, 3 pairs, growth up to 200 MB")
    ap.add_argument("--size", type=int, help="MB of generated daemon log for rows 1–4 (default 200)")
    ap.add_argument("--pairs", type=int, help="pairs per row (default 5)")
    ap.add_argument("--growth", type=int, nargs="*", help="MB sizes for row 7 (default 10 100 1000)")
    ap.add_argument("--skip-report", action="store_true")
    args = ap.parse_args()
    size = args.size or (50 if args.quick else 200)
    pairs = args.pairs or (3 if args.quick else 5)
    growth = args.growth or ([10, 50, 200] if args.quick else [10, 100, 1000])
    lnav = Lnav() if shutil.which("lnav") else None
    with tempfile.TemporaryDirectory(prefix="mpkit-table-") as tmpd:
        tmp = Path(tmpd)
        big = tmp / "big" / "multipassd.log"
        big.parent.mkdir()
        generate(big, size)
        (big.parent / "client.txt").write_text(
            "start failed: The following errors occurred:\nprimary: timed out waiting for response\n"
        )
        mb = big.stat().st_size / 2**20
        print(f"daemon log: {mb:.0f} MB generated (bench/parse_bench.py), {pairs} pairs per row")

        # 1 and 2: parse vs lnav, and the parser's peak memory
        rss: list[float] = []

        def mp() -> float:
            wall, peak = run_once(parse_cmd(big))
            rss.append(peak)
            return wall

        if lnav:
            r, a, b = paired(mp, lambda: run_once(lnav.cmd(big), lnav.env)[0], pairs)
            row(
                f"parse throughput vs lnav ({mb:.0f} MB)",
                f"mpkit {mb / a:.0f} MB/s, lnav {mb / b:.0f} MB/s",
                1 / r,
                "≥ 1.0",
                1 / r >= 1.0,
            )
        else:
            for _ in range(pairs):
                mp()
            print("  lnav not installed: row 1 skipped")
        peak = statistics.median(rss)
        base = run_once([PY, "-c", "import mpkit.parsers.daemon_log"])[1]
        row(
            "peak RSS / file size while parsing",
            f"{peak:.0f} MiB for {mb:.0f} MB (interpreter and libraries alone: {base:.0f} MiB)",
            peak / mb,
            "≤ 1.5",
            peak / mb <= 1.5,
        )

        # 3: derivation and diagnosis after parsing, in the same process as the parse
        splits = []
        for _ in range(max(3, pairs - 2)):
            out = subprocess.run(split_cmd(big.parent), capture_output=True, text=True, check=True).stdout
            splits.append(json.loads(out.strip().splitlines()[-1]))
        ratio = statistics.median(s["rest"] / s["parse"] for s in splits)
        row(
            "attempts + entities + diagnose / parse",
            f"parse {statistics.median(s['parse'] for s in splits):.2f} s, "
            f"the rest {statistics.median(s['rest'] for s in splits):.2f} s",
            ratio,
            "≤ 0.10",
            ratio <= 0.10,
        )

        # 4: the whole diagnosis of the big log vs lnav reading it
        if lnav:
            r, a, b = paired(
                lambda: run_once([MPKIT, "diagnose", str(big), "--json"])[0],
                lambda: run_once(lnav.cmd(big), lnav.env)[0],
                pairs,
            )
            row("`mpkit diagnose big.log --json` / lnav", f"{a:.2f} s vs {b:.2f} s", r, "< 1.0", r < 1.0)

        # 5: the default sample vs importing the libraries
        import mpkit

        sample = str(mpkit.sample())
        r, a, b = paired(
            lambda: run_once([MPKIT, "diagnose", sample, "--json"])[0],
            lambda: run_once([PY, "-c", "import pandas, pyarrow, numpy"])[0],
            pairs,
        )
        row("`mpkit diagnose` default sample / import floor", f"{a:.2f} s vs {b:.2f} s", r, "≤ 1.5", r <= 1.5)

        # 6: the report vs papermill + nbconvert of a trivial notebook (same kernel, same transport)
        if not args.skip_report:
            from report_bench import floor_once, report_once

            from mpkit import report as R

            kernel = R.ensure_kernel()
            rep = tmp / "report"
            rep.mkdir()
            r, a, b = paired(lambda: report_once(rep), lambda: floor_once(rep, kernel), max(3, pairs - 2))
            row(
                "`mpkit report` default sample / papermill+nbconvert floor",
                f"{a:.2f} s vs {b:.2f} s",
                r,
                "≤ 1.5",
                r <= 1.5,
            )

        # 7: growth
        per_mb: dict[int, float] = {}
        peaks: dict[int, float] = {}
        for g in growth:
            path = tmp / f"grow-{g}.log"
            generate(path, g)
            real = path.stat().st_size / 2**20
            walls = []
            for _ in range(2 if g >= 500 else 3):
                wall, pk = run_once(parse_cmd(path))
                walls.append(wall)
                peaks[g] = pk
            per_mb[g] = statistics.median(walls) / real
            print(
                f"  growth: {real:.0f} MB parsed in {statistics.median(walls):.2f} s, peak {peaks[g]:.0f} MiB"
            )
            path.unlink()
        ref = 100 if 100 in per_mb else sorted(per_mb)[len(per_mb) // 2]
        top = max(per_mb)
        ratio = per_mb[top] / per_mb[ref]
        row(
            f"growth {min(per_mb)} MB → {top} MB (s/MB at {top} MB / at {ref} MB)",
            f"{per_mb[top] * 1000:.1f} ms/MB at {top} MB; peak {peaks[top] / 1024:.2f} GiB",
            ratio,
            "≤ 1.25 (linear), fits in memory",
            ratio <= 1.25,
        )
    if lnav:
        lnav.close()
    print("\n| measure | figure | ratio | target | |\n|---|---|---|---|---|")
    for r_ in ROWS:
        print("| " + " | ".join(r_) + " |")


if __name__ == "__main__":
    main()
