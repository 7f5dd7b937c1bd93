"""The session's offline HTML report, written from the transcript alone.

One self-contained file (inline CSS; no script, font, image or link to load),
so it opens anywhere and can be attached to a bug thread.  Because it reads
only ``doctor/transcript.jsonl``, it can be written again from any bundle,
an interrupted one included (:func:`write_report`).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..i18n import N_, _
from .transcript import REPORT, load_transcript

OUTCOME_TEXT = {
    "healthy": N_("healthy: the start works, nothing to fix"),
    "fixed": N_("fixed: a step made the start work"),
    "not-fixed": N_("not fixed"),
    "stopped": N_("stopped by the person"),
    "interrupted": N_("interrupted (Ctrl-C)"),
    "error": N_("ended by an error in mpkit"),
}

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:62rem;
padding:0 1rem;color:#1d1d1f;line-height:1.45}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{border:1px solid #ddd;padding:.3rem .5rem;
text-align:left;vertical-align:top}th{background:#f5f5f7}code,pre{font-family:ui-monospace,Menlo,Consolas,
monospace;font-size:.85rem}pre{white-space:pre-wrap;background:#f5f5f7;padding:.4rem;margin:.2rem 0}
.badge{display:inline-block;padding:.2rem .6rem;border-radius:.3rem;font-weight:600}
.healthy,.fixed{background:#e3f5e1;color:#1b5e20}.not-fixed{background:#fdecea;color:#8b1a12}
.stopped,.interrupted,.error{background:#fff4d6;color:#7a5400}.destructive{color:#8b1a12;font-weight:600}
.muted{color:#6e6e73}.state-fail{color:#8b1a12;font-weight:600}.state-warn{color:#7a5400}
"""


def _e(v: Any) -> str:
    return html.escape("" if v is None else str(v))


def _code(v: Any) -> str:
    return f"<code>{_e(v)}</code>" if v else ""


def _first(records: Sequence[dict[str, Any]], event: str) -> dict[str, Any]:
    return next((r for r in records if r.get("event") == event), {})


def _session(rec: dict[str, Any], end: dict[str, Any], last: dict[str, Any]) -> str:
    host = last.get("host") or {}
    rows = [
        (_("Instance"), _e(end.get("instance") or last.get("instance") or rec.get("instance") or "?")),
        (
            _("Host"),
            _e(f"{host.get('os_name') or rec.get('platform') or '?'} {host.get('os_version') or ''}".strip()),
        ),
        (_("Multipass"), _e(host.get("multipass_version") or "?")),
        (_("Ran as root"), _e(_("yes") if rec.get("root") else _("no"))),
        (_("Options"), _e(" ".join(rec.get("options") or []) or "-")),
        (_("Started"), _e(rec.get("at"))),
        (_("Ended"), _e(end.get("at") or "-")),
        (_("Exit status"), _e(end.get("exit_status", "-"))),
    ]
    return "<table>" + "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows) + "</table>"


def _verdicts(records: Sequence[dict[str, Any]]) -> str:
    out = []
    for r in records:
        if r.get("event") != "verdict":
            continue
        ev = "".join(f"<li>{_code(e)}</li>" for e in r.get("evidence") or [])
        changed = "".join(
            f"<li>{_code(c.get('check'))}: {_e(c.get('from'))} → "
            f'<span class="state-{_e(c.get("to"))}">{_e(c.get("to"))}</span> {_e(c.get("summary"))}</li>'
            for c in r.get("changed") or []
        )
        suspect = r.get("suspect")
        out.append(
            f"<h3>{_e(r.get('label'))}</h3><p><strong>{_e(r.get('cause'))}</strong> — {_e(r.get('title'))}"
            f"<br>{_('confidence')}: {_e(r.get('words'))} ({_e(r.get('confidence'))}) · "
            f"{_('failed stage')}: {_e(r.get('stage'))}"
            + (
                f"<br>{_('leading suspect')}: {_e(suspect.get('id'))} ({_e(suspect.get('p'))})"
                if isinstance(suspect, dict)
                else ""
            )
            + "</p>"
            + (f"<p>{_('Evidence')}:</p><ul>{ev}</ul>" if ev else "")
            + (f"<p>{_('What changed')}:</p><ul>{changed}</ul>" if changed else "")
        )
    return "".join(out) or f'<p class="muted">{_("No diagnosis was made.")}</p>'


def _steps(records: Sequence[dict[str, Any]]) -> str:
    rows = []
    for r in records:
        if r.get("event") != "step":
            continue
        cmds = "".join(
            f"<pre>{_e(c.get('command'))}</pre><span class='muted'>{_e(c.get('state'))}, "
            f"{_('exit')} {_e(c.get('exit_code'))}, {_e(c.get('duration_s'))} s</span>"
            for c in r.get("commands") or []
        )
        shown = "".join(f"<pre>{_e(c)}</pre>" for c in r.get("printed") or [])
        rows.append(
            f"<tr><td>{_e(r.get('seq'))}</td><td>{_e(r.get('phase'))}</td><td>{_e(r.get('title'))}</td>"
            f"<td>{cmds or shown or '-'}</td><td>{_e(r.get('answer'))}</td>"
            f"<td>{_e(r.get('duration_s'))}</td><td>{_e(r.get('result'))}</td></tr>"
        )
    head = "".join(
        f"<th>{h}</th>"
        for h in ("#", _("phase"), _("step"), _("commands"), _("answer"), _("seconds"), _("result"))
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _ladder(records: Sequence[dict[str, Any]]) -> str:
    rec = _first(records, "ladder")
    if not rec:
        return f'<p class="muted">{_("No remediation was needed or reached.")}</p>'
    items = []
    for r in rec.get("rungs") or []:
        warn = ""
        if r.get("destructive"):
            warn = (
                f'<p class="destructive">{_("Destructive: never run by mpkit.")} {_e(r.get("warning"))}</p>'
                + (f"<p>{_('Back up first')}: {_code(r.get('backup'))}</p>" if r.get("backup") else "")
            )
        detail = "".join(f"<li>{_e(d)}</li>" for d in r.get("detail") or [])
        items.append(
            f"<li><p>{_e(r.get('text'))} <span class='muted'>[{_e(r.get('kind'))}; "
            f"{_('chance it fixes')} {_e(r.get('p_fix'))}; ~{_e(r.get('cost_s'))} s]</span></p>"
            + (f"<pre>{_e(r.get('command'))}</pre>" if r.get("command") else "")
            + (f"<ul>{detail}</ul>" if detail else "")
            + warn
            + (f"<p class='muted'>{_e(r.get('how'))}</p>" if r.get("how") else "")
            + "</li>"
        )
    return f"<ol>{''.join(items)}</ol>"


def render(records: Sequence[dict[str, Any]]) -> str:
    """The report of a session transcript, as one HTML document."""
    session, end = _first(records, "session"), _first(records, "end")
    verdicts = [r for r in records if r.get("event") == "verdict"]
    last = verdicts[-1] if verdicts else {}
    outcome = str(end.get("outcome") or "interrupted")
    instance = end.get("instance") or last.get("instance") or session.get("instance") or "?"
    title = _("mpkit doctor: {instance}").format(instance=instance)
    badge = f'<span class="badge {_e(outcome)}">{_e(_(OUTCOME_TEXT.get(outcome, outcome)))}</span>'
    if not end:
        badge += f' <span class="muted">{_("(the transcript has no end record)")}</span>'
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{_e(title)}</h1><p>{badge}</p>"
        f"<h2>{_('Session')}</h2>{_session(session, end, last)}"
        f"<h2>{_('Verdicts along the way')}</h2>{_verdicts(records)}"
        f"<h2>{_('Steps')}</h2>{_steps(records)}"
        f"<h2>{_('Remediation ladder (least destructive first)')}</h2>{_ladder(records)}"
        f'<p class="muted">{_("The bundle holds every output; `mpkit report BUNDLE` writes the full report.")}</p>'
        "</body></html>\n"
    )


def write_report(bundle: str | Path, out: str | Path | None = None) -> Path:
    """Write the HTML report of ``bundle``'s doctor transcript (default: ``doctor/report.html``)."""
    path = Path(out) if out is not None else Path(bundle) / REPORT
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(render(load_transcript(bundle)), encoding="utf-8")
    tmp.replace(path)
    return path
