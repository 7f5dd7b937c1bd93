"""The case library: real start failures with their established cause, and how a diagnosis is scored.

A case is a bundle folder holding ``expected.json`` (the answer, never evidence)
and, optionally, its pasted bug-report form (``<name>.md`` beside the folder, or
``pastes/<name>.md`` beside the ``cases/`` folder).  The measures are those a
support engineer cares about:

- *acceptable*: the verdict is the established cause or a look-alike that the
  bundle's evidence cannot rule out (``acceptable`` in ``expected.json``);
- *decisive*: on cases whose evidence decides (``unknown`` not acceptable), the
  verdict is acceptable;
- *top three*: the established cause is among the first three candidates
  (``unknown`` counts for unresolved threads and for causes no artifact shows);
- *overconfident-wrong*: confidence ≥ 0.7 on a verdict that is not acceptable.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: causes no artifact can show: for them ``unknown`` in the top three counts as finding them
NO_SIGNATURE = frozenset({"host-hardware-fault", "host-network-change", "guest-boot-slow"})
#: the confidence at and above which a verdict that is not acceptable counts as overconfident
OVERCONFIDENT = 0.7


@dataclass(frozen=True)
class Case:
    """One library case: where its bundle (or paste) is and what the thread established."""

    name: str
    path: Path
    form: str  # "bundle" or "paste"
    expected: dict[str, Any] = field(hash=False, compare=False)

    @property
    def case_id(self) -> str:
        """``<library>/<name>``: the same for a case's bundle and its pasted form."""
        return f"{self.path.parent.parent.name}/{self.name}"

    @property
    def key(self) -> str:
        """``<library>/<name>/<form>``, e.g. ``shared/006/paste`` or ``data/gh2604/bundle``."""
        return f"{self.case_id}/{self.form}"

    @property
    def label(self) -> str:
        """The root cause the thread established."""
        return str(self.expected["root_cause"])

    @property
    def platform(self) -> str:
        """The host platform of the case (``any`` when the report did not say)."""
        return str(self.expected.get("platform") or "any")

    @property
    def acceptable(self) -> list[str]:
        """Every verdict the evidence in the bundle supports as right."""
        return list(self.expected["acceptable"])

    @property
    def decisive(self) -> bool:
        """Whether the bundle's evidence is enough for a named cause (``unknown`` is not acceptable)."""
        return "unknown" not in self.acceptable

    @property
    def targets(self) -> set[str]:
        """The labels a fitted model may aim at for this case."""
        t = {self.label}
        if self.expected.get("confidence") == "unresolved" or self.label in NO_SIGNATURE:
            t.add("unknown")
        return t


def find_cases(root: Path, *, pastes: bool = True) -> list[Case]:
    """Every case under ``root`` (folders holding ``expected.json``), and their pasted forms."""
    out: list[Case] = []
    if not root.is_dir():
        return out
    for d in sorted(p for p in root.iterdir() if (p / "expected.json").is_file()):
        exp = json.loads((d / "expected.json").read_text())
        out.append(Case(d.name, d, "bundle", exp))
        if pastes:
            for cand in (root / f"{d.name}.md", root.parent / "pastes" / f"{d.name}.md"):
                if cand.is_file():
                    out.append(Case(d.name, cand, "paste", exp))
                    break
    return out


@dataclass(frozen=True)
class Score:
    """How one diagnosis did on one case."""

    case: Case
    verdict: str
    confidence: float
    candidates: tuple[str, ...]
    acceptable: bool
    top3: bool
    overconfident: bool
    exact: bool

    @property
    def decisive_right(self) -> bool | None:
        """For a decisive case, whether the verdict was acceptable; ``None`` otherwise."""
        return self.acceptable if self.case.decisive else None


def measures(case: Case, verdict: str, confidence: float, candidates: tuple[str, ...]) -> dict[str, bool]:
    """acceptable, true cause in the top three, overconfident (stated ≥ 0.7 and not acceptable)."""
    ok = verdict in case.acceptable
    return {
        "acceptable": ok,
        "top3": bool(case.targets & set(candidates[:3])),
        "overconfident": confidence >= OVERCONFIDENT and not ok,
    }


def score(case: Case, result: dict[str, Any]) -> Score:
    """Score one ``diagnose --json`` object against the case's answer."""
    rc = result["root_cause"]
    ids = tuple(c["id"] for c in result["candidates"])
    m = measures(case, rc["id"], float(rc["confidence"]), ids)
    return Score(
        case,
        rc["id"],
        float(rc["confidence"]),
        ids,
        m["acceptable"],
        m["top3"],
        m["overconfident"],
        rc["id"] == case.label,
    )


def summarise(scores: list[Score]) -> dict[str, Any]:
    """The library measures over a list of scores (fractions in [0, 1], counts as ints)."""
    n = len(scores)
    dec = [s for s in scores if s.case.decisive]
    return {
        "cases": n,
        "acceptable": sum(s.acceptable for s in scores) / n if n else float("nan"),
        "decisive_cases": len(dec),
        "decisive_right": sum(s.acceptable for s in dec),
        "decisive": sum(s.acceptable for s in dec) / len(dec) if dec else float("nan"),
        "top3": sum(s.top3 for s in scores) / n if n else float("nan"),
        "overconfident_wrong": sum(s.overconfident for s in scores),
    }
