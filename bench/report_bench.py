"""Report speed against its floor, and batch scaling.

    python bench/report_bench.py [--bundles 20] [--skip-batch]

1. ``mpkit report`` on the default sample vs the floor: papermill + nbconvert of a trivial
   notebook that only imports pandas and matplotlib (same kernel, same exporter). Target ≤ 1.5×.
2. ``mpkit batch`` of N bundles (the samples repeated) with 2 workers vs 1. Target ≥ 1.8×.

Each figure is the best of ``--repeat`` runs, measured in this one process run.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from pathlib import Path

import nbformat

import mpkit
from mpkit import report as R

log = logging.getLogger(__name__)


def floor_once(tmp: Path, kernel: str) -> float:
    import papermill as pm

    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("bundle = None", metadata={"tags": ["parameters"]}),
            nbformat.v4.new_code_cell(
                "import pandas as pd\nimport matplotlib\nfrom IPython.display import display\ndisplay(pd.DataFrame({'a': [1]}))"
            ),
        ],
        metadata={
            "kernelspec": {"name": kernel, "display_name": "Python", "language": "python"},
            "language_info": {"name": "python"},
        },
    )
    src = tmp / "floor.ipynb"
    nbformat.write(nb, str(src))
    t0 = time.perf_counter()
    pm.execute_notebook(
        str(src),
        str(tmp / "floor-out.ipynb"),
        parameters={"bundle": "x"},
        kernel_name=kernel,
        progress_bar=False,
        log_output=False,
        request_save_on_cell_execute=False,
        cwd=str(tmp),
        **R.kernel_manager_kwargs(),  # the same kernel transport as `mpkit report`
    )
    done = nbformat.read(str(tmp / "floor-out.ipynb"), as_version=4)
    (tmp / "floor.html").write_text(R.export_html(done, title="floor"), encoding="utf-8")
    return time.perf_counter() - t0


def report_once(tmp: Path) -> float:
    t0 = time.perf_counter()
    R.report(None, tmp / "report.html", quiet=True)
    return time.perf_counter() - t0


def batch_once(inputs: list[Path], tmp: Path, workers: int) -> float:
    t0 = time.perf_counter()
    R.batch(inputs, tmp / f"batch-{workers}", workers=workers, quiet=True, parquet=False)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bundles", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--skip-batch", action="store_true")
    args = ap.parse_args()
    kernel = R.ensure_kernel()
    with tempfile.TemporaryDirectory(prefix="mpkit-bench-") as d:
        tmp = Path(d)
        floor_once(tmp, kernel)  # warm caches (fonts, bytecode) for both sides
        floor = min(floor_once(tmp, kernel) for _ in range(args.repeat))
        rep = min(report_once(tmp) for _ in range(args.repeat))
        size = (tmp / "report.html").stat().st_size
        print(f"floor (papermill+nbconvert, pandas+matplotlib import): {floor:6.2f} s")
        print(
            f"mpkit report on the default sample:                     {rep:6.2f} s  ({size / 1024:.0f} KiB)"
        )
        print(f"ratio: {rep / floor:.2f}x  (target <= 1.5x)")
        if args.skip_batch:
            return
        samples = list(mpkit.samples().values())
        inputs = [samples[i % len(samples)] for i in range(args.bundles)]
        one = batch_once(inputs, tmp, 1)
        two = batch_once(inputs, tmp, 2)
        print(
            f"batch of {len(inputs)}: 1 worker {one:6.1f} s, 2 workers {two:6.1f} s, speed-up {one / two:.2f}x (target >= 1.8x)"
        )


if __name__ == "__main__":
    main()
