"""How well the diagnosis does on real cases it has not seen: k-fold cross-validation over the library.

    python bench/accuracy.py [--k 5] [--png reliability.png] [--grid]

Reads every case of ``../shared/cases`` (bundles), ``../shared/pastes`` (their
pasted forms) and ``data/cases`` (bundles and pastes beside them).  The model's
parameters for each case come from a fit on the other folds only (a case's
bundle and paste share a fold), with the shipped hyper-parameters
(``rules/model.json``) or, with ``--grid``, hyper-parameters chosen again by the
same cross-validation.  Prints per set and overall: acceptable top-1, decisive
top-1, true cause in the top three, overconfident-wrong (confidence ≥ 0.7 and
not acceptable), and the calibration of named verdicts (Brier score, expected
calibration error, a reliability table); saves the reliability chart as PNG and
lists the hardest cases.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mpkit.diagnose import fit as F  # noqa: E402
from mpkit.diagnose.bayes import load_model  # noqa: E402
from mpkit.diagnose.library import find_cases  # noqa: E402


def _set_name(o: F.Outcome) -> str:
    where = "shared" if "shared" in o.example.case.path.parts else "library"
    return f"{where}-{'pastes' if o.example.case.form == 'paste' else 'bundles'}"


def _line(name: str, outs: list[F.Outcome]) -> str:
    n = len(outs)
    dec = [o for o in outs if o.example.case.decisive]
    cal = F.calibration(outs)
    return (
        f"{name:16} {n:4d}  acceptable {sum(o.acceptable for o in outs) / n:6.1%}  "
        f"decisive {sum(o.acceptable for o in dec):3d}/{len(dec):<3d} ({sum(o.acceptable for o in dec) / max(1, len(dec)):6.1%})  "
        f"top3 {sum(o.top3 for o in outs) / n:6.1%}  overconf-wrong {sum(o.overconfident for o in outs):2d}  "
        f"Brier {cal['brier']:.3f}  ECE {cal['ece']:.3f}  (named {cal['named']})"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--k", type=int, default=5, help="folds (default 5)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--grid", action="store_true", help="choose the hyper-parameters again by cross-validation"
    )
    ap.add_argument("--png", type=Path, default=ROOT / "bench" / "reliability.png")
    ap.add_argument("--hardest", type=int, default=10)
    args = ap.parse_args()

    dirs = [p for p in (ROOT / "data" / "cases", ROOT.parent / "shared" / "cases") if p.is_dir()]
    cases = [c for d in dirs for c in find_cases(d)]
    t0 = time.perf_counter()
    exs = F.examples(cases)
    t1 = time.perf_counter()
    if args.grid:
        hyper, outs = F.choose(exs, args.k, args.seed)
    else:
        m = load_model()
        hyper = dict(m.meta or {})
        sc = F.cv_scores(
            exs,
            args.k,
            args.seed,
            other_weight=m.other_weight,
            alpha=float(hyper.get("alpha", 4.0)),
            kappa=float(hyper.get("kappa", 1.0)),
            beta=float(hyper.get("beta", 20.0)),
        )
        outs = F.recalibrated(F.outcomes(exs, sc, m.temperature, m.threshold), m.calibration)
    t2 = time.perf_counter()
    print(
        f"{len(exs)} diagnoses of {len({(e.case.path.parent, e.case.name) for e in exs if e.case.form == 'bundle'})} "
        f"cases; checks {t1 - t0:.1f} s, {args.k}-fold fits {t2 - t1:.1f} s"
    )
    print(
        f"hyper-parameters: { {k: hyper[k] for k in ('alpha', 'kappa', 'beta', 'other_weight', 'temperature', 'threshold', 'calibration') if k in hyper} }"
    )
    print()
    for name in ("shared-bundles", "shared-pastes", "library-bundles", "library-pastes"):
        sub = [o for o in outs if _set_name(o) == name]
        if sub:
            print(_line(name, sub))
    print(_line("all", outs))
    print("targets: acceptable ≥ 95 %, every decisive case, top3 ≥ 95 %, 0 overconfident-wrong, ECE ≤ 0.05")
    print()
    cal = F.calibration(outs)
    print("reliability of named verdicts (confidence bin: count, mean confidence, share acceptable)")
    for r in cal["table"]:
        if r["n"]:
            print(f"  {r['bin']}: {r['n']:4d}  {r['mean_conf']:.2f}  {r['right']:.2f}")
        else:
            print(f"  {r['bin']}:    0")
    _chart(cal, args.png)
    print(f"reliability chart: {args.png}")
    print()
    print(f"the {args.hardest} hardest cases (bundle form; lowest cross-validated rank of the true cause):")
    ranked = []
    for o in outs:
        if o.example.case.form != "bundle":
            continue
        label = o.example.case.label
        rank = o.candidates.index(label) if label in o.candidates else 99
        ranked.append((not o.acceptable, rank, o))
    ranked.sort(key=lambda t: (-t[0], -t[1]))
    for bad, rank, o in ranked[: args.hardest]:
        c = o.example.case
        print(
            f"  {c.name:34} {c.platform:8} truth {c.label:32} verdict {o.verdict}:{o.confidence:.2f}  "
            f"{'acceptable' if not bad else 'NOT acceptable'}  true cause at rank {rank + 1 if rank < 99 else '—'}  "
            f"candidates {', '.join(o.candidates[:3])}"
        )
    return 0


def _chart(cal: dict, png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 4.5), dpi=100)
    rows = [r for r in cal["table"] if r["n"]]
    ax.plot([0, 1], [0, 1], color="#999", lw=1, ls="--", label="perfect calibration")
    ax.plot(
        [r["mean_conf"] for r in rows],
        [r["right"] for r in rows],
        marker="o",
        label="mpkit (cross-validated)",
    )
    for r in rows:
        ax.annotate(
            str(r["n"]), (r["mean_conf"], r["right"]), textcoords="offset points", xytext=(4, -10), fontsize=8
        )
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("stated confidence of named verdicts")
    ax.set_ylabel("share acceptable")
    ax.set_title(f"Reliability (ECE {cal['ece']:.3f}, Brier {cal['brier']:.3f})")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png)
    plt.close(fig)


if __name__ == "__main__":
    raise SystemExit(main())
