"""The report's views: each takes the :class:`~mpkit.report.context.ReportContext` and returns an
:class:`~mpkit.report.markup.Html` fragment whose every value is escaped.

Views that are only tables are data: a :class:`TableSpec` per table (where the rows come from, the
columns, their order, the title, what to say when there is no row) and a :class:`TableView` per
view in :data:`TABLE_VIEWS`, all drawn by :func:`render_view`. The views with prose (the verdict,
the checklist, the remediation ladder, …) are code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..derived import derive
from ..errors import ReportError
from ..i18n import N_, Message, _, current_language, localize, separator
from .context import ReportContext
from .markup import Html, clip, empty_note, esc, fmt_time, link, table
from .params import DIAGNOSIS_MIME, diagnosis_payload

if TYPE_CHECKING:
    from ..bundle import Bundle
    from ..diagnose.model import Diagnosis, Step


# ------------------------------------------------------------------------------------------------
# tables as data
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableSpec:
    """One table of a report, declared as data and drawn by :func:`render_table`.

    ``source`` names where the rows come from: a name in :data:`SOURCES`, else a bundle frame (the
    whole bundle: host state has no time to window). Rows are ordered (``order``, else ``sort``,
    ``descending`` when asked, missing values last), an optional ``intro`` paragraph is made from
    them, then they are cut to ``columns`` (those present, in that order; none listed: all), the
    ``times`` columns shown on the report clock, the ``clip`` columns shortened, the columns renamed
    by ``labels`` (``{tz}`` becomes the clock label) and numbers rounded to ``decimals``. ``title``
    (an ``<h4>``) goes above; a source with no row shows the title and the ``empty`` message.
    """

    source: str
    columns: tuple[str, ...] = ()
    title: str = ""
    empty: str = N_("nothing to show")
    sort: tuple[str, ...] = ()
    descending: bool = False
    order: Callable[[pd.DataFrame], pd.DataFrame] | None = None
    intro: Callable[[pd.DataFrame], str] | None = None
    times: tuple[str, ...] = ()
    clip: tuple[tuple[str, int], ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    decimals: int | None = None
    max_rows: int = 60


@dataclass(frozen=True)
class TableView:
    """A view made only of tables, drawn in turn by :func:`render_view`.

    With ``missing`` set, a table whose source has no row is left out, and ``missing`` is shown
    when none has any row; without it every table is shown (with its own empty message).
    """

    tables: tuple[TableSpec, ...]
    missing: str | None = None


def _instance_entities(ctx: ReportContext) -> pd.DataFrame:
    ent = derive(ctx.bundle).entities
    return ent[ent["instance"] == ctx.instance] if ctx.instance and len(ent) else ent


#: table sources other than bundle frames: the context's windowed attempts, the focused
#: instance's MAC ↔ lease ↔ ARP ↔ IP join, the parse coverage
SOURCES: dict[str, Callable[[ReportContext], pd.DataFrame]] = {
    "attempts": lambda ctx: ctx.attempts,
    "entities": _instance_entities,
    "coverage": lambda ctx: ctx.coverage,
    "dhcp_messages": lambda ctx: ctx.dhcp_messages,
}


def source_rows(ctx: ReportContext, source: str) -> pd.DataFrame:
    """The rows of table source ``source`` (see :class:`TableSpec`)."""
    if source in SOURCES:
        return SOURCES[source](ctx)
    return ctx.bundle.frame(source)


def render_table(ctx: ReportContext, spec: TableSpec, rows: pd.DataFrame | None = None) -> str:
    """Table ``spec`` as escaped HTML, from ``rows`` when given, else from its source."""
    f = source_rows(ctx, spec.source) if rows is None else rows
    head = f"<h4>{esc(_(spec.title))}</h4>" if spec.title else ""
    if f is None or f.empty:
        return head + empty_note(_(spec.empty))
    if spec.order is not None:
        f = spec.order(f)
    elif spec.sort:
        f = f.sort_values(list(spec.sort), ascending=not spec.descending, na_position="last")
    intro = spec.intro(f) if spec.intro is not None else ""
    t = f[[c for c in spec.columns if c in f.columns]] if spec.columns else f
    if spec.times or spec.clip:
        t = t.copy()
        for c in spec.times:
            t[c] = [fmt_time(v) for v in t[c]]
        for c, n in spec.clip:
            t[c] = t[c].map(lambda s, n=n: clip(s, n))
    if spec.labels:
        t = t.rename(columns={k: _(v).format(tz=_(ctx.tz)) for k, v in spec.labels})
    t = column_labels(t)
    if spec.decimals is not None:
        t = t.round(spec.decimals)
    return head + intro + table(t, max_rows=spec.max_rows)


def render_view(ctx: ReportContext, view: TableView) -> Html:
    """Every table of ``view`` in turn (see :class:`TableView`)."""
    if view.missing is None:
        return Html("".join(render_table(ctx, spec) for spec in view.tables))
    parts = []
    for spec in view.tables:
        rows = source_rows(ctx, spec.source)
        if len(rows):
            parts.append(render_table(ctx, spec, rows))
    return Html("".join(parts) if parts else empty_note(_(view.missing)))


#: what a frame column is called in a report that is not in English (English shows the column names)
COLUMN_LABELS: dict[str, str] = {
    "instance": N_("instance"),
    "attempt": N_("attempt"),
    "outcome": N_("outcome"),
    "stage_reached": N_("stage reached"),
    "daemon_version": N_("daemon version"),
    "mac": N_("MAC"),
    "arp_lookups": N_("ARP lookups"),
    "ip_failures": N_("IP lookup failures"),
    "client_error": N_("client error"),
    "mac_via": N_("MAC from"),
    "lease_ip": N_("lease IP"),
    "lease_count": N_("leases"),
    "arp_ip": N_("ARP IP"),
    "arp_interface": N_("ARP interface"),
    "dhcp_acked_ip": N_("DHCP-acknowledged IP"),
    "listed_ip": N_("listed IP"),
    "guest_ip": N_("guest IP"),
    "guest_ip_via": N_("guest IP from"),
    "ff_leases_nearby": N_("ff leases nearby"),
    "source": N_("source"),
    "type": N_("type"),
    "ip": N_("IP"),
    "message": N_("message"),
    "file": N_("file"),
    "line": N_("line"),
    "name": N_("name"),
    "is_bridge": N_("bridge"),
    "up": N_("up"),
    "status": N_("status"),
    "inet_all": N_("addresses"),
    "members": N_("members"),
    "mtu": N_("MTU"),
    "family": N_("family"),
    "destination": N_("destination"),
    "gateway": N_("gateway"),
    "interface": N_("interface"),
    "is_default": N_("default"),
    "via_tunnel": N_("via tunnel"),
    "flags": N_("flags"),
    "metric": N_("metric"),
    "setting": N_("setting"),
    "enabled": N_("enabled"),
    "value": N_("value"),
    "app": N_("app"),
    "allowed": N_("allowed"),
    "number": N_("number"),
    "action": N_("action"),
    "direction": N_("direction"),
    "proto": N_("protocol"),
    "dst_port": N_("destination port"),
    "drops_dhcp": N_("drops DHCP"),
    "rule": N_("rule"),
    "tool": N_("tool"),
    "active": N_("active"),
    "zone": N_("zone"),
    "table": N_("table"),
    "chain": N_("chain"),
    "policy": N_("policy"),
    "dport": N_("destination port"),
    "kind": N_("kind"),
    "recognised_by": N_("recognised by"),
    "bytes": N_("bytes"),
    "lines": N_("lines"),
    "parsed": N_("parsed"),
    "ignored": N_("ignored"),
    "rejected": N_("rejected"),
    "decode_errors": N_("decode errors"),
    "truncated": N_("truncated"),
    "reject_sample": N_("rejected sample"),
}


def column_labels(t: pd.DataFrame) -> pd.DataFrame:
    """``t`` with its columns named for the reader: as they are in English, translated otherwise."""
    if current_language() == "en":
        return t
    return t.rename(columns=lambda c: _(COLUMN_LABELS[c]) if c in COLUMN_LABELS else c)


def _routes_order(f: pd.DataFrame) -> pd.DataFrame:
    """Default routes first, then routes through a tunnel, then the rest, each in file order."""
    tun = f["via_tunnel"].astype("boolean").fillna(False)
    dflt = f["is_default"].astype("boolean").fillna(False)
    return f.assign(_k=(~dflt).astype(int) * 2 + (~tun).astype(int)).sort_values(["_k", "line"])


def _tunnel_note(f: pd.DataFrame) -> str:
    n_tun = int(f["via_tunnel"].astype("boolean").fillna(False).sum())
    return (
        "<p><strong>" + esc(_("{n} route(s) go through a tunnel (VPN).").format(n=n_tun)) + "</strong></p>"
        if n_tun
        else f"<p>{esc(_('No route goes through a tunnel (VPN).'))}</p>"
    )


ATTEMPTS = TableSpec(
    "attempts",
    columns=(
        "instance",
        "attempt",
        "started_at",
        "ended_at",
        "outcome",
        "stage_reached",
        "duration_s",
        "ip_wait_s",
        "daemon_version",
        "mac",
        "arp_lookups",
        "ip_failures",
        "client_error",
    ),
    empty=N_("no start attempt in the bundle (or in the window)"),
    times=("started_at", "ended_at"),
    labels=(
        ("started_at", N_("started ({tz})")),
        ("ended_at", N_("ended ({tz})")),
        ("duration_s", N_("duration (s)")),
        ("ip_wait_s", N_("IP wait (s)")),
    ),
    decimals=1,
    max_rows=40,
)
ENTITIES = TableSpec(
    "entities",
    columns=(
        "instance",
        "mac",
        "mac_via",
        "lease_ip",
        "lease_count",
        "arp_ip",
        "arp_interface",
        "dhcp_acked_ip",
        "listed_ip",
        "guest_ip",
        "guest_ip_via",
        "ff_leases_nearby",
    ),
    title=N_("Who is who (MAC ↔ lease ↔ ARP ↔ IP)"),
    empty=N_("the instance's MAC could not be tied to any lease, ARP entry or IP"),
)
#: the rows are the DHCP messages of the focused MAC (chosen by :func:`dhcp_table`)
DHCP_MESSAGES = TableSpec(
    "dhcp_messages",
    times=("time",),
    clip=(("message", 160),),
    labels=(("time", N_("time ({tz})")),),
    max_rows=40,
)
INTERFACES = TableSpec(
    "interfaces",
    columns=("name", "is_bridge", "up", "status", "inet_all", "mac", "members", "mtu", "file"),
    empty=N_("No interface listing (ifconfig.txt / ip-addr.json) in the bundle."),
    sort=("is_bridge", "up"),
    descending=True,
    max_rows=30,
)
ROUTES = TableSpec(
    "routes",
    columns=("family", "destination", "gateway", "interface", "is_default", "via_tunnel", "flags", "metric"),
    empty=N_("No routing table (routes.txt) in the bundle."),
    order=_routes_order,
    intro=_tunnel_note,
    max_rows=30,
)
APP_FIREWALL = TableSpec(
    "firewall",
    columns=("setting", "enabled", "value", "app", "allowed"),
    title=N_("macOS application firewall"),
    max_rows=30,
)
PF_RULES = TableSpec(
    "pf_rules",
    columns=("number", "action", "direction", "interface", "proto", "dst_port", "drops_dhcp", "rule"),
    title=N_("pf rules"),
    sort=("drops_dhcp",),
    descending=True,
    max_rows=30,
)
HOST_FIREWALL = TableSpec(
    "host_firewall",
    columns=(
        "tool",
        "active",
        "zone",
        "table",
        "chain",
        "policy",
        "action",
        "proto",
        "dport",
        "interface",
        "drops_dhcp",
        "rule",
    ),
    title=N_("Linux host firewall"),
    sort=("drops_dhcp",),
    descending=True,
    max_rows=30,
)
COVERAGE = TableSpec(
    "coverage",
    columns=(
        "file",
        "kind",
        "recognised_by",
        "bytes",
        "lines",
        "parsed",
        "ignored",
        "rejected",
        "decode_errors",
        "truncated",
        "reject_sample",
    ),
    title=N_("Collected and parsed"),
    empty=N_("no artifact recognised"),
    max_rows=100,
)

#: the views that are only tables, by the name of the function the notebook calls
TABLE_VIEWS: dict[str, TableView] = {
    "attempts_table": TableView((ATTEMPTS,)),
    "interfaces_table": TableView((INTERFACES,)),
    "routes_table": TableView((ROUTES,)),
    "firewall_table": TableView(
        (APP_FIREWALL, PF_RULES, HOST_FIREWALL),
        missing=N_("No firewall state (firewall.txt, pf-rules.txt, host-firewall.txt) in the bundle."),
    ),
}


def attempts_table(ctx: ReportContext) -> Html:
    """The start attempts in the window: when, how far they got, how they ended."""
    return render_view(ctx, TABLE_VIEWS["attempts_table"])


def interfaces_table(ctx: ReportContext) -> Html:
    """The host's interfaces, bridges first."""
    return render_view(ctx, TABLE_VIEWS["interfaces_table"])


def routes_table(ctx: ReportContext) -> Html:
    """The routing table, default and tunnel (VPN) routes first, with how many go through a tunnel."""
    return render_view(ctx, TABLE_VIEWS["routes_table"])


def firewall_table(ctx: ReportContext) -> Html:
    """The macOS application firewall, pf rules and the Linux host firewall, DHCP drops first."""
    return render_view(ctx, TABLE_VIEWS["firewall_table"])


def dhcp_table(ctx: ReportContext) -> Html:
    """The instance's MAC ↔ lease ↔ ARP ↔ IP join and its DHCP messages."""
    out = render_table(ctx, ENTITIES)
    msgs = ctx.dhcp_messages
    if ctx.mac and len(msgs):
        msgs = msgs[msgs["mac"].astype("object") == ctx.mac]
    if len(msgs):
        out += (
            "<h4>"
            + esc(_("DHCP messages for {mac}").format(mac=ctx.mac or _("any MAC")))
            + "</h4>"
            + render_table(ctx, DHCP_MESSAGES, msgs)
        )
    else:
        none = _(
            "No DHCP message for {mac} was captured (no bootpd log, dnsmasq journal or tcpdump)."
        ).format(mac=ctx.mac or _("the instance"))
        out += f'<p class="empty">{esc(none)}</p>'
    return Html(out)


# ------------------------------------------------------------------------------------------------
# views with prose
# ------------------------------------------------------------------------------------------------


def emit(ctx: ReportContext, diagnosis: Diagnosis) -> None:
    """Display the machine-readable diagnosis (a mime type the HTML export does not render)."""
    from IPython.display import display

    payload = {
        **diagnosis_payload(ctx.name, ctx.bundle, diagnosis),
        "clock": ctx.bundle.clock,
        "redacted": ctx.redacted,
    }
    display({DIAGNOSIS_MIME: payload}, raw=True)


def header(ctx: ReportContext) -> Html:
    """Title and the facts a maintainer wants first: OS and Multipass version, instance, clock, window."""
    h = ctx.bundle.host
    os_text = " ".join(x for x in (h.os_name or h.platform or "", h.os_version or "") if x) or _("unknown")
    facts = [
        (_("Bundle"), ctx.name),
        (_("Instance"), ctx.instance or _("(not identified)")),
        (_("Host OS"), os_text + (f" ({h.arch})" if h.arch else "")),
        ("Multipass", h.multipass_version or _("unknown")),
        (_("Driver"), h.driver or _("not collected")),
        (_("Clock"), f"{_(ctx.tz)}: {localize(ctx.clock_note)}"),
    ]
    if ctx.since is not None or ctx.until is not None:
        facts.append(
            (
                _("Window"),
                _(
                    "{since} → {until} ({tz}); the diagnosis uses the whole bundle, charts and tables only the window"
                ).format(
                    since=fmt_time(ctx.since) or _("start"),
                    until=fmt_time(ctx.until) or _("end"),
                    tz=_(ctx.tz),
                ),
            )
        )
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in facts)
    notes = "".join(f'<p class="note">{esc(localize(n))}</p>' for n in ctx.notes)
    return Html(
        f'<header class="mpkit-header"><h1>{esc(ctx.title)}</h1><table class="facts">{rows}</table>{notes}</header>'
    )


def verdict(ctx: ReportContext) -> Html:
    """The cause, the confidence (as a number and in words), the failed stage, the summary."""
    d = _need(ctx)
    rc = d.root_cause
    pct = round(100 * rc.confidence)
    ev = "".join(
        f"<li><code>{esc(e.artifact)}</code> "
        + _("{locator}: <q>{excerpt}</q>").format(
            locator=esc(localize(e.locator)), excerpt=esc(clip(localize(e.excerpt), 240))
        )
        + "</li>"
        for e in rc.evidence[:4]
    )
    cons = (
        f"<p>{esc(_('Consequences (not causes): {causes}').format(causes=', '.join(rc.consequences)))}</p>"
        if rc.consequences
        else ""
    )
    cls = "unknown" if rc.id == "unknown" else ("strong" if rc.confidence >= 0.7 else "weak")
    stage_instance = _(
        "failed stage: <strong>{stage}</strong> · instance: <strong>{instance}</strong>"
    ).format(stage=esc(d.failed_stage), instance=esc(d.instance or _("unknown")))
    if rc.title.startswith("No failure found"):  # nothing failed: no cause, no confidence in one
        head = (
            f'<p class="cause-label">{esc(_("Result"))}</p><h2 class="cause">{esc(localize(rc.title))}</h2>'
            f'<p class="confidence">{stage_instance}</p>'
        )
        no_ev = f"<p>{esc(_('No failure sign anywhere in the bundle.'))}</p>"
    else:
        confidence = _("Confidence: {pct} % ({words})").format(pct=pct, words=_(d.confidence_words))
        head = (
            f'<p class="cause-label">{esc(_("Most likely cause"))}</p><h2 class="cause">{esc(localize(rc.title))} '
            f'<span class="cause-id">({esc(rc.id)})</span></h2>'
            f'<p class="confidence"><strong>{esc(confidence)}</strong> · {stage_instance}</p>'
        )
        no_ev = f"<p>{esc(_('No single line of evidence supports this cause.'))}</p>"
    return Html(
        f'<section id="verdict" class="verdict {cls}">{head}'
        f'<p class="summary">{esc(localize(rc.summary))}</p>{cons}'
        + (f"<p>{esc(_('Evidence:'))}</p><ul>{ev}</ul>" if ev else no_ev)
        + "".join(f'<p class="note">{esc(localize(n))}</p>' for n in d.notes)
        + "</section>"
    )


_STATE_ICON = {
    "fail": N_("✗ fail"),
    "warn": N_("! warn"),
    "pass": N_("✓ pass"),
    "not-collected": N_("? not collected"),
    "could-not-parse": N_("? unreadable"),
    "not-applicable": N_("– n/a"),
}
#: the check states as the checklist's count names them (English: the state ids)
_STATE_WORDS = (
    N_("fail"),
    N_("warn"),
    N_("pass"),
    N_("not-collected"),
    N_("could-not-parse"),
    N_("not-applicable"),
)


def checklist(ctx: ReportContext) -> Html:
    """The doctor-style checklist: every check with its state, summary and evidence."""
    d = _need(ctx)
    if not d.checks:
        return Html(f'<p class="empty">{esc(_("The diagnosis ran no check."))}</p>')
    from ..diagnose.model import STATES

    order = {s: i for i, s in enumerate(STATES)}
    checks = sorted(d.checks, key=lambda c: (order.get(c.state, 99), c.id))
    head = (
        "<thead><tr>"
        + "".join(f"<th>{esc(_(h))}</th>" for h in (N_("state"), N_("check"), N_("finding"), N_("evidence")))
        + "</tr></thead>"
    )

    def rows(cs: list[Any]) -> str:
        out = []
        for c in cs:
            ev = "<br>".join(
                f"<code>{esc(e.artifact)}</code> {esc(localize(e.locator))}" for e in c.evidence[:3]
            )
            out.append(
                f'<tr class="state-{esc(c.state)}"><td class="state">{esc(_(_STATE_ICON.get(c.state, c.state)))}</td>'
                f"<td>{esc(_(c.title))}<br><small><code>{esc(c.id)}</code></small></td>"
                f"<td>{esc(localize(c.summary))}</td><td>{ev}</td></tr>"
            )
        return "".join(out)

    quiet = {"pass", "not-applicable"}
    loud = [c for c in checks if c.state not in quiet]
    calm = [c for c in checks if c.state in quiet]
    counts = separator(", ").join(
        f"{sum(c.state == s for c in checks)} {_(s)}" for s in STATES if any(c.state == s for c in checks)
    )
    out = f"<p>{esc(_('{n} checks: {counts}.').format(n=len(checks), counts=counts))}</p>"
    if loud:
        out += f'<table class="checklist">{head}<tbody>{rows(loud)}</tbody></table>'
    if calm:
        shown = _("{n} check(s) passed or did not apply (show)").format(n=len(calm))
        out += (
            f"<details><summary>{esc(shown)}</summary>"
            f'<table class="checklist">{head}<tbody>{rows(calm)}</tbody></table></details>'
        )
    return Html(out)


def remediation(ctx: ReportContext) -> Html:
    """The remediation ladder, least destructive first; destructive steps carry their warning."""
    d = _need(ctx)
    steps = d.root_cause.remediation
    if not steps and d.failed_stage == "none":
        items = f'<p class="empty">{esc(_("Nothing failed, so there is nothing to fix."))}</p>'
    elif not steps:
        items = (
            '<p class="empty">'
            + esc(_("No remediation is known for this cause; collect what is listed below and ask upstream."))
            + "</p>"
        )
    else:
        li = []
        for s in steps:
            cmd = f"<pre><code>{esc(s.command)}</code></pre>" if s.command else ""
            warn = ""
            if s.destructive:
                why = localize(s.warning) or _("this step destroys data; back up first")
                warn = f'<p class="destructive"><strong>{esc(_("Destructive:"))}</strong> {esc(why)}</p>'
            li.append(f"<li><p>{esc(localize(s.text))}</p>{cmd}{warn}</li>")
        items = f'<ol class="ladder">{"".join(li)}</ol>'
    refs = "".join(f"<li>{link(r)}</li>" for r in d.root_cause.references)
    return Html(
        f'<section class="remediation">{items}'
        + (f"<p>{esc(_('Documentation:'))}</p><ul>{refs}</ul>" if refs else "")
        + _cause_prevention(d)
        + "</section>"
    )


def _steps_html(steps: Iterable[Step]) -> str:
    items = []
    for s in steps:
        cmd = f"<pre><code>{esc(s.command)}</code></pre>" if s.command else ""
        items.append(f"<li><p>{esc(localize(s.text))}</p>{cmd}</li>")
    return "<ul>" + "".join(items) + "</ul>"


def _cause_prevention(d: Diagnosis) -> str:
    """The cause's own prevention steps (the general ones close the report, :func:`prevention`)."""
    from ..diagnose import prevention as general

    common = set(general(platform=d.host.get("platform"), instance=d.instance))
    own = [s for s in d.root_cause.prevention if s not in common]
    if not own:
        return ""
    return (
        f'<div class="prevention"><h4>{esc(_("Keeping it from coming back"))}</h4>'
        + _steps_html(own)
        + "</div>"
    )


def prevention(ctx: ReportContext) -> Html:
    """Before the next OS or Multipass update: snapshot first, read the compatibility notes, keep
    Multipass current (every report ends with it, whatever the verdict)."""
    from ..diagnose import prevention as general

    d = ctx.diagnosis
    platform = ctx.bundle.host.platform
    instance = (d.instance if d is not None else None) or ctx.instance
    intro = _(
        "Failures like this one often start right after a macOS or Multipass update. Before the next one:"
    )
    return Html(
        f'<section class="prevention" id="prevention"><p>{esc(intro)}</p>'
        + _steps_html(general(platform=platform, instance=instance))
        + "</section>"
    )


def collect_next(ctx: ReportContext) -> Html:
    """What would settle the question: missing evidence, failed collection steps, loader notes."""
    d = _need(ctx)
    parts = []
    if d.missing_evidence:
        parts.append("<ul>" + "".join(f"<li>{esc(localize(m))}</li>" for m in d.missing_evidence) + "</ul>")
    failed = ctx.bundle.failed_sources()
    if failed:
        parts.append(
            f"<p>{esc(_('Collection steps that failed (they lower the confidence):'))}</p><ul>"
            + "".join(
                f"<li><code>{esc(e.get('command') or e.get('path') or e.get('kind'))}</code>: "
                f"{esc(e.get('error') or (_('timed out') if e.get('timed_out') else _('no output')))}</li>"
                for e in failed
            )
            + "</ul>"
        )
    if not parts:
        parts.append(f'<p class="empty">{esc(_("Nothing else is needed to support this verdict."))}</p>')
    return Html(f'<section class="collect-next">{"".join(parts)}</section>')


def log_excerpt(ctx: ReportContext, *, context_lines: int = 8, max_rows: int = 60) -> Html:
    """The error and warning lines of the failed attempt, and the last lines before it ended."""
    dl = ctx.frame("daemon_log")
    if dl.empty:
        return Html(f'<p class="empty">{esc(_("No daemon log in the bundle (or in the window)."))}</p>')
    att = (ctx.diagnosis.attempt if ctx.diagnosis is not None else {}) or {}
    sel = dl
    if att.get("file") and att.get("first_line") is not None and not pd.isna(att.get("first_line")):
        lo, hi = int(att["first_line"]), int(att.get("last_line") or att["first_line"])
        sel = dl[(dl["file"] == att["file"]) & (dl["line"] >= lo) & (dl["line"] <= hi)]
        where = _("attempt {attempt} of {instance}, {file} lines {first}–{last}").format(
            attempt=att.get("attempt"), instance=att.get("instance"), file=att["file"], first=lo, last=hi
        )
    else:
        where = _("the whole daemon log")
    lv = sel["level"].astype("object")
    bad = sel[lv.isin(["error", "warning"])]
    tail = sel.tail(context_lines)
    pick = pd.concat([bad, tail]).drop_duplicates(subset=["file", "line"]).sort_values(["file", "line"])
    if pick.empty:
        return Html(f'<p class="empty">{esc(_("No line in {where}.").format(where=where))}</p>')
    t = pd.DataFrame(
        {
            _("time ({tz})").format(tz=_(ctx.tz)): [fmt_time(v) for v in pick["time"]],
            _("level"): pick["level"].astype("object"),
            _("category"): pick["category"].astype("object").fillna(pick["program"].astype("object")),
            _("message"): pick["message"].astype("str").map(lambda s: clip(s, 300)),
            _("where"): pick["file"].astype("str") + ":" + pick["line"].astype("str"),
        }
    )
    return Html(
        "<p>"
        + esc(
            _("{errors} error/warning line(s) and the last {last} line(s) of {where}:").format(
                errors=len(bad), last=len(tail), where=where
            )
        )
        + "</p>"
        + table(t, max_rows=max_rows)
    )


def host_versions(ctx: ReportContext) -> Html:
    """The host facts (platform, OS, Multipass, driver, clock) and the artifact each was read from."""
    h = ctx.bundle.host
    rows = [
        (N_("platform"), h.platform),
        (N_("OS"), h.os_name),
        (N_("OS version"), h.os_version),
        (N_("architecture"), h.arch),
        (N_("Multipass version"), h.multipass_version),
        (N_("driver"), h.driver),
        (N_("time zone"), h.timezone),
        (N_("UTC offset"), h.utc_offset),
    ]
    unknown = f"<em>{esc(_('unknown'))}</em>"
    body = "".join(
        f"<tr><th>{esc(_(k))}</th><td>{esc(v) or unknown}</td><td><small>{esc(h.sources.get(k.split()[0].lower().replace('multipass', 'multipass_version'), ''))}</small></td></tr>"
        for k, v in rows
    )
    head = "".join(f"<th>{esc(_(c))}</th>" for c in (N_("fact"), N_("value"), N_("from")))
    return Html(f'<table class="facts"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>')


def evidence_table(ctx: ReportContext) -> Html:
    """Every claim with its evidence: file, line and excerpt, so it can be checked in seconds."""
    d = _need(ctx)
    rows = [(_("root cause: {cause}").format(cause=d.root_cause.id), e) for e in d.root_cause.evidence]
    for c in d.checks:
        rows += [(_("check {check} ({state})").format(check=c.id, state=_(c.state)), e) for e in c.evidence]
    if not rows:
        return Html(f'<p class="empty">{esc(_("No evidence line was cited."))}</p>')
    t = pd.DataFrame(
        [
            {
                _("claim"): k,
                _("artifact"): e.artifact,
                _("locator"): localize(e.locator),
                _("excerpt"): clip(localize(e.excerpt), 300),
            }
            for k, e in rows
        ]
    )
    return Html(table(t.drop_duplicates(), max_rows=80))


def data_coverage(ctx: ReportContext) -> Html:
    """What was collected, what failed, what is missing, parse coverage per file, what was not recognised."""
    b = ctx.bundle
    out = [render_table(ctx, COVERAGE)]
    failed = b.failed_sources()
    if failed:
        t = pd.DataFrame(
            [
                {
                    _("source"): e.get("command") or e.get("path"),
                    _("kind"): e.get("kind"),
                    _("error"): e.get("error"),
                    _("timed out"): e.get("timed_out"),
                    _("exit code"): e.get("exit_code"),
                }
                for e in failed
            ]
        )
        out.append(f"<h4>{esc(_('Tried and failed'))}</h4>" + table(t))
    else:
        out.append(
            f'<h4>{esc(_("Tried and failed"))}</h4><p class="empty">'
            + esc(
                _("No collection step failed.")
                if b.manifest
                else _("No manifest.json: this bundle was made by hand, so what was tried is unknown.")
            )
            + "</p>"
        )
    trunc = b.truncated_sources()
    if trunc:
        out.append(
            f"<p><strong>{esc(_('Truncated:'))}</strong> "
            + esc(", ".join(str(e.get("file") or e.get("kind")) for e in trunc))
            + "</p>"
        )
    missing = _missing_artifacts(b)
    out.append(
        f"<h4>{esc(_('Not in the bundle'))}</h4>"
        + (
            "<p>" + esc(", ".join(missing)) + "</p>"
            if missing
            else f'<p class="empty">{esc(_("Every artifact for this platform is present."))}</p>'
        )
    )
    if b.unrecognised:
        t = pd.DataFrame(
            [
                {_("file"): u.path, _("bytes"): u.bytes, _("reason"): localize(u.reason)}
                for u in b.unrecognised
            ]
        )
        out.append(f"<h4>{esc(_('Not recognised'))}</h4>" + table(t))
    notes = list(b.notes) + list(b.manifest_errors)
    if notes:
        out.append(
            f"<h4>{esc(_('Loader notes'))}</h4><ul>"
            + "".join(f"<li>{esc(localize(n))}</li>" for n in notes)
            + "</ul>"
        )
    return Html("".join(out))


def _missing_artifacts(b: Bundle) -> list[str]:
    from ..parsers import KINDS, module

    platform = b.host.platform
    have = b.kinds()
    frames_have = {module(k).FRAME for k in have}
    out = []
    for kind in KINDS:
        m = module(kind)
        plats = getattr(m, "PLATFORMS", ())
        if platform and platform not in plats:
            continue
        if kind in have or (m.FRAME in frames_have and m.FRAME not in ("host_facts",)):
            continue
        out.append(m.FILENAMES[0])
    return out


def _need(ctx: ReportContext) -> Diagnosis:
    if ctx.diagnosis is None:
        raise ReportError(Message("no diagnosis yet: call report.focus(ctx, diagnose(...)) first"))
    return ctx.diagnosis
