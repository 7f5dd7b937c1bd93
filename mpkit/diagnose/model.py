"""The diagnosis data model: frozen dataclasses, serialisable to the JSON contract."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..i18n import N_, Message

#: check states, in the order a checklist shows them
STATES = ("fail", "warn", "pass", "not-collected", "could-not-parse", "not-applicable")


@dataclass(frozen=True)
class Evidence:
    """A pointer to the line(s) behind a claim."""

    artifact: str  # file path inside the bundle
    locator: str  # "line 12", "lines 12-14", "entry at line 3"
    excerpt: str

    def to_dict(self) -> dict[str, str]:
        """The evidence pointer as the JSON contract writes it."""
        return {"artifact": str(self.artifact), "locator": str(self.locator), "excerpt": str(self.excerpt)}


@dataclass(frozen=True)
class CheckResult:
    """One doctor-style check: a stable id, a state, a one-line summary and its evidence."""

    id: str
    title: str
    state: str  # one of STATES
    summary: str
    evidence: tuple[Evidence, ...] = ()
    facts: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    #: how much of its weight the state carries: 1.0 read in the attempt's own window; less when the
    #: evidence is far in time from the attempt, rests on an inferred link, or its input parsed badly
    strength: float = 1.0
    #: "read" (the artifact says so) or "inferred" (rests on a link that was guessed, e.g. a MAC)
    how: str = "read"
    #: why the strength is below 1, for the reader
    softened_by: str = ""


@dataclass(frozen=True)
class Finding:
    """A rule that fired: which check, for or against which cause, how strongly, and why."""

    rule: str
    check: str
    cause: str
    weight: float  # > 0 supports the cause, < 0 speaks against it
    message: str
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class Step:
    """One rung of the remediation ladder."""

    text: str
    command: str | None = None
    destructive: bool = False
    warning: str | None = None  # what is lost and what to back up first

    def render(self) -> Message:
        """The step on one line: text, command, warning (English as a ``str``, see :class:`Message`)."""
        warn = self.destructive and self.warning
        if self.command and warn:
            return Message(
                "{text}: `{command}` (WARNING: {warning})",
                text=self.text,
                command=self.command,
                warning=self.warning,
            )
        if self.command:
            return Message("{text}: `{command}`", text=self.text, command=self.command)
        if warn:
            return Message("{text} (WARNING: {warning})", text=self.text, warning=self.warning)
        return Message("{text}", translatable=False, text=self.text)


@dataclass(frozen=True)
class Candidate:
    """A cause the posterior keeps open, with its probability and what speaks for or against it."""

    id: str
    confidence: float
    score: float = 0.0
    findings: tuple[Finding, ...] = ()


@dataclass(frozen=True)
class RootCause:
    """The verdict: cause, stated confidence, explanation, evidence and what to do."""

    id: str
    confidence: float
    title: str
    summary: str
    evidence: tuple[Evidence, ...]
    remediation: tuple[Step, ...]
    references: tuple[str, ...]
    family: str = "other"
    consequences: tuple[str, ...] = ()
    #: how to keep the cause from coming back after an OS or Multipass update (not in the JSON contract)
    prevention: tuple[Step, ...] = ()


@dataclass(frozen=True)
class Diagnosis:
    """Everything the diagnosis of one start says: verdict, candidates, failed stage, checks."""

    root_cause: RootCause
    candidates: tuple[Candidate, ...]
    failed_stage: str
    instance: str | None
    missing_evidence: tuple[str, ...]
    checks: tuple[CheckResult, ...] = ()
    attempt: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    host: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    notes: tuple[str, ...] = ()
    #: the full posterior over the causes and ``unknown`` (the background hypothesis), largest first
    posterior: tuple[tuple[str, float], ...] = ()

    @property
    def confidence_words(self) -> str:
        """The stated confidence in words ("very likely", "possible", …)."""
        return confidence_words(self.root_cause.confidence)

    def to_dict(self) -> dict[str, Any]:
        """Exactly the `mpkit diagnose --json` contract (spec/bundle-format.md)."""
        rc = self.root_cause
        return {
            "root_cause": {
                "id": rc.id,
                "confidence": round(rc.confidence, 2),
                "title": str(rc.title),
                "summary": str(rc.summary),
                "evidence": [e.to_dict() for e in rc.evidence],
                "remediation": [str(s.render()) for s in rc.remediation],
                "references": list(rc.references),
            },
            "candidates": [{"id": c.id, "confidence": round(c.confidence, 2)} for c in self.candidates],
            "failed_stage": self.failed_stage,
            "instance": self.instance,
            "missing_evidence": [str(m) for m in self.missing_evidence],
        }


def confidence_words(c: float) -> str:
    """The confidence in words, in English (translate with :func:`mpkit.i18n.gettext` where shown)."""
    if c >= 0.85:
        return N_("very likely")
    if c >= 0.7:
        return N_("likely")
    if c >= 0.45:
        return N_("possible")
    if c >= 0.25:
        return N_("uncertain")
    return N_("very uncertain")
