"""Plain-text rendering of a diagnosis for a terminal (the `mpkit diagnose` output), in the current
language (:mod:`mpkit.i18n`); ids, commands and quoted log lines stay as they are."""

from __future__ import annotations

import unicodedata

from .diagnose.model import Diagnosis
from .i18n import N_, _, localize

MARK = {
    "fail": N_("FAIL"),
    "warn": N_("WARN"),
    "pass": N_("ok"),
    "not-collected": N_("n/c"),
    "could-not-parse": N_("PARSE"),
    "not-applicable": "-",
}


def _width(text: str) -> int:
    """Columns ``text`` takes in a terminal (wide East Asian characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _mark(state: str) -> str:
    """The checklist mark of ``state``, right-aligned in five columns."""
    m = _(MARK[state])
    return " " * max(0, 5 - _width(m)) + m


def render_text(d: Diagnosis, *, verbose: bool = False) -> str:
    """The diagnosis as the terminal shows it: host, checklist, verdict, evidence, what to do, what to
    collect next, notes, and how to keep the cause from coming back after an update."""
    h = d.host
    out = []
    out.append(_("mpkit diagnosis: instance {instance}").format(instance=d.instance or _("(unknown)")))
    out.append(
        _("  host: {os} {version}  ·  Multipass {multipass}  ·  clock: {clock}").format(
            os=h.get("os_name") or h.get("platform") or _("unknown OS"),
            version=h.get("os_version") or "",
            multipass=h.get("multipass_version") or _("unknown"),
            clock=localize(h.get("clock_note")),
        )
    )
    a = d.attempt
    if a:
        out.append(
            _("  attempt {attempt} ({source}): outcome {outcome}, reached {stage}, started {started}").format(
                attempt=a.get("attempt"),
                source=a.get("source"),
                outcome=a.get("outcome"),
                stage=a.get("stage_reached"),
                started=a.get("started_at") or "?",
            )
        )
    out.append("")
    out.append(_("Checks"))
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
        line = f"  [{_mark(c.state)}] {c.id:<32} {localize(c.summary)}"
        if c.state in ("fail", "warn", "pass") and c.strength < 1.0:
            line += _("  (counts {strength:.0%}: {why})").format(
                strength=c.strength, why=localize(c.softened_by)
            )
        out.append(line)
    hidden = len(d.checks) - len(shown)
    if hidden:
        out.append(
            _("  … {hidden} more checks passed or do not apply (--verbose shows them)").format(hidden=hidden)
        )
    rc = d.root_cause
    out.append("")
    out.append(_("Verdict: {cause} — {title}").format(cause=rc.id, title=localize(rc.title)))
    out.append(
        _("  confidence: {words} ({confidence:.2f})   failed stage: {stage}").format(
            words=_(d.confidence_words), confidence=rc.confidence, stage=d.failed_stage
        )
    )
    out.append(f"  {localize(rc.summary)}")
    if rc.consequences:
        out.append(
            _("  (follow-on effects, not separate causes: {causes})").format(
                causes=", ".join(rc.consequences)
            )
        )
    if len(d.candidates) > 1:
        out.append(
            _("  other candidates: {candidates}").format(
                candidates=", ".join(f"{c.id} {c.confidence:.2f}" for c in d.candidates[1:5])
            )
        )
    if rc.evidence:
        out.append("")
        out.append(_("Evidence"))
        for e in rc.evidence:
            out.append(
                _("  {artifact} {locator}: {excerpt}").format(
                    artifact=e.artifact, locator=localize(e.locator), excerpt=localize(e.excerpt)
                )
            )
    out.append("")
    if rc.remediation:
        out.append(_("What to do (least destructive first)"))
        for i, s in enumerate(rc.remediation, 1):
            out.append(f"  {i}. {localize(s.render())}")
    else:
        out.append(
            _("Nothing failed, so there is nothing to fix.")
            if d.failed_stage == "none"
            else _("No remediation known.")
        )
    if d.missing_evidence:
        out.append("")
        out.append(_("What to collect next"))
        for m in d.missing_evidence:
            out.append(f"  - {localize(m)}")
    if d.notes:
        out.append("")
        out.append(_("Notes"))
        for n in d.notes:
            out.append(f"  - {localize(n)}")
    if rc.prevention:
        out.append("")
        out.append(_("Before the next OS or Multipass update (so it does not come back)"))
        for s in rc.prevention:
            out.append(f"  - {localize(s.render())}")
    return "\n".join(out) + "\n"


_KEY = {
    "firewall.app-firewall",
    "lease.for-instance",
    "arp.for-instance",
    "dhcp.requests-unanswered",
    "routes.vpn",
    "firewall.host",
}
