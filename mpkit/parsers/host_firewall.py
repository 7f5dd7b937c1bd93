"""Linux host firewall listings pasted one after another.

Reads ``ufw status verbose``, ``firewall-cmd --get-active-zones`` (and the
zone blocks of ``--list-all``), ``nft list ruleset`` and, as a bonus,
``iptables -S`` / ``iptables-save``.  One flat frame answers "is ufw active",
"which zone is interface X in" and "is DHCP on X dropped"::

    Status: active
    FedoraWorkstation
      interfaces: mpqemubr0
    table inet filter {
            chain input {
                    type filter hook input priority filter; policy drop;
                    iifname "mpqemubr0" udp dport 67 drop
            }
    }

gives ``tool=ufw record=status active=True``, ``tool=firewalld
record=interface zone=FedoraWorkstation interface=mpqemubr0``, ``tool=nft
record=chain table=filter chain=input hook=input policy=drop`` and ``tool=nft
record=rule … action=drop proto=udp dport=67 interface=mpqemubr0
drops_dhcp=True``.

``record`` is one of: ``status`` (ufw), ``default`` (ufw default policy per
direction), ``setting`` (``key``/``value``: ufw Logging, firewalld target,
services, sources …), ``interface`` (firewalld: one row per interface of a
zone), ``chain`` (nft / iptables chain with its hook and policy), ``rule``,
``note`` (an error such as ``FirewallD is not running`` or ``You need to be
root``: the state is then unknown, not absent).

A ufw rule is ``TO ACTION [IN|OUT|FWD] FROM [# comment]``, each side
``[ADDR] [PORT[/PROTO]] [(v6)] [on IFACE]``, ``Anywhere`` or an application
profile (``10.0.0.0/24 22 on eth0 ALLOW 192.168.1.0/24 5000`` gives
``dport=22 sport=5000 interface=eth0``; ``67/udp on mpqemubr0  ALLOW
Anywhere`` gives ``dport=67 proto=udp interface=mpqemubr0``). ufw pads the
columns; a rule with single spaces is read when one side (inside a ufw
listing) or both sides (elsewhere) look like ufw addresses or ports.

``drops_dhcp`` is True for a drop/reject/deny rule whose protocol can be udp
and whose ports include 67/68 (bootps/bootpc), or that names an interface and
restricts no port.  A catch-all final reject and a chain policy ``drop`` are
not flagged: look at ``policy`` and rule order for those.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from ..schema import Column, Coverage, conform
from ._base import BLANK, fraction_matching, numbered

KIND = "host_firewall"
FRAME = "host_firewall"
FILENAMES = ("host-firewall.txt",)
PLATFORMS = ("linux",)

SCHEMA = {
    "line": Column("int", "1-based line"),
    "tool": Column("str", "ufw / firewalld / nft / iptables"),
    "record": Column("str", "status / default / setting / interface / chain / rule / note"),
    "active": Column("bool", "ufw status: Status active; firewalld: the zone is listed as active"),
    "key": Column("str", "setting rows: the setting name (logging, target, services, sources, …)"),
    "value": Column("str", "setting rows: the value as printed"),
    "zone": Column("str", "firewalld zone"),
    "family": Column("str", "nft table family (ip, ip6, inet, bridge, …)"),
    "table": Column("str", "nft table / iptables-save table name"),
    "chain": Column("str", "nft / iptables chain"),
    "hook": Column("str", "chain hook (input, forward, output, prerouting, postrouting)"),
    "policy": Column("str", "chain policy, or ufw default policy (accept, drop, deny, allow, reject)"),
    "direction": Column("str", "ufw: in / out / fwd for rules; incoming / outgoing / routed for defaults"),
    "action": Column(
        "str", "rule verdict lower case: accept, drop, reject, allow, deny, limit, jump X, goto X"
    ),
    "proto": Column("str", "udp / tcp when the rule restricts it"),
    "dport": Column("str", "destination port(s) as printed (67, { 67, 68 }, 1024-65535)"),
    "sport": Column("str", "source port(s) as printed"),
    "interface": Column("str", "interface the rule or zone row names (iifname/oifname, -i/-o, ufw `on X`)"),
    "drops_dhcp": Column(
        "bool", "rules: a drop/reject rule that can match DHCP (udp 67/68) or a whole interface"
    ),
    "rule": Column("str", "the line as printed, stripped"),
}

_DROP = ("drop", "reject", "deny")
_DHCP = {"67", "68", "bootps", "bootpc"}

# --- ufw
_UFW_STATUS = re.compile(r"^Status:\s*(?P<v>active|inactive)\b", re.I)
_UFW_SETTING = re.compile(r"^(?P<k>Logging|New profiles):\s*(?P<v>.*)$")
_UFW_DEFAULT = re.compile(r"^Default:\s*(?P<v>.*)$")
_UFW_DEFAULT_PART = re.compile(r"(?P<p>\w+)\s*\((?P<d>\w+)\)")
_UFW_HEAD = re.compile(r"^\s*(?:To\s+Action\s+From|--\s+-+\s+-+)\s*$")
# a rule: `[ N] TO ACTION [IN|OUT|FWD] [(log)] FROM [# comment]`, where TO and FROM are
# `[ADDR] [PORT[/PROTO]] [(v6)] [on IFACE]`, `Anywhere …` or an application profile name
_UFW_RULE = re.compile(
    r"^(?:\[\s*\d+\]\s*)?(?P<to>\S.*?)(?P<gap>\s+)(?P<action>ALLOW|DENY|REJECT|LIMIT)(?:\s+(?P<dir>IN|OUT|FWD))?"
    r"(?:\s+\((?P<log>log(?:-all)?)\))?(?:\s+(?P<from>.*?))?(?:\s+#\s*.*)?$"
)
_UFW_PORT = re.compile(r"^(?P<port>\d+(?:[:,]\d+)*)(?:/(?P<proto>\w+))?$")
_UFW_ADDR = re.compile(
    r"^(?:Anywhere|\d{1,3}(?:\.\d{1,3}){3}(?:/\d+)?|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*(?:/\d+)?)$"
)
_UFW_ON = re.compile(r"\bon\s+(?P<if>\S+)")
# --- firewalld
_ZONE = re.compile(r"^(?P<zone>[A-Za-z0-9_.\-]+)(?:\s+\((?P<tags>[^)]*)\))?\s*$")
_ZONE_KEY = re.compile(r"^\s+(?P<k>[\w\- ]+?):\s*(?P<v>.*)$")
# --- nft
_TABLE = re.compile(r"^\s*table\s+(?:(?P<fam>ip|ip6|inet|arp|bridge|netdev)\s+)?(?P<name>\S+)\s*\{\s*$")
_CHAIN = re.compile(r"^\s*chain\s+(?P<name>\S+)\s*\{\s*$")
_OBJECT = re.compile(
    r"^\s*(?:set|map|flowtable|counter|quota|limit|secmark|synproxy|ct\s+\w+)\s+\S+\s*\{\s*$"
)
_TYPE = re.compile(r"^\s*type\s+\w+\s+hook\s+(?P<hook>\w+)(?:.*?\bpolicy\s+(?P<pol>\w+))?")
_NFT_PORT = re.compile(
    r"\b(?P<proto>udp|tcp|th)\s+(?P<which>dport|sport)\s+(?P<spec>!=\s*)?(?P<v>\{[^}]*\}|\S+)"
)
_NFT_PROTO = re.compile(r"\b(?:l4proto|ip protocol|ip6 nexthdr)\s+(?P<p>\w+)")
_NFT_IF = re.compile(r"\b(?:iifname|oifname|iif|oif)\s+(?P<neg>!=\s*)?\"?(?P<if>[^\"\s{}]+)\"?")
_NFT_VERDICT = re.compile(
    r"\b(?P<v>accept|drop|reject|queue|return|(?:jump|goto)\s+\S+)\b(?!.*\b(?:accept|drop|reject)\b)"
)
# --- iptables
_IPT_TABLE = re.compile(r"^\*(?P<t>\w+)\s*$")
_IPT_CHAIN = re.compile(r"^(?::(?P<c1>\S+)\s+(?P<p1>\S+)|-P\s+(?P<c2>\S+)\s+(?P<p2>\S+)|-N\s+(?P<c3>\S+))")
_IPT_RULE = re.compile(r"^-[AI]\s+(?P<chain>\S+)\s+(?P<rest>.*)$")
# --- shared
_NOTE = re.compile(
    r"(?P<fwd>FirewallD is not running)|(?P<ufw>need to be root|ERROR: .*ufw)|(?P<nft>netlink|^nft:)"
    r"|not found|Permission denied"
    r"|Operation not permitted|^Error:",
    re.I,
)
_SKIP = re.compile(r"^\s*(?:#.*|COMMIT|[$#]\s.*)$")

LINE_RE = re.compile(
    r"^Status:\s*(?:active|inactive)|^Default:\s*\w+\s*\(incoming\)|^\s*table\s+\w+\s+\S+\s*\{|^\s*chain\s+\S+\s*\{"
    r"|^\s+type\s+\w+\s+hook\s|^\s+interfaces:|^-[APN]\s+\S|^\S.*\s(?:ALLOW|DENY|REJECT|LIMIT)(?:\s+(?:IN|OUT|FWD))?\s+\S|^\s*\}\s*$"
    r"|\b(?:accept|drop|reject)\s*(?:comment\s.*)?$",
    re.M,
)
_STRONG = re.compile(
    r"^Status:\s*(?:active|inactive)|^\s*table\s+(?:ip|ip6|inet|bridge|netdev|arp)\s+\S+\s*\{|^\s+interfaces:\s"
    r"|^-P\s+(?:INPUT|FORWARD|OUTPUT)\s",
    re.M,
)


def _port_words(spec: str | None) -> list[str]:
    return re.findall(r"[\w]+(?:[-:]\d+)?", spec or "")


def _ports_hit_dhcp(spec: str | None) -> bool:
    for w in _port_words(spec):
        if w in _DHCP:
            return True
        if m := re.fullmatch(r"(\d+)[-:](\d+)", w):
            if int(m[1]) <= 68 <= int(m[2]) or int(m[1]) <= 67 <= int(m[2]):
                return True
    return False


def _drops_dhcp(row: dict[str, Any]) -> bool:
    verdict = (row.get("action") or "").split(" ")[0]
    if verdict not in _DROP or row.get("proto") not in (None, "udp"):
        return False
    ports = [p for p in (row.get("dport"), row.get("sport")) if p]
    if ports:
        return any(_ports_hit_dhcp(p) for p in ports)
    return row.get("interface") is not None


def _ufw_endpoint(side: str) -> tuple[str | None, str | None, bool]:
    """``(port, proto, looks_like_ufw)`` of one side of a ufw rule (``10.0.0.0/24 22/tcp on eth0``)."""
    tok = _UFW_ON.sub(" ", side).replace("(v6)", " ").split()
    port = proto = None
    addressy = bool(_UFW_ON.search(side)) or "(v6)" in side
    for t in tok[:2]:
        if _UFW_ADDR.match(t):
            addressy = True
        elif p := _UFW_PORT.match(t):
            port, addressy = p["port"], True
            proto = p["proto"] if p["proto"] in ("tcp", "udp") else None
    return port, proto, addressy


def _ufw_rule(m: re.Match[str], in_ufw: bool) -> dict[str, Any] | None:
    """A ufw rule row, or ``None`` when a single-spaced line outside a ufw listing does not look like one."""
    to, frm = m["to"].strip(), (m["from"] or "").strip()
    dport, dproto, to_ok = _ufw_endpoint(to)
    sport, sproto, from_ok = _ufw_endpoint(frm)
    if not frm:
        return None
    if len(m["gap"]) < 2 and not ((to_ok or from_ok) if in_ufw else (to_ok and from_ok)):
        return None  # one space before the verdict: only when a side reads as a ufw address / port
    row: dict[str, Any] = {"action": m["action"].lower(), "direction": (m["dir"] or "in").lower()}
    row.update(dport=dport, sport=sport, proto=dproto or sproto)
    for side in (to, frm):
        if (on := _UFW_ON.search(side)) and "interface" not in row:
            row["interface"] = on["if"]
    return row


def _nft_rule(text: str) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for pm in _NFT_PORT.finditer(text):
        if pm["proto"] in ("udp", "tcp"):
            row["proto"] = pm["proto"]
        if not pm["spec"]:
            row[pm["which"]] = pm["v"]
    if (pp := _NFT_PROTO.search(text)) and pp["p"] in ("udp", "tcp"):
        row["proto"] = pp["p"]
    if (im := _NFT_IF.search(text)) and not im["neg"]:
        row["interface"] = im["if"]
    if vm := _NFT_VERDICT.search(text):
        row["action"] = " ".join(vm["v"].split())
    return row


def _ipt_rule(rest: str) -> dict[str, Any]:
    row: dict[str, Any] = {}
    if m := re.search(r"(?:^|\s)-p\s+(\w+)", rest):
        row["proto"] = m[1]
    for flag, key in (("dport", "dport"), ("sport", "sport")):
        if m := re.search(rf"--{flag}s?\s+(\S+)", rest):
            row[key] = m[1]
    if m := re.search(r"(?:^|\s)-[io]\s+(\S+)", rest):
        row["interface"] = m[1]
    if m := re.search(r"(?:^|\s)-[jg]\s+(\S+)", rest):
        target = m[1].lower()
        row["action"] = target if target in ("accept", "drop", "reject", "return") else f"jump {m[1]}"
    return row


def sniff(text: str) -> float:
    """How sure it is, from 0 to 1, that ``text`` is Linux host firewall listings pasted one after another."""
    if not _STRONG.search(text[:200_000]):
        return 0.0
    return max(0.6, fraction_matching(text, LINE_RE))


class _State:
    """Which listing the current line belongs to, and its nesting."""

    def __init__(self) -> None:
        self.tool: str | None = None
        self.zone: str | None = None
        self.family: str | None = None
        self.table: str | None = None
        self.chain: dict[str, Any] | None = None
        self.depth = 0  # nft brace depth
        self.object_depth = 0  # >0 inside an nft set/map body (skipped)


def parse(text: str) -> pd.DataFrame:
    """Linux host firewall listings pasted one after another as the ``host_firewall`` frame; every line is counted as parsed, ignored or rejected."""
    cov = Coverage()
    rows: list[dict[str, Any]] = []
    st = _State()
    all_lines = list(numbered(text, cov))

    def add(no: int, tool: str | None, record: str, ln: str, **kw: Any) -> dict[str, Any]:
        row = {"line": no, "tool": tool, "record": record, "rule": ln.strip(), **kw}
        rows.append(row)
        cov.ok()
        return row

    for i, (no, ln) in enumerate(all_lines):
        if BLANK.match(ln) and "}" not in ln:
            cov.skip()
            continue
        # --- nft block structure first: it is the only nested listing
        if st.depth:
            opened, closed = ln.count("{"), ln.count("}")
            if st.object_depth:
                st.object_depth += opened - closed
                st.depth += opened - closed
                cov.skip()
                continue
            if re.match(r"^\s*\}\s*$", ln):
                st.depth -= 1
                if st.depth <= 1:
                    st.chain = None
                if st.depth <= 0:
                    st.depth, st.table, st.family = 0, None, None
                cov.skip()
                continue
            if m := _CHAIN.match(ln):
                st.depth += 1
                st.chain = add(no, "nft", "chain", ln, family=st.family, table=st.table, chain=m["name"])
                continue
            if _OBJECT.match(ln):
                st.depth += 1
                st.object_depth = 1
                cov.skip()
                continue
            if st.chain is not None and (m := _TYPE.match(ln)):
                st.chain["hook"] = m["hook"]
                st.chain["policy"] = m["pol"]
                cov.ok()
                continue
            if st.chain is not None and opened == closed and not ln.lstrip().startswith("#"):
                row = add(no, "nft", "rule", ln, family=st.family, table=st.table, chain=st.chain["chain"])
                row.update(_nft_rule(ln), hook=st.chain.get("hook"))
                row["drops_dhcp"] = _drops_dhcp(row)
                continue
            if ln.lstrip().startswith("#") or opened == closed:
                cov.skip()  # table-level flags / comments
                continue
            cov.reject(no, ln)
            continue
        if m := _TABLE.match(ln):
            st.tool, st.depth, st.family, st.table = "nft", 1, m["fam"] or "ip", m["name"]
            cov.ok()
            continue
        # --- ufw
        if m := _UFW_STATUS.match(ln):
            st.tool = "ufw"
            add(no, "ufw", "status", ln, active=m["v"].lower() == "active")
            continue
        if st.tool == "ufw" and (m := _UFW_SETTING.match(ln)):
            add(no, "ufw", "setting", ln, key=m["k"].lower(), value=m["v"])
            continue
        if m := _UFW_DEFAULT.match(ln):
            parts = _UFW_DEFAULT_PART.findall(m["v"])
            for pol, direction in parts:
                rows.append({"line": no, "tool": "ufw", "record": "default", "rule": ln.strip(),
                             "policy": pol.lower(), "direction": direction.lower()})  # fmt: skip
            cov.ok() if parts else cov.reject(no, ln)
            continue
        if _UFW_HEAD.match(ln):
            cov.skip()
            continue
        if (m := _UFW_RULE.match(ln)) and (fields := _ufw_rule(m, st.tool == "ufw")) is not None:
            row = add(no, "ufw", "rule", ln, **fields)
            row["drops_dhcp"] = _drops_dhcp(row)
            continue
        # --- iptables -S / iptables-save
        if m := _IPT_TABLE.match(ln):
            st.tool, st.table = "iptables", m["t"]
            cov.ok()
            continue
        if m := _IPT_CHAIN.match(ln):
            chain = m["c1"] or m["c2"] or m["c3"]
            policy = m["p1"] or m["p2"]
            policy = None if policy in (None, "-") else policy.lower()
            hook = (
                chain.lower()
                if chain in ("INPUT", "FORWARD", "OUTPUT", "PREROUTING", "POSTROUTING")
                else None
            )
            add(no, "iptables", "chain", ln, table=st.table if st.tool == "iptables" else None, chain=chain,
                hook=hook, policy=policy)  # fmt: skip
            continue
        if m := _IPT_RULE.match(ln):
            row = add(no, "iptables", "rule", ln, table=st.table if st.tool == "iptables" else None,
                      chain=m["chain"], **_ipt_rule(m["rest"]))  # fmt: skip
            row["drops_dhcp"] = _drops_dhcp(row)
            continue
        # --- notes (errors) and comments
        if m := _NOTE.search(ln):
            tool = "firewalld" if m["fwd"] else "ufw" if m["ufw"] else "nft" if m["nft"] else st.tool
            add(no, tool, "note", ln)
            continue
        if _SKIP.match(ln):
            cov.skip()
            continue
        # --- firewalld: a bare zone name followed by indented `key: value` lines
        if (m := _ZONE.match(ln)) and _next_is_zone_key(all_lines, i):
            st.tool, st.zone = "firewalld", m["zone"]
            cov.ok()
            continue
        if st.tool == "firewalld" and st.zone and (m := _ZONE_KEY.match(ln)):
            key, value = m["k"].strip(), m["v"].strip()
            if key == "interfaces":
                for name in value.split():
                    rows.append({"line": no, "tool": "firewalld", "record": "interface", "rule": ln.strip(),
                                 "zone": st.zone, "interface": name, "active": True})  # fmt: skip
                cov.ok()
            else:
                add(no, "firewalld", "setting", ln, zone=st.zone, key=key, value=value)
            continue
        cov.reject(no, ln)
    return conform(rows, SCHEMA, cov)


def _next_is_zone_key(all_lines: list[tuple[int, str]], i: int) -> bool:
    for _, ln in all_lines[i + 1 :]:
        if BLANK.match(ln):
            continue
        return bool(_ZONE_KEY.match(ln))
    return False
