"""Inference over the evidence table: naive Bayes with a background hypothesis.

Hypotheses are the cause ids plus :data:`OTHER` (a real failure that none of
the causes explains, reported as ``unknown``).  For every check that looked
(state ``fail``, ``warn`` or ``pass``) the model holds ``P(state | cause)`` and
``P(state | other)``, the rate of that state over all failed cases::

    score(h) = log P(h | platform) + Σ_checks log(λ · P(s | h) / P(s | other) + 1 − λ)
    P(h | evidence) ∝ exp(score(h) / T)

``λ`` is the check's strength (1 when read in the attempt's own window; less
when the evidence is far in time, rests on an inferred link, or its input
parsed badly), so weak evidence moves the posterior less.  A check that did
not look (``not-collected``) carries no information.  A downstream symptom
that every upstream cause produces (no lease, a timed-out start) is likely
under each of them, so the upstream cause with a signature of its own explains
it away; no cascade rule is needed.

Every number lives in ``rules/model.json``, written by :mod:`mpkit.diagnose.fit`
from the case library: priors per platform, the likelihood tables, the
temperature ``T`` and the least posterior at which a cause is named
(``threshold``); below it the verdict is ``unknown`` with the causes as
candidates.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

#: the background hypothesis: a failure none of the causes explains
OTHER = "unknown"
#: states that carry information; the others (not collected, could not parse, not applicable) do not
INFORMATIVE = ("fail", "warn", "pass")


@dataclass(frozen=True)
class Observation:
    """One row of the evidence table as the inference sees it."""

    check: str
    state: str
    strength: float = 1.0


@dataclass
class Model:
    """The parameters: all data, see the module docstring."""

    hypotheses: list[str]  # cause ids and OTHER
    prior: dict[str, dict[str, float]]  # platform ("macos", "linux", "windows", "any") -> h -> P(h)
    background: dict[str, dict[str, float]]  # check -> state -> P(state | other)
    likelihood: dict[str, dict[str, dict[str, float]]]  # check -> h -> state -> P(state | h)
    temperature: float = 1.0
    #: the least posterior at which a cause is named (below it: ``unknown``, the cause a candidate)
    threshold: float = 0.5
    #: multiplies the prior of OTHER: how readily the model says "none of the causes fits"
    other_weight: float = 1.0
    groups: dict[str, str] | None = None  # check -> group of checks that read the same fact
    #: the calibration map as (posterior, confidence) knots, linear between them: fitted so that
    #: stated confidences match how often such verdicts were right in cross-validation; monotone,
    #: so the ranking is kept.  Empty: the posterior is the confidence.
    calibration: tuple[tuple[float, float], ...] = ()
    meta: dict[str, Any] | None = None

    # -- the posterior ------------------------------------------------------------------
    def log_lr(self, obs: Observation, h: str) -> float:
        """log of the softened likelihood ratio of ``obs`` under ``h`` against the background."""
        if obs.state not in INFORMATIVE or h == OTHER:
            return 0.0
        bg = self.background.get(obs.check)
        if not bg:
            return 0.0
        table = self.likelihood.get(obs.check, {}).get(h)
        p_bg = bg.get(obs.state, 0.0)
        if table is None or p_bg <= 0.0:
            return 0.0
        lr = table.get(obs.state, p_bg) / p_bg
        lam = min(1.0, max(0.0, obs.strength))
        return math.log(lam * lr + (1.0 - lam))

    def evidence_score(self, observations: Iterable[Observation], h: str) -> float:
        """Σ log-likelihood ratios for ``h``; within a group of correlated checks only the largest counts."""
        groups = self.groups or {}
        total = 0.0
        best: dict[str, float] = {}
        for o in observations:
            if o.state not in INFORMATIVE:
                continue
            v = self.log_lr(o, h)
            g = groups.get(o.check)
            if g is None:
                total += v
            elif abs(v) > abs(best.get(g, 0.0)):
                best[g] = v
        return total + sum(best.values())

    def scores(self, observations: Iterable[Observation], platform: str | None) -> dict[str, float]:
        """Unnormalised log scores per hypothesis (before the temperature)."""
        pri = self.prior.get(platform or "any") or self.prior["any"]
        obs = [o for o in observations if o.state in INFORMATIVE]
        out = {}
        for h in self.hypotheses:
            p = pri.get(h, 0.0) * (self.other_weight if h == OTHER else 1.0)
            if p <= 0.0:
                continue
            out[h] = math.log(p) + self.evidence_score(obs, h)
        return out

    def posterior(self, observations: Iterable[Observation], platform: str | None) -> dict[str, float]:
        """P(h | evidence) for every hypothesis possible on ``platform``, largest first."""
        return normalise(self.scores(observations, platform), self.temperature)

    def contributions(self, observations: Iterable[Observation], h: str) -> list[tuple[Observation, float]]:
        """Each observation's log-likelihood ratio for ``h``: what speaks for and against it."""
        return [(o, self.log_lr(o, h)) for o in observations if o.state in INFORMATIVE]

    # -- what to collect next -----------------------------------------------------------
    def expected_gain(self, check: str, observations: list[Observation], platform: str | None) -> float:
        """Expected information gain (bits) about the cause from learning ``check``'s state."""
        post = self.posterior(observations, platform)
        h0 = entropy(post)
        bg = self.background.get(check)
        if not bg:
            return 0.0
        gain = h0
        for state in INFORMATIVE:
            p_s = sum(
                p
                * (
                    self.likelihood.get(check, {}).get(h, bg).get(state, bg.get(state, 0.0))
                    if h != OTHER
                    else bg.get(state, 0.0)
                )
                for h, p in post.items()
            )
            if p_s <= 1e-12:
                continue
            after = self.posterior([*observations, Observation(check, state)], platform)
            gain -= p_s * entropy(after)
        return max(0.0, gain)

    # -- (de)serialisation --------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The model as plain JSON data (what ``rules/model.json`` holds)."""
        return {
            "_doc": "Diagnosis model parameters, written by `python -m mpkit.diagnose.fit` from the case "
            "library; see mpkit/diagnose/bayes.py for what each number means.",
            "meta": self.meta or {},
            "temperature": self.temperature,
            "threshold": self.threshold,
            "other_weight": self.other_weight,
            "calibration": [[round(x, 4), round(y, 4)] for x, y in self.calibration],
            "groups": self.groups or {},
            "hypotheses": self.hypotheses,
            "prior": {k: _rounded(v) for k, v in self.prior.items()},
            "background": {k: _rounded(v) for k, v in self.background.items()},
            "likelihood": {c: {h: _rounded(t) for h, t in hs.items()} for c, hs in self.likelihood.items()},
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Model:
        """A model from its JSON data (the inverse of :meth:`to_dict`)."""
        return cls(
            list(d["hypotheses"]),
            d["prior"],
            d["background"],
            d["likelihood"],
            float(d["temperature"]),
            float(d["threshold"]),
            float(d.get("other_weight", 1.0)),
            dict(d.get("groups") or {}),
            tuple((float(x), float(y)) for x, y in d.get("calibration") or ()),
            d.get("meta"),
        )


def _rounded(t: dict[str, float]) -> dict[str, float]:
    return {k: round(float(v), 6) for k, v in t.items()}


def normalise(scores: dict[str, float], temperature: float) -> dict[str, float]:
    """Log scores to probabilities at ``temperature``, largest first."""
    if not scores:
        return {}
    top = max(scores.values())
    w = {h: math.exp((s - top) / max(temperature, 1e-6)) for h, s in scores.items()}
    z = sum(w.values())
    return dict(sorted(((h, v / z) for h, v in w.items()), key=lambda kv: (-kv[1], kv[0])))


def calibrate(p: float, knots: tuple[tuple[float, float], ...] | list[tuple[float, float]]) -> float:
    """The calibration map at ``p``: linear between the knots, flat beyond them."""
    if not knots:
        return p
    if p <= knots[0][0]:
        return knots[0][1]
    for (x0, y0), (x1, y1) in zip(knots, knots[1:], strict=False):
        if p <= x1:
            return y0 if x1 == x0 else y0 + (y1 - y0) * (p - x0) / (x1 - x0)
    return knots[-1][1]


def entropy(p: dict[str, float]) -> float:
    """Shannon entropy in bits."""
    return -sum(v * math.log2(v) for v in p.values() if v > 0)


@dataclass(frozen=True)
class Verdict:
    """The decision read off a posterior: the named cause (or ``unknown``) and its confidence."""

    cause: str
    confidence: float
    ranked: tuple[tuple[str, float], ...]  # every cause with its posterior, largest first (OTHER excluded)
    p_other: float

    def candidates(self) -> list[tuple[str, float]]:
        """The verdict first, then every other hypothesis (``unknown`` among them) by posterior."""
        rest = [(h, min(p, self.confidence)) for h, p in self.ranked if h != self.cause]
        if self.cause != OTHER:
            rest.append((OTHER, min(self.p_other, self.confidence)))
        rest.sort(key=lambda hp: -hp[1])
        return [(self.cause, self.confidence), *rest]


def decide(post: dict[str, float], threshold: float) -> Verdict:
    """Name the most probable cause when its posterior reaches ``threshold`` and beats the background.

    Otherwise the verdict is ``unknown``: its confidence is the larger of the
    background's posterior and the leading cause's, so the candidates stay in
    decreasing order and an "unknown" is never surer than the evidence allows.
    """
    ranked = tuple((h, p) for h, p in post.items() if h != OTHER)
    p_other = post.get(OTHER, 0.0)
    lead = ranked[0][1] if ranked else 0.0
    if ranked and lead >= threshold and lead > p_other:
        return Verdict(ranked[0][0], lead, ranked, p_other)
    return Verdict(OTHER, max(p_other, lead), ranked, p_other)


def stated(v: Verdict, model: Model) -> Verdict:
    """The verdict with the confidences a reader sees.

    A named cause's posterior goes through the calibration map (fitted on named
    verdicts); the other hypotheses keep their share relative to it, so the
    order is unchanged.  An ``unknown`` verdict keeps the posteriors as they are.
    """
    if v.cause == OTHER or v.confidence <= 0.0:
        return v
    conf = calibrate(v.confidence, model.calibration)
    k = conf / v.confidence
    return Verdict(
        v.cause, conf, tuple((h, p if h == v.cause else p * k) for h, p in v.ranked), v.p_other * k
    )


@cache
def load_model() -> Model:
    """The shipped parameters (``rules/model.json``)."""
    text = resources.files("mpkit.diagnose").joinpath("rules/model.json").read_text()
    return Model.from_dict(json.loads(text))
