"""macOS packet filter rules: ``sudo pfctl -s rules`` (also ``-s nat``, ``-v`` output).

One row per rule; the raw rule text is kept in ``rule``::

    No ALTQ support in kernel
    scrub-anchor "com.apple/*" all fragment reassemble
    block drop in quick on bridge100 proto udp from any to any port = 67

gives ``action=scrub-anchor anchor=com.apple/*`` and ``action=block
direction=in quick=True interface=bridge100 proto=udp dst_port="= 67"
drops_dhcp=True``.  The ``ALTQ`` stderr lines and ``-v`` counter lines
(``[ Evaluations: … ]``) are skipped.  ``pfctl:`` messages (``pfctl: /dev/pf:
Permission denied``) become a row with ``action`` NA and the message in
``note``: a rule engine must read them as "rules unknown", never as "no
rules".  ``drops_dhcp`` is True for a ``block`` rule that can match DHCP: its
protocol is udp or unrestricted, and its ports name 67/68 (bootps/bootpc) or
are unrestricted; quick-ness and rule order are left to the caller.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from ..schema import Column, Coverage, conform
from ._base import BLANK, fraction_matching, numbered

KIND = "pf_rules"
FRAME = "pf_rules"
FILENAMES = ("pf-rules.txt",)
PLATFORMS = ("macos",)

SCHEMA = {
    "line": Column("int", "1-based line"),
    "number": Column("int", "rule number when printed (`@12` with -vv), NA otherwise"),
    "action": Column(
        "str", "pass / block / match / scrub / anchor / nat / rdr / binat / …-anchor / no nat …"
    ),
    "direction": Column("str", "in / out, NA when the rule has none"),
    "quick": Column("bool", "the rule has `quick`"),
    "log": Column("bool", "the rule has `log`"),
    "interface": Column("str", "`on <if>` interface, NA when absent"),
    "af": Column("str", "inet / inet6, NA when absent"),
    "proto": Column("str", "`proto` value (udp, tcp, {tcp udp}), NA when absent"),
    "src": Column("str", "`from` address (any, 192.168.64.0/24, <table>), NA when `all` or absent"),
    "src_port": Column("str", "`from … port` spec as printed (`= 68`)"),
    "dst": Column("str", "`to` address, NA when `all` or absent"),
    "dst_port": Column("str", "`to … port` spec as printed (`= 67`)"),
    "anchor": Column("str", "anchor name for anchor rules (quotes removed)"),
    "drops_dhcp": Column("bool", "a block rule whose protocol and ports can match DHCP (udp 67/68)"),
    "note": Column("str", "for `pfctl:` message lines: the message (e.g. `/dev/pf: Permission denied`)"),
    "rule": Column("str", "the rule as printed, stripped"),
}

_ACTIONS = (
    r"pass|block|match|scrub|anchor|nat|rdr|binat|dummynet|load anchor"
    r"|scrub-anchor|nat-anchor|rdr-anchor|binat-anchor|dummynet-anchor"
)
_RULE = re.compile(
    rf"^\s*(?:@(?P<num>\d{{1,9}})(?:\(\d+\))?\s+)?(?P<action>(?:no\s+)?(?:{_ACTIONS}))(?=\s|$)"
)
_PFCTL = re.compile(r"^\s*pfctl:\s*(?P<msg>.*)$")
_SKIP = re.compile(r"^\s*(?:No ALTQ support in kernel|ALTQ related functions disabled|\[\s.*\]\s*$)")
_ADDR = r"(?P<{0}>\{{[^}}]*\}}|!?\s*\S+)(?:\s+port\s+(?P<{0}_port>\{{[^}}]*\}}|(?:[=<>!]+\s*)?\S+(?:\s*[:<>]+\s*\S+)?))?"
_FROM = re.compile(r"\bfrom\s+" + _ADDR.format("src"))
_TO = re.compile(r"\bto\s+" + _ADDR.format("dst"))
_ON = re.compile(r"\bon\s+(?P<if>!?\s*[\w.]+)")
_PROTO = re.compile(r"\bproto\s+(?P<p>\{[^}]*\}|\S+)")
_ANCHOR = re.compile(r"^\s*(?:@\S+\s+)?\S*anchor\s+\"?(?P<a>[^\"\s]+)\"?")
_DHCP_PORTS = {"67", "68", "bootps", "bootpc"}

LINE_RE = re.compile(rf"{_RULE.pattern}|{_PFCTL.pattern}|{_SKIP.pattern}")


def _port_hits_dhcp(spec: str | None) -> bool:
    if not spec:
        return True  # no port restriction
    words = set(re.findall(r"[\w]+", spec))
    if words & _DHCP_PORTS:
        return True
    m = re.search(r"(\d+)\s*(?::|><|<>)\s*(\d+)", spec)
    return bool(m and int(m[1]) <= 68 and int(m[2]) >= 67)


def _tokens(rule: str) -> dict[str, Any]:
    words = rule.split()
    row: dict[str, Any] = {
        "direction": next((w for w in words if w in ("in", "out")), None),
        "quick": "quick" in words,
        "log": "log" in words or any(w.startswith("log(") for w in words),
        "af": next((w for w in words if w in ("inet", "inet6")), None),
    }
    if m := _ON.search(rule):
        row["interface"] = m["if"].replace(" ", "")
    if m := _PROTO.search(rule):
        row["proto"] = m["p"]
    for rx, key in ((_FROM, "src"), (_TO, "dst")):
        if m := rx.search(rule):
            row[key] = m[key]
            row[f"{key}_port"] = m[f"{key}_port"]
    return row


def sniff(text: str) -> float:
    """How sure it is, from 0 to 1, that ``text`` is macOS packet filter rules: ``sudo pfctl -s rules`` (also ``-s nat``, ``-v`` output)."""
    head = text[:200_000]
    if not re.search(
        r"^\s*(?:@\d+\S*\s+)?(?:scrub-anchor|anchor|pass|block|nat|rdr)\b.*\b(?:all|from|on)\b|^pfctl: ",
        head,
        re.M,
    ):
        return 0.0
    return fraction_matching(text, LINE_RE)


def parse(text: str) -> pd.DataFrame:
    """macOS packet filter rules: ``sudo pfctl -s rules`` (also ``-s nat``, ``-v`` output) as the ``pf_rules`` frame; every line is counted as parsed, ignored or rejected."""
    cov = Coverage()
    rows: list[dict[str, Any]] = []
    for no, ln in numbered(text, cov):
        if BLANK.match(ln) or _SKIP.match(ln):
            cov.skip()
            continue
        if m := _PFCTL.match(ln):
            rows.append({"line": no, "note": m["msg"], "rule": ln.strip()})
            cov.ok()
            continue
        m = _RULE.match(ln)
        if not m:
            cov.reject(no, ln)
            continue
        rule = ln.strip()
        row: dict[str, Any] = {
            "line": no,
            "number": m["num"] and int(m["num"]),
            "action": " ".join(m["action"].split()),
            "rule": rule,
        }
        row.update(_tokens(ln[m.end() :]))
        if "anchor" in row["action"] and (a := _ANCHOR.match(rule)):
            row["anchor"] = a["a"]
        proto = row.get("proto")
        row["drops_dhcp"] = (
            row["action"] == "block"
            and (proto is None or "udp" in str(proto))
            and _port_hits_dhcp(row.get("src_port"))
            and _port_hits_dhcp(row.get("dst_port"))
        )
        rows.append(row)
        cov.ok()
    return conform(rows, SCHEMA, cov)
