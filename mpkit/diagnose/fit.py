"""Set the diagnosis model's parameters from the case library, and prove they generalise.

``python -m mpkit.diagnose.fit [CASE_DIRS…]`` reads every case (bundle and
pasted form), runs the checks once per case, and then:

1. estimates the likelihood tables.  For a check ``c`` and a cause ``h``::

       P(s | h) = (n[h, c, s] + α · E[h, c, s]) / (n[h, c] + α)

   where ``n`` counts the library cases of cause ``h`` in which ``c`` looked
   and ended in state ``s``, and ``E`` is the expert's expectation: the
   background rate of ``s`` tilted by the written rules (``rules/*.json``), a
   rule of weight ``w`` multiplying the odds of its state by ``exp(κ·w)``.
   ``P(s | other)`` is the rate of ``s`` over every case of the library.
   Priors per platform are the library's counts plus ``β`` pseudo-cases spread
   by the expert priors of ``rules/causes.json``.
2. chooses ``α``, ``κ``, the temperature ``T`` and the naming threshold by
   k-fold cross-validation (a case's bundle and its paste share a fold, so no
   case is judged by a model fitted on it): the choice that makes the most acceptable verdicts, then
   the fewest confident wrong ones, then the best calibrated;
3. fits the final parameters on the whole library and writes ``rules/model.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .bayes import INFORMATIVE, OTHER, Model, Observation, calibrate, decide, normalise
from .library import OVERCONFIDENT, Case, find_cases, measures

PLATFORMS = ("macos", "linux", "windows")
#: pseudo-cases with which a check's background rates lean toward the rates pooled over all checks
BG_STRENGTH = 4.0


@dataclass(frozen=True)
class Example:
    """A library case as the model sees it: the evidence table's observations and the answer."""

    case: Case
    platform: str | None  # as read from the bundle (what inference sees)
    observations: tuple[Observation, ...]
    no_failure: bool = False  # the bundle shows no failure at all: the engine answers "no failure found"

    @property
    def label(self) -> str:
        """The cause the model is fitted to predict (causes outside the taxonomy fold into one)."""
        return self.case.label if self.case.label in _causes() else OTHER


def _causes() -> dict[str, Any]:
    from .engine import causes

    return causes()


def _rules() -> list[dict[str, Any]]:
    from .engine import rules

    return rules()


def examples(cases: Iterable[Case]) -> list[Example]:
    """Run the checks once on every case."""
    from ..bundle import load_bundle
    from .engine import evidence, no_failure

    out = []
    for c in cases:
        b = load_bundle(c.path)
        try:
            t = evidence(b)
            out.append(Example(c, t.platform, tuple(t.observations()), any(no_failure(t))))
        finally:
            b.close()
    return out


# -- estimation -------------------------------------------------------------------------------


def _expert_tilt(kappa: float) -> dict[tuple[str, str], dict[str, float]]:
    """(check, cause) -> state -> odds multiplier, from the written rules.

    A symptom-level cause (one with ``fallback_for`` in ``rules/causes.json``)
    lends its supporting rules to the causes it stands for: their symptoms are
    as likely under them (no lease, no reply), so a cause with a signature of its
    own explains the symptoms away instead of competing with them; and the
    specific causes' own signs speak against the fallback, which means "no more
    specific reason is shown".
    """
    tilt: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    explicit: set[tuple[str, str, str]] = set()
    for r in _rules():
        t = tilt[(r["check"], r["cause"])]
        t[r["on"]] = t.get(r["on"], 1.0) * math.exp(kappa * float(r["weight"]))
        explicit.add((r["check"], r["cause"], r["on"]))
    for cid, c in _causes().items():
        upstream = set(c.get("fallback_for", []))
        for r in _rules():
            if float(r["weight"]) <= 0:
                continue
            if r["cause"] == cid:  # the symptom is as likely under each cause it stands for
                for up in upstream:
                    if (r["check"], up, r["on"]) not in explicit:
                        t = tilt[(r["check"], up)]
                        t[r["on"]] = t.get(r["on"], 1.0) * math.exp(kappa * float(r["weight"]))
            elif r["cause"] in upstream and (r["check"], cid, r["on"]) not in explicit:
                # a specific cause's own sign is unlikely under the fallback: it means "no reason shown"
                t = tilt[(r["check"], cid)]
                t[r["on"]] = t.get(r["on"], 1.0) * math.exp(-kappa * float(r["weight"]) / 2.0)
    return tilt


def _expert_prior() -> dict[str, dict[str, float]]:
    """platform -> cause -> expert prior mass (normalised), from ``rules/causes.json``."""
    cz = _causes()
    out: dict[str, dict[str, float]] = {}
    for plat in (*PLATFORMS, "any"):
        raw = {}
        for cid, c in cz.items():
            if cid == OTHER:
                continue
            pri = c.get("prior", {})
            w = max(pri.values(), default=0.0) if plat == "any" else pri.get(plat, pri.get("any", 0.0))
            raw[cid] = float(w)
        z = sum(raw.values()) or 1.0
        out[plat] = {k: v / z for k, v in raw.items()}
    return out


def _expert_table(bg: dict[str, float], tilt: dict[str, float], kappa: float) -> dict[str, float]:
    """The expert's P(state | cause): the background tilted by the rules' odds multipliers.

    A rule that supports a state also sets a floor for it that does not depend
    on how rare the state is overall (``1 − exp(−κw/2)`` for weight ``w``): a
    signature seen in few cases is still likely under the cause it names.
    """
    tilted = {s: bg[s] * tilt.get(s, 1.0) for s in INFORMATIVE}
    z = sum(tilted.values())
    out = {s: v / z for s, v in tilted.items()}
    for s, mult in tilt.items():
        if mult > 1.0:
            w = math.log(mult)  # = κ·w of the rules
            floor = 1.0 - math.exp(-w / 2.0)
            if floor > out[s]:
                rest = 1.0 - out[s]
                scale = (1.0 - floor) / rest if rest > 0 else 0.0
                out = {k: (floor if k == s else v * scale) for k, v in out.items()}
    return out


def fit(train: Sequence[Example], *, alpha: float = 4.0, kappa: float = 1.0, beta: float = 20.0) -> Model:
    """Parameters estimated from ``train`` with the expert's pseudo-counts."""
    cz = _causes()
    hyps = [h for h in cz if h != OTHER] + [OTHER]
    # background rates per check (add-half smoothing over the informative states)
    n_state: dict[str, Counter[str]] = defaultdict(Counter)
    n_hstate: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    checks: set[str] = set()
    for ex in train:
        for o in ex.observations:
            checks.add(o.check)
            if o.state in INFORMATIVE:
                n_state[o.check][o.state] += 1
                n_hstate[(o.check, ex.label)][o.state] += 1
    # a check seen in few cases is smoothed toward how often any check is in each state (most pass)
    pooled_n = {s: sum(n_state[c][s] for c in checks) for s in INFORMATIVE}
    pooled_tot = sum(pooled_n.values()) or 1
    pooled = {s: (pooled_n[s] + 1.0) / (pooled_tot + 3.0) for s in INFORMATIVE}
    overall: dict[str, dict[str, float]] = {}
    for c in sorted(checks):
        tot = sum(n_state[c].values())
        overall[c] = {s: (n_state[c][s] + BG_STRENGTH * pooled[s]) / (tot + BG_STRENGTH) for s in INFORMATIVE}
    # P(state | other): the rate of the state among the failures of causes that do not predict it,
    # so that a signature a cause explains is not also "explained" by the background
    supporters: dict[tuple[str, str], set[str]] = defaultdict(set)
    for r in _rules():
        if float(r["weight"]) > 0:
            supporters[(r["check"], r["on"])].add(r["cause"])
    background: dict[str, dict[str, float]] = {}
    for c in sorted(checks):
        raw = {}
        for s in INFORMATIVE:
            sup = supporters.get((c, s), set())
            n_s = sum(cnt[s] for (cc, h), cnt in n_hstate.items() if cc == c and h not in sup)
            n = sum(sum(cnt.values()) for (cc, h), cnt in n_hstate.items() if cc == c and h not in sup)
            raw[s] = (n_s + BG_STRENGTH * pooled[s]) / (n + BG_STRENGTH)
        z = sum(raw.values())
        background[c] = {s: v / z for s, v in raw.items()}
    tilt = _expert_tilt(kappa)
    likelihood: dict[str, dict[str, dict[str, float]]] = {}
    for c in sorted(checks):
        bg = background[c]
        for h in hyps:
            if h == OTHER:
                continue
            t = tilt.get((c, h))
            counts = n_hstate.get((c, h))
            if not t and not counts:
                continue
            expert = _expert_table(bg, t or {}, kappa)
            n = sum(counts.values()) if counts else 0
            likelihood.setdefault(c, {})[h] = {
                s: ((counts or Counter())[s] + alpha * expert[s]) / (n + alpha) for s in INFORMATIVE
            }
    # priors per platform
    expert_prior = _expert_prior()
    n_lab: dict[str, Counter[str]] = defaultdict(Counter)
    for ex in train:
        n_lab[ex.case.platform][ex.label] += 1
        n_lab["any"][ex.label] += 1
    other_share = (sum(c[OTHER] for c in n_lab.values()) + 1.0) / (
        sum(sum(c.values()) for c in n_lab.values()) + 10.0
    )
    prior: dict[str, dict[str, float]] = {}
    for plat in (*PLATFORMS, "any"):
        counts = n_lab.get(plat, Counter())
        raw = {}
        for h in hyps:
            e = other_share if h == OTHER else (1.0 - other_share) * expert_prior[plat].get(h, 0.0)
            if e <= 0.0 and counts[h] == 0:
                continue
            raw[h] = counts[h] + beta * e
        z = sum(raw.values())
        prior[plat] = {h: v / z for h, v in raw.items()}
    return Model(
        hyps,
        prior,
        background,
        likelihood,
        groups=_groups(),
        meta={"alpha": alpha, "kappa": kappa, "beta": beta},
    )


def _groups() -> dict[str, str]:
    from importlib import resources

    data = json.loads(resources.files("mpkit.diagnose").joinpath("rules/groups.json").read_text())
    return {c: g for g, checks in data["groups"].items() for c in checks}


# -- cross-validation -------------------------------------------------------------------------


def cv_scores(
    exs: Sequence[Example], k: int = 5, seed: int = 0, other_weight: float = 1.0, **hyper: float
) -> list[dict[str, float]]:
    """Raw log scores of every example from a model fitted without its fold."""
    keys = sorted({e.case.case_id for e in exs})
    random.Random(seed).shuffle(keys)
    fold_of = {key: i % k for i, key in enumerate(keys)}
    out: list[dict[str, float]] = [{} for _ in exs]
    for f in range(k):
        train = [e for e in exs if fold_of[e.case.case_id] != f]
        model = fit(train, **hyper)
        model.other_weight = other_weight
        for i, e in enumerate(exs):
            if fold_of[e.case.case_id] == f:
                out[i] = model.scores(e.observations, e.platform)
    return out


@dataclass(frozen=True)
class Outcome:
    """One example's cross-validated verdict."""

    example: Example
    verdict: str
    confidence: float
    candidates: tuple[str, ...]

    @property
    def _measures(self) -> dict[str, bool]:
        return measures(self.example.case, self.verdict, self.confidence, self.candidates)

    @property
    def acceptable(self) -> bool:
        """Whether the verdict is one the case accepts."""
        return self._measures["acceptable"]

    @property
    def top3(self) -> bool:
        """Whether the true cause is among the three most likely."""
        return self._measures["top3"]

    @property
    def overconfident(self) -> bool:
        """Whether a wrong verdict was stated with confidence 0.7 or more."""
        return self._measures["overconfident"]


def outcomes(
    exs: Sequence[Example], scores: Sequence[dict[str, float]], t: float, tau: float
) -> list[Outcome]:
    """Verdicts read off the cross-validated scores with temperature ``t`` and threshold ``tau``."""
    out = []
    for e, s in zip(exs, scores, strict=True):
        v = decide(normalise(s, t), tau)
        if e.no_failure:  # as the engine does: nothing to explain, so no cause is named
            v = type(v)(OTHER, max(v.p_other, v.ranked[0][1] if v.ranked else 0.0), v.ranked, v.p_other)
        cands = [h for h, _ in v.candidates()]
        out.append(Outcome(e, v.cause, v.confidence, tuple(cands)))
    return out


def recalibrated(outs: Sequence[Outcome], knots: Sequence[tuple[float, float]]) -> list[Outcome]:
    """The outcomes with their confidences passed through the calibration map."""
    k = tuple(knots)
    return [
        Outcome(
            o.example,
            o.verdict,
            calibrate(o.confidence, k) if o.verdict != OTHER else o.confidence,
            o.candidates,
        )
        for o in outs
    ]


def fit_calibration(outs: Sequence[Outcome]) -> tuple[tuple[float, float], ...]:
    """A monotone map from posterior to confidence, fitted on cross-validated named verdicts.

    Isotonic regression (pool adjacent violators) of "the verdict was acceptable"
    on the posterior, each block shrunk toward its posterior, then capped so that no verdict that was wrong is stated at
    ``OVERCONFIDENT`` or more: below the largest posterior that was wrong, the map
    stays under that line.
    """
    named = sorted((o.confidence, float(o.acceptable)) for o in outs if o.verdict != OTHER)
    if len(named) < 10:
        return ()
    blocks: list[list[float]] = []  # [sum_y, n, x_min, x_max]
    for x, y in named:
        blocks.append([y, 1.0, x, x])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] >= blocks[-1][0] / blocks[-1][1]:
            b = blocks.pop()
            blocks[-1][0] += b[0]
            blocks[-1][1] += b[1]
            blocks[-1][3] = b[3]
    # each block's rate, shrunk toward its own posterior by two pseudo-verdicts (small blocks stay modest)
    knots = [((b[2] + b[3]) / 2.0, (b[0] + 2.0 * (b[2] + b[3]) / 2.0) / (b[1] + 2.0)) for b in blocks]
    wrong = [o.confidence for o in outs if o.verdict != OTHER and not o.acceptable]
    cap = OVERCONFIDENT - 0.01
    if wrong:
        worst = max(wrong)
        knots = [(x, min(y, cap) if x <= worst else y) for x, y in knots]
        knots.append((worst, min(cap, calibrate(worst, tuple(knots)))))
        knots.sort()
    # monotone, and never below the lowest posterior's own value at 0
    out: list[tuple[float, float]] = [(0.0, min(knots[0][1], knots[0][0]))]
    for x, y in knots:
        if x > out[-1][0]:
            out.append((x, max(y, out[-1][1])))
    if out[-1][0] < 1.0:
        out.append((1.0, out[-1][1]))
    return tuple((round(x, 4), round(y, 4)) for x, y in out)


def calibration(outs: Sequence[Outcome], bins: int = 5) -> dict[str, Any]:
    """Brier score, expected calibration error and a reliability table of the named verdicts."""
    named = [o for o in outs if o.verdict != OTHER]
    if not named:
        return {"named": 0, "brier": float("nan"), "ece": float("nan"), "table": []}
    brier = sum((o.confidence - o.acceptable) ** 2 for o in named) / len(named)
    table = []
    ece = 0.0
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        inb = [o for o in named if lo <= o.confidence < hi or (b == bins - 1 and o.confidence == 1.0)]
        if not inb:
            table.append({"bin": f"{lo:.1f}–{hi:.1f}", "n": 0, "mean_conf": None, "right": None})
            continue
        conf = sum(o.confidence for o in inb) / len(inb)
        acc = sum(o.acceptable for o in inb) / len(inb)
        ece += len(inb) / len(named) * abs(conf - acc)
        table.append({"bin": f"{lo:.1f}–{hi:.1f}", "n": len(inb), "mean_conf": conf, "right": acc})
    return {"named": len(named), "brier": brier, "ece": ece, "table": table}


def _objective(outs: Sequence[Outcome]) -> tuple[float, ...]:
    acc = sum(o.acceptable for o in outs)
    dec = sum(o.acceptable for o in outs if o.example.case.decisive)
    top3 = sum(o.top3 for o in outs)
    over = sum(o.overconfident for o in outs)
    cal = calibration(outs)
    ece = cal["ece"] if cal["named"] else 1.0
    return (-over, acc + dec + top3, -ece)


GRID = {
    "alpha": (2.0, 4.0, 8.0),
    "kappa": (1.0, 1.4, 2.0),
    "beta": (20.0, 60.0, 150.0),
    "other_weight": (0.5, 1.0, 2.0, 4.0),
    "temperature": (1.0, 1.25, 1.5, 1.75, 2.0, 3.0),
    "threshold": (0.3, 0.4, 0.5, 0.6),
}


def choose(exs: Sequence[Example], k: int = 5, seed: int = 0) -> tuple[dict[str, Any], list[Outcome]]:
    """The hyper-parameters with the best cross-validated objective, and their outcomes."""
    best: tuple[tuple[float, ...], dict[str, Any], list[Outcome]] | None = None
    for alpha in GRID["alpha"]:
        for kappa in GRID["kappa"]:
            for beta in GRID["beta"]:
                for ow in GRID["other_weight"]:
                    sc = cv_scores(exs, k, seed, other_weight=ow, alpha=alpha, kappa=kappa, beta=beta)
                    for t in GRID["temperature"]:
                        for tau in GRID["threshold"]:
                            raw = outcomes(exs, sc, t, tau)
                            ab = fit_calibration(raw)
                            outs = recalibrated(raw, ab)
                            obj = _objective(outs)
                            if best is None or obj > best[0]:
                                hyper = {
                                    "alpha": alpha,
                                    "kappa": kappa,
                                    "beta": beta,
                                    "other_weight": ow,
                                    "temperature": t,
                                    "threshold": tau,
                                    "calibration": ab,
                                }
                                best = (obj, hyper, outs)
    assert best is not None
    return best[1], best[2]


def library_dirs(root: Path | None = None) -> list[Path]:
    """The case folders: the project's own library and the shared public cases beside the checkout."""
    here = Path(__file__).resolve().parents[2]
    return [p for p in (here / "data" / "cases", here.parent / "shared" / "cases") if p.is_dir()]


def main(argv: list[str] | None = None) -> int:
    """Fit the model on the case libraries and write ``rules/model.json`` (the command line)."""
    ap = argparse.ArgumentParser(prog="python -m mpkit.diagnose.fit", description=__doc__.split("\n")[0])
    ap.add_argument(
        "dirs", nargs="*", type=Path, help="case folders (default: data/cases and ../shared/cases)"
    )
    ap.add_argument("-k", type=int, default=5, help="folds (default 5)")
    ap.add_argument("-o", type=Path, default=Path(__file__).parent / "rules" / "model.json")
    args = ap.parse_args(argv)
    dirs = args.dirs or library_dirs()
    cases = [c for d in dirs for c in find_cases(d)]
    if len({c.case_id for c in cases}) < args.k:
        ap.error(
            f"found {len(cases)} cases in {', '.join(map(str, dirs)) or 'no folder'}: need at least {args.k} to cross-validate"
        )
    print(f"{len(cases)} cases (bundles and pastes) from {', '.join(map(str, dirs))}", file=sys.stderr)
    exs = examples(cases)
    hyper, outs = choose(exs, args.k)
    model = fit(exs, alpha=hyper["alpha"], kappa=hyper["kappa"], beta=hyper["beta"])
    model.temperature = hyper["temperature"]
    model.other_weight = hyper["other_weight"]
    model.threshold = hyper["threshold"]
    model.calibration = tuple(hyper["calibration"])
    model.meta = {
        **hyper,
        "cases": len({(e.case.name, e.case.path.parent.name) for e in exs}),
        "examples": len(exs),
        "folds": args.k,
        "labels": dict(sorted(Counter(e.label for e in exs if e.case.form == "bundle").items())),
    }
    args.o.write_text(json.dumps(model.to_dict(), indent=1, sort_keys=False) + "\n")
    n = len(outs)
    print(
        f"cross-validated: acceptable {sum(o.acceptable for o in outs)}/{n}, "
        f"top3 {sum(o.top3 for o in outs)}/{n}, overconfident {sum(o.overconfident for o in outs)}; "
        f"hyper {hyper}; wrote {args.o}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
