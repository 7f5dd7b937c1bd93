"""Diagnosis cost beyond parsing, on a bundle with a big daemon log (aim: ≤ 10 % of parse time).

    python bench/diagnose_bench.py 200      # MB of generated daemon log (same generator as parse_bench)

Prints: parse (load_bundle + frames), attempts, entities, diagnose (with the first two already
cached), and the ratio (attempts + entities + diagnose) / parse.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from parse_bench import generate  # noqa: E402

import mpkit  # noqa: E402
from mpkit import derive  # noqa: E402


def main(size_mb: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        lines = generate(root / "multipassd.log", size_mb)
        (root / "client.txt").write_text(
            "start failed: The following errors occurred:\nprimary: timed out waiting for response\n"
        )
        t0 = time.perf_counter()
        b = mpkit.load_bundle(root)
        _ = b.frames
        t1 = time.perf_counter()
        att = derive(b).attempts
        t2 = time.perf_counter()
        _ = derive(b).entities
        t3 = time.perf_counter()
        d = mpkit.diagnose(b)
        t4 = time.perf_counter()
    parse, rest = t1 - t0, t4 - t1
    print(f"{size_mb} MB, {lines:,} lines, {len(att):,} attempts")
    print(
        f"parse {parse:.1f} s | attempts {t2 - t1:.1f} s | entities {t3 - t2:.1f} s | diagnose {t4 - t3:.1f} s"
    )
    print(f"diagnosis beyond parsing / parse: {rest / parse:.2f} (target <= 0.10); verdict {d.root_cause.id}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
