"""Plain-text rendering of a diagnosis for a terminal (the `mpkit diagnose` output)."""

from __future__ import annotations

from .diagnose.model import Diagnosis

MARK = {
    "fail": "FAIL",
    "warn": "WARN",
    "pass": "ok",
    "not-collected": "n/c",
    "could-not-parse": "PARSE",
    "not-applicable": "-",
}


def render_text(d: Diagnosis, *, verbose: bool = False) -> str:
    h = d.host
    out = []
    out.append(f"mpkit diagnosis: instance {d.instance or '(unknown)'}")
    out.append(
        f"  host: {h.get('os_name') or h.get('platform') or 'unknown OS'} {h.get('os_version') or ''}  ·  "
        f"Multipass {h.get('multipass_version') or 'unknown'}  ·  clock: {h.get('clock_note')}"
    )
    a = d.attempt
    if a:
        out.append(
            f"  attempt {a.get('attempt')} ({a.get('source')}): outcome {a.get('outcome')}, reached {a.get('stage_reached')}, "
            f"started {a.get('started_at') or '?'}"
        )
    out.append("")
    out.append("Checks")
    shown = [
        c
        for c in d.checks
        if verbose
        or c.state in ("fail", "warn", "could-not-parse")
        or (c.state == "not-collected" and c.id in _KEY)
    ]
    for c in sorted(
        shown,
        key=lambda c: (
            ["fail", "warn", "could-not-parse", "not-collected", "pass", "not-applicable"].index(c.state),
            c.id,
        ),
    ):
        line = f"  [{MARK[c.state]:>5}] {c.id:<32} {c.summary}"
        if c.state in ("fail", "warn", "pass") and c.strength < 1.0:
            line += f"  (counts {c.strength:.0%}: {c.softened_by})"
        out.append(line)
    hidden = len(d.checks) - len(shown)
    if hidden:
        out.append(f"  … {hidden} more checks passed or do not apply (--verbose shows them)")
    rc = d.root_cause
    out.append("")
    out.append(f"Verdict: {rc.id} — {rc.title}")
    out.append(f"  confidence: {d.confidence_words} ({rc.confidence:.2f})   failed stage: {d.failed_stage}")
    out.append(f"  {rc.summary}")
    if rc.consequences:
        out.append(f"  (follow-on effects, not separate causes: {', '.join(rc.consequences)})")
    if len(d.candidates) > 1:
        out.append(
            "  other candidates: " + ", ".join(f"{c.id} {c.confidence:.2f}" for c in d.candidates[1:5])
        )
    if rc.evidence:
        out.append("")
        out.append("Evidence")
        for e in rc.evidence:
            out.append(f"  {e.artifact} {e.locator}: {e.excerpt}")
    out.append("")
    if rc.remediation:
        out.append("What to do (least destructive first)")
        for i, s in enumerate(rc.remediation, 1):
            out.append(f"  {i}. {s.render()}")
    else:
        out.append(
            "Nothing failed, so there is nothing to fix."
            if d.failed_stage == "none"
            else "No remediation known."
        )
    if d.missing_evidence:
        out.append("")
        out.append("What to collect next")
        for m in d.missing_evidence:
            out.append(f"  - {m}")
    if d.notes:
        out.append("")
        out.append("Notes")
        for n in d.notes:
            out.append(f"  - {n}")
    return "\n".join(out) + "\n"


_KEY = {
    "firewall.app-firewall",
    "lease.for-instance",
    "arp.for-instance",
    "dhcp.requests-unanswered",
    "routes.vpn",
    "firewall.host",
}
