"""Diagnosis: the failing stage and the likely root cause, with evidence, confidence and remediation."""

from .engine import causes, diagnose, prevention, rules
from .model import Candidate, CheckResult, Diagnosis, Evidence, Finding, RootCause, Step

__all__ = [
    "Candidate",
    "CheckResult",
    "Diagnosis",
    "Evidence",
    "Finding",
    "RootCause",
    "Step",
    "causes",
    "diagnose",
    "prevention",
    "rules",
]
