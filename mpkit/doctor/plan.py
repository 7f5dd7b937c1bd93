"""What to learn next: information steps ranked by expected information gain per unit of cost.

For a step that can settle the not-collected checks ``C`` of the evidence
table, the gain is the expected drop of the posterior's entropy when their
states become known::

    EIG(C) = H(P(h | e)) − Σ_s P(s | e) · H(P(h | e, C = s)),
    P(s | e) = Σ_h P(h | e) · Π_c P(s_c | h)

with the model's own likelihoods (naive Bayes: the checks are independent
given the cause), over the few checks of ``C`` that each tell the most.  A
bundle without any start attempt cannot tell a failing start from a working
one (the model has no "healthy" hypothesis: "no failure found" needs a good
start), so a step that starts the instance there also settles that question,
counted as one more bit.  Steps are offered by gain / cost; the cost is data
(seconds, intrusiveness included) plus the start timeout for a start.
"""

from __future__ import annotations

import fnmatch
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..diagnose.bayes import INFORMATIVE, OTHER, Model, Observation, entropy
from ..diagnose.engine import EvidenceTable, collect_commands
from .steps import InfoStep

#: below this many bits a step is not worth the person's time
MIN_GAIN = 0.02
#: at most this many checks of one step are enumerated jointly (3**n posteriors)
JOINT_LIMIT = 3
#: the question "does the start fail at all?", settled by a first start attempt
OUTCOME_BITS = 1.0


@dataclass(frozen=True)
class Offer:
    """One step with what it is worth now."""

    step: InfoStep
    checks: tuple[str, ...]  # the not-collected checks it can settle
    gain: float  # bits
    cost_s: float
    files: tuple[str, ...] = ()

    @property
    def ratio(self) -> float:
        """Bits per second of cost."""
        return self.gain / max(self.cost_s, 1e-6)


def settles(step: InfoStep, files: Iterable[str], table: EvidenceTable) -> tuple[str, ...]:
    """The checks of ``table`` still not collected that ``step`` (writing ``files``) can settle."""
    hints = collect_commands()
    platform = table.platform
    from_files = set()
    for check, per in hints.items():
        hint = per.get(platform or "any") or per.get("any")
        if hint is not None and hint[0] in set(files):
            from_files.add(check)
    out = []
    for cid, res in sorted(table.checks.items()):
        if res.state != "not-collected":
            continue
        if cid in from_files or any(fnmatch.fnmatchcase(cid, pat) for pat in step.checks):
            out.append(cid)
    return tuple(out)


def _p_state(model: Model, check: str, h: str, state: str) -> float:
    bg = model.background.get(check) or {}
    if h == OTHER:
        return bg.get(state, 0.0)
    return model.likelihood.get(check, {}).get(h, bg).get(state, bg.get(state, 0.0))


def joint_gain(
    model: Model, observations: Sequence[Observation], checks: Sequence[str], platform: str | None
) -> float:
    """Expected information gain (bits) of learning the states of ``checks`` together."""
    known = [c for c in checks if model.background.get(c)]
    if not known:
        return 0.0
    singles = sorted(((model.expected_gain(c, list(observations), platform), c) for c in known), reverse=True)
    top = [c for g, c in singles[:JOINT_LIMIT] if g > 1e-9]
    if not top:
        return 0.0
    post = model.posterior(observations, platform)
    before = entropy(post)
    expected_after = 0.0
    for states in itertools.product(INFORMATIVE, repeat=len(top)):
        p = 0.0
        for h, ph in post.items():
            q = ph
            for c, s in zip(top, states, strict=True):
                q *= _p_state(model, c, h, s)
            p += q
        if p <= 1e-12:
            continue
        extra = [Observation(c, s) for c, s in zip(top, states, strict=True)]
        expected_after += p * entropy(model.posterior([*observations, *extra], platform))
    return max(0.0, before - expected_after, singles[0][0])


def value(
    step: InfoStep,
    table: EvidenceTable,
    model: Model,
    *,
    files: Sequence[str] = (),
    start_timeout: float = 0.0,
) -> Offer:
    """What ``step`` is worth on ``table``: its gain, its cost and the checks it settles."""
    files = tuple(files or step.files)
    checks = settles(step, files, table)
    gain = joint_gain(model, table.observations(), checks, table.platform)
    if step.starts_instance and not table.attempt:
        gain += OUTCOME_BITS
    cost = step.cost_s + (start_timeout if step.starts_instance else 0.0) + step.seconds
    return Offer(step, checks, round(gain, 4), cost, files)


def rank(offers: Iterable[Offer]) -> list[Offer]:
    """Offers worth taking, best gain per cost first."""
    good = [o for o in offers if o.gain >= MIN_GAIN]
    return sorted(good, key=lambda o: (-o.ratio, -o.gain, o.step.id))
